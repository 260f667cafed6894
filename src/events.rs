//! The run's event stream: the contract between the scheduler and every reporter.

use std::sync::Arc;
use std::time::Duration;

use crate::error::SourceLoc;
use crate::script::Value;

/// How a node ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    Succeeded,
    Cached,
    Failed,
    TimedOut,
    /// Not run because a dependency did not succeed.
    Skipped,
    /// Stopped or never started because the run was stopped (fail-fast, signal, timeout).
    Cancelled,
}

impl Status {
    /// Every status, in the order reports list them.
    pub(crate) const ALL: [Self; 6] = [
        Self::Succeeded,
        Self::Cached,
        Self::Failed,
        Self::TimedOut,
        Self::Skipped,
        Self::Cancelled,
    ];

    /// The name used in JSON, hooks and metrics: `succeeded`, `timed_out`, ...
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Cached => "cached",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
        }
    }

    pub(crate) fn is_success(self) -> bool {
        matches!(self, Self::Succeeded | Self::Cached)
    }

    /// Whether this status makes the run fail. A skip never does by itself: a node skipped
    /// because a dependency failed comes with that failure, and one skipped by its trigger
    /// rule (`one_failed` when nothing failed) is how the flow is meant to go.
    pub(crate) fn fails_run(self) -> bool {
        matches!(self, Self::Failed | Self::TimedOut | Self::Cancelled)
    }
}

/// Why a task attempt failed, with the script position where that helps.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct TaskError {
    pub(crate) message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) loc: Option<SourceLoc>,
    /// The call chain of a Rhai error, innermost first: "in `helper` at f.rhai:3:5".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) trace: Vec<String>,
    /// What may fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) help: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) exit_code: Option<i32>,
}

impl TaskError {
    /// Hides secret values in every text of the error (see `redact`).
    pub(crate) fn redact(&mut self) {
        if !crate::redact::is_active() {
            return;
        }
        let hide = |s: &mut String| {
            if let std::borrow::Cow::Owned(clean) = crate::redact::text(s) {
                *s = clean;
            }
        };
        hide(&mut self.message);
        self.trace.iter_mut().for_each(hide);
        if let Some(help) = &mut self.help {
            hide(help);
        }
    }

    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            loc: None,
            trace: Vec::new(),
            help: None,
            exit_code: None,
        }
    }
}

/// What a node with a trigger rule learns of one of its dependencies (`ctx().upstream`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Upstream {
    pub(crate) name: String,
    pub(crate) status: Status,
    pub(crate) error: Option<String>,
}

/// Why a run stopped early, if it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Interruption {
    Timeout,
    Sigint,
    Sigterm,
}

/// Something that happened during a run, in the order it happened.
#[derive(Clone, Debug)]
pub(crate) enum RunEvent {
    RunStarted {
        nodes: usize,
    },
    NodeStarted {
        name: String,
        attempt: u32,
    },
    NodeRetrying {
        name: String,
        attempt: u32,
        delay: Duration,
        error: TaskError,
    },
    NodeExpanded {
        name: String,
        children: usize,
    },
    NodeFinished {
        name: String,
        status: Status,
        attempts: u32,
        duration: Duration,
        error: Option<TaskError>,
        /// The node's cache key (hex), when one was computed for it.
        key: Option<Arc<str>>,
        /// The node's result, when it succeeded (or came from the cache).
        result: Option<Arc<Value>>,
        /// For a cached task: where the result came from, or why the cache missed.
        cache_note: Option<Arc<str>>,
    },
    RunFinished {
        is_success: bool,
        duration: Duration,
        /// What stopped the run early, if anything did.
        interruption: Option<Interruption>,
    },
}

/// Receives every event of a run, in order, on the dispatcher's task.
pub(crate) trait Observe: Send {
    fn observe(&mut self, event: &RunEvent);
}
