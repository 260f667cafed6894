//! The end of a run: the JSON summary (`run --json`) and the human summary on stderr.

use std::io::Write;

use serde::{Serialize, Serializer};
use serde_json::json;

use super::console::fmt_duration;
use super::diagnostic::Sources;
use crate::error::Diagnostic;
use crate::events::{Status, TaskError};
use crate::scheduler::{Interruption, NodeReport, RunReport};

/// Facts about the run that the scheduler does not know.
pub(crate) struct RunMeta<'a> {
    pub(crate) run_id: &'a str,
    pub(crate) flow: &'a str,
    pub(crate) file: &'a str,
    pub(crate) params: serde_json::Value,
}

/// The `run --json` document (also `--summary` and the run's `summary.json`). It borrows from
/// the report and is serialized straight to its destination: a run of 100,000 nodes would
/// spend far longer building a `serde_json::Value` tree first.
#[derive(Serialize)]
pub(crate) struct RunSummary<'a> {
    schema: u32,
    run_id: &'a str,
    flow: &'a str,
    file: &'a str,
    params: &'a serde_json::Value,
    status: &'static str,
    interrupted: Option<Interruption>,
    duration_ms: f64,
    counts: serde_json::Map<String, serde_json::Value>,
    #[serde(serialize_with = "nodes")]
    nodes: &'a [NodeReport],
    result: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct NodeSummary<'a> {
    name: &'a str,
    task: &'a Option<String>,
    status: Status,
    attempts: u32,
    start_ms: Option<u64>,
    duration_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a TaskError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    history: Vec<AttemptSummary<'a>>,
}

#[derive(Serialize)]
struct AttemptSummary<'a> {
    attempt: usize,
    status: Status,
    duration_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a TaskError>,
}

pub(crate) fn summary_json<'a>(meta: &'a RunMeta<'a>, report: &'a RunReport) -> RunSummary<'a> {
    RunSummary {
        schema: 1,
        run_id: meta.run_id,
        flow: meta.flow,
        file: meta.file,
        params: &meta.params,
        status: if report.is_success() {
            "succeeded"
        } else {
            "failed"
        },
        interrupted: report.interruption,
        duration_ms: millis(report.duration),
        counts: counts(report),
        nodes: &report.nodes,
        result: report.output.as_ref().map(crate::script::Value::to_json),
    }
}

fn nodes<S: Serializer>(nodes: &&[NodeReport], out: S) -> Result<S::Ok, S::Error> {
    out.collect_seq(nodes.iter().map(|n| {
        NodeSummary {
            name: &n.name,
            task: &n.task,
            status: n.status,
            attempts: n.attempts,
            start_ms: n.started_ms,
            duration_ms: millis(n.duration),
            error: n.error.as_ref(),
            reason: n.reason.as_deref(),
            history: n
                .history
                .iter()
                .enumerate()
                .map(|(i, a)| AttemptSummary {
                    attempt: i + 1,
                    status: a.status,
                    duration_ms: millis(a.duration),
                    error: a.error.as_ref(),
                })
                .collect(),
        }
    }))
}

fn millis(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

fn counts(report: &RunReport) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    for s in Status::ALL {
        m.insert(
            s.name().to_owned(),
            json!(report.nodes.iter().filter(|n| n.status == s).count()),
        );
    }
    m
}

/// The closing lines on stderr: counts, then each failure with its source line and call chain.
pub(crate) fn print_failures(out: &mut dyn Write, report: &RunReport, color: bool) {
    let c = counts(report);
    let parts: Vec<String> = c
        .iter()
        .filter(|(_, v)| v.as_u64() != Some(0))
        .map(|(k, v)| format!("{v} {}", k.replace('_', " ")))
        .collect();
    let verdict = match report.interruption {
        Some(Interruption::Timeout) => "run timed out",
        Some(Interruption::Sigint) => "run interrupted",
        Some(Interruption::Sigterm) => "run terminated",
        None if report.is_success() => "run succeeded",
        None => "run failed",
    };
    let _ = writeln!(
        out,
        "{verdict} in {}: {}",
        fmt_duration(report.duration),
        if parts.is_empty() {
            "no nodes".to_owned()
        } else {
            parts.join(", ")
        }
    );
    if let Some(line) = slowest(report) {
        let _ = writeln!(out, "{line}");
    }
    let mut sources = Sources::default();
    for n in report
        .nodes
        .iter()
        .filter(|n| matches!(n.status, Status::Failed | Status::TimedOut))
    {
        let Some(e) = &n.error else { continue };
        let attempts = if n.attempts > 1 {
            format!(" (after {} attempts)", n.attempts)
        } else {
            String::new()
        };
        let mut d =
            Diagnostic::new(format!("`{}`{attempts}: {}", n.name, e.message)).at(e.loc.clone());
        d.help.clone_from(&e.help);
        for frame in &e.trace {
            d = d.note(frame.clone(), None);
        }
        let _ = write!(
            out,
            "\n{}",
            super::diagnostic::render(&d, color, &mut sources)
        );
    }
}

