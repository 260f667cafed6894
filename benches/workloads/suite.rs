//! The workloads: the flows they run (written into a temporary directory), what each
//! measures, and its target.

use std::fs;
use std::path::Path;
use std::time::Duration;

/// W1: a source returns N ints, `.map(square)` fans out to N tasks, one task sums them. The
/// list is built with `pad` and index assignment, so W1 measures the runner, not `push` (P1).
const FANOUT_FLOW: &str = r"
fn source(n) { let out = []; out.pad(n, 0); for i in 0..n { out[i] = i; } out }
fn square(x) { x * x }
fn total(xs) { let s = 0; for x in xs { s += x; } s }
task(source); task(square); task(total);
fn main(n) { total(source(n).map(square)) }
flow(main, #{ params: #{ n: 10 } });
";

/// P1 (opt-in): W1 with the source list built by `push`, the way most scripts would write it.
/// `push` in a loop was quadratic while the engine limited array sizes (7.6 s at 100,000
/// before 0aabc65); P1 guards against that coming back.
const FANOUT_PUSH_FLOW: &str = r"
fn source(n) { let out = []; for i in 0..n { out.push(i); } out }
fn square(x) { x * x }
fn total(xs) { let s = 0; for x in xs { s += x; } s }
task(source); task(square); task(total);
fn main(n) { total(source(n).map(square)) }
flow(main, #{ params: #{ n: 10 } });
";

/// W2: a chain of N tasks, each returning its input plus one.
const CHAIN_FLOW: &str = r"
fn step(prev) { prev + 1 }
task(step);
fn main(n) { let h = step(0); for i in 1..n { h = step(h); } h }
flow(main, #{ params: #{ n: 10 } });
";

/// W3: N independent shell tasks running `true`.
const SHELL_FLOW: &str = r#"
fn noop(i) { "true" }
shell_task(noop);
fn main(n) { let out = []; for i in 0..n { out.push(noop(i)); } out.len() }
flow(main, #{ params: #{ n: 10 } });
"#;

/// W4: one task, so the time is the process's start-up and shut-down.
const ONE_TASK_FLOW: &str = r"
fn hello() { 42 }
task(hello);
fn main() { hello() }
flow(main);
";

/// W5: N `.then` expansions ready at once, each adding one task: expansions run one at a
/// time, so this measures how the dispatcher holds the waiting ones (it was quadratic).
const THEN_FLOW: &str = r"
fn one(i) { i }
task(one);
fn main(n) { let out = []; for i in 0..n { out.push(one(i).then(|v| one(v))); } out.len() }
flow(main, #{ params: #{ n: 10 } });
";

/// describe: N nodes in layers of 100, each depending on two nodes of the layer before.
const GRID_FLOW: &str = r"
fn cell(a, b) { a + b }
task(cell);
fn main(n) {
    let width = 100;
    let prev = [];
    for i in 0..width { prev.push(cell(i, 0)); }
    for layer in 1..(n / width) {
        let next = [];
        for i in 0..width { next.push(cell(prev[i], prev[(i + 1) % width])); }
        prev = next;
    }
    prev.len()
}
flow(main, #{ params: #{ n: 100 } });
";

/// A pass/fail bound on a workload's median wall time (and optionally its peak RSS).
#[derive(Clone, Copy)]
pub(crate) enum Target {
    None,
    Wall(Duration),
    WallAndRss(Duration, u64),
    /// Within this factor of `ninja -j2` on the same commands.
    Ninja(f64),
}

/// One row of the report: a flow, how to run it, and what counts as good enough.
pub(crate) struct Workload {
    pub(crate) id: String,
    pub(crate) about: &'static str,
    /// The generated flow, in the temporary directory.
    pub(crate) file: &'static str,
    /// Arguments of `autowf`; an empty string stands for the flow file's path.
    pub(crate) args: Vec<String>,
    /// Tasks (or nodes) the workload has, for the per-task column.
    pub(crate) n: u64,
    pub(crate) reps: usize,
    /// The exact stdout a correct run prints (trimmed), if checked.
    pub(crate) expect: Option<String>,
    pub(crate) target: Target,
    pub(crate) is_opt_in: bool,
}

impl Workload {
    /// `autowf run` of `file` with `-p n=N` (and `-j` when given), checked against `expect`.
    fn run(id: &str, about: &'static str, file: &'static str, n: u64, expect: String) -> Self {
        Self {
            id: id.to_owned(),
            about,
            file,
            args: vec![
                "run".to_owned(),
                String::new(),
                "-q".to_owned(),
                "-p".to_owned(),
                format!("n={n}"),
            ],
            n,
            reps: 5,
            expect: Some(expect),
            target: Target::None,
            is_opt_in: false,
        }
    }

    fn jobs(mut self, jobs: u32) -> Self {
        self.args.extend(["-j".to_owned(), jobs.to_string()]);
        self
    }
}

/// The sum of `i * i` for `i` in `0..n`, as W1 prints it.
fn sum_of_squares(n: u64) -> String {
    let n = u128::from(n);
    (n.saturating_sub(1) * n * (2 * n).saturating_sub(1) / 6).to_string()
}

pub(crate) fn workloads() -> Vec<Workload> {
    let secs = Duration::from_secs_f64;
    let fanout = |n: u64| {
        Workload::run(
            &format!("W1/{n}"),
            "fan-out: source, N x square, sum",
            "w1.rhai",
            n,
            sum_of_squares(n),
        )
    };
    vec![
        Workload {
            reps: 9,
            ..fanout(1_000)
        },
        fanout(10_000),
        Workload {
            reps: 3,
            target: Target::WallAndRss(secs(1.0), 300 * 1024),
            ..fanout(100_000)
        },
        Workload {
            id: "P1/100000".to_owned(),
            about: "W1 with the source list built by push",
            file: "p1.rhai",
            reps: 1,
            is_opt_in: true,
            ..fanout(100_000)
        },
        Workload {
            target: Target::Wall(secs(0.3)),
            ..Workload::run(
                "W2/10000",
                "chain: N tasks, each prev + 1",
                "w2.rhai",
                10_000,
                "10000".to_owned(),
            )
        },
        Workload {
            reps: 7,
            target: Target::Ninja(1.2),
            ..Workload::run(
                "W3/1000",
                "N shell tasks `true`, -j 2",
                "w3.rhai",
                1_000,
                "1000".to_owned(),
            )
            .jobs(2)
        },
        Workload {
            args: vec!["run".to_owned(), String::new(), "-q".to_owned()],
            reps: 21,
            target: Target::Wall(secs(0.015)),
            ..Workload::run(
                "W4",
                "start-up: one-task flow",
                "w4.rhai",
                1,
                "42".to_owned(),
            )
        },
        Workload {
            target: Target::Wall(secs(1.0)),
            ..Workload::run(
                "W5/5000",
                "N .then expansions, each adding a task",
                "w5.rhai",
                5_000,
                "5000".to_owned(),
            )
        },
        Workload {
            args: vec![
                "describe".to_owned(),
                String::new(),
                "-p".to_owned(),
                "n=10000".to_owned(),
            ],
            expect: None,
            target: Target::Wall(secs(0.5)),
            ..Workload::run(
                "describe/10000",
                "describe a 10,000-node flow",
                "grid.rhai",
                10_000,
                String::new(),
            )
        },
    ]
}

pub(crate) fn write_flows(dir: &Path) -> std::io::Result<()> {
    for (file, text) in [
        ("w1.rhai", FANOUT_FLOW),
        ("p1.rhai", FANOUT_PUSH_FLOW),
        ("w2.rhai", CHAIN_FLOW),
        ("w3.rhai", SHELL_FLOW),
        ("w4.rhai", ONE_TASK_FLOW),
        ("w5.rhai", THEN_FLOW),
        ("grid.rhai", GRID_FLOW),
    ] {
        fs::write(dir.join(file), text)?;
    }
    Ok(())
}
