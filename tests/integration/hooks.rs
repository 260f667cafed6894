//! `on(event, closure)` hooks and `middleware(closure)` wrappers.

use crate::support::Test;

const FLOW: &str = r#"
    fn good() { 1 }
    fn bad(x) { throw "boom"; }
    task(good);
    task(bad, #{ retries: 1, retry_backoff: "10ms" });
    on("flow_start", |e| print(`hook flow_start ${e.flow}`));
    on("task_start", |e| print(`hook task_start ${e.node} ${e.attempt}`));
    on("task_success", |e| print(`hook task_success ${e.node}`));
    on("task_retry", |e| print(`hook task_retry ${e.node} ${e.error}`));
    on("task_failure", |e| { print(`hook task_failure ${e.node} ${e.error}`); throw "hook broke"; });
    on("flow_failure", |e| print(`hook flow_failure ${e.status}`));
    middleware(|ctx, next| { print(`mw1 before ${ctx.node} ${ctx.attempt}`); let r = next.call(); print(`mw1 after ${ctx.node}`); r });
    middleware(|ctx, next| { print(`mw2 ${ctx.node}`); next.call() });
    fn main() { bad(good()) }
    flow(main);
"#;

/// The lines a run printed through `print`, in order, without their node prefix.
fn printed(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.split_once(" | ").map(|(_, text)| text.to_owned()))
        .filter(|t| t.starts_with("hook") || t.starts_with("mw"))
        .collect()
}

#[test]
fn hooks_and_middleware_run_in_order_and_a_failing_hook_changes_nothing() {
    let out = Test::new()
        .flow("main.rhai", FLOW)
        .args(["run", "main.rhai", "-j", "1", "-v"])
        .run();
    out.code(1)
        .stderr_contains("hook `task_failure` failed: hook broke");
    assert_eq!(
        printed(out.stderr()),
        [
            "hook flow_start main",
            "hook task_start good 1",
            "mw1 before good 1",
            "mw2 good",
            "mw1 after good",
            "hook task_success good",
            "hook task_start bad 1",
            "mw1 before bad 1",
            "mw2 bad",
            "hook task_retry bad boom",
            "hook task_start bad 2",
            "mw1 before bad 2",
            "mw2 bad",
            "hook task_failure bad boom",
            "hook flow_failure failed",
        ]
    );
}

#[test]
fn a_throwing_hook_does_not_fail_a_successful_run() {
    Test::new()
        .flow(
            "main.rhai",
            r#"
            fn good() { 1 }
            task(good);
            on("task_success", |e| throw "no");
            fn main() { good() }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        .stdout_is("1\n")
        .stderr_contains("hook `task_success` failed: no");
}

#[test]
fn middleware_can_change_the_result() {
    Test::new()
        .flow(
            "main.rhai",
            r#"
            fn good() { 20 }
            task(good);
            middleware(|ctx, next| next.call() * 2 + 2);
            fn main() { good() }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        .stdout_is("42\n");
}

#[test]
fn an_unknown_hook_event_is_an_error_with_a_suggestion() {
    Test::new()
        .flow(
            "main.rhai",
            "on(\"task_fail\", |e| ());\nfn main() { 1 }\nflow(main);\n",
        )
        .args(["run", "main.rhai"])
        .run()
        .code(2)
        .error_at("unknown hook event `task_fail`", "main.rhai:1:1")
        .stderr_contains("help: did you mean `task_failure`?");
}
