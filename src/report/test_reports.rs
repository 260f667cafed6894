//! Run reports built by hand for the renderers' unit tests.

use std::sync::Arc;
use std::time::Duration;

use crate::dag::NodeId;
use crate::error::SourceLoc;
use crate::events::Status;
use crate::scheduler::{NodeReport, RunReport};

/// A node of task `name`, declared at line `id + 1` of `file`, that started once unless it
/// was skipped or cancelled.
pub(super) fn node(file: &str, id: u32, name: &str, status: Status, millis: u64) -> NodeReport {
    NodeReport {
        id: NodeId(id),
        name: name.to_owned(),
        task: Some(name.to_owned()),
        loc: SourceLoc {
            file: Arc::from(file),
            line: id + 1,
            column: 5,
        },
        is_expansion: false,
        status,
        attempts: u32::from(!matches!(status, Status::Skipped | Status::Cancelled)),
        duration: Duration::from_millis(millis),
        started_ms: Some(0),
        error: None,
        reason: None,
        history: Vec::new(),
    }
}

/// A run of `nodes` that took 1.5 s and produced no output.
pub(super) fn run(nodes: Vec<NodeReport>) -> RunReport {
    RunReport {
        nodes,
        output: None,
        interruption: None,
        duration: Duration::from_millis(1500),
    }
}
