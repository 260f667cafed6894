//! The dispatcher: the one owner of a run's state. It starts ready nodes in priority order
//! within `--jobs` and the concurrency limits, and reacts to completions, retry timers,
//! signals and the run deadline in a single `select!` loop. What an outcome does to the run
//! (retries, expansions, skips, the final report) is in `settle`.

mod settle;
mod signals;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use self::signals::{sleep_until, watch_stops};

use super::batch::{MAX_BATCH, SpeedLog};
use super::state::{Limits, NodeState, Phase, ReadyEntry, ReadyQueue};
use super::{
    BatchCompleter, Completer, Execute, Interruption, Job, Observe, Outcome, RunLimits, RunReport,
    pool_limit,
};
use crate::dag::{Dag, Limit, NodeId};
use crate::events::{RunEvent, Status, TaskError, Upstream};
use crate::script::{Trigger, Value};
use crate::stop::Stop;

/// How long a forced stop (second Ctrl-C) waits for workers before giving up on them.
const FORCE_WAIT: Duration = Duration::from_millis(500);

pub(super) enum Message {
    Done(NodeId, Outcome),
    BatchDone {
        ran: Vec<(NodeId, Outcome, Duration)>,
        unstarted: Vec<NodeId>,
    },
    RetryDue(NodeId),
    /// A signal or the deadline stopped the run (the watcher already cancelled its work).
    Interrupted(Interruption),
    /// A second signal: stop waiting for running work.
    Forced,
}

/// Runs `dag` to completion and resolves `output` (the flow's result) from node results.
pub(crate) async fn run<E: Execute, O: Observe>(
    dag: Dag,
    output: Value,
    limits: RunLimits,
    executor: Arc<E>,
    observer: O,
) -> RunReport {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut d = Dispatcher::new(dag, limits, executor, observer, tx);
    d.event_loop(rx).await;
    d.finish(&output)
}

struct Dispatcher<E, O> {
    dag: Dag,
    states: Vec<NodeState>,
    results: Vec<Option<Arc<Value>>>,
    ready: ReadyQueue,
    limits: Limits,
    running: usize,
    retries_pending: usize,
    run: RunLimits,
    executor: Arc<E>,
    observer: O,
    tx: mpsc::UnboundedSender<Message>,
    stop: Arc<Stop>,
    /// The tokens `always` nodes get: only forcing stops them.
    finally: Arc<Stop>,
    is_stopping: bool,
    interruption: Option<Interruption>,
    /// Nodes whose result waits for other nodes, keyed by the node they wait for.
    /// Indexed by node id, like `states`: a map keyed by id costs a hash per completion.
    resolvers: Vec<Vec<NodeId>>,
    /// Unresolved results and how many nodes each still waits for.
    unresolved: HashMap<NodeId, (Value, u32)>,
    /// Expansions run one at a time, so each can number its new nodes from the graph's end.
    is_expanding: bool,
    /// Ready expansions waiting for the running one, best first; one goes back to `ready`
    /// as each expansion ends (all of them would be popped and deferred again: with many
    /// `.then` nodes ready at once that was quadratic).
    deferred: ReadyQueue,
    dynamic_created: usize,
    started: Instant,
    speed: SpeedLog,
    /// Per node, the pool it takes slots from (see [`pool_limit`]).
    pool_limits: Vec<Option<Limit>>,
}

impl<E: Execute, O: Observe> Dispatcher<E, O> {
    fn new(
        dag: Dag,
        run: RunLimits,
        executor: Arc<E>,
        observer: O,
        tx: mpsc::UnboundedSender<Message>,
    ) -> Self {
        let stop: Arc<Stop> = Arc::default();
        let mut d = Self {
            states: Vec::with_capacity(dag.len()),
            results: Vec::with_capacity(dag.len()),
            ready: ReadyQueue::new(),
            limits: Limits::default(),
            running: 0,
            retries_pending: 0,
            run,
            executor,
            observer,
            tx,
            finally: Arc::new(Stop::finally(&stop.hurry)),
            stop,
            is_stopping: false,
            interruption: None,
            resolvers: Vec::new(),
            unresolved: HashMap::new(),
            is_expanding: false,
            deferred: ReadyQueue::new(),
            dynamic_created: 0,
            started: Instant::now(),
            speed: SpeedLog::default(),
            pool_limits: Vec::new(),
            dag,
        };
        d.add_states(0);
        d
    }

