//! Batches of tiny tasks. Handing one Rhai task to a worker thread and hearing back costs two
//! thread wake-ups, far more than a `x * x` body. Once a task has proved fast, ready calls of
//! it go out in batches that one worker runs back to back for at most [`BATCH_BUDGET`], then
//! reports together; what it did not reach goes back to the ready queue.

use std::collections::HashMap;
use std::time::Duration;

use crate::dag::{Node, NodeKind};
use crate::script::{ExecutorKind, RunIn};

/// How long a worker keeps taking calls from one batch.
pub(crate) const BATCH_BUDGET: Duration = Duration::from_millis(2);
/// Most calls in one batch.
pub(super) const MAX_BATCH: usize = 512;
/// An attempt this quick counts towards trusting its task.
const FAST_ATTEMPT: Duration = Duration::from_micros(200);
/// Fast attempts in a row before a task's calls are batched.
const TRUST_AFTER: u32 = 8;

/// Whether a node could run inside a batch: a plain Rhai call on a thread, with no limits.
/// A task on Slurm never is (the run's `--executor` reaches tasks through their options).
pub(super) fn is_batchable(node: &Node) -> bool {
    node.kind == NodeKind::Task
        && node.options.run_in == RunIn::Thread
        && node.options.executor != Some(ExecutorKind::Slurm)
        && node.limits.is_empty()
        && node.options.pool.is_none()
        && node.options.trigger == crate::script::Trigger::AllSuccess
        && node.options.cache_ttl.is_none()
        && node.task.is_some()
}

/// Per task, how many attempts in a row were fast.
#[derive(Default)]
pub(super) struct SpeedLog {
    streaks: HashMap<String, u32>,
}

impl SpeedLog {
    pub(super) fn record(&mut self, task: &str, took: Duration) {
        if took <= FAST_ATTEMPT {
            if let Some(n) = self.streaks.get_mut(task) {
                *n = n.saturating_add(1);
            } else {
                self.streaks.insert(task.to_owned(), 1);
            }
        } else {
            self.streaks.remove(task);
        }
    }

    pub(super) fn is_fast(&self, node: &Node) -> bool {
        is_batchable(node)
            && node
                .task
                .as_deref()
                .and_then(|t| self.streaks.get(t))
                .is_some_and(|n| *n >= TRUST_AFTER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_is_trusted_after_a_streak_and_loses_it_on_a_slow_attempt() {
        let mut log = SpeedLog::default();
        for _ in 0..TRUST_AFTER {
            log.record("sq", Duration::from_micros(5));
        }
        assert_eq!(log.streaks["sq"], TRUST_AFTER);
        log.record("sq", Duration::from_millis(5));
        assert!(!log.streaks.contains_key("sq"));
    }
}
