//! `run --resume`: reusing what an earlier run of the flow already computed. A node is
//! reused when that run recorded it as succeeded, its key is the same now (same code,
//! arguments, options and inputs), and every node it depends on was reused too — so a node
//! whose code changed runs again, and so does everything downstream of it.

use std::collections::HashMap;
use std::sync::Arc;

use crate::dag::NodeId;
use crate::scheduler::{CacheInfo, Job, Outcome};
use crate::script::Value;
use crate::state::artifacts::RunArtifacts;

use super::local::{LocalExecutor, attempt_of};

/// What the earlier run left: per node name, its key and its result.
pub(crate) struct Resume {
    pub(crate) run_id: String,
    /// Per node name: its key and its result.
    pub(crate) succeeded: HashMap<String, (Arc<str>, serde_json::Value)>,
    /// Per node name: the artifacts it stored (name, digest, size).
    pub(crate) artifacts: HashMap<String, Vec<(String, String, u64)>>,
}

impl Resume {
    /// Reads the artifacts of the earlier run once, so that reusing a node costs no file
    /// access when it stored none.
    pub(crate) fn new(
        run_id: String,
        succeeded: HashMap<String, (Arc<str>, serde_json::Value)>,
        earlier: &RunArtifacts,
    ) -> Self {
        let mut artifacts: HashMap<String, Vec<(String, String, u64)>> = HashMap::new();
        if let Ok(manifest) = earlier.manifest() {
            for r in manifest.artifacts {
                artifacts
                    .entry(r.node)
                    .or_default()
                    .push((r.name, r.digest, r.size));
            }
        }
        Self {
            run_id,
            succeeded,
            artifacts,
        }
    }

    /// Whether `job` is worth checking: the earlier run finished its node, and everything it
    /// depends on was reused.
    pub(super) fn may_reuse(&self, job: &Job) -> bool {
        job.inputs_reused && self.succeeded.contains_key(&job.node.name)
    }
}

impl LocalExecutor {
    /// The earlier result of `job`'s node, when it may be reused.
    pub(super) fn reuse(&self, job: &Job, resume: &Resume) -> Option<Outcome> {
        if !resume.may_reuse(job) {
            return None;
        }
        let (key, result) = resume.succeeded.get(&job.node.name)?;
        let inputs = |id: NodeId| job.input(id);
        let now = self
            .runtime
            .node_key(&job.node, &inputs, &attempt_of(job))?;
        if now != *key {
            return None;
        }
        let value = Value::from_json(result);
        // The earlier run's artifacts of this node belong to this run too.
        if let Some(earlier) = resume.artifacts.get(&job.node.name) {
            self.artifacts().adopt(&job.node.name, earlier).ok()?;
        }
        let info = CacheInfo {
            key: Some(now),
            hit: true,
            note: Some(format!("reused from run {}", resume.run_id).into()),
        };
        Some(Outcome::Succeeded(value, info))
    }
}