    /// Creates state for nodes from `first` on, readying those with nothing to wait for.
    fn add_states(&mut self, first: usize) {
        for i in first..self.dag.len() {
            let id = NodeId(u32::try_from(i).expect("invariant: node ids fit in u32"));
            let trigger = self.dag.node(id).options.trigger;
            // A plain node waits for its dependencies to succeed; one with a trigger rule
            // waits for them to finish, however they end.
            let is_settled = |s: &NodeState| match trigger {
                Trigger::AllSuccess => s.status().is_some_and(Status::is_success),
                _ => s.is_done(),
            };
            let waiting = self
                .dag
                .deps(id)
                .filter(|d| !self.states.get(d.index()).is_some_and(is_settled))
                .count();
            self.states
                .push(NodeState::new(u32::try_from(waiting).unwrap_or(u32::MAX)));
            self.results.push(None);
            self.resolvers.push(Vec::new());
            match pool_limit(self.dag.node(id), &self.run.pools) {
                Ok(limit) => self.pool_limits.push(limit),
                Err(message) => {
                    self.pool_limits.push(None);
                    self.complete(id, Status::Failed, Some(TaskError::new(message)));
                    continue;
                }
            }
            let failed_dep = self.dag.deps(id).find(|d| {
                self.states
                    .get(d.index())
                    .and_then(NodeState::status)
                    .is_some_and(|s| !s.is_success())
            });
            if let (Some(dep), Trigger::AllSuccess) = (failed_dep, trigger) {
                self.skip(id, dep);
            } else if waiting == 0 {
                self.deps_finished(id);
            }
        }
    }

    fn push_ready(&mut self, id: NodeId) {
        self.states[id.index()].phase = Phase::Ready;
        self.ready.push(ReadyEntry {
            priority: self.dag.node(id).options.priority,
            id,
        });
    }

    async fn event_loop(&mut self, mut rx: mpsc::UnboundedReceiver<Message>) {
        // Signals and the deadline are watched on a task of their own, so they cancel running
        // work even while this thread runs a call in place.
        let stopper = tokio::spawn(watch_stops(
            self.run.handle_signals,
            self.run.timeout,
            self.stop.cancel.clone(),
            self.stop.hurry.clone(),
            self.tx.clone(),
        ));
        let mut forced_at: Option<tokio::time::Instant> = None;
        self.observer.observe(&RunEvent::RunStarted {
            nodes: self.dag.len(),
        });
        self.launch();
        loop {
            if self.is_idle() {
                // A stopped run still owes its `always` nodes a chance to run.
                if self.is_stopping && self.settle_unstarted() {
                    self.launch();
                    continue;
                }
                break;
            }
            tokio::select! {
                msg = rx.recv() => {
                    let Some(msg) = msg else { break };
                    if matches!(msg, Message::Forced) {
                        forced_at.get_or_insert_with(|| tokio::time::Instant::now() + FORCE_WAIT);
                    }
                    self.handle(msg);
                    while let Ok(msg) = rx.try_recv() {
                        self.handle(msg);
                    }
                    self.launch();
                }
                () = sleep_until(forced_at), if forced_at.is_some() => break,
            }
        }
        // A stop that came while the last work finished in place is still queued.
        while let Ok(msg) = rx.try_recv() {
            self.handle(msg);
        }
        stopper.abort();
    }

    fn is_idle(&self) -> bool {
        self.running == 0
            && (self.is_stopping
                || (self.ready.is_empty() && self.retries_pending == 0 && self.deferred.is_empty()))
    }

    fn interrupt(&mut self, kind: Interruption) {
        let running: Vec<&str> = self
            .states
            .iter()
            .enumerate()
            .filter(|(_, s)| s.phase == Phase::Running)
            .map(|(i, _)| &self.dag.nodes()[i])
            // `always` nodes run on until done; only a second signal stops them.
            .filter(|n| n.options.trigger != Trigger::Always)
            .map(|n| n.name.as_str())
            .collect();
        let what = match kind {
            Interruption::Timeout => "the run timed out",
            Interruption::Sigint => "interrupted",
            Interruption::Sigterm => "terminated",
        };
        if running.is_empty() {
            tracing::warn!("{what}: stopping");
        } else {
            tracing::warn!(
                "{what}: stopping {} running task(s): {}",
                running.len(),
                running.join(", ")
            );
        }
        self.interruption = Some(kind);
        self.stop();
    }

    /// Starts nothing new and cancels what runs.
    fn stop(&mut self) {
        self.is_stopping = true;
        self.stop.cancel.cancel();
        for i in 0..self.states.len() {
            if self.states[i].phase == Phase::Retrying {
                self.retries_pending -= 1;
                self.complete(NodeId(i as u32), Status::Cancelled, None);
            }
        }
    }

    /// Starts ready nodes while job slots and limits allow. Trusted-fast calls go out in
    /// batches when plenty are ready, or run right here for up to [`BATCH_BUDGET`] when few are.
    fn launch(&mut self) {
        let inline_until = Instant::now() + self.run.in_place_budget;
        while self.running < self.run.jobs {
            let Some(entry) = self.ready.pop() else { break };
            let node = self.dag.node_arc(entry.id);
            // A stopping run starts only `always` nodes; the rest are settled at the end.
            let is_stopping = self.is_stopping || self.stop.cancel.is_cancelled();
            if is_stopping && node.options.trigger != Trigger::Always {
                continue;
            }
            if node.kind.is_expansion() && self.is_expanding {
                self.deferred.push(entry);
                continue;
            }
            let pool = self.pool_limits[entry.id.index()].as_ref();
            if !self
                .limits
                .try_acquire(node.limits.iter().chain(pool), entry)
            {
                continue;
            }
            let is_fast = self.speed.is_fast(&node);
            if is_fast && self.ready.len() >= self.run.jobs {
                self.start_batch(entry.id);
            } else if !(is_fast && Instant::now() < inline_until && self.run_inline(entry.id)) {
                self.start(entry.id);
            }
        }
    }

