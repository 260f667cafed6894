//! `run --lock`: one run at a time per flow; the others fail (exit 4), skip (exit 0) or wait.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::Test;

const SLOW_FLOW: &str = r#"
    fn hold() { "touch started; sleep 0.5; echo held" }
    shell_task(hold);
    fn nightly() { hold() }
    flow(nightly);
"#;

/// Starts a first run that holds the lock, and waits until its task runs.
fn start_holder(dir: &Path) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_autowf"))
        .args(["run", "main.rhai", "--lock"])
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the first run");
    let began = Instant::now();
    while !dir.join("started").exists() {
        assert!(
            began.elapsed() < Duration::from_secs(20),
            "the first run never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

#[test]
fn a_second_run_fails_with_4_naming_the_holder() {
    let test = Test::new().flow("main.rhai", SLOW_FLOW);
    let mut holder = start_holder(&test.path());
    let out = test.args(["run", "main.rhai", "--lock"]).run();
    out.code(4)
        .stderr_contains("error: another run of flow `nightly` holds its lock (pid ")
        .stderr_contains(&format!("pid {} started", holder.id()));
    assert!(holder.wait().unwrap().success());
}

#[test]
fn skip_exits_0_without_running() {
    let test = Test::new().flow("main.rhai", SLOW_FLOW);
    let mut holder = start_holder(&test.path());
    let out = test.args(["run", "main.rhai", "--lock=skip"]).run();
    out.code(0)
        .stdout_is("")
        .stderr_contains("holds its lock (pid ")
        .stderr_contains("skipping this run");
    assert!(holder.wait().unwrap().success());
}

#[test]
fn wait_runs_once_the_holder_is_done() {
    let test = Test::new().flow("main.rhai", SLOW_FLOW);
    let mut holder = start_holder(&test.path());
    let out = test.args(["run", "main.rhai", "--lock=wait=30s"]).run();
    out.code(0).stdout_is("\"held\"\n");
    assert!(holder.wait().unwrap().success());
}

#[test]
fn without_contention_the_lock_changes_nothing() {
    Test::new()
        .flow(
            "main.rhai",
            "fn a() { 1 }\ntask(a);\nfn main() { a() }\nflow(main);\n",
        )
        .args(["run", "main.rhai", "--lock"])
        .run()
        .code(0)
        .stdout_is("1\n");
}
