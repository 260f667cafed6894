//! The `JUnit` XML report of a run: one `<testcase>` per node, in the shape the test views of
//! GitHub, GitLab and Jenkins read, so a flow's failures show where CI shows failing tests.

use std::time::Duration;

use super::summary::RunMeta;
use crate::events::Status;
use crate::scheduler::{NodeReport, RunReport};

/// The `<skipped>` message of a node that the run stopped (fail-fast, signal, run timeout).
const CANCELLED_MESSAGE: &str = "cancelled: the run stopped";

/// Renders `report` as a `JUnit` XML document: a `<testsuites>` holding one `<testsuite>`
/// named after the flow, with one `<testcase>` per node in report order. Failed and
/// timed-out nodes carry a `<failure>`; skipped and cancelled ones a `<skipped>`.
pub(crate) fn junit_xml(meta: &RunMeta<'_>, report: &RunReport) -> String {
    // A timed-out node is a failure and a cancelled one is skipped; nothing is an error.
    let failures = count(report, |s| matches!(s, Status::Failed | Status::TimedOut));
    let skipped = count(report, |s| matches!(s, Status::Skipped | Status::Cancelled));
    let time = seconds(report.duration);
    let counts = format!(
        r#"tests="{}" failures="{failures}" errors="0""#,
        report.nodes.len()
    );
    let flow = escape_attr(meta.flow);
    // Jenkins' schema has no `skipped` on `<testsuites>`, only on `<testsuite>`.
    let mut lines = vec![
        r#"<?xml version="1.0" encoding="UTF-8"?>"#.to_owned(),
        format!(r#"<testsuites name="autowf" {counts} time="{time}">"#),
        format!(r#"  <testsuite name="{flow}" {counts} skipped="{skipped}" time="{time}">"#),
    ];
    lines.extend(properties(meta, report));
    for node in &report.nodes {
        lines.extend(testcase(meta.flow, node));
    }
    lines.push("  </testsuite>".to_owned());
    lines.push("</testsuites>\n".to_owned());
    lines.join("\n")
}

fn count(report: &RunReport, pick: fn(Status) -> bool) -> usize {
    report.nodes.iter().filter(|n| pick(n.status)).count()
}

/// The run id, script file, verdict, why the run stopped early (if it did) and each param.
fn properties(meta: &RunMeta<'_>, report: &RunReport) -> Vec<String> {
    let verdict = if report.is_success() {
        "succeeded"
    } else {
        "failed"
    };
    let mut props = vec![
        ("run_id".to_owned(), meta.run_id.to_owned()),
        ("file".to_owned(), meta.file.to_owned()),
        ("status".to_owned(), verdict.to_owned()),
    ];
    if let Some(why) = report.interruption.and_then(|i| snake_case(&i)) {
        props.push(("interrupted".to_owned(), why));
    }
    props.extend(params(&meta.params));
    let mut lines = vec!["    <properties>".to_owned()];
    lines.extend(props.iter().map(|(name, value)| {
        format!(
            r#"      <property name="{}" value="{}"/>"#,
            escape_attr(name),
            escape_attr(value)
        )
    }));
    lines.push("    </properties>".to_owned());
    lines
}

/// One `params.<name>` property per param, in the order of `params`: a string as it is,
/// anything else as JSON. Params that are not an object (none given) give no property.
fn params(params: &serde_json::Value) -> Vec<(String, String)> {
    let Some(map) = params.as_object() else {
        return Vec::new();
    };
    map.iter()
        .map(|(k, v)| {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            (format!("params.{k}"), text)
        })
        .collect()
}

/// The serde name of a unit variant, e.g. `timed_out` for `Status::TimedOut`.
fn snake_case(value: &impl serde::Serialize) -> Option<String> {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
}

/// The lines of one node's `<testcase>`.
fn testcase(flow: &str, node: &NodeReport) -> Vec<String> {
    let open = format!(
        r#"    <testcase classname="{}" name="{}" time="{}""#,
        escape_attr(flow),
        escape_attr(&node.name),
        seconds(node.duration)
    );
    let child = match node.status {
        Status::Succeeded | Status::Cached => return vec![format!("{open}/>")],
        Status::Failed | Status::TimedOut => failure(node),
        Status::Skipped => skipped(&skip_message(node)),
        Status::Cancelled => skipped(CANCELLED_MESSAGE),
    };
    vec![
        format!("{open}>"),
        format!("      {child}"),
        "    </testcase>".to_owned(),
    ]
}

fn skip_message(node: &NodeReport) -> String {
    match &node.reason {
        Some(reason) => format!("skipped: {reason}"),
        None => "skipped".to_owned(),
    }
}

fn skipped(message: &str) -> String {
    format!("<skipped message=\"{}\"/>", escape_attr(message))
}

/// The `<failure>` of a failed or timed-out node: the error message as the `message`
/// attribute, and message, location, call trace, help and attempts as the text.
fn failure(node: &NodeReport) -> String {
    let (kind, fallback) = if node.status == Status::TimedOut {
        ("timed_out", "timed out")
    } else {
        ("failed", "failed")
    };
    let message = node.error.as_ref().map_or(fallback, |e| e.message.as_str());
    format!(
        "<failure message=\"{}\" type=\"{kind}\">{}</failure>",
        escape_attr(message),
        escape_text(&failure_text(node, message))
    )
}

fn failure_text(node: &NodeReport, message: &str) -> String {
    let mut lines = vec![message.to_owned()];
    if let Some(e) = &node.error {
        lines.extend(e.loc.as_ref().map(|loc| format!("  at {loc}")));
        lines.extend(e.trace.iter().map(|frame| format!("  {frame}")));
        lines.extend(e.help.as_ref().map(|help| format!("help: {help}")));
    }
    if node.attempts > 1 {
        lines.push(format!("attempts: {}", node.attempts));
    }
    lines.join("\n")
}

/// Seconds with millisecond precision, as the `time` attributes of `JUnit` expect.
fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// Escapes text content: markup characters become entities, a carriage return a character
/// reference (a parser would turn a literal one into a newline), and characters XML 1.0
/// does not allow are dropped.
fn escape_text(s: &str) -> String {
    escape(s, false)
}

/// Escapes an attribute value: as [`escape_text`], and tabs and newlines become character
/// references too, since a parser turns literal ones into spaces.
fn escape_attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, is_attr: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\n' if is_attr => out.push_str("&#10;"),
            '\t' if is_attr => out.push_str("&#9;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
    out
}

/// Whether XML 1.0 allows `c` in a document (the `Char` production); surrogates cannot
/// occur in a Rust `char`.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::error::SourceLoc;
    use crate::events::TaskError;
    use crate::report::test_reports::{self, run};
    use crate::scheduler::Interruption;

    fn meta(params: serde_json::Value) -> RunMeta<'static> {
        RunMeta {
            run_id: "r-1",
            flow: "build",
            file: "flows/build.rhai",
            params,
        }
    }

    fn loc(line: u32, column: u32) -> SourceLoc {
        SourceLoc {
            file: Arc::from("flows/build.rhai"),
            line,
            column,
        }
    }

    fn node(id: u32, name: &str, status: Status, millis: u64) -> NodeReport {
        test_reports::node("flows/build.rhai", id, name, status, millis)
    }

    #[test]
    fn renders_every_status() {
        let mut test = node(2, "test", Status::Failed, 1000);
        test.attempts = 2;
        test.error = Some(TaskError {
            message: "exit code 1".to_owned(),
            loc: Some(loc(7, 9)),
            trace: vec!["in `helper` at flows/build.rhai:3:5".to_owned()],
            help: Some("run it by hand".to_owned()),
            exit_code: Some(1),
        });
        let mut lint = node(3, "lint", Status::TimedOut, 2000);
        lint.error = Some(TaskError::new("timed out after 2s"));
        let mut deploy = node(4, "deploy", Status::Skipped, 0);
        deploy.reason = Some("`test` did not succeed".to_owned());
        let report = run(vec![
            node(0, "fetch", Status::Cached, 0),
            node(1, "compile", Status::Succeeded, 250),
            test,
            lint,
            deploy,
            node(5, "notify", Status::Cancelled, 0),
        ]);
        let xml = junit_xml(&meta(json!({ "env": "prod", "shards": 2 })), &report);
        assert_eq!(
            xml,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="autowf" tests="6" failures="2" errors="0" time="1.500">
  <testsuite name="build" tests="6" failures="2" errors="0" skipped="2" time="1.500">
    <properties>
      <property name="run_id" value="r-1"/>
      <property name="file" value="flows/build.rhai"/>
      <property name="status" value="failed"/>
      <property name="params.env" value="prod"/>
      <property name="params.shards" value="2"/>
    </properties>
    <testcase classname="build" name="fetch" time="0.000"/>
    <testcase classname="build" name="compile" time="0.250"/>
    <testcase classname="build" name="test" time="1.000">
      <failure message="exit code 1" type="failed">exit code 1
  at flows/build.rhai:7:9
  in `helper` at flows/build.rhai:3:5
help: run it by hand
attempts: 2</failure>
    </testcase>
    <testcase classname="build" name="lint" time="2.000">
      <failure message="timed out after 2s" type="timed_out">timed out after 2s</failure>
    </testcase>
    <testcase classname="build" name="deploy" time="0.000">
      <skipped message="skipped: `test` did not succeed"/>
    </testcase>
    <testcase classname="build" name="notify" time="0.000">
      <skipped message="cancelled: the run stopped"/>
    </testcase>
  </testsuite>
</testsuites>
"#
        );
    }

    #[test]
    fn successful_run_without_params() {
        let report = run(vec![node(0, "only", Status::Succeeded, 5)]);
        let xml = junit_xml(&meta(serde_json::Value::Null), &report);
        assert_eq!(
            xml,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="autowf" tests="1" failures="0" errors="0" time="1.500">
  <testsuite name="build" tests="1" failures="0" errors="0" skipped="0" time="1.500">
    <properties>
      <property name="run_id" value="r-1"/>
      <property name="file" value="flows/build.rhai"/>
      <property name="status" value="succeeded"/>
    </properties>
    <testcase classname="build" name="only" time="0.005"/>
  </testsuite>
</testsuites>
"#
        );
    }

    #[test]
    fn interruption_is_a_property_and_errors_have_a_fallback() {
        let mut report = run(vec![
            node(0, "slow", Status::TimedOut, 0),
            node(1, "next", Status::Cancelled, 0),
        ]);
        report.interruption = Some(Interruption::Timeout);
        let xml = junit_xml(&meta(json!({})), &report);
        assert!(
            xml.contains(r#"<failure message="timed out" type="timed_out">timed out</failure>"#)
        );
        assert!(xml.contains("<property name=\"status\" value=\"failed\"/>"));
        assert!(xml.contains("<property name=\"interrupted\" value=\"timeout\"/>"));
    }

    #[test]
    fn escapes_markup_in_names_messages_and_params() {
        let mut n = node(0, "a<b>&\"c\"'d'", Status::Failed, 0);
        n.error = Some(TaskError::new("x < y && \"q\" 'z'\nline 2\r\n]]>"));
        let report = run(vec![n]);
        let xml = junit_xml(&meta(json!({ "q\"": "a&b\n" })), &report);
        assert!(xml.contains(r#"<property name="params.q&quot;" value="a&amp;b&#10;"/>"#));
        assert!(xml.contains(r#"name="a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;""#));
        assert!(xml.contains(concat!(
            r#"<failure message="x &lt; y &amp;&amp; &quot;q&quot; &apos;z&apos;&#10;line 2&#13;&#10;]]&gt;" type="failed">"#,
            "x &lt; y &amp;&amp; &quot;q&quot; &apos;z&apos;\nline 2&#13;\n]]&gt;</failure>",
        )));
    }

    #[test]
    fn drops_characters_xml_does_not_allow() {
        assert_eq!(
            escape_text("a\u{0}b\u{1b}[31mc\u{7}\td\u{FFFE}\u{FFFF}e\u{1F600}\u{7F}"),
            "ab[31mc\tde\u{1F600}\u{7F}"
        );
        assert_eq!(escape_attr("tab\there"), "tab&#9;here");
        assert_eq!(escape_text("tab\there"), "tab\there");
    }
}
