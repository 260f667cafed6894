//! `autowf runs` (recent runs, newest first) and `autowf runs show RUN` (one run's facts and
//! nodes), read from the state directory: each run's `summary.json`, else its journal. And
//! `autowf runs gc` (in `gc`), which prunes old runs.

mod gc;

use std::io::Write as _;

use serde_json::{Value as J, json};

use super::args::{Cli, RunsArgs, RunsCommand};
use super::dispatch::state_dir_of;
use crate::config::Layers;
use crate::error::{Result, exit};
use crate::report::fmt_duration;
use crate::state::StateDir;
use crate::state::runs::{self, RunOverview, RunRecord, RunStatus};

pub(super) fn runs(
    cli: &Cli,
    args: &RunsArgs,
    matches: &clap::ArgMatches,
    layers: &Layers,
) -> Result<u8> {
    match &args.command {
        Some(RunsCommand::Show(show)) => {
            let matches = matches.subcommand_matches("show").unwrap_or(matches);
            let state = state_dir_of(cli, matches, layers, &show.state)?;
            show_run(&state, &show.run, show.json)
        }
        Some(RunsCommand::Gc(gc)) => {
            let matches = matches.subcommand_matches("gc").unwrap_or(matches);
            let state = state_dir_of(cli, matches, layers, &gc.state)?;
            gc::gc_runs(&state, gc)
        }
        None => {
            let state = state_dir_of(cli, matches, layers, &args.state)?;
            list_runs(&state, args.limit, args.json)
        }
    }
}

fn list_runs(state: &StateDir, limit: usize, as_json: bool) -> Result<u8> {
    let mut rows = Vec::new();
    for id in runs::run_ids(state)?.iter().take(limit) {
        let (record, warnings) = runs::read_run(state, id)?;
        warn(id, &warnings);
        rows.push(record.overview());
    }
    let mut out = std::io::stdout().lock();
    if as_json {
        let doc = json!({ "schema": 1, "state_dir": state.root(), "runs": rows });
        let _ = writeln!(out, "{}", super::pretty_json(&doc));
    } else if rows.is_empty() {
        eprintln!("no runs in `{}`", state.runs().display());
    } else {
        let _ = write!(out, "{}", runs_table(&rows));
    }
    Ok(exit::OK)
}

fn show_run(state: &StateDir, query: &str, as_json: bool) -> Result<u8> {
    let id = runs::resolve_run(state, query)?;
    let (record, warnings) = runs::read_run(state, &id)?;
    warn(&id, &warnings);
    let view = run_view(&record, record.summary_document()?.as_ref());
    let mut out = std::io::stdout().lock();
    if as_json {
        let _ = writeln!(out, "{}", super::pretty_json(&view));
    } else {
        let _ = write!(out, "{}", run_text(&view));
    }
    Ok(exit::OK)
}

fn warn(run_id: &str, warnings: &[String]) {
    for w in warnings {
        tracing::warn!("run `{run_id}`: {w}");
    }
}

/// The columns of `autowf runs`, padded to line up.
fn runs_table(rows: &[RunOverview]) -> String {
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                r.run_id.clone(),
                r.flow.clone().unwrap_or_else(|| "-".to_owned()),
                r.started
                    .as_deref()
                    .map_or_else(|| "-".to_owned(), short_time),
                r.duration_ms.map_or_else(|| "-".to_owned(), fmt_millis),
                r.status.name().to_owned(),
            ]
        })
        .collect();
    table(&["RUN", "FLOW", "STARTED", "DURATION", "STATUS"], &cells)
}

/// Left-aligned columns two spaces apart; the last column is not padded.
fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == N {
                text.push_str(cell);
            } else {
                let pad = width - cell.chars().count() + 2;
                text.push_str(cell);
                text.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header);
    for row in rows {
        line(&row.each_ref().map(String::as_str));
    }
    out
}

/// `2026-11-26T19:56:05.881Z` as `2026-11-26 19:56:05Z`: to the second is enough to read.
fn short_time(rfc3339: &str) -> String {
    humantime::parse_rfc3339(rfc3339).map_or_else(
        |_| rfc3339.to_owned(),
        |t| {
            humantime::format_rfc3339_seconds(t)
                .to_string()
                .replacen('T', " ", 1)
        },
    )
}

fn fmt_millis(ms: f64) -> String {
    fmt_duration(std::time::Duration::from_secs_f64(ms.max(0.0) / 1000.0))
}

/// `runs show` as one JSON document, from the summary when the run wrote one, else rebuilt
/// from the journal. The text form is rendered from this too.
fn run_view(record: &RunRecord, summary: Option<&J>) -> J {
    let overview = record.overview();
    let started = record.started();
    let from_summary = |key: &str| summary.and_then(|s| s.get(key)).cloned();
    let nodes = match summary {
        Some(s) => nodes_from_summary(s),
        None => nodes_from_journal(record),
    };
    let mut view = json!({
        "schema": 1,
        "run_id": record.run_id,
        "flow": overview.flow,
        "file": started.map(|s| json!(s.file)).or_else(|| from_summary("file")),
        "params": started.map(|s| s.params.clone()).or_else(|| from_summary("params")),
        "started": overview.started,
        "duration_ms": overview.duration_ms,
        "status": overview.status,
        "interrupted": from_summary("interrupted")
            .filter(|i| !i.is_null())
            .or_else(|| record.journal.finished.as_ref().and_then(|f| f.interrupted).map(|i| json!(i))),
        "pid": started.map(|s| s.pid),
        "host": started.and_then(|s| s.host.clone()),
        "autowf_version": started.map(|s| s.autowf_version.clone()),
        "dir": record.dir,
        "source": if summary.is_some() { "summary" } else { "journal" },
        "nodes": nodes,
    });
    // A run handed to Slurm (`run --submit-all`): its jobs are what there is to follow.
    if let Some(jobs) = submitted_jobs(record) {
        view["jobs"] = jobs;
    }
    view
}

