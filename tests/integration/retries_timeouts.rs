//! Retries (`retries`, `retry_backoff`, `retry_on`) and per-task timeouts, for shell and Rhai
//! tasks, as the run summary and the console report them.

use serde_json::json;

use crate::support::Test;

/// A flow `main` that runs the single task `step` (a shell task when `is_shell`).
fn single_step(body: &str, options: &str, is_shell: bool) -> String {
    let register = if is_shell { "shell_task" } else { "task" };
    format!(
        "fn step() {{ {body} }}\n{register}(step, {options});\nfn main() {{ step() }}\nflow(main);\n"
    )
}

#[test]
fn flaky_shell_task_succeeds_on_its_second_attempt() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(
                r#""test -f marker || { touch marker; exit 1; }; echo recovered""#,
                r#"#{ retries: 1, retry_backoff: "10ms" }"#,
                true,
            ),
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(0)
        .stderr_contains("retry   step: attempt 1 failed: command exited with code 1; attempt 2");
    let summary = out.summary();
    assert_eq!(summary.status("step"), "succeeded");
    assert_eq!(summary.attempts("step"), 2);
    assert_eq!(summary.result(), &json!("recovered"));
}

#[test]
fn retries_run_out_and_the_task_fails() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(
                r#""echo try >> tries.txt; exit 5""#,
                r#"#{ retries: 2, retry_backoff: "1ms" }"#,
                true,
            ),
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1).stderr_line(&[
        "error: `step`",
        "3 attempts",
        ": command exited with code 5",
    ]);
    assert_eq!(out.file("tries.txt"), "try\ntry\ntry\n");
    let summary = out.summary();
    assert_eq!(summary.status("step"), "failed");
    assert_eq!(summary.attempts("step"), 3);
}

#[test]
fn retry_on_exit_codes_skips_other_codes() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(
                r#""echo try >> tries.txt; exit 4""#,
                r#"#{ retries: 3, retry_backoff: "1ms", retry_on: [3] }"#,
                true,
            ),
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1).stderr_lacks("retry ");
    assert_eq!(out.file("tries.txt"), "try\n");
    let summary = out.summary();
    assert_eq!(summary.attempts("step"), 1);
    assert_eq!(summary.node("step")["error"]["exit_code"], 4);
}

#[test]
fn retry_on_exit_codes_retries_listed_codes() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(
                r#""echo try >> tries.txt; exit 3""#,
                r#"#{ retries: 2, retry_backoff: "1ms", retry_on: [3] }"#,
                true,
            ),
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1);
    assert_eq!(out.file("tries.txt"), "try\ntry\ntry\n");
    assert_eq!(out.summary().attempts("step"), 3);
}

#[test]
fn retry_on_closure_sees_the_exit_code() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(
                r#""echo try >> tries.txt; n=$(wc -l < tries.txt); exit $((n + 4))""#,
                r#"#{ retries: 5, retry_backoff: "1ms", retry_on: |e| e.exit_code < 7 }"#,
                true,
            ),
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1);
    // Exit codes 5 and 6 are retried; 7 is not.
    assert_eq!(out.file("tries.txt"), "try\ntry\ntry\n");
    let summary = out.summary();
    assert_eq!(summary.attempts("step"), 3);
    assert_eq!(summary.node("step")["error"]["exit_code"], 7);
}

#[test]
fn ctx_attempt_counts_attempts() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(
                r"let a = ctx().attempt; if a < 3 { throw `attempt ${a} fails`; } a",
                r#"#{ retries: 4, retry_backoff: "1ms" }"#,
                false,
            ),
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(0)
        .stderr_contains("attempt 1 failed: attempt 1 fails")
        .stderr_contains("attempt 2 failed: attempt 2 fails");
    let summary = out.summary();
    assert_eq!(summary.attempts("step"), 3);
    assert_eq!(summary.result(), &json!(3));
}

#[test]
fn shell_attempt_number_is_in_the_environment() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(
                r#""echo $AUTOWF_ATTEMPT >> attempts.txt; test $AUTOWF_ATTEMPT -ge 2""#,
                r#"#{ retries: 2, retry_backoff: "1ms" }"#,
                true,
            ),
        )
        .args(["run", "main.rhai"])
        .run();
    out.code(0);
    assert_eq!(out.file("attempts.txt"), "1\n2\n");
}

#[test]
fn endless_rhai_loop_times_out() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step("loop { }", r#"#{ timeout: "300ms" }"#, false),
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1)
        .stderr_contains("TIMEOUT step: timed out after 300ms")
        .stderr_line(&["error: `step`", "timed out after 300ms"]);
    let summary = out.summary();
    assert_eq!(summary.status("step"), "timed_out");
    assert_eq!(summary.0["interrupted"], json!(null));
    assert_eq!(summary.0["counts"]["timed_out"], 1);
}

