//! Runs a flow graph: one dispatcher owns all run state and reacts to worker completions,
//! signals and the run's deadline. Executors do the work behind the [`Execute`] trait.

mod batch;
mod dispatcher;
mod policy;
mod state;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

pub(crate) use batch::BATCH_BUDGET;
pub(crate) use dispatcher::run;

use crate::dag::{Limit, Node, NodeId};
pub(crate) use crate::events::{Interruption, Observe};
use crate::events::{Status, TaskError, Upstream};
use crate::script::{Expansion, FailurePolicy, Value};

/// One attempt of one node, handed to an executor.
pub(crate) struct Job {
    pub(crate) node: Arc<Node>,
    pub(crate) attempt: u32,
    /// Results of the nodes this one depends on.
    pub(crate) inputs: Vec<(NodeId, Arc<Value>)>,
    /// Stops this attempt (`cancel`) and cuts its grace short (`hurry`).
    pub(crate) stop: Arc<crate::stop::Stop>,
    /// Id of the first node an expansion may create.
    pub(crate) next_id: u32,
    /// How many more nodes expansions may create in this run.
    pub(crate) dynamic_budget: usize,
    /// For a node with a trigger rule: how each dependency ended.
    pub(crate) upstream: Vec<Upstream>,
    /// Every dependency's result was reused (from the cache or the run being resumed), not
    /// computed again: only then may `--resume` reuse this node's earlier result.
    pub(crate) inputs_reused: bool,
}

impl Job {
    /// The result of dependency `id`; unit when it has none (a control dependency).
    pub(crate) fn input(&self, id: NodeId) -> Value {
        self.inputs
            .iter()
            .find(|(n, _)| *n == id)
            .map_or_else(Value::unit, |(_, v)| (**v).clone())
    }
}

/// The pool limit a node takes slots from, if it names a pool; an error for an unknown pool
/// or more slots than the pool has, since such a node could never start.
pub(crate) fn pool_limit(
    node: &Node,
    pools: &BTreeMap<String, u32>,
) -> Result<Option<Limit>, String> {
    let Some(pool) = node.options.pool.as_deref() else {
        return Ok(None);
    };
    let Some(&capacity) = pools.get(pool) else {
        let names: Vec<&str> = pools.keys().map(String::as_str).collect();
        let known = if names.is_empty() {
            "the flow declares no pools".to_owned()
        } else {
            format!("pools: {}", names.join(", "))
        };
        return Err(format!(
            "`{}` uses pool `{pool}`, which the flow does not declare ({known})",
            node.name
        ));
    };
    let slots = node.options.pool_slots;
    if slots > capacity {
        return Err(format!(
            "`{}` takes {slots} slots of pool `{pool}`, which has {capacity}",
            node.name
        ));
    }
    Ok(Some(Limit {
        key: format!("pool:{pool}").into(),
        capacity,
        slots,
    }))
}

/// What the cache had to do with a successful attempt.
#[derive(Clone, Debug, Default)]
pub(crate) struct CacheInfo {
    /// The node's key (hex), when one was computed.
    pub(crate) key: Option<Arc<str>>,
    /// The result came from the cache (or from the run being resumed), not from running.
    pub(crate) hit: bool,
    /// For reports: where a hit came from, or why a cached task missed.
    pub(crate) note: Option<Arc<str>>,
}

/// How an attempt ended.
pub(crate) enum Outcome {
    Succeeded(Value, CacheInfo),
    Expanded(Expansion),
    /// The attempt failed; `is_retryable` is false when `retry_on` rules a retry out.
    Failed {
        error: TaskError,
        is_retryable: bool,
    },
    /// The attempt hit its timeout; `is_retryable` as for `Failed`.
    TimedOut {
        is_retryable: bool,
    },
    Cancelled,
}

impl Outcome {
    /// A success that the cache had nothing to do with.
    pub(crate) fn ok(value: Value) -> Self {
        Self::Succeeded(value, CacheInfo::default())
    }

    /// A failed attempt that the task's retry policy may retry.
    pub(crate) fn failed(error: TaskError) -> Self {
        Self::Failed {
            error,
            is_retryable: true,
        }
    }
}

/// Reports an attempt's outcome back to the dispatcher; dropping it unreported counts as a
/// failure, so a panicking worker cannot hang the run.
pub(crate) struct Completer {
    tx: mpsc::UnboundedSender<dispatcher::Message>,
    node: NodeId,
    sent: bool,
}

