//! `autowf describe`: the text, JSON and Mermaid views of a script, their determinism, and
//! describing every script under `flows/` when no file is named.

use serde_json::json;

use crate::support::{SUM_FLOW, Test};

/// Tasks with options, a shell task, a required param, a runtime fan-out and an `.after`.
const DAILY_FLOW: &str = r#"
    fn fetch(day) { `data-${day}` }
    fn count(x) { x.len() }
    fn publish(n) { `echo ${n}` }
    task(fetch, #{ retries: 2, timeout: "5s" });
    task(count);
    shell_task(publish, #{ output: "lines" });
    fn daily(day, limit) {
        let data = fetch(day);
        let n = count(data);
        let parts = n.map(count);
        publish(n).after(data)
    }
    flow(daily, #{ params: #{ day: "mon", limit: () } });
"#;

#[test]
fn text_shows_tasks_params_and_graph() {
    Test::new()
        .flow("main.rhai", DAILY_FLOW)
        .args(["describe", "main.rhai"])
        .run()
        .code(0)
        .stderr_is("")
        .stdout_is(
            "\
main.rhai

tasks:
  fetch    rhai   main.rhai:4  retries=2 retry_backoff=1s retry_strategy=exponential timeout=5s
  count    rhai   main.rhai:5
  publish  shell  main.rhai:6  output=lines

flow daily  main.rhai:13
  params: day=\"mon\", limit (required)
  graph: 4 node(s)
    fetch    task `fetch`  [retries=2 retry_backoff=1s retry_strategy=exponential timeout=5s]
    count    task `count`  <- fetch
    count#2  map over `count` (expands at run time)  <- count
    publish  shell `publish`  <- count, fetch (after)  [output=lines]
",
        );
}

#[test]
fn json_has_schema_tasks_flows_and_nodes() {
    let out = Test::new()
        .flow("main.rhai", DAILY_FLOW)
        .args(["describe", "main.rhai", "--format", "json"])
        .run();
    out.code(0);
    let doc = out.stdout_json();
    assert_eq!(doc["schema"], 1);
    let file = &doc["files"][0];
    assert_eq!(file["file"], "main.rhai");
    let tasks: Vec<(&str, &str, u64)> = file["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap(),
                t["kind"].as_str().unwrap(),
                t["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tasks,
        [
            ("fetch", "rhai", 4),
            ("count", "rhai", 5),
            ("publish", "shell", 6)
        ]
    );
    assert_eq!(file["tasks"][0]["params"], json!(["day"]));
    assert_eq!(file["tasks"][0]["options"]["timeout"], "5s");

    let flow = &file["flows"][0];
    assert_eq!(flow["name"], "daily");
    assert_eq!(flow["params"], json!({ "day": "mon", "limit": null }));
    assert_eq!(flow["required_params"], json!(["limit"]));
    assert_eq!(flow["location"]["line"], 13);
    let nodes: Vec<(&str, &serde_json::Value, bool)> = flow["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            (
                n["name"].as_str().unwrap(),
                &n["deps"],
                n["is_expansion"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        nodes,
        [
            ("fetch", &json!([]), false),
            ("count", &json!(["fetch"]), false),
            ("count#2", &json!(["count"]), true),
            ("publish", &json!(["count", "fetch"]), false),
        ]
    );
    assert_eq!(flow["nodes"][1]["location"]["line"], 9);
}

#[test]
fn mermaid_draws_nodes_and_edges() {
    let out = Test::new()
        .flow("main.rhai", DAILY_FLOW)
        .args(["describe", "main.rhai", "--format", "mermaid"])
        .run();
    out.code(0)
        .stdout_contains("%% flow daily\nflowchart LR\n")
        .stdout_contains("  n0[\"fetch\"]\n")
        .stdout_contains("  n2[/\"count#2\"\\]\n");
    let edges: Vec<&str> = out.stdout().lines().filter(|l| l.contains("-->")).collect();
    let mut sorted = edges.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        ["  n0 --> n1", "  n0 --> n3", "  n1 --> n2", "  n1 --> n3"]
    );
}

#[test]
fn output_is_identical_across_invocations() {
    let test = Test::new().flow("main.rhai", DAILY_FLOW).flow(
        "wide.rhai",
        r#"
        fn leaf(i) { i }
        fn join(xs) { xs }
        task(leaf);
        task(join);
        fn inner(n) { fan_out(leaf, [n, n + 1, n + 2]) }
        flow(inner, #{ params: #{ n: 0 } });
        fn main() {
            let parts = [];
            for i in 0..12 { parts.push(leaf(i)); }
            let nested = [inner(1), inner(2)];
            join([parts, nested]).after("leaf#3")
        }
        flow(main);
        "#,
    );
    for file in ["main.rhai", "wide.rhai"] {
        for format in ["text", "json", "mermaid"] {
            let args = ["describe", file, "--format", format];
            let first = test.clone().args(args).run();
            let second = test.clone().args(args).run();
            first.code(0);
            second.code(0);
            assert_eq!(first.stdout(), second.stdout(), "{file} as {format}");
            assert!(!first.stdout().is_empty());
        }
    }
}

#[test]
fn without_a_file_describes_every_script_under_flows() {
    let out = Test::new()
        .flow("flows/b.rhai", SUM_FLOW)
        .flow("flows/nested/a.rhai", SUM_FLOW)
        .flow("flows/.hidden/skip.rhai", "this is not rhai (")
        .file("flows/notes.txt", "not a script")
        .flow("elsewhere.rhai", "this is not rhai (")
        .args(["describe"])
        .run();
    out.code(0);
    let headers: Vec<&str> = out
        .stdout()
        .lines()
        .filter(|l| l.starts_with("flows/"))
        .collect();
    assert_eq!(headers, ["flows/b.rhai", "flows/nested/a.rhai"]);
    assert_eq!(out.stdout().matches("flow main").count(), 2);
}

#[test]
fn without_a_file_json_lists_every_script() {
    let out = Test::new()
        .flow("flows/one.rhai", SUM_FLOW)
        .flow("flows/two.rhai", SUM_FLOW)
        .args(["describe", "--format", "json"])
        .run();
    out.code(0);
    let doc = out.stdout_json();
    assert_eq!(doc["schema"], 1);
    let files: Vec<&str> = doc["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["flows/one.rhai", "flows/two.rhai"]);
}

#[test]
fn one_flow_can_be_named() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r"
            fn step() { 1 }
            task(step);
            fn first() { step() }
            fn second() { [step(), step()] }
            flow(first);
            flow(second);
            ",
        )
        .args(["describe", "main.rhai", "second"])
        .run();
    out.code(0)
        .stdout_contains("flow second  main.rhai:6\n")
        .stdout_contains("  graph: 2 node(s)\n")
        .stdout_lacks("flow first");
}

#[test]
fn params_shape_the_described_graph() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r"
            fn leaf(i) { i }
            task(leaf);
            fn main(n) { let xs = []; for i in 0..n { xs.push(i); } fan_out(leaf, xs) }
            flow(main, #{ params: #{ n: 2 } });
            ",
        )
        .args(["describe", "main.rhai", "-p", "n=3"])
        .run();
    out.code(0)
        .stdout_contains("  graph: 3 node(s)\n")
        .stdout_contains("    leaf[2]  task `leaf`\n");
}
