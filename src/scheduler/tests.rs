//! Dispatcher tests with a fake executor on tokio's paused clock: no real sleeps, no processes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::dag::{Dag, Dep, DepTarget, Limit, Node, NodeKind};
use crate::error::SourceLoc;
use crate::events::RunEvent;
use crate::events::Status;
use crate::script::{Payload, RetryStrategy};

/// What a fake node does on each attempt.
#[derive(Clone, Default)]
struct Behavior {
    duration: Duration,
    /// Attempts (1-based) that fail; the others succeed.
    failing_attempts: Vec<u32>,
    /// Nodes added when this node runs, and the result it then resolves to.
    expansion: Option<(Vec<&'static str>, usize)>,
}

/// One attempt as the fake executor saw it.
#[derive(Clone, Debug, PartialEq)]
struct Record {
    name: String,
    attempt: u32,
    start: Duration,
    end: Duration,
}

struct FakeExecutor {
    behaviors: HashMap<String, Behavior>,
    log: Mutex<Vec<Record>>,
    /// How many attempts each batch ran.
    batches: Mutex<Vec<usize>>,
    /// How many attempts ran on the dispatcher's thread.
    inline: AtomicUsize,
    epoch: Instant,
}

impl FakeExecutor {
    /// One attempt on the paused clock, as a worker would run it.
    async fn attempt(&self, job: &Job) -> Outcome {
        let b = self
            .behaviors
            .get(&job.node.name)
            .cloned()
            .unwrap_or_default();
        let start = self.epoch.elapsed();
        let cancelled = tokio::select! {
            () = tokio::time::sleep(b.duration) => false,
            () = job.stop.cancel.cancelled() => true,
        };
        let end = self.epoch.elapsed();
        let record = Record {
            name: job.node.name.clone(),
            attempt: job.attempt,
            start,
            end,
        };
        self.log.lock().unwrap().push(record);
        if cancelled {
            Outcome::Cancelled
        } else if b.failing_attempts.contains(&job.attempt) {
            let error = crate::events::TaskError::new("boom");
            Outcome::Failed {
                error,
                is_retryable: true,
            }
        } else if let Some((names, width)) = &b.expansion {
            Outcome::Expanded(expansion(job.next_id, names, *width))
        } else {
            // A task's value: the sum of its inputs plus one.
            let sum: i64 = job.inputs.iter().filter_map(|(_, v)| v.as_int()).sum();
            Outcome::ok(Value::int(sum + 1))
        }
    }
}

impl Execute for FakeExecutor {
    /// Instant behaviours run in place, like a real executor's trusted-fast calls.
    fn run_now(&self, job: &Job) -> Option<Outcome> {
        let b = self
            .behaviors
            .get(&job.node.name)
            .cloned()
            .unwrap_or_default();
        if !b.duration.is_zero() || b.expansion.is_some() || !b.failing_attempts.is_empty() {
            return None;
        }
        let at = self.epoch.elapsed();
        let record = Record {
            name: job.node.name.clone(),
            attempt: job.attempt,
            start: at,
            end: at,
        };
        self.log.lock().unwrap().push(record);
        self.inline.fetch_add(1, Ordering::Relaxed);
        let sum: i64 = job.inputs.iter().filter_map(|(_, v)| v.as_int()).sum();
        Some(Outcome::ok(Value::int(sum + 1)))
    }

    fn start_batch(self: &Arc<Self>, jobs: Vec<Job>, done: BatchCompleter) {
        let this = self.clone();
        tokio::spawn(async move {
            let began = Instant::now();
            let mut ran = Vec::new();
            for job in &jobs {
                if began.elapsed() >= BATCH_BUDGET {
                    break;
                }
                let start = Instant::now();
                let outcome = this.attempt(job).await;
                ran.push((job.node.id, outcome, start.elapsed()));
            }
            this.batches.lock().unwrap().push(ran.len());
            done.finish(ran);
        });
    }

