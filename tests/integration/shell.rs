//! Shell tasks and `sh(...)`: output handling and formats, failures, quoting of interpolated
//! results, `env`/`cwd`, the `AUTOWF_*` variables, the working directory and process groups.

use std::time::Duration;

use serde_json::json;

use crate::support::{Test, wait_until_gone};

/// A flow `main` that returns the result of the single shell task `step`, whose body is
/// `command` and whose options map is `options` (Rhai source).
fn single_step(command: &str, options: &str) -> String {
    format!(
        "fn step() {{ {command} }}\nshell_task(step, {options});\nfn main() {{ step() }}\nflow(main);\n"
    )
}

#[test]
fn trailing_newline_is_trimmed_and_inner_ones_kept() {
    Test::new()
        .file("main.rhai", &single_step(r#""echo hello""#, "#{}"))
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        .stdout_is("\"hello\"\n");
    Test::new()
        .file("main.rhai", &single_step(r#""printf 'a\\nb\\n'""#, "#{}"))
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        .stdout_is("\"a\\nb\"\n");
    Test::new()
        .file("main.rhai", &single_step(r#""printf 'no newline'""#, "#{}"))
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        .stdout_is("\"no newline\"\n");
}

#[test]
fn json_output_is_parsed() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(
                r#"`echo '{"a": [1, 2.5], "b": "x", "c": null}'`"#,
                r#"#{ output: "json" }"#,
            ),
        )
        .args(["run", "main.rhai"])
        .run();
    out.code(0);
    assert_eq!(
        out.stdout_json(),
        json!({ "a": [1, 2.5], "b": "x", "c": null })
    );
}

#[test]
fn invalid_json_output_fails_the_task() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(r#""echo not-json""#, r#"#{ output: "json" }"#),
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1);
    let summary = out.summary();
    assert_eq!(summary.status("step"), "failed");
    assert!(
        summary.node("step")["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not valid JSON")),
        "{:#}",
        summary.0
    );
}

#[test]
fn lines_output_is_a_list_of_strings() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(r#""printf 'x\\ny y\\nz\\n'""#, r#"#{ output: "lines" }"#),
        )
        .args(["run", "main.rhai"])
        .run();
    out.code(0);
    assert_eq!(out.stdout_json(), json!(["x", "y y", "z"]));
}

#[test]
fn nonzero_exit_fails_with_the_code_and_stderr_tail() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(r#""echo first >&2; echo oops >&2; exit 3""#, "#{}"),
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1)
        .stderr_line(&["FAILED", "step: command exited with code 3"])
        .stderr_contains(
            "error: `step`: command exited with code 3\nstderr (last lines):\nfirst\noops\n",
        );
    let summary = out.summary();
    let error = &summary.node("step")["error"];
    assert_eq!(error["exit_code"], 3);
    assert_eq!(
        error["message"],
        "command exited with code 3\nstderr (last lines):\nfirst\noops"
    );
}

#[test]
fn stderr_tail_keeps_only_the_last_lines() {
    let command = r#""for i in $(seq 1 30); do echo line-$i >&2; done; exit 2""#;
    let out = Test::new()
        .file("main.rhai", &single_step(command, "#{}"))
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1);
    let summary = out.summary();
    let message = summary.node("step")["error"]["message"]
        .as_str()
        .expect("an error message")
        .to_owned();
    assert!(message.ends_with("line-30"), "{message}");
    assert!(message.contains("line-11\n"), "{message}");
    assert!(!message.contains("line-10\n"), "{message}");
}

#[test]
fn interpolated_result_is_shell_quoted() {
    let tricky = r#"it's "a b"  $HOME; echo pwned `x`"#;
    let flow = format!(
        r"
        fn value() {{ {} }}
        task(value);
        fn main() {{ let v = value(); sh(`printf '%s' ${{v}}`) }}
        flow(main);
        ",
        serde_json::to_string(tricky).unwrap()
    );
    let out = Test::new()
        .flow("main.rhai", &flow)
        .args(["run", "main.rhai"])
        .run();
    out.code(0);
    assert_eq!(out.stdout_json(), json!(tricky));
}

