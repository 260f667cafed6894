//! The Prometheus text exposition of a run, for the textfile collector of `node_exporter`:
//! how the run and each node ended and how long they took, every sample labelled with its
//! flow.
//!
//! Every metric is a gauge: the file describes the last run only and is replaced by the next
//! one, so even the `_total` metrics count within one run.

use super::summary::RunMeta;
use crate::events::Status;
use crate::scheduler::RunReport;

/// One sample: its labels, already rendered as `{name="value",…}`, and its value.
type Sample = (String, String);

/// Renders `report` in the Prometheus text format (version 0.0.4): `# HELP` and `# TYPE`
/// lines, then the samples of each metric, `\n`-terminated. `started_unix` is when the run
/// started, in seconds since the Unix epoch; the run ended `report.duration` later.
pub(crate) fn prometheus_text(meta: &RunMeta<'_>, report: &RunReport, started_unix: f64) -> String {
    let flow = labels(&[("flow", meta.flow)]);
    let run = |value: String| vec![(flow.clone(), value)];
    let is_success = report.is_success();
    let mut lines = Vec::new();
    let mut push = |name: &str, help: &str, samples: Vec<Sample>| {
        push_metric(&mut lines, name, help, &samples);
    };
    push(
        "autowf_run_success",
        "Whether the last run of the flow succeeded (1) or not (0).",
        run(u8::from(is_success).to_string()),
    );
    push(
        "autowf_run_duration_seconds",
        "How long the last run of the flow took.",
        run(number(report.duration.as_secs_f64())),
    );
    push(
        "autowf_run_start_time_seconds",
        "When the last run of the flow started, in seconds since the Unix epoch.",
        run(number(started_unix)),
    );
    if is_success {
        push(
            "autowf_run_last_success_time_seconds",
            "When the last successful run of the flow ended, in seconds since the Unix epoch.",
            run(number(started_unix + report.duration.as_secs_f64())),
        );
    }
    push_node_metrics(&mut push, meta.flow, report);
    lines.push(String::new());
    lines.join("\n")
}

/// The per-node metrics and the counts over nodes.
fn push_node_metrics(
    push: &mut impl FnMut(&str, &str, Vec<Sample>),
    flow: &str,
    report: &RunReport,
) {
    let nodes = &report.nodes;
    let durations = nodes.iter().map(|n| {
        let task = n.task.as_deref().unwrap_or("");
        let status = n.status.name();
        let l = labels(&[
            ("flow", flow),
            ("node", &n.name),
            ("task", task),
            ("status", status),
        ]);
        (l, number(n.duration.as_secs_f64()))
    });
    push(
        "autowf_task_duration_seconds",
        "How long each node of the last run took, over all its attempts.",
        durations.collect(),
    );
    let attempts = nodes.iter().map(|n| {
        let l = labels(&[("flow", flow), ("node", &n.name)]);
        (l, n.attempts.to_string())
    });
    push(
        "autowf_task_attempts",
        "How many times each node of the last run was attempted.",
        attempts.collect(),
    );
    let flow_only = labels(&[("flow", flow)]);
    let retries: u64 = nodes
        .iter()
        .map(|n| u64::from(n.attempts.saturating_sub(1)))
        .sum();
    push(
        "autowf_task_retries_total",
        "How many retries the last run made, over all nodes.",
        vec![(flow_only.clone(), retries.to_string())],
    );
    let count = |s: Status| nodes.iter().filter(|n| n.status == s).count();
    let by_status = Status::ALL.iter().map(|&s| {
        let l = labels(&[("flow", flow), ("status", s.name())]);
        (l, count(s).to_string())
    });
    push(
        "autowf_nodes",
        "How many nodes of the last run ended in each status.",
        by_status.collect(),
    );
    push(
        "autowf_cache_hits_total",
        "How many nodes of the last run were restored from the cache.",
        vec![(flow_only, count(Status::Cached).to_string())],
    );
}

/// Appends the lines of one gauge: `# HELP` and `# TYPE`, then its samples.
fn push_metric(lines: &mut Vec<String>, name: &str, help: &str, samples: &[Sample]) {
    lines.push(format!("# HELP {name} {help}"));
    lines.push(format!("# TYPE {name} gauge"));
    lines.extend(
        samples
            .iter()
            .map(|(labels, value)| format!("{name}{labels} {value}")),
    );
}