/// How many of the slowest nodes the summary names.
const SLOWEST: usize = 3;

/// `slowest: load 2.31s, fetch[3] 1.02s, report 350ms`, when at least two nodes ran (fan-out
/// and `.then` nodes, whose time is their children's, are left out).
fn slowest(report: &RunReport) -> Option<String> {
    let mut ran: Vec<&crate::scheduler::NodeReport> = report
        .nodes
        .iter()
        .filter(|n| n.attempts > 0 && !n.is_expansion)
        .collect();
    if ran.len() < 2 {
        return None;
    }
    ran.sort_by(|a, b| {
        b.duration
            .cmp(&a.duration)
            .then_with(|| a.name.cmp(&b.name))
    });
    let named: Vec<String> = ran
        .iter()
        .take(SLOWEST)
        .map(|n| format!("{} {}", n.name, fmt_duration(n.duration)))
        .collect();
    Some(format!("slowest: {}", named.join(", ")))
}

/// GitHub Actions `::error` commands, one per failed node, pointing at the failing line (or
/// where the node was created), so the failure shows on the pull request's diff.
pub(crate) fn github_annotations(report: &RunReport) -> String {
    let mut out = String::new();
    for n in report
        .nodes
        .iter()
        .filter(|n| matches!(n.status, Status::Failed | Status::TimedOut))
    {
        let loc = n
            .error
            .as_ref()
            .and_then(|e| e.loc.as_ref())
            .unwrap_or(&n.loc);
        let message = n.error.as_ref().map_or("failed", |e| e.message.as_str());
        let title = format!(
            "autowf: `{}` {}",
            n.name,
            if n.status == Status::Failed {
                "failed"
            } else {
                "timed out"
            }
        );
        out.push_str(&format!(
            "::error file={},line={},col={},title={}::{}\n",
            escape_property(&loc.file),
            loc.line,
            loc.column,
            escape_property(&title),
            escape_data(message)
        ));
    }
    out
}

/// Escapes the message of a workflow command.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value of a workflow command.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::TaskError;
    use crate::report::test_reports::{node, run};

    fn sample() -> RunReport {
        let mut failed = node("f.rhai", 1, "load", Status::Failed, 20);
        failed.error = Some(TaskError::new("boom"));
        failed.attempts = 2;
        let mut skipped = node("f.rhai", 2, "report", Status::Skipped, 0);
        skipped.reason = Some("`load` failed".into());
        skipped.started_ms = None;
        skipped.task = None;
        let mut report = run(vec![
            node("f.rhai", 0, "fetch", Status::Succeeded, 5),
            failed,
            skipped,
        ]);
        report.interruption = Some(Interruption::Sigint);
        report.output = Some(crate::script::Value::from_json(&json!({"b": 1, "a": [2]})));
        report
    }

    #[test]
    fn the_summary_document_is_stable() {
        let meta = RunMeta {
            run_id: "r1",
            flow: "main",
            file: "f.rhai",
            params: json!({ "day": "mon" }),
        };
        let report = sample();
        let text = serde_json::to_string(&summary_json(&meta, &report)).unwrap();
        assert_eq!(
            text,
            r#"{"schema":1,"run_id":"r1","flow":"main","file":"f.rhai","params":{"day":"mon"},"status":"failed","interrupted":"sigint","duration_ms":1500.0,"counts":{"succeeded":1,"cached":0,"failed":1,"timed_out":0,"skipped":1,"cancelled":0},"nodes":[{"name":"fetch","task":"fetch","status":"succeeded","attempts":1,"start_ms":0,"duration_ms":5.0},{"name":"load","task":"load","status":"failed","attempts":2,"start_ms":0,"duration_ms":20.0,"error":{"message":"boom"}},{"name":"report","task":null,"status":"skipped","attempts":0,"start_ms":null,"duration_ms":0.0,"reason":"`load` failed"}],"result":{"a":[2],"b":1}}"#
        );
    }
}