#[test]
fn shell_quote_is_available_to_task_bodies() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn value() { "a 'quoted' word; ls" }
            fn echo_it(v) { `printf '%s' ${shell_quote(v)}` }
            task(value);
            shell_task(echo_it);
            fn main() { echo_it(value()) }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai"])
        .run();
    out.code(0);
    assert_eq!(out.stdout_json(), json!("a 'quoted' word; ls"));
}

#[test]
fn sh_inside_a_task_returns_stdout_or_fails() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn count() { parse_int(sh("echo 41")) + 1 }
            fn broken() { sh("echo bad >&2; exit 7") }
            task(count);
            task(broken);
            fn main() { [count(), broken()] }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "--json", "--jobs", "1"])
        .run();
    out.code(1);
    let summary = out.summary();
    assert_eq!(summary.status("count"), "succeeded");
    assert_eq!(summary.status("broken"), "failed");
    let message = summary.node("broken")["error"]["message"]
        .as_str()
        .expect("an error message");
    assert!(message.contains("exit code 7"), "{message}");
    assert!(message.contains("bad"), "{message}");
}

#[test]
fn env_option_sets_variables() {
    Test::new()
        .file(
            "main.rhai",
            &single_step(
                r#""echo \"$GREETING $COUNT $FLAG\"""#,
                r#"#{ env: #{ GREETING: "hi there", COUNT: 3, FLAG: true } }"#,
            ),
        )
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        .stdout_is("\"hi there 3 true\"\n");
}

#[test]
fn cwd_option_is_relative_to_the_flow_directory() {
    let test = Test::new().file("project/sub/.keep", "").file(
        "project/main.rhai",
        &single_step(r#""pwd""#, r#"#{ cwd: "sub" }"#),
    );
    let expected = test.path().join("project/sub");
    let out = test.args(["run", "project/main.rhai"]).run();
    out.code(0);
    assert_eq!(out.stdout_json(), json!(expected.display().to_string()));
}

#[test]
fn shell_tasks_run_in_the_flow_file_directory() {
    let test = Test::new().file(
        "project/main.rhai",
        &single_step(r#""echo made > here.txt; pwd""#, "#{}"),
    );
    let expected = test.path().join("project");
    let out = test.args(["run", "project/main.rhai"]).run();
    out.code(0).no_file("here.txt");
    assert_eq!(out.stdout_json(), json!(expected.display().to_string()));
    assert_eq!(out.file("project/here.txt"), "made\n");
}

#[test]
fn autowf_variables_describe_the_node() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn show() {
                "echo \"$AUTOWF_FLOW|$AUTOWF_NODE|$AUTOWF_TASK|$AUTOWF_ATTEMPT|$AUTOWF_RUN_ID\"; echo $AUTOWF_RUN_DIR; echo $AUTOWF_STATE_DIR"
            }
            shell_task(show, #{ output: "lines" });
            fn main() { [show(), show()] }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(0);
    let summary = out.summary();
    let run_id = summary.0["run_id"].as_str().expect("run id").to_owned();
    let state_dir = out.path().join(".autowf");
    let run_dir = state_dir.join("runs").join(&run_id);
    assert!(run_dir.is_dir(), "{} exists", run_dir.display());
    assert_eq!(
        summary.result(),
        &json!([
            [
                format!("main|show|show|1|{run_id}"),
                run_dir.display().to_string(),
                state_dir.display().to_string(),
            ],
            [
                format!("main|show#2|show|1|{run_id}"),
                run_dir.display().to_string(),
                state_dir.display().to_string(),
            ],
        ])
    );
}

#[test]
fn stdin_is_closed() {
    Test::new()
        .file("main.rhai", &single_step(r#""cat; echo done""#, "#{}"))
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        .stdout_is("\"done\"\n");
}

#[test]
fn timed_out_task_leaves_no_background_survivor() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(
                r#""sleep 300 & echo $! > bg.pid; sleep 5""#,
                r#"#{ timeout: "300ms" }"#,
            ),
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1);
    assert_eq!(out.summary().status("step"), "timed_out");
    let pid = background_pid(&out.file("bg.pid"));
    assert!(
        wait_until_gone(pid, Duration::from_secs(2)),
        "background `sleep 300` (pid {pid}) survived the timeout"
    );
}

#[test]
fn finished_task_leaves_no_background_survivor() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(r#""sleep 300 & echo $! > bg.pid; echo done""#, "#{}"),
        )
        .args(["run", "main.rhai"])
        .run();
    out.code(0).stdout_is("\"done\"\n");
    let pid = background_pid(&out.file("bg.pid"));
    assert!(
        wait_until_gone(pid, Duration::from_secs(2)),
        "background `sleep 300` (pid {pid}) outlived its task"
    );
}

#[test]
fn whole_run_timeout_stops_background_processes_too() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(r#""sleep 300 & echo $! > bg.pid; sleep 5""#, "#{}"),
        )
        .args(["run", "main.rhai", "--timeout", "300ms"])
        .run();
    out.code(124);
    let pid = background_pid(&out.file("bg.pid"));
    assert!(
        wait_until_gone(pid, Duration::from_secs(2)),
        "background `sleep 300` (pid {pid}) survived the run timeout"
    );
}