    fn start(self: &Arc<Self>, job: Job, done: Completer) {
        let this = self.clone();
        tokio::spawn(async move {
            let outcome = this.attempt(&job).await;
            done.finish(outcome);
        });
    }
}

/// `width` children named `prefix[i]` for each name, numbered from `next_id`.
fn expansion(next_id: u32, names: &[&str], width: usize) -> crate::script::Expansion {
    let mut nodes = Vec::new();
    for name in names {
        for i in 0..width {
            let id = next_id + u32::try_from(nodes.len()).unwrap();
            nodes.push(node(id, &format!("{name}[{i}]"), &[]));
        }
    }
    let ids: Vec<NodeId> = nodes.iter().map(|n| n.id).collect();
    crate::script::Expansion {
        nodes,
        output: Value::handles(&ids),
    }
}

fn loc() -> SourceLoc {
    SourceLoc {
        file: "test.rhai".into(),
        line: 1,
        column: 1,
    }
}

fn node(id: u32, name: &str, deps: &[u32]) -> Node {
    Node {
        id: NodeId(id),
        name: name.to_owned(),
        task: Some(name.to_owned()),
        kind: NodeKind::Task,
        options: Default::default(),
        deps: deps
            .iter()
            .map(|&d| Dep {
                target: DepTarget::Node(NodeId(d)),
                loc: loc(),
                is_control: false,
            })
            .collect(),
        loc: loc(),
        payload: Payload::fake(),
        limits: Vec::new(),
    }
}

struct Harness {
    nodes: Vec<Node>,
    /// Filled after a run: the size of each batch the dispatcher sent.
    batches: Arc<Mutex<Vec<usize>>>,
    /// Filled after a run: how many attempts ran on the dispatcher's thread.
    inline: Arc<AtomicUsize>,
    behaviors: HashMap<String, Behavior>,
    limits: RunLimits,
    output: Value,
}

/// Events seen by the observer, as short strings.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<String>>>);

impl Observe for Events {
    fn observe(&mut self, event: &RunEvent) {
        let text = match event {
            RunEvent::NodeRetrying {
                name,
                attempt,
                delay,
                ..
            } => {
                format!("retry {name} {attempt} {}ms", delay.as_millis())
            }
            RunEvent::NodeExpanded { name, children } => format!("expand {name} {children}"),
            _ => return,
        };
        self.0.lock().unwrap().push(text);
    }
}

impl Harness {
    fn new(nodes: Vec<Node>) -> Self {
        Self {
            nodes,
            batches: Arc::default(),
            inline: Arc::default(),
            behaviors: HashMap::new(),
            limits: RunLimits {
                jobs: 4,
                max_dynamic_tasks: 1000,
                timeout: None,
                on_failure: FailurePolicy::FailFast,
                handle_signals: false,
                pools: std::collections::BTreeMap::new(),
                // Generous, so a loaded machine does not turn in-place calls into batches.
                in_place_budget: Duration::from_secs(10),
            },
            output: Value::unit(),
        }
    }

    fn behave(mut self, name: &str, b: Behavior) -> Self {
        self.behaviors.insert(name.to_owned(), b);
        self
    }