/// Renders label pairs as `{name="value",…}`, escaping each value.
fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{name}=\"{}\"", escape_label(value)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// Escapes a label value: backslash, double quote and newline, as the format requires.
fn escape_label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A sample value: shortest round-trip decimal, or `NaN`, `+Inf`, `-Inf`.
fn number(x: f64) -> String {
    if x.is_nan() {
        "NaN".to_owned()
    } else if x.is_infinite() {
        if x > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        x.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_reports::{self, run};
    use crate::scheduler::{Interruption, NodeReport};

    fn meta(flow: &str) -> RunMeta<'_> {
        RunMeta {
            run_id: "r-1",
            flow,
            file: "flows/nightly.rhai",
            params: serde_json::Value::Null,
        }
    }

    fn node(id: u32, name: &str, status: Status, attempts: u32, millis: u64) -> NodeReport {
        NodeReport {
            task: Some("fetch".to_owned()),
            attempts,
            ..test_reports::node("flows/nightly.rhai", id, name, status, millis)
        }
    }

    #[test]
    fn successful_run() {
        let mut control = node(2, "done", Status::Succeeded, 1, 0);
        control.task = None;
        let report = run(vec![
            node(0, "a", Status::Succeeded, 3, 250),
            node(1, "b", Status::Cached, 0, 0),
            control,
        ]);
        let text = prometheus_text(&meta("nightly"), &report, 1_700_000_000.25);
        assert_eq!(
            text,
            r#"# HELP autowf_run_success Whether the last run of the flow succeeded (1) or not (0).
# TYPE autowf_run_success gauge
autowf_run_success{flow="nightly"} 1
# HELP autowf_run_duration_seconds How long the last run of the flow took.
# TYPE autowf_run_duration_seconds gauge
autowf_run_duration_seconds{flow="nightly"} 1.5
# HELP autowf_run_start_time_seconds When the last run of the flow started, in seconds since the Unix epoch.
# TYPE autowf_run_start_time_seconds gauge
autowf_run_start_time_seconds{flow="nightly"} 1700000000.25
# HELP autowf_run_last_success_time_seconds When the last successful run of the flow ended, in seconds since the Unix epoch.
# TYPE autowf_run_last_success_time_seconds gauge
autowf_run_last_success_time_seconds{flow="nightly"} 1700000001.75
# HELP autowf_task_duration_seconds How long each node of the last run took, over all its attempts.
# TYPE autowf_task_duration_seconds gauge
autowf_task_duration_seconds{flow="nightly",node="a",task="fetch",status="succeeded"} 0.25
autowf_task_duration_seconds{flow="nightly",node="b",task="fetch",status="cached"} 0
autowf_task_duration_seconds{flow="nightly",node="done",task="",status="succeeded"} 0
# HELP autowf_task_attempts How many times each node of the last run was attempted.
# TYPE autowf_task_attempts gauge
autowf_task_attempts{flow="nightly",node="a"} 3
autowf_task_attempts{flow="nightly",node="b"} 0
autowf_task_attempts{flow="nightly",node="done"} 1
# HELP autowf_task_retries_total How many retries the last run made, over all nodes.
# TYPE autowf_task_retries_total gauge
autowf_task_retries_total{flow="nightly"} 2
# HELP autowf_nodes How many nodes of the last run ended in each status.
# TYPE autowf_nodes gauge
autowf_nodes{flow="nightly",status="succeeded"} 2
autowf_nodes{flow="nightly",status="cached"} 1
autowf_nodes{flow="nightly",status="failed"} 0
autowf_nodes{flow="nightly",status="timed_out"} 0
autowf_nodes{flow="nightly",status="skipped"} 0
autowf_nodes{flow="nightly",status="cancelled"} 0
# HELP autowf_cache_hits_total How many nodes of the last run were restored from the cache.
# TYPE autowf_cache_hits_total gauge
autowf_cache_hits_total{flow="nightly"} 1
"#
        );
    }

    #[test]
    fn failed_run_has_no_last_success_time() {
        let report = run(vec![
            node(0, "a", Status::Failed, 2, 100),
            node(1, "b", Status::Skipped, 0, 0),
        ]);
        let text = prometheus_text(&meta("nightly"), &report, 10.0);
        assert!(text.contains("autowf_run_success{flow=\"nightly\"} 0\n"));
        assert!(!text.contains("last_success"));
        assert!(text.contains("autowf_nodes{flow=\"nightly\",status=\"failed\"} 1\n"));
        assert!(text.contains("autowf_nodes{flow=\"nightly\",status=\"skipped\"} 1\n"));
        assert!(text.contains("autowf_task_retries_total{flow=\"nightly\"} 1\n"));
    }

    #[test]
    fn interrupted_run_is_not_a_success() {
        let mut report = run(vec![node(0, "a", Status::Succeeded, 1, 100)]);
        report.interruption = Some(Interruption::Sigterm);
        let text = prometheus_text(&meta("nightly"), &report, 10.0);
        assert!(text.contains("autowf_run_success{flow=\"nightly\"} 0\n"));
        assert!(!text.contains("last_success"));
    }

    #[test]
    fn escapes_label_values() {
        let report = run(vec![node(0, "say \"hi\"\\\nbye", Status::Succeeded, 1, 0)]);
        let text = prometheus_text(&meta("a\\b\"c\nd"), &report, 0.0);
        assert!(text.contains(r#"autowf_run_success{flow="a\\b\"c\nd"} 1"#));
        assert!(
            text.contains(r#"autowf_task_attempts{flow="a\\b\"c\nd",node="say \"hi\"\\\nbye"} 1"#)
        );
        // Every line is a comment or one sample: no raw newline leaked from a label.
        assert!(
            text.lines()
                .all(|l| l.starts_with("# ") || l.starts_with("autowf_"))
        );
        assert!(text.ends_with('\n') && !text.contains('\r'));
    }

    #[test]
    fn numbers_use_prometheus_spellings() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(2.5), "2.5");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::INFINITY), "+Inf");
        assert_eq!(number(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn empty_run_lists_every_status() {
        let text = prometheus_text(&meta("f"), &run(Vec::new()), 0.0);
        for s in Status::ALL {
            let line = format!("autowf_nodes{{flow=\"f\",status=\"{}\"}} 0\n", s.name());
            assert!(text.contains(&line), "{line}");
        }
        assert!(text.contains("autowf_cache_hits_total{flow=\"f\"} 0\n"));
    }
}

/// Keeps the last success time of a previous run when this one failed, so an alert on
/// `time() - autowf_run_last_success_time_seconds` keeps firing instead of going quiet. Takes
/// the metric's lines from `previous` (the old textfile) and appends them to `text`.
pub(crate) fn carry_last_success(text: &mut String, previous: &str) {
    const NAME: &str = "autowf_run_last_success_time_seconds";
    if text.contains(&format!("{NAME}{{")) {
        return;
    }
    for line in previous.lines().filter(|l| {
        l.starts_with(&format!("{NAME}{{"))
            || l.starts_with(&format!("# HELP {NAME} "))
            || l.starts_with(&format!("# TYPE {NAME} "))
    }) {
        text.push_str(line);
        text.push('\n');
    }
}

#[cfg(test)]
mod carry_tests {
    use super::carry_last_success;

    #[test]
    fn a_failed_run_keeps_the_previous_success_time() {
        let previous = "# HELP autowf_run_last_success_time_seconds When.\n# TYPE autowf_run_last_success_time_seconds gauge\nautowf_run_last_success_time_seconds{flow=\"f\"} 17\nautowf_run_success{flow=\"f\"} 1\n";
        let mut text = "autowf_run_success{flow=\"f\"} 0\n".to_owned();
        carry_last_success(&mut text, previous);
        assert_eq!(
            text,
            "autowf_run_success{flow=\"f\"} 0\n# HELP autowf_run_last_success_time_seconds When.\n# TYPE autowf_run_last_success_time_seconds gauge\nautowf_run_last_success_time_seconds{flow=\"f\"} 17\n"
        );
    }
}