/// Parses the pid a task wrote with `echo $! > bg.pid`.
fn background_pid(text: &str) -> u32 {
    let pid: u32 = text.trim().parse().expect("a pid in bg.pid");
    assert!(pid > 1, "a real pid: {pid}");
    pid
}

#[test]
fn timed_out_rhai_task_stops_the_command_it_started() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn step() { sh("sleep 300 & echo $! > bg.pid; sleep 5"); 1 }
            task(step, #{ timeout: "300ms", kill_grace: "100ms" });
            fn main() { step() }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1);
    assert_eq!(out.summary().status("step"), "timed_out");
    let pid = background_pid(&out.file("bg.pid"));
    assert!(
        wait_until_gone(pid, Duration::from_secs(2)),
        "background `sleep 300` (pid {pid}) survived the timeout"
    );
}

#[test]
fn sh_inside_a_rhai_task_uses_the_tasks_cwd_and_env() {
    let out = Test::new()
        .file("sub/marker", "")
        .flow(
            "main.rhai",
            r#"
            fn where() { sh("ls; echo $GREETING") }
            task(where, #{ cwd: "sub", env: #{ GREETING: "hello" } });
            fn main() { where() }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai"])
        .run();
    out.code(0);
    assert_eq!(out.stdout_json(), json!("marker\nhello"));
}

#[test]
fn a_missing_working_directory_is_named() {
    Test::new()
        .file("main.rhai", &single_step(r#""pwd""#, r#"#{ cwd: "nope" }"#))
        .args(["run", "main.rhai"])
        .run()
        .code(1)
        .stderr_contains("cannot start the command: working directory `")
        .stderr_contains("/nope` does not exist");
}

/// Whether `pid` is still a live process whose parent is PID 1: an orphan nobody reaps.
fn is_orphaned_to_init(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("Z");
        state != "Z" && fields.next() == Some("1")
    })
}

#[test]
fn timed_out_task_stops_escaped_and_term_ignoring_descendants() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(
                r#""sleep 300 & echo $! > bg.pid; setsid sleep 300 & echo $! > esc.pid; (trap '' TERM; sleep 300) & echo $! > stub.pid; sleep 60""#,
                r#"#{ timeout: "200ms", kill_grace: "200ms" }"#,
            ),
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1);
    assert_eq!(out.summary().status("step"), "timed_out");
    for file in ["bg.pid", "esc.pid", "stub.pid"] {
        let pid = background_pid(&out.file(file));
        assert!(
            wait_until_gone(pid, Duration::from_secs(2)),
            "{file}: pid {pid} survived the timeout"
        );
        assert!(
            !is_orphaned_to_init(pid),
            "{file}: pid {pid} was left to PID 1"
        );
    }
}

#[test]
fn a_daemon_left_behind_by_a_finished_task_is_stopped_with_the_run() {
    let out = Test::new()
        .file(
            "main.rhai",
            &single_step(
                r#""setsid sleep 300 > /dev/null 2>&1 & echo $! > left.pid; sleep 0.2; echo done""#,
                "#{}",
            ),
        )
        .args(["run", "main.rhai"])
        .run();
    out.code(0)
        .stdout_is("\"done\"\n")
        .stderr_contains("stopped 1 process(es) that tasks left running");
    let pid = background_pid(&out.file("left.pid"));
    assert!(
        wait_until_gone(pid, Duration::from_secs(2)),
        "the daemon (pid {pid}) outlived the run"
    );
}
