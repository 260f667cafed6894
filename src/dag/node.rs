//! One node of a flow graph: everything the scheduler needs to run it.

use std::sync::Arc;

use crate::error::SourceLoc;
use crate::script::{Payload, TaskOptions};

/// A node's index in its [`super::Dag`]; stable for the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub(crate) struct NodeId(pub(crate) u32);

impl NodeId {
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// What a node does when it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum NodeKind {
    /// A call of a Rhai task.
    Task,
    /// A call of a shell task: its body gives the command line.
    Shell,
    /// An inline `sh("...")` step.
    Sh,
    /// Runtime fan-out: one child per element, created when the list is known.
    Map,
    /// `.then(closure)`: the closure runs when the value is known and may add nodes.
    Then,
}

impl NodeKind {
    /// Whether running the node may add nodes to the graph.
    pub(crate) fn is_expansion(self) -> bool {
        matches!(self, Self::Map | Self::Then)
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Task => "task",
            Self::Shell => "shell",
            Self::Sh => "sh",
            Self::Map => "map",
            Self::Then => "then",
        }
    }
}

/// Where an edge points before names are resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DepTarget {
    Node(NodeId),
    /// `.after("name")`: looked up in `scope` (a nested flow's namespace) first, then globally.
    Name {
        name: String,
        scope: String,
    },
}

/// An edge into a node, with the position of the code that made it.
#[derive(Clone, Debug)]
pub(crate) struct Dep {
    pub(crate) target: DepTarget,
    pub(crate) loc: SourceLoc,
    /// `.after(...)` edges order nodes without passing a value.
    pub(crate) is_control: bool,
}

impl Dep {
    /// The node this edge comes from; names are resolved when the graph is built.
    pub(crate) fn node(&self) -> Option<NodeId> {
        match self.target {
            DepTarget::Node(id) => Some(id),
            DepTarget::Name { .. } => None,
        }
    }
}

/// A concurrency limit shared by several nodes: a fan-out's `max_concurrency`, a task's, a
/// pool's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Limit {
    pub(crate) key: Arc<str>,
    pub(crate) capacity: u32,
    /// Slots one node takes (a pool's `pool_slots`; 1 otherwise).
    pub(crate) slots: u32,
}

impl Limit {
    /// A limit where each node takes one slot.
    pub(crate) fn one_each(key: impl Into<Arc<str>>, capacity: u32) -> Self {
        Self {
            key: key.into(),
            capacity,
            slots: 1,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub(crate) id: NodeId,
    pub(crate) name: String,
    /// The task this node calls (`sh` for inline steps, the mapped task for a fan-out).
    pub(crate) task: Option<String>,
    pub(crate) kind: NodeKind,
    /// Shared between the nodes of one task, which all have the same options.
    pub(crate) options: Arc<TaskOptions>,
    pub(crate) deps: Vec<Dep>,
    pub(crate) loc: SourceLoc,
    pub(crate) payload: Payload,
    pub(crate) limits: Vec<Limit>,
}
