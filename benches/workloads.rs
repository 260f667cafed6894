//! Whole-process benchmarks of the `autowf` binary: each workload is a generated flow, run as a
//! child process several times; the report is a Markdown table of median wall time, per-task
//! overhead and peak RSS, checked against the targets in `docs/performance.md`.
//!
//! Run all default workloads with `cargo bench --bench workloads`, or choose some by prefix:
//! `cargo bench --bench workloads -- W1 describe`. Opt-in workloads run only when named.

use std::fs;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};

const BIN: &str = env!("CARGO_BIN_EXE_autowf");
const GNU_TIME: &str = "/usr/bin/time";
/// Argument that turns this binary into a child that reports its own child's peak RSS.
const RSS_PROBE: &str = "--rss-probe";

/// W1: a source returns N ints, `.map(square)` fans out to N tasks, one task sums them. The
/// list is built with `pad` and index assignment: `push` in a loop is quadratic (see P1).
const FANOUT_FLOW: &str = r"
fn source(n) { let out = []; out.pad(n, 0); for i in 0..n { out[i] = i; } out }
fn square(x) { x * x }
fn total(xs) { let s = 0; for x in xs { s += x; } s }
task(source); task(square); task(total);
fn main(n) { total(source(n).map(square)) }
flow(main, #{ params: #{ n: 10 } });
";

/// P1 (opt-in): W1 with the source list built by `push`, the way most scripts would write it.
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

/// D: N nodes in layers of 100, each depending on two nodes of the layer before.
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
enum Target {
    None,
    Wall(Duration),
    WallAndRss(Duration, u64),
    /// Within this factor of `ninja -j2` on the same commands.
    Ninja(f64),
}

struct Workload {
    id: String,
    about: &'static str,
    file: &'static str,
    args: Vec<String>,
    /// Tasks (or nodes) the workload has, for the per-task column.
    n: u64,
    reps: usize,
    /// The exact stdout a correct run prints (trimmed), if checked.
    expect: Option<String>,
    target: Target,
    is_opt_in: bool,
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

fn workloads() -> Vec<Workload> {
    let secs = Duration::from_secs_f64;
    let fanout = |n: u64| Workload {
        // The source and the sum are tasks too.
        n: n + 2,
        ..Workload::run(
            &format!("W1/{n}"),
            "fan-out: source, N x square, sum",
            "w1.rhai",
            n,
            sum_of_squares(n),
        )
    };
    vec![
        Workload {
            reps: 10,
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
            reps: 30,
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

/// What one workload measured.
struct Measured {
    wall: Vec<Duration>,
    rss_kb: Option<u64>,
}

impl Measured {
    fn median(&self) -> Duration {
        median(&self.wall)
    }
}

fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    sorted[sorted.len() / 2]
}

fn write_flows(dir: &Path) -> std::io::Result<()> {
    for (file, text) in [
        ("w1.rhai", FANOUT_FLOW),
        ("p1.rhai", FANOUT_PUSH_FLOW),
        ("w2.rhai", CHAIN_FLOW),
        ("w3.rhai", SHELL_FLOW),
        ("w4.rhai", ONE_TASK_FLOW),
        ("grid.rhai", GRID_FLOW),
    ] {
        fs::write(dir.join(file), text)?;
    }
    Ok(())
}

/// The command for a workload; `AUTOWF_*` settings of the caller are not inherited.
fn autowf_command(program: &str, prefix: &[&str], w: &Workload, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(prefix);
    for arg in &w.args {
        if arg.is_empty() {
            cmd.arg(dir.join(w.file));
        } else {
            cmd.arg(arg);
        }
    }
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AUTOWF_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1")
        .env("AUTOWF_STATE_DIR", dir.join("state"))
        .current_dir(dir);
    cmd
}

/// Runs the workload once, checks its exit code and output, and returns the wall time.
fn run_once(w: &Workload, dir: &Path) -> Duration {
    let mut cmd = autowf_command(BIN, &[], w, dir);
    let start = Instant::now();
    let out = cmd.output().expect("cannot start the autowf binary");
    let wall = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}: autowf failed ({}):\n{}",
        w.id,
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    if let Some(expect) = &w.expect {
        assert_eq!(stdout.trim(), expect, "{}: wrong result", w.id);
    }
    wall
}

/// Peak RSS of one more run, in KiB: through GNU time if present, else through a probe child.
fn peak_rss_kb(w: &Workload, dir: &Path) -> Option<u64> {
    let report = dir.join("rss.txt");
    let mut cmd = if Path::new(GNU_TIME).exists() {
        let report = report.to_str()?;
        autowf_command(GNU_TIME, &["-f", "%M", "-o", report, BIN], w, dir)
    } else {
        let me = std::env::current_exe().ok()?;
        let report = report.to_str()?;
        autowf_command(me.to_str()?, &[RSS_PROBE, report, BIN], w, dir)
    };
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    fs::read_to_string(&report).ok()?.trim().parse().ok()
}

/// The probe: runs `program args...`, then writes its peak RSS (KiB) to `report`.
fn rss_probe(report: &str, program: &str, args: &[String]) -> ExitCode {
    let status = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .status();
    let Ok(status) = status else {
        return ExitCode::FAILURE;
    };
    let Ok(usage) = getrusage(UsageWho::RUSAGE_CHILDREN) else {
        return ExitCode::FAILURE;
    };
    if fs::write(report, usage.max_rss().to_string()).is_err() || !status.success() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn measure(w: &Workload, dir: &Path) -> Measured {
    // The RSS run also warms the page cache.
    let rss_kb = peak_rss_kb(w, dir);
    let wall = (0..w.reps).map(|_| run_once(w, dir)).collect();
    Measured { wall, rss_kb }
}

/// `ninja -j2` on the same N `true` commands, or `None` when ninja is not on PATH.
fn measure_ninja(n: u64, reps: usize, dir: &Path) -> Option<Duration> {
    let found = Command::new("ninja")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        return None;
    }
    let build = dir.join("ninja");
    fs::create_dir_all(&build).ok()?;
    let mut text = String::from("rule t\n  command = true\n");
    for i in 0..n {
        text.push_str(&format!("build out{i}: t\n"));
    }
    fs::write(build.join("build.ninja"), text).ok()?;
    let mut wall = Vec::with_capacity(reps);
    for _ in 0..reps {
        // No output is ever written, but the log would still let ninja skip nothing; start clean.
        let _ = fs::remove_file(build.join(".ninja_log"));
        let start = Instant::now();
        let status = Command::new("ninja")
            .args(["-j2", "-C"])
            .arg(&build)
            .stdout(Stdio::null())
            .status()
            .ok()?;
        wall.push(start.elapsed());
        assert!(status.success(), "ninja failed: {status}");
    }
    Some(median(&wall))
}

fn fmt_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 1.0 {
        format!("{secs:.2} s")
    } else if secs >= 0.001 {
        format!("{:.1} ms", secs * 1e3)
    } else {
        format!("{:.1} µs", secs * 1e6)
    }
}

fn fmt_rss(kb: Option<u64>) -> String {
    kb.map_or_else(
        || "n/a".to_owned(),
        |kb| format!("{:.1} MB", kb as f64 / 1024.0),
    )
}

/// The target as text and whether it is met.
fn verdict(w: &Workload, m: &Measured, ninja: Option<Duration>) -> (String, &'static str) {
    let mark = |ok: bool| if ok { "met" } else { "MISSED" };
    let wall = m.median();
    match w.target {
        Target::None => ("-".to_owned(), "-"),
        Target::Wall(max) => (format!("< {}", fmt_duration(max)), mark(wall < max)),
        Target::WallAndRss(max, rss) => (
            format!("< {}, RSS < {} MB", fmt_duration(max), rss / 1024),
            mark(wall < max && m.rss_kb.is_some_and(|kb| kb < rss)),
        ),
        Target::Ninja(factor) => match ninja {
            Some(n) => {
                let ratio = wall.as_secs_f64() / n.as_secs_f64();
                (
                    format!("<= {factor}x ninja ({ratio:.2}x)"),
                    mark(ratio <= factor),
                )
            }
            None => (format!("<= {factor}x ninja"), "no ninja"),
        },
    }
}

fn print_row(w: &Workload, m: &Measured, ninja: Option<Duration>) {
    let wall = m.median();
    let min = m.wall.iter().min().copied().unwrap_or_default();
    let max = m.wall.iter().max().copied().unwrap_or_default();
    let per_task = wall / u32::try_from(w.n).unwrap_or(u32::MAX);
    let (target, met) = verdict(w, m, ninja);
    println!(
        "| {} | {} | {} | {} | {} | {}–{} | {} | {} | {} | {} |",
        w.id,
        w.about,
        w.n,
        m.wall.len(),
        fmt_duration(wall),
        fmt_duration(min),
        fmt_duration(max),
        fmt_duration(per_task),
        fmt_rss(m.rss_kb),
        target,
        met
    );
}

fn is_selected(w: &Workload, filters: &[String]) -> bool {
    let id = w.id.to_lowercase();
    if filters.is_empty() {
        return !w.is_opt_in;
    }
    filters.iter().any(|f| id.starts_with(&f.to_lowercase()))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, report, program, rest @ ..] = args.as_slice() {
        if flag == RSS_PROBE {
            return rss_probe(report, program, rest);
        }
    }
    // Cargo passes `--bench`; anything that is not a flag selects workloads by prefix.
    let filters: Vec<String> = args.into_iter().filter(|a| !a.starts_with('-')).collect();
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    write_flows(dir.path()).expect("cannot write the generated flows");
    let chosen: Vec<Workload> = workloads()
        .into_iter()
        .filter(|w| is_selected(w, &filters))
        .collect();
    if chosen.is_empty() {
        eprintln!("no workload matches {filters:?}; ids: W1, W2, W3, W4, describe, P1");
        return ExitCode::FAILURE;
    }
    print_header();
    for w in &chosen {
        let ninja = matches!(w.target, Target::Ninja(_))
            .then(|| measure_ninja(w.n, w.reps, dir.path()))
            .flatten();
        let m = measure(w, dir.path());
        print_row(w, &m, ninja);
        print_ninja_row(w, ninja);
    }
    ExitCode::SUCCESS
}

fn print_header() {
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(
            || "unknown".to_owned(),
            |o| String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        );
    println!("autowf {BIN}\ncommit {commit}, {cpus} CPUs\n");
    println!(
        "| workload | what | N | reps | median wall | min–max | per task | peak RSS | target | result |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---|---|");
}

fn print_ninja_row(w: &Workload, ninja: Option<Duration>) {
    if !matches!(w.target, Target::Ninja(_)) {
        return;
    }
    match ninja {
        Some(d) => println!(
            "| {} (ninja) | `ninja -j2`, same N commands | {} | {} | {} | | {} | | reference | |",
            w.id,
            w.n,
            w.reps,
            fmt_duration(d),
            fmt_duration(d / u32::try_from(w.n).unwrap_or(u32::MAX))
        ),
        None => println!(
            "| {} (ninja) | skipped: `ninja` is not on PATH | | | | | | | | |",
            w.id
        ),
    }
}