impl Completer {
    pub(crate) fn finish(mut self, outcome: Outcome) {
        self.sent = true;
        let _ = self.tx.send(dispatcher::Message::Done(self.node, outcome));
    }
}

impl Drop for Completer {
    fn drop(&mut self) {
        if !self.sent {
            let error = TaskError::new("the worker running this task stopped unexpectedly");
            let outcome = Outcome::Failed {
                error,
                is_retryable: false,
            };
            let _ = self.tx.send(dispatcher::Message::Done(self.node, outcome));
        }
    }
}

/// Reports the outcomes of a batch: the attempts that ran, in order, with how long each
/// took, and the jobs it did not reach. Dropping it unreported fails the whole batch.
pub(crate) struct BatchCompleter {
    tx: mpsc::UnboundedSender<dispatcher::Message>,
    nodes: Vec<NodeId>,
    sent: bool,
}

impl BatchCompleter {
    pub(crate) fn finish(mut self, ran: Vec<(NodeId, Outcome, Duration)>) {
        self.sent = true;
        let unstarted = self.nodes.split_off(ran.len());
        let _ = self
            .tx
            .send(dispatcher::Message::BatchDone { ran, unstarted });
    }
}

impl Drop for BatchCompleter {
    fn drop(&mut self) {
        if !self.sent {
            let ran = self
                .nodes
                .iter()
                .map(|&id| {
                    let error = TaskError::new("the worker running this task stopped unexpectedly");
                    (
                        id,
                        Outcome::Failed {
                            error,
                            is_retryable: false,
                        },
                        Duration::ZERO,
                    )
                })
                .collect();
            let _ = self.tx.send(dispatcher::Message::BatchDone {
                ran,
                unstarted: Vec::new(),
            });
        }
    }
}

/// Does the work of nodes. `start` and `start_batch` must not block: they spawn and return.
pub(crate) trait Execute: Send + Sync + 'static {
    fn start(self: &Arc<Self>, job: Job, done: Completer);

    /// Runs `jobs` one after another on one worker, stopping early once [`BATCH_BUDGET`] is
    /// spent or the run is cancelled; reports the ones that ran.
    fn start_batch(self: &Arc<Self>, jobs: Vec<Job>, done: BatchCompleter);

    /// Runs `job` on the calling thread, if this executor can; `None` otherwise. Only used
    /// for calls of tasks that have proved to take microseconds (a chain of them would
    /// otherwise pay two thread hand-offs per link).
    fn run_now(&self, job: &Job) -> Option<Outcome>;
}

/// How a run is bounded and what it does on failure.
#[derive(Clone, Debug)]
pub(crate) struct RunLimits {
    pub(crate) jobs: usize,
    pub(crate) max_dynamic_tasks: usize,
    pub(crate) timeout: Option<Duration>,
    pub(crate) on_failure: FailurePolicy,
    /// Listen for SIGINT and SIGTERM (off in unit tests).
    pub(crate) handle_signals: bool,
    /// Named pools and their sizes (the flow's `pools`); tasks take `pool_slots` of one.
    pub(crate) pools: BTreeMap<String, u32>,
    /// How long trusted-fast calls may run on the dispatcher's thread per wake-up
    /// ([`BATCH_BUDGET`] in a real run).
    pub(crate) in_place_budget: Duration,
}

/// What happened to one node.
#[derive(Clone, Debug, serde::Serialize)]
pub(crate) struct NodeReport {
    pub(crate) id: NodeId,
    pub(crate) name: String,
    pub(crate) task: Option<String>,
    /// Where the node was created in the script.
    pub(crate) loc: crate::error::SourceLoc,
    /// A `.map` or `.then` node: its duration includes the nodes it added.
    pub(crate) is_expansion: bool,
    pub(crate) status: Status,
    pub(crate) attempts: u32,
    pub(crate) duration: Duration,
    pub(crate) started_ms: Option<u64>,
    pub(crate) error: Option<TaskError>,
    /// Why a node was skipped: the dependency that did not succeed.
    pub(crate) reason: Option<String>,
    /// Each attempt, when there was more than one.
    pub(crate) history: Vec<state::AttemptRecord>,
}

/// The outcome of a whole run.
pub(crate) struct RunReport {
    pub(crate) nodes: Vec<NodeReport>,
    pub(crate) output: Option<Value>,
    pub(crate) interruption: Option<Interruption>,
    pub(crate) duration: Duration,
}

impl RunReport {
    pub(crate) fn is_success(&self) -> bool {
        self.interruption.is_none() && !self.nodes.iter().any(|n| n.status.fails_run())
    }
}

#[cfg(test)]
mod tests;
