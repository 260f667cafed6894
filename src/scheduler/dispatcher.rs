//! The dispatcher: the one owner of a run's state. It starts ready nodes in priority order
//! within `--jobs` and the concurrency limits, and reacts to completions, retry timers,
//! signals and the run deadline in a single `select!` loop.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::batch::{BATCH_BUDGET, MAX_BATCH, SpeedLog};
use super::policy::{RetryPolicy, jitter_sample};
use super::state::{Limits, NodeState, Phase, ReadyEntry, ReadyQueue};
use super::{
    BatchCompleter, Completer, Execute, Interruption, Job, NodeReport, Observe, Outcome, RunLimits,
    RunReport,
};
use crate::dag::{Dag, NodeId};
use crate::events::{RunEvent, Status, TaskError};
use crate::script::{Expansion, FailurePolicy, Value};

/// How long a forced stop (second Ctrl-C) waits for workers before giving up on them.
const FORCE_WAIT: Duration = Duration::from_millis(500);

pub(super) enum Message {
    Done(NodeId, Outcome),
    BatchDone {
        ran: Vec<(NodeId, Outcome, Duration)>,
        unstarted: Vec<NodeId>,
    },
    RetryDue(NodeId),
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
    cancel: CancellationToken,
    hurry: CancellationToken,
    is_stopping: bool,
    interruption: Option<Interruption>,
    /// Nodes whose result waits for other nodes, keyed by the node they wait for.
    resolvers: HashMap<NodeId, Vec<NodeId>>,
    /// Unresolved results and how many nodes each still waits for.
    unresolved: HashMap<NodeId, (Value, u32)>,
    /// Expansions run one at a time, so each can number its new nodes from the graph's end.
    is_expanding: bool,
    deferred: VecDeque<ReadyEntry>,
    dynamic_created: usize,
    started: Instant,
    speed: SpeedLog,
}

