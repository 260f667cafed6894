//! Whole-process benchmarks of the `autowf` binary: each workload is a generated flow, run as a
//! child process several times; the report is a Markdown table of median wall time, per-task
//! overhead and peak RSS, checked against the targets in `docs/performance.md`.
//!
//! Run all default workloads with `cargo bench --bench workloads`, or choose some by prefix:
//! `cargo bench --bench workloads -- W1 describe`. Opt-in workloads run only when named.
//! `--reps=N` overrides every workload's repetition count. Without cargo's `--bench` flag (as
//! under `cargo test --all-targets`) it does nothing.

#[path = "workloads/measure.rs"]
mod measure;
#[path = "workloads/suite.rs"]
mod suite;

use std::fs;
use std::process::{Command, ExitCode};
use std::time::Duration;

use measure::{BIN, Measured, Ninja, RSS_PROBE, median};
use suite::{Target, Workload};

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
        |kb| format!("{:.1} MiB", kb as f64 / 1024.0),
    )
}

fn min(samples: &[Duration]) -> Duration {
    samples.iter().min().copied().unwrap_or_default()
}

fn fmt_spread(samples: &[Duration]) -> String {
    let max = samples.iter().max().copied().unwrap_or_default();
    format!("{}–{}", fmt_duration(min(samples)), fmt_duration(max))
}

/// The median of autowf / ninja over the alternating pairs of runs: a burst of load elsewhere
/// on the machine slows one pair, not the whole comparison.
fn pair_ratio(m: &Measured) -> f64 {
    let mut ratios: Vec<f64> = m
        .wall
        .iter()
        .zip(&m.reference)
        .map(|(a, n)| a.as_secs_f64() / n.as_secs_f64())
        .collect();
    ratios.sort_unstable_by(f64::total_cmp);
    ratios.get(ratios.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The target as text and whether it is met.
fn verdict(w: &Workload, m: &Measured) -> (String, &'static str) {
    let mark = |ok: bool| if ok { "met" } else { "MISSED" };
    let wall = median(&m.wall);
    match w.target {
        Target::None => ("-".to_owned(), "-"),
        Target::Wall(max) => (format!("< {}", fmt_duration(max)), mark(wall < max)),
        Target::WallAndRss(max, rss) => (
            format!("< {}, RSS < {} MiB", fmt_duration(max), rss / 1024),
            mark(wall < max && m.rss_kb.is_some_and(|kb| kb < rss)),
        ),
        Target::Ninja(factor) if m.reference.is_empty() => {
            (format!("<= {factor}x ninja"), "not checked (no ninja)")
        }
        Target::Ninja(factor) => {
            let pairs = pair_ratio(m);
            let best = min(&m.wall).as_secs_f64() / min(&m.reference).as_secs_f64();
            (
                format!("<= {factor}x ninja (pairs {pairs:.2}x, best {best:.2}x)"),
                mark(pairs <= factor),
            )
        }
    }
}

fn per_task(wall: Duration, n: u64) -> String {
    fmt_duration(wall / u32::try_from(n).unwrap_or(u32::MAX))
}

fn print_rows(w: &Workload, m: &Measured) {
    let wall = median(&m.wall);
    let (target, met) = verdict(w, m);
    println!(
        "| {} | {} | {} | {} | {} | {} | {} | {} | {target} | {met} |",
        w.id,
        w.about,
        w.n,
        m.wall.len(),
        fmt_duration(wall),
        fmt_spread(&m.wall),
        per_task(wall, w.n),
        fmt_rss(m.rss_kb),
    );
    if !matches!(w.target, Target::Ninja(_)) {
        return;
    }
    if m.reference.is_empty() {
        println!(
            "| {} ninja | skipped: `ninja` is not on PATH | | | | | | | | |",
            w.id
        );
        return;
    }
    let reference = median(&m.reference);
    println!(
        "| {} ninja | `ninja -j2`, same N commands | {} | {} | {} | {} | {} | | reference | |",
        w.id,
        w.n,
        m.reference.len(),
        fmt_duration(reference),
        fmt_spread(&m.reference),
        per_task(reference, w.n),
    );
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
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    println!("binary {BIN}\ncommit {commit}, {cpus} CPUs, load average before: {load}\n");
    println!(
        "| workload | what | N | reps | median wall | min–max | per task | peak RSS | target | result |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---|---|");
}

/// Command-line choices: workload prefixes, and `--reps=N` to override every repetition count.
struct Choice {
    filters: Vec<String>,
    reps: Option<usize>,
}

impl Choice {
    fn parse(args: Vec<String>) -> Result<Self, String> {
        let mut choice = Self {
            filters: Vec::new(),
            reps: None,
        };
        for arg in args {
            if let Some(n) = arg.strip_prefix("--reps=") {
                let n = n.parse().ok().filter(|n| *n >= 1);
                choice.reps =
                    Some(n.ok_or_else(|| format!("bad `{arg}`: need a count of at least 1"))?);
            } else if !arg.starts_with('-') {
                // Flags such as cargo's `--bench` are ignored.
                choice.filters.push(arg.to_lowercase());
            }
        }
        Ok(choice)
    }

    fn selects(&self, w: &Workload) -> bool {
        let id = w.id.to_lowercase();
        if self.filters.is_empty() {
            return !w.is_opt_in;
        }
        self.filters.iter().any(|f| id.starts_with(f.as_str()))
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, report, program, rest @ ..] = args.as_slice() {
        if flag == RSS_PROBE {
            return measure::rss_probe(report, program, rest);
        }
    }
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it,
    // and a test run must not spend a minute timing a debug build.
    if !args.iter().any(|a| a == "--bench") {
        eprintln!("workloads: not run without `--bench`; use `cargo bench --bench workloads`");
        return ExitCode::SUCCESS;
    }
    let choice = match Choice::parse(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let chosen: Vec<Workload> = suite::workloads()
        .into_iter()
        .filter(|w| choice.selects(w))
        .collect();
    if chosen.is_empty() {
        eprintln!("error: no workload matches; ids: W1, W2, W3, W4, W5, describe, and opt-in P1");
        return ExitCode::FAILURE;
    }
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    suite::write_flows(dir.path()).expect("cannot write the generated flows");
    print_header();
    for w in &chosen {
        let ninja = matches!(w.target, Target::Ninja(_))
            .then(|| Ninja::prepare(w.n, dir.path()))
            .flatten();
        let m = measure::measure(w, dir.path(), choice.reps.unwrap_or(w.reps), ninja.as_ref());
        print_rows(w, &m);
    }
    ExitCode::SUCCESS
}
