//! Reports for machines: `--events` (NDJSON), `--summary`, and GitHub Actions annotations.

use serde_json::Value;

use crate::support::Test;

const FLOW: &str = r#"
    fn good() { 1 }
    fn bad(x) {
        throw "boom";
    }
    task(good);
    task(bad);
    fn main() { bad(good()) }
    flow(main);
"#;

#[test]
fn events_are_one_json_object_per_line_with_schema_and_kind() {
    let out = Test::new()
        .flow("main.rhai", FLOW)
        .args(["run", "main.rhai", "--events", "events.ndjson"])
        .run();
    out.code(1);
    let lines: Vec<Value> = out
        .file("events.ndjson")
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    assert!(
        lines
            .iter()
            .all(|l| l["schema"] == 1 && l["at_ms"].is_number())
    );
    let kinds: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "run_started",
            "node_started",
            "node_finished",
            "node_started",
            "node_finished",
            "run_finished"
        ]
    );
    assert_eq!(lines[0]["flow"], "main");
    assert_eq!(lines[4]["node"], "bad");
    assert_eq!(lines[4]["status"], "failed");
    assert_eq!(lines[4]["error"]["message"], "boom");
    assert_eq!(lines[5]["status"], "failed");
}

#[test]
fn summary_file_holds_the_json_summary_while_stdout_keeps_the_result() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn answer() { 42 }
            task(answer);
            fn main() { answer() }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "--summary", "out/summary.json"])
        .run();
    out.code(3)
        .stderr_contains("error: cannot write `out/summary.json`");
    let out = Test::new()
        .flow(
            "main.rhai",
            "fn answer() { 42 }\ntask(answer);\nfn main() { answer() }\nflow(main);\n",
        )
        .args(["run", "main.rhai", "--summary", "summary.json"])
        .run();
    out.code(0).stdout_is("42\n");
    let summary: Value = serde_json::from_str(&out.file("summary.json")).unwrap();
    assert_eq!(summary["schema"], 1);
    assert_eq!(summary["status"], "succeeded");
    assert_eq!(summary["result"], 42);
}

#[test]
fn github_actions_gets_an_error_annotation_per_failed_node() {
    Test::new()
        .flow("main.rhai", FLOW)
        .env("GITHUB_ACTIONS", "true")
        .args(["run", "main.rhai"])
        .run()
        .code(1)
        .stderr_contains(
            "::error file=main.rhai,line=3,col=5,title=autowf%3A `bad` failed::boom\n",
        );
}

#[test]
fn no_annotations_outside_github_actions() {
    Test::new()
        .flow("main.rhai", FLOW)
        .args(["run", "main.rhai"])
        .run()
        .code(1)
        .stderr_lacks("::error");
}

#[test]
fn junit_has_a_test_case_per_node_with_failures_and_skips() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn good() { 1 }
            fn bad(x) { throw "boom <&>"; }
            fn later(x) { x }
            task(good);
            task(bad);
            task(later);
            fn main() { later(bad(good())) }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "--junit", "report.xml"])
        .run();
    out.code(1);
    let xml = out.file("report.xml");
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testsuite name="main" tests="3" failures="1" errors="0" skipped="1""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase classname="main" name="good""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<failure message="boom &lt;&amp;&gt;" type="failed">"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<skipped message="skipped: `bad` did not succeed"/>"#),
        "{xml}"
    );
}

#[test]
fn metrics_textfile_reports_the_run_and_keeps_the_last_success_after_a_failure() {
    let test = Test::new().flow(
        "main.rhai",
        r#"
        fn step() { if ctx().params.fail { throw "no"; } 1 }
        task(step);
        fn main(fail) { step() }
        flow(main, #{ params: #{ fail: false } });
        "#,
    );
    let ok = test
        .clone()
        .args(["run", "main.rhai", "--metrics-textfile", "autowf.prom"])
        .run();
    ok.code(0);
    let first = ok.file("autowf.prom");
    assert!(
        first.contains("autowf_run_success{flow=\"main\"} 1\n"),
        "{first}"
    );
    let last_success = first
        .lines()
        .find(|l| l.starts_with("autowf_run_last_success_time_seconds{"))
        .expect("a successful run records its end")
        .to_owned();
    let failed = test
        .args([
            "run",
            "main.rhai",
            "-p",
            "fail=true",
            "--metrics-textfile",
            "autowf.prom",
        ])
        .run();
    failed.code(1);
    let second = failed.file("autowf.prom");
    assert!(
        second.contains("autowf_run_success{flow=\"main\"} 0\n"),
        "{second}"
    );
    assert!(
        second.contains(&last_success),
        "the failed run keeps the earlier success time:\n{second}"
    );
    assert!(
        second.contains("autowf_nodes{flow=\"main\",status=\"failed\"} 1\n"),
        "{second}"
    );
}