impl<E: Execute, O: Observe> Dispatcher<E, O> {
    fn new(
        dag: Dag,
        run: RunLimits,
        executor: Arc<E>,
        observer: O,
        tx: mpsc::UnboundedSender<Message>,
    ) -> Self {
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
            cancel: CancellationToken::new(),
            hurry: CancellationToken::new(),
            is_stopping: false,
            interruption: None,
            resolvers: HashMap::new(),
            unresolved: HashMap::new(),
            is_expanding: false,
            deferred: VecDeque::new(),
            dynamic_created: 0,
            started: Instant::now(),
            speed: SpeedLog::default(),
            dag,
        };
        d.add_states(0);
        d
    }

    /// Creates state for nodes from `first` on, readying those with nothing to wait for.
    fn add_states(&mut self, first: usize) {
        for i in first..self.dag.len() {
            let id = NodeId(u32::try_from(i).expect("invariant: node ids fit in u32"));
            let waiting = self
                .dag
                .deps(id)
                .filter(|d| {
                    !self
                        .states
                        .get(d.index())
                        .is_some_and(|s| s.status().is_some_and(Status::is_success))
                })
                .count();
            self.states
                .push(NodeState::new(u32::try_from(waiting).unwrap_or(u32::MAX)));
            self.results.push(None);
            let failed_dep = self.dag.deps(id).find(|d| {
                self.states
                    .get(d.index())
                    .and_then(NodeState::status)
                    .is_some_and(|s| !s.is_success())
            });
            if let Some(dep) = failed_dep {
                self.skip(id, dep);
            } else if waiting == 0 {
                self.push_ready(id);
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
        let mut signals = Signals::new(self.run.handle_signals);
        let deadline = self.run.timeout.map(|t| tokio::time::Instant::now() + t);
        let mut forced_at: Option<tokio::time::Instant> = None;
        self.observer.observe(&RunEvent::RunStarted {
            nodes: self.dag.len(),
        });
        self.launch();
        while !self.is_idle() {
            tokio::select! {
                msg = rx.recv() => {
                    let Some(msg) = msg else { break };
                    self.handle(msg);
                    while let Ok(msg) = rx.try_recv() {
                        self.handle(msg);
                    }
                    self.launch();
                }
                kind = signals.next() => {
                    if self.interruption.is_some_and(|i| i != Interruption::Timeout) || forced_at.is_some() {
                        tracing::warn!("stopping now: killing every running task");
                        self.hurry.cancel();
                        forced_at.get_or_insert_with(|| tokio::time::Instant::now() + FORCE_WAIT);
                    } else {
                        self.interrupt(kind);
                    }
                }
                () = sleep_until(deadline), if self.interruption.is_none() => self.interrupt(Interruption::Timeout),
                () = sleep_until(forced_at), if forced_at.is_some() => break,
            }
        }
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
            .map(|(i, _)| self.dag.nodes()[i].name.as_str())
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
        self.cancel.cancel();
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
        let inline_until = Instant::now() + BATCH_BUDGET;
        while !self.is_stopping && self.running < self.run.jobs {
            let Some(entry) = self.ready.pop() else { break };
            let node = self.dag.node_arc(entry.id);
            if node.kind.is_expansion() && self.is_expanding {
                self.deferred.push_back(entry);
                continue;
            }
            if !self.limits.try_acquire(&node.limits, entry) {
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
        Job {
            node,
            attempt,
            inputs,
            cancel: self.cancel.clone(),
            hurry: self.hurry.clone(),
            next_id: u32::try_from(self.dag.len()).unwrap_or(u32::MAX),
            dynamic_budget: self
                .run
                .max_dynamic_tasks
                .saturating_sub(self.dynamic_created),
        }
    }

    fn handle(&mut self, msg: Message) {
        match msg {
            Message::Done(id, outcome) => self.on_done(id, outcome),
            Message::BatchDone { ran, unstarted } => self.on_batch_done(ran, unstarted),
            Message::RetryDue(id) => {
                self.retries_pending -= 1;
                if self.states[id.index()].phase == Phase::Retrying {
                    self.push_ready(id);
                }
            }
        }
    }

    fn on_done(&mut self, id: NodeId, outcome: Outcome) {
        self.running -= 1;
        let node = self.dag.node_arc(id);
        for entry in self.limits.release(&node.limits) {
            self.ready.push(entry);
        }
        if node.kind.is_expansion() {
            self.is_expanding = false;
            self.ready.extend(self.deferred.drain(..));
        }
        let took = self.states[id.index()]
            .attempt_start
            .map_or(Duration::ZERO, |s| s.elapsed());
        self.settle(id, outcome, took);
    }

    /// A batch ran: each attempt that ran is settled as if it had run alone (reported as
    /// started now), the others go back to the ready queue.
    fn on_batch_done(&mut self, ran: Vec<(NodeId, Outcome, Duration)>, unstarted: Vec<NodeId>) {
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
    fn settle(&mut self, id: NodeId, outcome: Outcome, took: Duration) {
        let node = self.dag.node_arc(id);
        if let (Outcome::Succeeded(_), Some(task)) = (&outcome, node.task.as_deref()) {
            if super::batch::is_batchable(&node) {
                self.speed.record(task, took);
            }
        }
        match outcome {
            Outcome::Succeeded(v) => self.succeed(id, v),
            Outcome::Expanded(e) => self.expand(id, e),
            Outcome::Failed {
                error,
                is_retryable,
            } => self.attempt_failed(id, Status::Failed, error, is_retryable),
            Outcome::TimedOut => {
                let after = node.options.timeout.map_or_else(String::new, |t| {
                    format!(" after {}", crate::script::fmt_duration(t))
                });
                self.attempt_failed(
                    id,
                    Status::TimedOut,
                    TaskError::new(format!("timed out{after}")),
                    true,
                );
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
        let delay = policy
            .delay_before(attempts + 1, jitter_sample(seed))
            .filter(|_| is_retryable && !self.is_stopping);
        let Some(delay) = delay else {
            return self.complete(id, status, Some(err));
        };
        self.observer.observe(&RunEvent::NodeRetrying {
            name: node.name.clone(),
            attempt: attempts + 1,
            delay,
            error: err,
        });
        self.states[id.index()].phase = Phase::Retrying;
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
            self.resolvers.entry(*p).or_default().push(id);
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
    fn complete(&mut self, id: NodeId, status: Status, error: Option<TaskError>) {
        let state = &mut self.states[id.index()];
        state.phase = Phase::Done(status);
        state.duration = state.first_start.map_or(Duration::ZERO, |s| s.elapsed());
        state.error.clone_from(&error);
        let (attempts, duration) = (state.attempts, state.duration);
        let name = self.dag.node(id).name.clone();
        self.observer.observe(&RunEvent::NodeFinished {
            name,
            status,
            attempts,
            duration,
            error,
        });
        let dependents: Vec<NodeId> = self.dag.dependents(id).collect();
        let resolvers = self.resolvers.remove(&id).unwrap_or_default();
        if status.is_success() {
            for d in dependents {
                let s = &mut self.states[d.index()];
                s.remaining -= 1;
                if s.remaining == 0 && s.phase == Phase::Waiting {
                    self.push_ready(d);
                }
            }
            for r in resolvers {
                self.resolved_one(r);
            }
            return;
        }
        if status == Status::Skipped || self.run.on_failure == FailurePolicy::KeepGoing {
            for d in dependents.into_iter().chain(resolvers) {
                if !self.states[d.index()].is_done() {
                    self.skip(d, id);
                }
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

    fn skip(&mut self, id: NodeId, because: NodeId) {
        let reason = format!("`{}` did not succeed", self.dag.node(because).name);
        self.states[id.index()].reason = Some(reason);
        self.unresolved.remove(&id);
        self.complete(id, Status::Skipped, None);
    }

    /// Marks what never ran and builds the report.
    fn finish(mut self, output: &Value) -> RunReport {
        for id in self.dag.topo_order() {
            if self.states[id.index()].is_done() {
                continue;
            }
            let failed_dep = self.dag.deps(id).find(|d| {
                self.states[d.index()]
                    .status()
                    .is_some_and(|s| !s.is_success())
            });
            match failed_dep {
                Some(dep) if self.states[dep.index()].status() != Some(Status::Cancelled) => {
                    self.skip(id, dep)
                }
                _ => self.complete(id, Status::Cancelled, None),
            }
        }
        let duration = self.started.elapsed();
        let is_success = self.interruption.is_none()
            && self
                .states
                .iter()
                .all(|s| s.status().is_some_and(Status::is_success));
        let output = is_success.then(|| output.resolve(&|n| self.result_of(n)));
        let nodes = self
            .states
            .into_iter()
            .zip(self.dag.nodes())
            .map(|(s, n)| NodeReport {
                id: n.id,
                name: n.name.clone(),
                task: n.task.clone(),
                status: s.status().unwrap_or(Status::Cancelled),
                attempts: s.attempts,
                duration: s.duration,
                started_ms: s.first_start.map(|t| {
                    u64::try_from(t.duration_since(self.started).as_millis()).unwrap_or(u64::MAX)
                }),
                error: s.error,
                reason: s.reason,
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

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// SIGINT and SIGTERM as a stream of interruptions.
struct Signals {
    int: Option<tokio::signal::unix::Signal>,
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new(enabled: bool) -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        if !enabled {
            return Self {
                int: None,
                term: None,
            };
        }
        Self {
            int: signal(SignalKind::interrupt()).ok(),
            term: signal(SignalKind::terminate()).ok(),
        }
    }

    async fn next(&mut self) -> Interruption {
        let int = async {
            match self.int.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        let term = async {
            match self.term.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = int => Interruption::Sigint,
            _ = term => Interruption::Sigterm,
        }
    }
}
