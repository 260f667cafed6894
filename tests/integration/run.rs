//! `autowf run`: the result on stdout, the `--json` summary, exit codes, fail-fast versus
//! keep-going, the whole-run timeout, and which stream gets what.

use serde_json::json;

use crate::support::{SUM_FLOW, Test};

/// A failing task `bad`, its dependent `after_bad`, and an independent branch `independent`
/// feeding `after_independent`. The shell tasks leave marker files when they run.
const BRANCHES_FLOW: &str = r#"
    fn bad() { throw "boom"; }
    fn after_bad(x) { "touch after_bad.ran" }
    fn independent() { "touch independent.ran; echo fine" }
    fn after_independent(x) { `touch after_independent.ran; echo "${x}!"` }
    task(bad);
    shell_task(after_bad);
    shell_task(independent);
    shell_task(after_independent);
    fn main() {
        let b = after_bad(bad());
        let i = after_independent(independent());
        [b, i]
    }
    flow(main);
"#;

#[test]
fn prints_the_flow_result_as_json() {
    Test::new()
        .flow("main.rhai", SUM_FLOW)
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        .stdout_is("6\n");
}

#[test]
fn prints_structured_results_as_pretty_json() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r"
            fn compute(x) { x * 2 }
            fn label(n) { `n=${n}` }
            task(compute);
            task(label);
            fn main() {
                let a = compute(1);
                #{ parts: [a, compute(2)], label: label(a), nothing: (), ok: true, half: 0.5 }
            }
            flow(main);
            ",
        )
        .args(["run", "main.rhai"])
        .run();
    out.code(0);
    assert_eq!(
        out.stdout_json(),
        json!({ "parts": [2, 4], "label": "n=2", "nothing": null, "ok": true, "half": 0.5 })
    );
    assert!(
        out.stdout().lines().count() > 1,
        "pretty-printed: {}",
        out.stdout()
    );
}

#[test]
fn json_summary_reports_schema_status_and_each_node() {
    let out = Test::new()
        .flow("main.rhai", SUM_FLOW)
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(0);
    let summary = out.summary();
    assert_eq!(summary.0["flow"], "main");
    assert_eq!(summary.0["file"], "main.rhai");
    assert_eq!(summary.0["status"], "succeeded");
    assert_eq!(summary.0["interrupted"], json!(null));
    assert_eq!(summary.0["counts"]["succeeded"], 3);
    assert_eq!(summary.0["counts"]["failed"], 0);
    assert!(
        summary.0["run_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty())
    );
    assert_eq!(summary.names(), ["compute", "compute#2", "add"]);
    for name in ["compute", "compute#2", "add"] {
        assert_eq!(summary.status(name), "succeeded", "{name}");
        assert_eq!(summary.attempts(name), 1, "{name}");
        assert_eq!(summary.node(name)["task"], name.trim_end_matches("#2"));
    }
    assert_eq!(summary.result(), &json!(6));
}

#[test]
fn logs_go_to_stderr_and_data_to_stdout() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn chatty() { print("hello from a task"); 1 }
            fn noisy() { "echo complaint-on-stderr >&2; echo data" }
            task(chatty);
            shell_task(noisy);
            fn main() { [chatty(), noisy()] }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "-v"])
        .run();
    out.code(0)
        .stderr_contains("hello from a task")
        .stderr_contains("complaint-on-stderr")
        .stderr_contains("run succeeded")
        .stdout_lacks("hello")
        .stdout_lacks("complaint")
        .stdout_lacks("succeeded");
    assert_eq!(out.stdout_json(), json!([1, "data"]));
}

#[test]
fn quiet_run_prints_only_the_result() {
    Test::new()
        .flow(
            "main.rhai",
            r#"
            fn chatty() { print("hello from a task"); 7 }
            task(chatty);
            fn main() { chatty() }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "-q"])
        .run()
        .code(0)
        .stdout_is("7\n")
        .stderr_is("");
}

