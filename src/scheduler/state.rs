//! Per-node bookkeeping of a run and the priority-ordered ready queue.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::dag::{Limit, NodeId};
use crate::events::{Status, TaskError};

/// Where a node is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Waiting for dependencies.
    Waiting,
    /// In the ready queue (or held back by a concurrency limit).
    Ready,
    Running,
    /// Between attempts.
    Retrying,
    /// Expanded; waiting for the nodes its result refers to.
    Resolving,
    Done(Status),
}

#[derive(Debug)]
pub(super) struct NodeState {
    pub(super) phase: Phase,
    /// Dependencies not finished yet.
    pub(super) remaining: u32,
    pub(super) attempts: u32,
    pub(super) first_start: Option<Instant>,
    /// When the current (or last) attempt was handed to the executor.
    pub(super) attempt_start: Option<Instant>,
    pub(super) duration: Duration,
    pub(super) error: Option<TaskError>,
    pub(super) reason: Option<String>,
    /// How long the last attempt took.
    pub(super) last_took: Duration,
    /// Every attempt, once there has been a retry (empty for a node tried once).
    pub(super) history: Vec<AttemptRecord>,
    /// The cache key of the node's last attempt, when one was computed.
    pub(super) key: Option<std::sync::Arc<str>>,
    /// Where a cached result came from, or why a cached task missed.
    pub(super) cache_note: Option<std::sync::Arc<str>>,
    /// The node's result was reused rather than computed: it came from the cache or the run
    /// being resumed, or it is an expansion over reused results.
    pub(super) reused: bool,
}

/// One attempt of a node that was retried.
#[derive(Clone, Debug, serde::Serialize)]
pub(crate) struct AttemptRecord {
    pub(crate) status: Status,
    pub(crate) duration: Duration,
    pub(crate) error: Option<TaskError>,
}

impl NodeState {
    pub(super) fn new(remaining: u32) -> Self {
        Self {
            phase: if remaining == 0 {
                Phase::Ready
            } else {
                Phase::Waiting
            },
            remaining,
            attempts: 0,
            first_start: None,
            attempt_start: None,
            duration: Duration::ZERO,
            error: None,
            reason: None,
            last_took: Duration::ZERO,
            history: Vec::new(),
            key: None,
            cache_note: None,
            reused: false,
        }
    }

    pub(super) fn status(&self) -> Option<Status> {
        match self.phase {
            Phase::Done(s) => Some(s),
            _ => None,
        }
    }

    pub(super) fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done(_))
    }
}

/// A ready node: higher priority first, then lower id (declaration order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ReadyEntry {
    pub(super) priority: i64,
    pub(super) id: NodeId,
}

impl Ord for ReadyEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.priority, Reverse(self.id)).cmp(&(other.priority, Reverse(other.id)))
    }
}

impl PartialOrd for ReadyEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

pub(super) type ReadyQueue = BinaryHeap<ReadyEntry>;

/// Concurrency limits in use: `task:x`, `fanout:y` keys to running counts, and the nodes
/// held back until a slot frees.
#[derive(Default)]
pub(super) struct Limits {
    used: HashMap<Arc<str>, u32>,
    held: HashMap<Arc<str>, Vec<ReadyEntry>>,
}

impl Limits {
    /// Takes the slots of every limit, or none (and remembers `entry` under a full one).
    pub(super) fn try_acquire<'a>(
        &mut self,
        limits: impl Iterator<Item = &'a Limit> + Clone,
        entry: ReadyEntry,
    ) -> bool {
        let is_full =
            |l: &&Limit| self.used.get(&l.key).copied().unwrap_or(0) + l.slots > l.capacity;
        if let Some(full) = limits.clone().find(is_full) {
            self.held.entry(full.key.clone()).or_default().push(entry);
            return false;
        }
        for l in limits {
            *self.used.entry(l.key.clone()).or_insert(0) += l.slots;
        }
        true
    }

    /// Frees the slots of `limits`; returns the nodes held back on them.
    pub(super) fn release<'a>(
        &mut self,
        limits: impl Iterator<Item = &'a Limit>,
    ) -> Vec<ReadyEntry> {
        let mut freed = Vec::new();
        for l in limits {
            if let Some(n) = self.used.get_mut(&l.key) {
                *n = n.saturating_sub(l.slots);
            }
            if let Some(held) = self.held.remove(&l.key) {
                freed.extend(held);
            }
        }
        freed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_queue_orders_by_priority_then_declaration() {
        let mut q = ReadyQueue::new();
        for (priority, id) in [(0, 3), (5, 7), (0, 1), (5, 2)] {
            q.push(ReadyEntry {
                priority,
                id: NodeId(id),
            });
        }
        let order: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|e| e.id.0).collect();
        assert_eq!(order, vec![2, 7, 1, 3]);
    }

    #[test]
    fn limits_hold_and_release() {
        let mut l = Limits::default();
        let lim = [Limit::one_each("task:a", 1)];
        let e = |id| ReadyEntry {
            priority: 0,
            id: NodeId(id),
        };
        assert!(l.try_acquire(lim.iter(), e(0)));
        assert!(!l.try_acquire(lim.iter(), e(1)));
        assert_eq!(l.release(lim.iter()), vec![e(1)]);
        assert!(l.try_acquire(lim.iter(), e(1)));
    }
}
