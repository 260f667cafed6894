//! `autowf list`: every flow and task found in files or directories, with `file:line`.

use serde_json::json;

use crate::support::{SUM_FLOW, Test};

/// The whitespace-separated columns of each line of `text`.
fn columns(text: &str) -> Vec<Vec<&str>> {
    text.lines()
        .map(|l| l.split_whitespace().collect())
        .collect()
}

#[test]
fn lists_flows_and_tasks_with_file_and_line() {
    let out = Test::new()
        .flow("flows/sum.rhai", SUM_FLOW)
        .flow(
            "flows/report.rhai",
            r#"
            fn publish(day) { `echo ${day}` }
            shell_task(publish);
            fn report(day) { publish(day) }
            flow(report, #{ params: #{ day: "mon" } });
            "#,
        )
        .args(["list"])
        .run();
    out.code(0);
    assert_eq!(
        columns(out.stdout()),
        [
            vec!["flows/report.rhai:4", "flow", "report", "(day=\"mon\")"],
            vec!["flows/report.rhai:2", "task", "publish", "[shell]"],
            vec!["flows/sum.rhai:10", "flow", "main"],
            vec!["flows/sum.rhai:3", "task", "compute", "[rhai]"],
            vec!["flows/sum.rhai:4", "task", "add", "[rhai]"],
        ]
    );
}

#[test]
fn json_lists_names_kinds_and_lines() {
    let out = Test::new()
        .flow("flows/sum.rhai", SUM_FLOW)
        .args(["list", "--json"])
        .run();
    out.code(0);
    assert_eq!(
        out.stdout_json(),
        json!({
            "schema": 1,
            "files": [{
                "file": "flows/sum.rhai",
                "flows": [{ "name": "main", "line": 10, "params": [] }],
                "tasks": [
                    { "name": "compute", "kind": "rhai", "line": 3 },
                    { "name": "add", "kind": "rhai", "line": 4 },
                ],
            }],
        })
    );
}

#[test]
fn takes_files_and_directories() {
    let out = Test::new()
        .flow("a.rhai", SUM_FLOW)
        .flow("more/b.rhai", SUM_FLOW)
        .flow("ignored/c.rhai", SUM_FLOW)
        .args(["list", "more", "a.rhai"])
        .run();
    out.code(0)
        .stdout_contains("a.rhai:10")
        .stdout_contains("more/b.rhai:10")
        .stdout_lacks("c.rhai");
}

#[test]
fn output_is_identical_across_invocations() {
    let test = Test::new()
        .flow("flows/z.rhai", SUM_FLOW)
        .flow("flows/a.rhai", SUM_FLOW)
        .flow("flows/m/inner.rhai", SUM_FLOW);
    for json in [false, true] {
        let args: &[&str] = if json { &["list", "--json"] } else { &["list"] };
        let first = test.clone().args(args).run();
        let second = test.clone().args(args).run();
        first.code(0);
        second.code(0);
        assert_eq!(first.stdout(), second.stdout());
        let a = first.stdout().find("flows/a.rhai").expect("a listed");
        let z = first.stdout().find("flows/z.rhai").expect("z listed");
        assert!(a < z, "sorted by path:\n{}", first.stdout());
    }
}

#[test]
fn missing_path_is_an_error() {
    Test::new()
        .args(["list", "nowhere"])
        .run()
        .code(2)
        .stdout_is("")
        .stderr_contains("`nowhere` does not exist");
}

#[test]
fn a_broken_script_is_reported_with_its_location() {
    Test::new()
        .flow(
            "flows/broken.rhai",
            "fn main() {\n    let = 1;\n}\nflow(main);\n",
        )
        .args(["list"])
        .run()
        .code(2)
        .stderr_contains("error: syntax error")
        .stderr_contains(" --> flows/broken.rhai:2:");
}