#[test]
fn rhai_sleep_is_cut_short_by_a_timeout() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step("sleep(5); 1", r#"#{ timeout: "300ms" }"#, false),
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1);
    assert_eq!(out.summary().status("step"), "timed_out");
}

#[test]
fn shell_task_timeout_fails_the_task_not_the_run() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(r#""sleep 5""#, r#"#{ timeout: "300ms" }"#, true),
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1);
    let summary = out.summary();
    assert_eq!(summary.status("step"), "timed_out");
    assert_eq!(summary.0["interrupted"], json!(null));
}

#[test]
fn timed_out_attempts_are_retried() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(
                r#""echo try >> tries.txt; sleep 5""#,
                r#"#{ timeout: "200ms", kill_grace: "50ms", retries: 1, retry_backoff: "1ms" }"#,
                true,
            ),
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1);
    assert_eq!(out.file("tries.txt"), "try\ntry\n");
    let summary = out.summary();
    assert_eq!(summary.status("step"), "timed_out");
    assert_eq!(summary.attempts("step"), 2);
}

#[test]
fn retry_on_exit_codes_does_not_retry_a_timeout() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(
                r#""sleep 5""#,
                r#"#{ timeout: "200ms", kill_grace: "100ms", retries: 2, retry_backoff: "10ms", retry_on: [3] }"#,
                true,
            ),
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1);
    let summary = out.summary();
    assert_eq!(summary.status("step"), "timed_out");
    assert_eq!(summary.attempts("step"), 1);
}

#[test]
fn a_retry_on_closure_decides_about_timeouts() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(
                r#""sleep 5""#,
                r#"#{ timeout: "200ms", kill_grace: "100ms", retries: 1, retry_backoff: "10ms", retry_on: |e| e.message.contains("timed out") }"#,
                true,
            ),
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1);
    assert_eq!(out.summary().attempts("step"), 2);
}

#[test]
fn every_attempt_of_a_retried_node_is_in_the_summary() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(
                r#""test -f marker || { touch marker; echo first >&2; exit 3; }; echo ok""#,
                r#"#{ retries: 2, retry_backoff: "10ms" }"#,
                true,
            ),
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(0);
    let summary = out.summary();
    let history = &summary.node("step")["history"];
    assert_eq!(history.as_array().map(Vec::len), Some(2), "{history}");
    assert_eq!(history[0]["attempt"], 1);
    assert_eq!(history[0]["status"], "failed");
    assert_eq!(history[0]["error"]["exit_code"], 3);
    assert_eq!(history[1]["status"], "succeeded");
    assert!(history[1].get("error").is_none());
}

#[test]
fn a_node_tried_once_has_no_history() {
    let out = Test::new()
        .file("main.rhai", &single_step(r#""echo ok""#, "#{}", true))
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(0);
    assert!(out.summary().node("step").get("history").is_none());
}

#[test]
fn what_a_command_says_on_its_way_out_is_logged() {
    Test::new()
        .file(
            "main.rhai",
            &single_step(
                r#""trap 'echo got TERM >&2; exit 143' TERM; sleep 30 & wait""#,
                r#"#{ timeout: "300ms" }"#,
                true,
            ),
        )
        .args(["run", "main.rhai", "-v"])
        .run()
        .code(1)
        .stderr_contains("step | got TERM");
}

#[test]
fn a_retry_cancelled_while_waiting_adds_no_attempt_to_the_history() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn flaky() { throw "again"; }
            fn broken() { sleep(0.1); throw "broken"; }
            task(flaky, #{ retries: 5, retry_backoff: "1s" });
            task(broken);
            fn main() { [flaky(), broken()] }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1);
    let summary = out.summary();
    assert_eq!(summary.status("flaky"), "cancelled");
    assert_eq!(summary.attempts("flaky"), 1);
    let history = summary.node("flaky")["history"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(history.len(), 1, "only the attempt that ran: {history:?}");
}

#[test]
fn a_failed_dependency_explains_a_skip_whatever_the_declaration_order() {
    for args in ["slow(), broken()", "broken(), slow()"] {
        let flow = format!(
            r#"
            fn slow() {{ sleep(5); 1 }}
            fn broken() {{ throw "no"; }}
            fn report(a, b) {{ a }}
            task(slow);
            task(broken);
            task(report);
            fn main() {{ report({args}) }}
            flow(main);
            "#
        );
        let out = Test::new()
            .flow("main.rhai", &flow)
            .args(["run", "main.rhai", "--json"])
            .run();
        out.code(1);
        assert_eq!(out.summary().status("report"), "skipped", "with {args}");
    }
}
