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