#[test]
fn failed_task_exits_1_and_fail_fast_runs_nothing_more() {
    let out = Test::new()
        .flow("main.rhai", BRANCHES_FLOW)
        .args(["run", "main.rhai", "--json", "--jobs", "1"])
        .run();
    out.code(1)
        .stderr_line(&["error: `bad`", ": boom"])
        .stderr_contains("\n --> main.rhai:1:12\n")
        .no_file("after_bad.ran")
        .no_file("independent.ran")
        .no_file("after_independent.ran");
    let summary = out.summary();
    assert_eq!(summary.0["status"], "failed");
    assert_eq!(summary.status("bad"), "failed");
    assert_eq!(summary.node("bad")["error"]["message"], "boom");
    assert_eq!(summary.status("after_bad"), "skipped");
    assert_eq!(summary.attempts("after_bad"), 0);
    assert!(
        summary.node("after_bad")["reason"]
            .as_str()
            .is_some_and(|r| r.contains("`bad`")),
        "the skip names its cause: {:#}",
        summary.0
    );
    // With one job, `bad` (declared first) runs first; fail-fast then starts nothing else.
    assert_eq!(summary.status("independent"), "cancelled");
    assert_eq!(summary.attempts("independent"), 0);
    assert_eq!(summary.result(), &json!(null));
}

#[test]
fn failed_run_prints_no_result_without_json() {
    Test::new()
        .flow("main.rhai", BRANCHES_FLOW)
        .args(["run", "main.rhai", "--jobs", "1"])
        .run()
        .code(1)
        .stdout_is("")
        .stderr_contains("run failed")
        // Nodes that never started get no duration.
        .stderr_line(&["skipped", "after_bad"])
        .stderr_lacks("after_bad (");
}

#[test]
fn keep_going_lets_independent_branches_finish() {
    let out = Test::new()
        .flow("main.rhai", BRANCHES_FLOW)
        .args(["run", "main.rhai", "--json", "--jobs", "1"])
        .args(["--on-failure", "keep_going"])
        .run();
    out.code(1).no_file("after_bad.ran");
    assert_eq!(out.file("after_independent.ran"), "");
    let summary = out.summary();
    assert_eq!(summary.status("bad"), "failed");
    assert_eq!(summary.status("after_bad"), "skipped");
    assert_eq!(summary.status("independent"), "succeeded");
    assert_eq!(summary.status("after_independent"), "succeeded");
    assert_eq!(summary.0["counts"]["succeeded"], 2);
}

#[test]
fn flow_option_on_failure_applies_and_the_flag_overrides_it() {
    let flow = BRANCHES_FLOW.replace(
        "flow(main);",
        r#"flow(main, #{ on_failure: "keep_going" });"#,
    );
    let test = Test::new().flow("main.rhai", &flow);
    let by_flow = test
        .clone()
        .args(["run", "main.rhai", "--json", "-j", "1"])
        .run();
    by_flow.code(1);
    assert_eq!(by_flow.summary().status("after_independent"), "succeeded");

    std::fs::remove_file(test.path().join("after_independent.ran")).unwrap();
    std::fs::remove_file(test.path().join("independent.ran")).unwrap();
    let by_flag = test
        .args([
            "run",
            "main.rhai",
            "--json",
            "-j",
            "1",
            "--on-failure",
            "fail_fast",
        ])
        .run();
    by_flag.code(1).no_file("independent.ran");
    assert_eq!(by_flag.summary().status("independent"), "cancelled");
}

#[test]
fn whole_run_timeout_exits_124() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn nap() { "sleep 5" }
            shell_task(nap);
            fn main() { nap() }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "--timeout", "300ms", "--json"])
        .run();
    out.code(124).stderr_contains("timed out");
    let summary = out.summary();
    assert_eq!(summary.0["interrupted"], "timeout");
    assert_eq!(summary.0["status"], "failed");
    assert_eq!(summary.status("nap"), "cancelled");
}

#[test]
fn run_directory_goes_next_to_the_flow_file_or_to_state_dir() {
    let test = Test::new().flow("project/main.rhai", SUM_FLOW);
    let out = test.clone().args(["run", "project/main.rhai"]).run();
    out.code(0);
    assert_eq!(count_entries(&out.path().join("project/.autowf/runs")), 1);

    let out = test
        .args(["--state-dir", "elsewhere", "run", "project/main.rhai"])
        .run();
    out.code(0);
    assert_eq!(count_entries(&out.path().join("elsewhere/runs")), 1);
    assert_eq!(count_entries(&out.path().join("project/.autowf/runs")), 1);
}

#[test]
fn empty_flow_succeeds_with_its_plain_result() {
    Test::new()
        .flow(
            "main.rhai",
            r#"
            fn main() { "nothing to do" }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        .stdout_is("\"nothing to do\"\n");
}

fn count_entries(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .count()
}

#[test]
fn settings_can_come_from_autowf_variables() {
    let out = Test::new()
        .flow("main.rhai", BRANCHES_FLOW)
        .env("AUTOWF_ON_FAILURE", "keep_going")
        .env("AUTOWF_JOBS", "1")
        .env("AUTOWF_STATE_DIR", "state")
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1);
    assert_eq!(out.summary().status("after_independent"), "succeeded");
    assert_eq!(count_entries(&out.path().join("state/runs")), 1);
}

