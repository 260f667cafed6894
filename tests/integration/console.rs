//! The console on a terminal: progress bars while the run goes, log lines printed above them,
//! and a clean screen for the summary. Driven in a pseudo-terminal with `script`.

use std::process::Command;

use crate::support::Test;

#[test]
fn a_terminal_gets_bars_that_clear_before_the_summary() {
    let test = Test::new().flow(
        "main.rhai",
        r#"
        fn nums() { [1, 2, 3] }
        fn slow(x) { sleep(0.2); if x == 2 && ctx().attempt == 1 { throw "warming up"; } x }
        task(nums);
        task(slow, #{ retries: 1, retry_backoff: "10ms" });
        fn main() { nums().map(slow) }
        flow(main);
        "#,
    );
    let command = format!("{} run main.rhai -j 2", env!("CARGO_BIN_EXE_autowf"));
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(test.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .output()
        .expect("`script` (util-linux) runs the binary in a pseudo-terminal");
    assert!(out.status.success(), "{out:?}");
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(
        screen.contains("/5 nodes"),
        "a bar counting nodes, its length grown by the fan-out:\n{screen}"
    );
    assert!(
        screen.contains("running: "),
        "a line naming what runs:\n{screen}"
    );
    assert!(
        screen.contains("retry   slow[1]: attempt 1 failed: warming up; attempt 2 in 10ms"),
        "lines printed above the bars:\n{screen}"
    );
    let summary_at = screen.rfind("run succeeded in").expect("the summary");
    let after_clear = screen[..summary_at]
        .rfind("\u{1b}[2K")
        .expect("the bars are cleared");
    assert!(
        !screen[after_clear..summary_at].contains("nodes"),
        "no bar remains above the summary:\n{screen}"
    );
}

#[test]
fn no_bars_when_ci_is_set_or_output_is_not_a_terminal() {
    let out = Test::new()
        .flow(
            "main.rhai",
            "fn a() { 1 }\ntask(a);\nfn main() { a() }\nflow(main);\n",
        )
        .env("CI", "true")
        .args(["run", "main.rhai"])
        .run();
    out.code(0).stderr_lacks("nodes").stderr_lacks("\u{1b}[");
}