    /// Runs one call on the dispatcher's own thread; false if the executor cannot.
    fn run_inline(&mut self, id: NodeId) -> bool {
        let job = self.job_for(id);
        let began = Instant::now();
        let Some(outcome) = self.executor.run_now(&job) else {
            self.states[id.index()].attempts -= 1;
            return false;
        };
        let took = began.elapsed();
        self.states[id.index()].first_start.get_or_insert(began);
        self.observer.observe(&RunEvent::NodeStarted {
            name: job.node.name.clone(),
            attempt: job.attempt,
        });
        self.settle(id, outcome, took);
        true
    }

    /// Starts `first` with the fast ready calls behind it, up to a fair share of the queue.
    fn start_batch(&mut self, first: NodeId) {
        let share = (self.ready.len() + 1)
            .div_ceil(self.run.jobs)
            .clamp(1, MAX_BATCH);
        let mut ids = vec![first];
        while ids.len() < share {
            let next = match self.ready.peek() {
                Some(e) if self.speed.is_fast(self.dag.node(e.id)) => e.id,
                _ => break,
            };
            self.ready.pop();
            ids.push(next);
        }
        let jobs = ids.iter().map(|&id| self.job_for(id)).collect();
        self.running += 1;
        let done = BatchCompleter {
            tx: self.tx.clone(),
            nodes: ids,
            sent: false,
        };
        self.executor.start_batch(jobs, done);
    }

    fn start(&mut self, id: NodeId) {
        self.states[id.index()]
            .first_start
            .get_or_insert_with(Instant::now);
        let job = self.job_for(id);
        self.running += 1;
        self.is_expanding |= job.node.kind.is_expansion();
        self.observer.observe(&RunEvent::NodeStarted {
            name: job.node.name.clone(),
            attempt: job.attempt,
        });
        let done = Completer {
            tx: self.tx.clone(),
            node: id,
            sent: false,
        };
        self.executor.start(job, done);
    }

    /// Marks `id` running and prepares its next attempt.
    fn job_for(&mut self, id: NodeId) -> Job {
        let node = self.dag.node_arc(id);
        let state = &mut self.states[id.index()];
        state.phase = Phase::Running;
        state.attempts += 1;
        state.attempt_start = Some(Instant::now());
        let attempt = state.attempts;
        let inputs = self
            .dag
            .deps(id)
            .map(|d| {
                (
                    d,
                    self.results[d.index()]
                        .clone()
                        .unwrap_or_else(|| Arc::new(Value::unit())),
                )
            })
            .collect();
        let is_finally = node.options.trigger == Trigger::Always;
        let inputs_reused = self.dag.deps(id).all(|d| self.states[d.index()].reused);
        let upstream = if node.options.trigger == Trigger::AllSuccess {
            Vec::new()
        } else {
            self.upstream_of(id)
        };
        Job {
            node,
            attempt,
            inputs,
            // An `always` node runs like a `finally`: only forcing (a second signal) stops it.
            stop: if is_finally {
                self.finally.clone()
            } else {
                self.stop.clone()
            },
            upstream,
            inputs_reused,
            next_id: u32::try_from(self.dag.len()).unwrap_or(u32::MAX),
            dynamic_budget: self
                .run
                .max_dynamic_tasks
                .saturating_sub(self.dynamic_created),
        }
    }

    /// How each dependency of `id` ended, for `ctx().upstream`.
    fn upstream_of(&self, id: NodeId) -> Vec<Upstream> {
        self.dag
            .deps(id)
            .filter_map(|d| {
                let state = &self.states[d.index()];
                Some(Upstream {
                    name: self.dag.node(d).name.clone(),
                    status: state.status()?,
                    error: state.error.as_ref().map(|e| e.message.clone()),
                })
            })
            .collect()
    }

    fn handle(&mut self, msg: Message) {
        match msg {
            Message::Done(id, outcome) => self.on_done(id, outcome),
            Message::BatchDone { ran, unstarted } => self.on_batch_done(ran, unstarted),
            Message::Interrupted(kind) => self.interrupt(kind),
            Message::Forced => tracing::warn!("stopping now: killing every running task"),
            Message::RetryDue(id) => {
                self.retries_pending -= 1;
                if self.states[id.index()].phase == Phase::Retrying {
                    self.push_ready(id);
                }
            }
        }
    }
}
