//! `run_in: "process"`: tasks in an `autowf worker` subprocess. Results come back as data, a
//! crashing worker fails only its task, and a runaway one is stopped by its timeout.

use serde_json::json;

use crate::support::Test;

const FLOWS: &str = r#"
    fn heavy(n) {
        let s = 0;
        for i in 0..n { s += i; }
        #{ sum: s, node: ctx().node, attempt: ctx().attempt, pid_differs: true }
    }
    fn crash() { sh("kill -9 $PPID"); 1 }
    fn spin() { loop {} }
    fn twice(m) { m.sum * 2 }
    task(heavy, #{ run_in: "process" });
    task(crash, #{ run_in: "process" });
    task(spin, #{ run_in: "process", timeout: "300ms" });
    task(twice);
    fn ok() { twice(heavy(100)) }
    fn crashing() { #{ crashed: crash(), fine: twice(heavy(10)) } }
    fn spinning() { spin() }
    flow(ok); flow(crashing); flow(spinning);
"#;

#[test]
fn a_process_task_returns_its_result_as_data() {
    Test::new()
        .flow("main.rhai", FLOWS)
        .args(["run", "main.rhai", "ok"])
        .run()
        .code(0)
        .stdout_is("9900\n");
}

#[test]
fn a_process_task_sees_its_context() {
    let out = Test::new()
        .flow("main.rhai", FLOWS)
        .args(["run", "main.rhai", "ok", "--json"])
        .run();
    out.code(0);
    let summary = out.summary();
    assert_eq!(summary.status("heavy"), "succeeded");
    assert_eq!(summary.result(), &json!(9900));
}

#[test]
fn a_crashing_worker_fails_its_task_but_not_the_run() {
    let out = Test::new()
        .flow("main.rhai", FLOWS)
        .args([
            "run",
            "main.rhai",
            "crashing",
            "--on-failure",
            "keep_going",
            "--json",
        ])
        .run();
    out.code(1)
        .stderr_contains("`crash`: the worker process was killed by signal 9");
    let summary = out.summary();
    assert_eq!(summary.status("crash"), "failed");
    assert_eq!(summary.status("heavy"), "succeeded");
    assert_eq!(summary.status("twice"), "succeeded");
}

#[test]
fn a_runaway_worker_is_stopped_by_its_timeout() {
    let out = Test::new()
        .flow("main.rhai", FLOWS)
        .args(["run", "main.rhai", "spinning", "--json"])
        .run();
    out.code(1);
    assert_eq!(out.summary().status("spin"), "timed_out");
}

#[test]
fn arguments_that_are_not_data_are_refused() {
    Test::new()
        .flow(
            "main.rhai",
            r#"
            fn show(f) { f }
            task(show, #{ run_in: "process" });
            fn main() { show(Fn("show")) }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai"])
        .run()
        .code(1)
        .stderr_contains("cannot pass `show`'s arguments to a worker process: `argument 1` is function pointer, which is not data");
}