/// The jobs of `jobs.json`, when the run left one that parses.
fn submitted_jobs(record: &RunRecord) -> Option<J> {
    let bytes = std::fs::read(record.dir.join(runs::JOBS_FILE)).ok()?;
    let doc: J = serde_json::from_slice(&bytes).ok()?;
    doc.get("jobs").filter(|jobs| jobs.is_array()).cloned()
}

fn nodes_from_summary(summary: &J) -> Vec<J> {
    let Some(nodes) = summary.get("nodes").and_then(J::as_array) else {
        return Vec::new();
    };
    nodes
        .iter()
        .map(|n| {
            json!({
                "name": n.get("name"),
                "status": n.get("status"),
                "attempts": n.get("attempts"),
                "duration_ms": n.get("duration_ms"),
                "error": n.get("error").and_then(|e| e.get("message")),
            })
        })
        .collect()
}

fn nodes_from_journal(record: &RunRecord) -> Vec<J> {
    // A node that started and has no recorded end was running when the journal stopped.
    let unfinished = if record.status == RunStatus::Running {
        "running"
    } else {
        "unfinished"
    };
    record
        .journal
        .nodes
        .iter()
        .map(|n| match &n.finished {
            Some(f) => json!({
                "name": n.name,
                "status": f.status,
                "attempts": f.attempts,
                "duration_ms": f.duration_ms,
                "error": f.error,
            }),
            None => json!({
                "name": n.name,
                "status": unfinished,
                "attempts": n.last_attempt,
                "duration_ms": null,
                "error": null,
            }),
        })
        .collect()
}

/// `runs show` for people: the run's facts, then one line per node.
fn run_text(view: &J) -> String {
    let mut status = cell(&view["status"]);
    if let Some(why) = view["interrupted"].as_str() {
        status = format!("{status} ({why})");
    }
    let facts = [
        ("run", cell(&view["run_id"])),
        ("flow", cell(&view["flow"])),
        ("file", cell(&view["file"])),
        ("started", time_cell(&view["started"])),
        ("duration", duration_cell(&view["duration_ms"])),
        ("status", status),
        ("params", cell(&view["params"])),
        ("dir", cell(&view["dir"])),
    ];
    let mut out = String::new();
    for (name, value) in facts {
        out.push_str(&format!("{name:<10}{value}\n"));
    }
    let nodes = view["nodes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if !nodes.is_empty() {
        let rows: Vec<[String; 5]> = nodes.iter().map(node_row).collect();
        out.push('\n');
        out.push_str(&table(
            &["NODE", "STATUS", "ATTEMPTS", "DURATION", "ERROR"],
            &rows,
        ));
    }
    if let Some(jobs) = view["jobs"].as_array() {
        let rows: Vec<[String; 3]> = jobs.iter().map(job_row).collect();
        out.push('\n');
        out.push_str(&table(&["NODE", "SLURM JOB", "AFTER"], &rows));
    }
    out
}

fn job_row(job: &J) -> [String; 3] {
    let after: Vec<&str> = job["depends_on"]
        .as_array()
        .map(|deps| deps.iter().filter_map(J::as_str).collect())
        .unwrap_or_default();
    [cell(&job["node"]), cell(&job["job_id"]), after.join(", ")]
}

fn node_row(node: &J) -> [String; 5] {
    [
        cell(&node["name"]),
        cell(&node["status"]),
        cell(&node["attempts"]),
        duration_cell(&node["duration_ms"]),
        // The first line of the message: `runs show --json` and summary.json have the rest.
        node["error"]
            .as_str()
            .and_then(|e| e.lines().next())
            .unwrap_or("")
            .to_owned(),
    ]
}

/// A JSON value as a table cell: strings bare, `null` as `-`.
fn cell(value: &J) -> String {
    match value {
        J::Null => "-".to_owned(),
        J::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn time_cell(value: &J) -> String {
    value.as_str().map_or_else(|| "-".to_owned(), short_time)
}

fn duration_cell(value: &J) -> String {
    value.as_f64().map_or_else(|| "-".to_owned(), fmt_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_line_up_and_do_not_pad_the_last_column() {
        let rows = [
            ["a".to_owned(), "succeeded".to_owned()],
            ["long-name".to_owned(), "failed".to_owned()],
        ];
        assert_eq!(
            table(&["RUN", "STATUS"], &rows),
            "RUN        STATUS\na          succeeded\nlong-name  failed\n"
        );
    }

    #[test]
    fn a_submitted_run_lists_its_jobs() {
        let view = json!({
            "run_id": "r1",
            "status": "submitted",
            "nodes": [],
            "jobs": [
                {"node": "fetch", "job_id": 41, "depends_on": []},
                {"node": "report", "job_id": 43, "depends_on": ["fetch", "align"]},
            ],
        });
        let text = run_text(&view);
        assert!(
            text.ends_with(
                "\nNODE    SLURM JOB  AFTER\nfetch   41\nreport  43         fetch, align\n"
            ),
            "{text}"
        );
        assert!(text.contains("status    submitted\n"), "{text}");
    }

    #[test]
    fn times_are_shown_to_the_second() {
        assert_eq!(
            short_time("2026-11-26T19:56:05.881Z"),
            "2026-11-26 19:56:05Z"
        );
        assert_eq!(short_time("yesterday"), "yesterday");
    }
}
