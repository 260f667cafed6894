//! Applying outcomes: results, retries, expansions, skips after failures, and the report at
//! the end of the run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Dispatcher, Message};
use crate::dag::NodeId;
use crate::events::{RunEvent, Status, TaskError};
use crate::scheduler::policy::{RetryPolicy, jitter_sample};
use crate::scheduler::state::{AttemptRecord, NodeState, Phase};
use crate::scheduler::{Execute, NodeReport, Observe, Outcome, RunReport};
use crate::script::{Expansion, FailurePolicy, Trigger, Value};

impl<E: Execute, O: Observe> Dispatcher<E, O> {
    pub(super) fn on_done(&mut self, id: NodeId, outcome: Outcome) {
        self.running -= 1;
        let node = self.dag.node_arc(id);
        let pool = self.pool_limits[id.index()].as_ref();
        for entry in self.limits.release(node.limits.iter().chain(pool)) {
            self.ready.push(entry);
        }
        if node.kind.is_expansion() {
            self.is_expanding = false;
            if let Some(next) = self.deferred.pop() {
                self.ready.push(next);
            }
        }
        let took = self.states[id.index()]
            .attempt_start
            .map_or(Duration::ZERO, |s| s.elapsed());
        self.settle(id, outcome, took);
    }

    /// A batch ran: each attempt that ran is settled as if it had run alone (reported as
    /// started now), the others go back to the ready queue.
    pub(super) fn on_batch_done(
        &mut self,
        ran: Vec<(NodeId, Outcome, Duration)>,
        unstarted: Vec<NodeId>,
    ) {
        self.running -= 1;
        let now = Instant::now();
        for (id, outcome, took) in ran {
            let state = &mut self.states[id.index()];
            state
                .first_start
                .get_or_insert(now.checked_sub(took).unwrap_or(now));
            let (name, attempt) = (self.dag.node(id).name.clone(), state.attempts);
            self.observer
                .observe(&RunEvent::NodeStarted { name, attempt });
            self.settle(id, outcome, took);
        }
        for id in unstarted {
            let state = &mut self.states[id.index()];
            state.attempts -= 1;
            if self.is_stopping {
                self.complete(id, Status::Cancelled, None);
            } else {
                self.push_ready(id);
            }
        }
    }

    /// Applies the outcome of one attempt that took `took`.
    pub(super) fn settle(&mut self, id: NodeId, outcome: Outcome, took: Duration) {
        self.states[id.index()].last_took = took;
        let node = self.dag.node_arc(id);
        if let (Outcome::Succeeded(..), Some(task)) = (&outcome, node.task.as_deref()) {
            if crate::scheduler::batch::is_batchable(&node) {
                self.speed.record(task, took);
            }
        }
        match outcome {
            Outcome::Succeeded(v, cache) => {
                let state = &mut self.states[id.index()];
                state.key = cache.key;
                state.cache_note = cache.note;
                let status = if cache.hit {
                    Status::Cached
                } else {
                    Status::Succeeded
                };
                self.results[id.index()] = Some(Arc::new(v));
                self.complete(id, status, None);
            }
            Outcome::Expanded(e) => self.expand(id, e),
            Outcome::Failed {
                mut error,
                is_retryable,
            } => {
                // Every report of the error (events, console, summary, hooks) starts here.
                error.redact();
                self.attempt_failed(id, Status::Failed, error, is_retryable);
            }
            Outcome::TimedOut { is_retryable } => {
                let error = TaskError::new(crate::executor::timeout_message(node.options.timeout));
                self.attempt_failed(id, Status::TimedOut, error, is_retryable);
            }
            Outcome::Cancelled => self.complete(id, Status::Cancelled, None),
        }
    }

    fn succeed(&mut self, id: NodeId, v: Value) {
        self.results[id.index()] = Some(Arc::new(v));
        self.complete(id, Status::Succeeded, None);
    }