#[test]
fn ctx_describes_the_running_task() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r"
            fn show() { ctx() }
            task(show);
            fn main() { show() }
            flow(main, #{ params: #{ who: 1 } });
            ",
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(0);
    let summary = out.summary();
    let run_id = summary.0["run_id"].as_str().expect("run id");
    let state_dir = out.path().join(".autowf");
    let run_dir = state_dir.join("runs").join(run_id);
    assert_eq!(
        summary.result(),
        &json!({
            "run_id": run_id,
            "flow": "main",
            "node": "show",
            "task": "show",
            "attempt": 1,
            "params": { "who": 1 },
            "run_dir": run_dir.display().to_string(),
            "state_dir": state_dir.display().to_string(),
        })
    );
}

#[test]
fn task_output_is_kept_per_node_in_the_run_directory() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn noisy() { "echo to-stderr >&2; echo result" }
            fn talk(x) { print(`got ${x}`); debug("detail"); x }
            shell_task(noisy);
            task(talk);
            fn sub() { talk(noisy()) }
            fn main() { sub() }
            flow(main);
            flow(sub);
            "#,
        )
        .args(["run", "main.rhai", "main", "-q", "--state-dir", "state"])
        .run();
    out.code(0).stdout_is("\"result\"\n");
    let runs: Vec<_> = std::fs::read_dir(out.path().join("state/runs"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(runs.len(), 1);
    let logs = runs[0].path().join("logs");
    assert_eq!(
        std::fs::read_to_string(logs.join("sub__noisy.log")).unwrap(),
        "to-stderr\n"
    );
    assert_eq!(
        std::fs::read_to_string(logs.join("sub__talk.log")).unwrap(),
        "got result\n\"detail\" (main.rhai:2)\n"
    );
}

#[test]
fn the_summary_names_the_slowest_nodes() {
    Test::new()
        .flow(
            "main.rhai",
            r#"
            fn quick() { "true" }
            fn slow() { "sleep 0.2" }
            shell_task(quick);
            shell_task(slow);
            fn main() { [quick(), slow()] }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        .stderr_line(&["slowest: slow ", ", quick "]);
}

#[test]
fn task_output_is_shown_only_with_verbose() {
    let test = Test::new().flow(
        "main.rhai",
        r#"
        fn chatty() { print("hello from a task"); 1 }
        task(chatty);
        fn main() { chatty() }
        flow(main);
        "#,
    );
    test.clone()
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        .stderr_lacks("hello from a task");
    test.args(["run", "main.rhai", "-v"])
        .run()
        .code(0)
        .stderr_contains("chatty | hello from a task");
}

/// Replaces durations (`12ms`, `1.20s`, `431µs`) with `<d>`, so output can be compared.
fn without_durations(text: &str) -> String {
    let is_duration = |w: &str| {
        let digits = w.trim_end_matches(|c: char| c.is_alphabetic() || c == 'µ');
        let unit = &w[digits.len()..];
        !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
            && matches!(unit, "µs" | "ms" | "s")
    };
    text.lines()
        .map(|line| {
            line.split(' ')
                .map(|word| {
                    let core = word.trim_matches(|c| matches!(c, '(' | ')' | ',' | ':'));
                    if is_duration(core) {
                        word.replace(core, "<d>")
                    } else {
                        word.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_plain_run_prints_one_line_per_event() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn nums() { [1, 2] }
            fn twice(x) { x * 2 }
            fn flaky(xs) { if ctx().attempt == 1 { throw "not yet"; } xs }
            task(nums);
            task(twice);
            task(flaky, #{ retries: 1, retry_backoff: "10ms" });
            fn main() { flaky(nums().map(twice)) }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "-j", "1"])
        .run();
    out.code(0).stdout_is("[\n  2,\n  4\n]\n");
    let golden = "\
run     3 node(s) to start with
start   nums
ok      nums (<d>)
start   twice
expand  twice: 2 new node(s)
start   twice[0]
ok      twice[0] (<d>)
start   twice[1]
ok      twice[1] (<d>)
ok      twice (<d>)
start   flaky
retry   flaky: attempt 1 failed: not yet; attempt 2 in <d>
start   flaky (attempt 2)
ok      flaky (<d>, 2 attempts)
run succeeded in <d>: 5 succeeded
slowest: ";
    let shown = without_durations(out.stderr());
    assert!(shown.starts_with(golden), "got:\n{shown}");
}