    fn run(self) -> (RunReport, Vec<Record>, Vec<String>) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async move {
            let executor = Arc::new(FakeExecutor {
                behaviors: self.behaviors,
                log: Mutex::new(Vec::new()),
                batches: Mutex::new(Vec::new()),
                inline: AtomicUsize::new(0),
                epoch: Instant::now(),
            });
            let events = Events::default();
            let dag = Dag::build(self.nodes).unwrap();
            let report = run(
                dag,
                self.output,
                self.limits,
                executor.clone(),
                events.clone(),
            )
            .await;
            let log = executor.log.lock().unwrap().clone();
            let seen = events.0.lock().unwrap().clone();
            *self.batches.lock().unwrap() = executor.batches.lock().unwrap().clone();
            self.inline
                .store(executor.inline.load(Ordering::Relaxed), Ordering::Relaxed);
            (report, log, seen)
        })
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn slow(n: u64) -> Behavior {
    Behavior {
        duration: ms(n),
        ..Behavior::default()
    }
}

fn status_of(report: &RunReport, name: &str) -> Status {
    report.nodes.iter().find(|n| n.name == name).unwrap().status
}

fn max_overlap(log: &[Record]) -> usize {
    log.iter()
        .map(|r| {
            log.iter()
                .filter(|o| o.start <= r.start && r.start < o.end)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn dependencies_run_first_and_results_flow_through() {
    let nodes = vec![node(0, "a", &[]), node(1, "b", &[0]), node(2, "c", &[0, 1])];
    let mut h = Harness::new(nodes)
        .behave("a", slow(10))
        .behave("b", slow(10));
    h.output = Value::handles(&[NodeId(2)]);
    let (report, log, _) = h.run();
    assert!(report.is_success());
    let order: Vec<&str> = log.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(order, ["a", "b", "c"]);
    // a = 1, b = a + 1 = 2, c = a + b + 1 = 4.
    assert_eq!(report.output.unwrap().to_json(), serde_json::json!([4]));
}

#[test]
fn jobs_bound_is_never_exceeded() {
    let nodes: Vec<Node> = (0..20).map(|i| node(i, &format!("t{i}"), &[])).collect();
    let mut h = Harness::new(nodes);
    for i in 0..20_u32 {
        h = h.behave(&format!("t{i}"), slow(10 + u64::from(i % 3)));
    }
    h.limits.jobs = 3;
    let (report, log, _) = h.run();
    assert!(report.is_success());
    assert_eq!(log.len(), 20);
    assert_eq!(max_overlap(&log), 3);
}

#[test]
fn ready_nodes_start_by_priority_then_declaration_order() {
    let mut nodes: Vec<Node> = ["low", "high", "mid", "high2"]
        .iter()
        .enumerate()
        .map(|(i, n)| node(i as u32, n, &[]))
        .collect();
    Arc::make_mut(&mut nodes[1].options).priority = 10;
    Arc::make_mut(&mut nodes[2].options).priority = 5;
    Arc::make_mut(&mut nodes[3].options).priority = 10;
    let mut h = Harness::new(nodes);
    h.limits.jobs = 1;
    let (_, log, _) = h.run();
    let order: Vec<&str> = log.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(order, ["high", "high2", "mid", "low"]);
}

#[test]
fn fail_fast_skips_dependents_and_cancels_the_rest() {
    let nodes = vec![
        node(0, "bad", &[]),
        node(1, "child", &[0]),
        node(2, "slow", &[]),
        node(3, "later", &[]),
    ];
    let mut h = Harness::new(nodes)
        .behave(
            "bad",
            Behavior {
                duration: ms(5),
                failing_attempts: vec![1],
                ..Behavior::default()
            },
        )
        .behave("slow", slow(1000));
    h.limits.jobs = 2;
    let (report, log, _) = h.run();
    assert!(!report.is_success());
    assert_eq!(status_of(&report, "bad"), Status::Failed);
    assert_eq!(status_of(&report, "child"), Status::Skipped);
    assert_eq!(status_of(&report, "slow"), Status::Cancelled);
    assert_eq!(status_of(&report, "later"), Status::Cancelled);
    let slow_end = log.iter().find(|r| r.name == "slow").unwrap().end;
    assert!(
        slow_end < ms(1000),
        "the running task was cancelled, not waited for"
    );
    assert_eq!(
        report.nodes[1].reason.as_deref(),
        Some("`bad` did not succeed")
    );
}

#[test]
fn keep_going_finishes_independent_branches() {
    let nodes = vec![
        node(0, "bad", &[]),
        node(1, "child", &[0]),
        node(2, "grandchild", &[1]),
        node(3, "other", &[]),
    ];
    let mut h = Harness::new(nodes)
        .behave(
            "bad",
            Behavior {
                failing_attempts: vec![1],
                ..Behavior::default()
            },
        )
        .behave("other", slow(50));
    h.limits.on_failure = FailurePolicy::KeepGoing;
    let (report, _, _) = h.run();
    assert_eq!(status_of(&report, "other"), Status::Succeeded);
    assert_eq!(status_of(&report, "child"), Status::Skipped);
    assert_eq!(status_of(&report, "grandchild"), Status::Skipped);
    assert!(!report.is_success());
}

#[test]
fn retries_follow_the_backoff_policy() {
    let mut n = node(0, "flaky", &[]);
    Arc::make_mut(&mut n.options).retries = 3;
    Arc::make_mut(&mut n.options).retry_backoff = ms(100);
    Arc::make_mut(&mut n.options).retry_strategy = RetryStrategy::Exponential;
    let h = Harness::new(vec![n]).behave(
        "flaky",
        Behavior {
            duration: ms(1),
            failing_attempts: vec![1, 2],
            ..Behavior::default()
        },
    );
    let (report, log, events) = h.run();
    assert_eq!(status_of(&report, "flaky"), Status::Succeeded);
    assert_eq!(report.nodes[0].attempts, 3);
    assert_eq!(events, ["retry flaky 2 100ms", "retry flaky 3 200ms"]);
    let starts: Vec<Duration> = log.iter().map(|r| r.start).collect();
    assert_eq!(starts, [ms(0), ms(101), ms(302)]);
}

#[test]
fn retries_run_out() {
    let mut n = node(0, "broken", &[]);
    Arc::make_mut(&mut n.options).retries = 1;
    Arc::make_mut(&mut n.options).retry_backoff = ms(10);
    let h = Harness::new(vec![n]).behave(
        "broken",
        Behavior {
            failing_attempts: vec![1, 2],
            ..Behavior::default()
        },
    );
    let (report, _, _) = h.run();
    assert_eq!(status_of(&report, "broken"), Status::Failed);
    assert_eq!(report.nodes[0].attempts, 2);
}

#[test]
fn concurrency_limits_hold_across_nodes() {
    let limit = Limit::one_each("task:db", 2);
    let nodes: Vec<Node> = (0..6)
        .map(|i| {
            let mut n = node(i, &format!("db{i}"), &[]);
            n.limits = vec![limit.clone()];
            n
        })
        .collect();
    let mut h = Harness::new(nodes);
    for i in 0..6 {
        h = h.behave(&format!("db{i}"), slow(10));
    }
    h.limits.jobs = 6;
    let (report, log, _) = h.run();
    assert!(report.is_success());
    assert_eq!(max_overlap(&log), 2);
}

#[test]
fn whole_run_timeout_cancels_running_work() {
    let nodes = vec![node(0, "forever", &[]), node(1, "after", &[0])];
    let mut h = Harness::new(nodes).behave("forever", slow(60_000));
    h.limits.timeout = Some(ms(200));
    let (report, log, _) = h.run();
    assert_eq!(report.interruption, Some(Interruption::Timeout));
    assert_eq!(status_of(&report, "forever"), Status::Cancelled);
    assert_eq!(log[0].end, ms(200));
    assert!(!report.is_success());
}

#[test]
fn expansions_add_nodes_and_resolve_to_their_results() {
    let mut map = node(1, "map", &[0]);
    map.kind = NodeKind::Map;
    let nodes = vec![node(0, "source", &[]), map, node(2, "sum", &[1])];
    let mut h = Harness::new(nodes).behave(
        "map",
        Behavior {
            expansion: Some((vec!["sq"], 3)),
            ..Behavior::default()
        },
    );
    h.output = Value::handles(&[NodeId(1)]);
    let (report, log, events) = h.run();
    assert!(report.is_success(), "{:?}", report.nodes);
    assert_eq!(events, ["expand map 3"]);
    let names: Vec<&str> = report.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["source", "map", "sum", "sq[0]", "sq[1]", "sq[2]"]);
    // `sum` ran only after every child finished.
    let sum_start = log.iter().find(|r| r.name == "sum").unwrap().start;
    assert!(
        log.iter()
            .filter(|r| r.name.starts_with("sq"))
            .all(|r| r.end <= sum_start)
    );
    assert_eq!(
        report.output.unwrap().to_json(),
        serde_json::json!([[1, 1, 1]])
    );
}

#[test]
fn expansions_over_the_dynamic_budget_fail_the_node() {
    let mut map = node(0, "map", &[]);
    map.kind = NodeKind::Map;
    let mut h = Harness::new(vec![map, node(1, "after", &[0])]).behave(
        "map",
        Behavior {
            expansion: Some((vec!["sq"], 10)),
            ..Behavior::default()
        },
    );
    h.limits.max_dynamic_tasks = 5;
    let (report, _, _) = h.run();
    assert_eq!(status_of(&report, "map"), Status::Failed);
    assert!(
        report.nodes[0]
            .error
            .as_ref()
            .unwrap()
            .message
            .contains("over the limit of 5 dynamic tasks")
    );
    assert_eq!(status_of(&report, "after"), Status::Skipped);
}

#[test]
fn an_empty_graph_succeeds() {
    let (report, log, _) = Harness::new(Vec::new()).run();
    assert!(report.is_success());
    assert!(log.is_empty());
}

#[test]
fn fast_tasks_are_batched_without_breaking_order_or_results() {
    // 200 instant calls of one task, then a sum over all of them.
    let mut nodes: Vec<Node> = (0..200)
        .map(|i| {
            let mut n = node(i, &format!("sq{i}"), &[]);
            n.task = Some("sq".to_owned());
            n
        })
        .collect();
    nodes.push(node(200, "sum", &(0..200).collect::<Vec<_>>()));
    let mut h = Harness::new(nodes);
    h.limits.jobs = 2;
    h.output = Value::handles(&[NodeId(200)]);
    let batches = h.batches.clone();
    let (report, log, _) = h.run();
    assert!(report.is_success());
    assert_eq!(report.output.unwrap().to_json(), serde_json::json!([201]));
    let batches = batches.lock().unwrap().clone();
    assert!(!batches.is_empty(), "trusted fast tasks go out in batches");
    assert!(
        batches.iter().all(|&n| n <= 100),
        "a batch takes at most a fair share: {batches:?}"
    );
    assert_eq!(log.len(), 201, "every call ran exactly once");
}

#[test]
fn a_chain_of_fast_calls_runs_in_place_in_order() {
    let nodes: Vec<Node> = (0..100)
        .map(|i| {
            let mut n = if i == 0 {
                node(0, "inc0", &[])
            } else {
                node(i, &format!("inc{i}"), &[i - 1])
            };
            n.task = Some("inc".to_owned());
            n
        })
        .collect();
    let mut h = Harness::new(nodes);
    h.output = Value::handles(&[NodeId(99)]);
    let inline = h.inline.clone();
    let (report, log, _) = h.run();
    assert!(
        inline.load(Ordering::Relaxed) > 80,
        "after the first calls prove fast, the rest run in place"
    );
    assert!(report.is_success());
    assert_eq!(report.output.unwrap().to_json(), serde_json::json!([100]));
    let order: Vec<String> = log.iter().map(|r| r.name.clone()).collect();
    let expected: Vec<String> = (0..100).map(|i| format!("inc{i}")).collect();
    assert_eq!(order, expected);
}

#[test]
fn pools_bound_their_tasks_by_slots() {
    // Pool `db` has 3 slots; `big` nodes take 2 each, `small` ones 1.
    let nodes: Vec<Node> = (0..6)
        .map(|i| {
            let name = if i < 3 {
                format!("big{i}")
            } else {
                format!("small{i}")
            };
            let mut n = node(i, &name, &[]);
            Arc::make_mut(&mut n.options).pool = Some("db".to_owned());
            Arc::make_mut(&mut n.options).pool_slots = if i < 3 { 2 } else { 1 };
            n
        })
        .collect();
    let mut h = Harness::new(nodes);
    for i in 0..6 {
        let name = if i < 3 {
            format!("big{i}")
        } else {
            format!("small{i}")
        };
        h = h.behave(&name, slow(10));
    }
    h.limits.jobs = 6;
    h.limits.pools.insert("db".to_owned(), 3);
    let (report, log, _) = h.run();
    assert!(report.is_success());
    // At every start, the slots of the nodes running then fit in the pool.
    let slots = |name: &str| if name.starts_with("big") { 2 } else { 1 };
    for r in &log {
        let used: u32 = log
            .iter()
            .filter(|o| o.start <= r.start && r.start < o.end)
            .map(|o| slots(&o.name))
            .sum();
        assert!(used <= 3, "{used} slots in use when {} started", r.name);
    }
}

#[test]
fn an_unknown_pool_fails_its_node() {
    let mut n = node(0, "a", &[]);
    Arc::make_mut(&mut n.options).pool = Some("nope".to_owned());
    let (report, log, _) = Harness::new(vec![n]).run();
    assert_eq!(status_of(&report, "a"), Status::Failed);
    assert!(log.is_empty());
    assert!(
        report.nodes[0]
            .error
            .as_ref()
            .unwrap()
            .message
            .contains("pool `nope`, which the flow does not declare")
    );
}