    fn attempt_failed(&mut self, id: NodeId, status: Status, err: TaskError, is_retryable: bool) {
        let node = self.dag.node_arc(id);
        let attempts = self.states[id.index()].attempts;
        let policy = RetryPolicy::from_options(&node.options);
        let seed =
            u64::from(id.0) << 32 | u64::from(attempts) ^ self.started.elapsed().as_nanos() as u64;
        // An expansion's failure (a non-list, a bad name) would fail the same way again.
        let may_retry = is_retryable && !self.is_stopping && !node.kind.is_expansion();
        let delay = policy
            .delay_before(attempts + 1, jitter_sample(seed))
            .filter(|_| may_retry);
        let Some(delay) = delay else {
            return self.complete(id, status, Some(err));
        };
        let state = &mut self.states[id.index()];
        let record = AttemptRecord {
            status,
            duration: state.last_took,
            error: Some(err.clone()),
        };
        state.history.push(record);
        state.phase = Phase::Retrying;
        self.observer.observe(&RunEvent::NodeRetrying {
            name: node.name.clone(),
            attempt: attempts + 1,
            delay,
            error: err,
        });
        self.retries_pending += 1;
        let tx = self.tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = tx.send(Message::RetryDue(id));
        });
    }

    fn expand(&mut self, id: NodeId, expansion: Expansion) {
        let name = self.dag.node(id).name.clone();
        let count = expansion.nodes.len();
        if self.dynamic_created + count > self.run.max_dynamic_tasks {
            let err = TaskError::new(format!(
                "expanding `{name}` would create {count} nodes, over the limit of {} dynamic tasks (`--max-dynamic-tasks`)",
                self.run.max_dynamic_tasks
            ));
            return self.complete(id, Status::Failed, Some(err));
        }
        let first = self.dag.len();
        if let Err(d) = self.dag.extend(expansion.nodes, id) {
            let mut err = TaskError::new(d.message);
            err.loc = d.loc;
            return self.complete(id, Status::Failed, Some(err));
        }
        self.dynamic_created += count;
        self.observer.observe(&RunEvent::NodeExpanded {
            name,
            children: count,
        });
        self.add_states(first);
        self.await_result(id, expansion.output);
    }

    /// Finishes `id` with `output` once every node it refers to has succeeded.
    fn await_result(&mut self, id: NodeId, output: Value) {
        let pending: Vec<NodeId> = output
            .pending_nodes()
            .into_iter()
            .filter(|p| self.results[p.index()].is_none())
            .collect();
        if let Some(failed) = pending.iter().find(|p| {
            self.states[p.index()]
                .status()
                .is_some_and(|s| !s.is_success())
        }) {
            return self.skip(id, *failed);
        }
        if pending.is_empty() {
            let resolved = output.resolve(&|n| self.result_of(n));
            return self.succeed(id, resolved);
        }
        self.states[id.index()].phase = Phase::Resolving;
        for p in &pending {
            self.resolvers[p.index()].push(id);
        }
        self.unresolved.insert(
            id,
            (output, u32::try_from(pending.len()).unwrap_or(u32::MAX)),
        );
    }

    fn result_of(&self, id: NodeId) -> Value {
        self.results[id.index()]
            .as_deref()
            .cloned()
            .unwrap_or_default()
    }

    /// Records the end of a node and wakes (or skips) what waits for it.
    pub(super) fn complete(&mut self, id: NodeId, status: Status, error: Option<TaskError>) {
        let state = &mut self.states[id.index()];
        // Only an attempt that ran adds to the history (not a retry cancelled while waiting).
        let ended_an_attempt = state.phase == Phase::Running;
        state.phase = Phase::Done(status);
        state.duration = state.first_start.map_or(Duration::ZERO, |s| s.elapsed());
        state.error.clone_from(&error);
        if ended_an_attempt && !state.history.is_empty() {
            let last = AttemptRecord {
                status,
                duration: state.last_took,
                error: error.clone(),
            };
            state.history.push(last);
        }
        let (attempts, duration) = (state.attempts, state.duration);
        let key = state.key.clone();
        let node = self.dag.node(id);
        let reused = status == Status::Cached
            || (status == Status::Succeeded
                && node.kind.is_expansion()
                && self.dag.deps(id).all(|d| self.states[d.index()].reused));
        self.states[id.index()].reused = reused;
        let state = &self.states[id.index()];
        let cache_note = state.cache_note.clone();
        let name = self.dag.node(id).name.clone();
        let result = self.results[id.index()].clone();
        self.observer.observe(&RunEvent::NodeFinished {
            name,
            status,
            attempts,
            duration,
            error,
            key,
            result,
            cache_note,
        });
        let dependents: Vec<NodeId> = self.dag.dependents(id).collect();
        let resolvers = std::mem::take(&mut self.resolvers[id.index()]);
        if status.is_success() {
            for d in dependents {
                self.dep_settled(d);
            }
            for r in resolvers {
                self.resolved_one(r);
            }
            return;
        }
        // Nodes with a trigger rule count any end of a dependency; the rest are skipped below.
        let (triggered, dependents): (Vec<NodeId>, Vec<NodeId>) = dependents
            .into_iter()
            .partition(|d| self.dag.node(*d).options.trigger != Trigger::AllSuccess);
        for d in triggered {
            self.dep_settled(d);
        }
        // A node whose result waits for this one cannot finish either: skip it (under any
        // policy, so a fan-out whose child failed reads `skipped`, not `cancelled`).
        let skip_dependents =
            status == Status::Skipped || self.run.on_failure == FailurePolicy::KeepGoing;
        let waiting = if status == Status::Cancelled {
            Vec::new()
        } else {
            resolvers
        };
        let dependents = if skip_dependents {
            dependents
        } else {
            Vec::new()
        };
        for d in dependents.into_iter().chain(waiting) {
            if !self.states[d.index()].is_done() {
                self.skip(d, id);
            }
        }
        if matches!(status, Status::Failed | Status::TimedOut)
            && self.run.on_failure == FailurePolicy::FailFast
            && !self.is_stopping
        {
            self.stop();
        }
    }

    fn resolved_one(&mut self, r: NodeId) {
        let Some(entry) = self.unresolved.get_mut(&r) else {
            return;
        };
        entry.1 -= 1;
        if entry.1 == 0 {
            let (output, _) = self.unresolved.remove(&r).expect("invariant: present");
            let resolved = output.resolve(&|n| self.result_of(n));
            self.succeed(r, resolved);
        }
    }

    pub(super) fn skip(&mut self, id: NodeId, because: NodeId) {
        let reason = format!("`{}` did not succeed", self.dag.node(because).name);
        self.skip_with(id, reason);
    }

    fn skip_with(&mut self, id: NodeId, reason: String) {
        self.states[id.index()].reason = Some(reason);
        self.unresolved.remove(&id);
        self.complete(id, Status::Skipped, None);
    }

    /// One more dependency of `d` has settled (succeeded, or ended at all for a trigger rule).
    fn dep_settled(&mut self, d: NodeId) {
        let s = &mut self.states[d.index()];
        s.remaining -= 1;
        if s.remaining == 0 && s.phase == Phase::Waiting {
            self.deps_finished(d);
        }
    }

    /// Everything `id` waits for has settled: ready it, or skip it when its trigger rule says
    /// it should not run (`one_failed` when no dependency failed).
    pub(super) fn deps_finished(&mut self, id: NodeId) {
        let trigger = self.dag.node(id).options.trigger;
        if self.is_stopping && trigger != Trigger::Always {
            // Decided by `settle_unstarted`: a stopping run starts only `always` nodes.
            return;
        }
        if trigger == Trigger::OneFailed {
            let any_failed = self.dag.deps(id).any(|d| {
                matches!(
                    self.states[d.index()].status(),
                    Some(Status::Failed | Status::TimedOut)
                )
            });
            if !any_failed {
                return self.skip_with(
                    id,
                    "no dependency failed (`trigger: \"one_failed\"`)".to_owned(),
                );
            }
        }
        self.push_ready(id);
    }

    /// Settles every node that will not start now that the run stops: skipped when a
    /// dependency failed, cancelled otherwise. `always` nodes that become ready are left to
    /// run; returns whether there are any.
    pub(super) fn settle_unstarted(&mut self) -> bool {
        for id in self.dag.topo_order() {
            let state = &self.states[id.index()];
            let is_finally = self.dag.node(id).options.trigger == Trigger::Always;
            if state.is_done() || (is_finally && state.phase == Phase::Ready) {
                continue;
            }
            if is_finally && state.phase == Phase::Running {
                continue;
            }
            // A node with a trigger rule was not skipped by a failure: the stop kept it from
            // starting.
            let is_plain = self.dag.node(id).options.trigger == Trigger::AllSuccess;
            // A failed (or skipped) dependency explains a skip whatever order the
            // dependencies were declared in; only cancelled ones leave the node cancelled.
            let failed_dep = self.dag.deps(id).filter(|_| is_plain).find(|d| {
                self.states[d.index()]
                    .status()
                    .is_some_and(|s| !s.is_success() && s != Status::Cancelled)
            });
            match failed_dep {
                Some(dep) => self.skip(id, dep),
                None => self.complete(id, Status::Cancelled, None),
            }
        }
        !self.ready.is_empty()
    }

    /// Marks what never ran and builds the report.
    pub(super) fn finish(mut self, output: &Value) -> RunReport {
        // Nothing runs any more: `always` nodes still ready now are cancelled too. (A run that
        // finished every node, the common case, skips the walk.)
        if !self.states.iter().all(NodeState::is_done) {
            self.ready.clear();
            for state in &mut self.states {
                if state.phase == Phase::Ready {
                    state.phase = Phase::Waiting;
                }
            }
            self.settle_unstarted();
        }
        let duration = self.started.elapsed();
        let is_success = self.interruption.is_none()
            && !self
                .states
                .iter()
                .any(|s| s.status().is_none_or(Status::fails_run));
        let output = is_success.then(|| output.resolve(&|n| self.result_of(n)));
        self.observer.observe(&RunEvent::RunFinished {
            is_success,
            duration,
            interruption: self.interruption,
        });
        let nodes = self
            .states
            .into_iter()
            .zip(self.dag.nodes())
            .map(|(s, n)| NodeReport {
                id: n.id,
                name: n.name.clone(),
                task: n.task.clone(),
                loc: n.loc.clone(),
                is_expansion: n.kind.is_expansion(),
                status: s.status().unwrap_or(Status::Cancelled),
                attempts: s.attempts,
                duration: s.duration,
                started_ms: s.first_start.map(|t| {
                    u64::try_from(t.duration_since(self.started).as_millis()).unwrap_or(u64::MAX)
                }),
                error: s.error,
                reason: s.reason,
                history: s.history,
            })
            .collect();
        RunReport {
            nodes,
            output,
            interruption: self.interruption,
            duration,
        }
    }
}
