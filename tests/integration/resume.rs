//! `run --resume`: what an earlier run finished is reused when its key still matches; the
//! rest runs. Including after runs killed with SIGKILL at random moments.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::Test;

/// `a` feeds `b` (which fails until `ok.flag` exists) and both feed `c`, then `d`. Every
/// shell task appends `<run id> <node>` to `ran.txt`.
const FLOW: &str = r#"
    fn a() { "echo $AUTOWF_RUN_ID a >> ran.txt; echo 1" }
    shell_task(a, #{ output: "json" });
    fn b(x) { "echo $AUTOWF_RUN_ID b >> ran.txt; test -f ok.flag || exit 3; echo 2" }
    shell_task(b, #{ output: "json" });
    fn c(x, y) { x + y }
    task(c);
    fn d(x) { `echo $AUTOWF_RUN_ID d >> ran.txt; echo ${x}` }
    shell_task(d, #{ output: "json" });
    fn main() { let a = a(); d(c(a, b(a))) }
    flow(main);
"#;

/// The nodes that ran, per run id, from `ran.txt`.
fn ran(t: &Test) -> Vec<(String, String)> {
    std::fs::read_to_string(t.path().join("ran.txt"))
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let (run, node) = l.split_once(' ').unwrap();
            (run.to_owned(), node.to_owned())
        })
        .collect()
}

fn ran_in(t: &Test, run: &str) -> Vec<String> {
    ran(t)
        .into_iter()
        .filter(|(r, _)| r == run)
        .map(|(_, n)| n)
        .collect()
}

/// The id of the newest run (from `autowf runs --json`), if any.
fn newest_run(t: &Test) -> Option<String> {
    let out = t.clone().args(["runs", "--json"]).run();
    out.code(0);
    let doc: serde_json::Value = serde_json::from_str(out.stdout()).unwrap();
    doc["runs"][0]["run_id"].as_str().map(str::to_owned)
}

fn last_run(t: &Test) -> String {
    newest_run(t).expect("a run")
}

#[test]
fn resume_reuses_what_succeeded_and_runs_the_rest() {
    let t = Test::new().flow("main.rhai", FLOW);
    t.clone().args(["run", "main.rhai"]).run().code(1);
    let first = last_run(&t);
    assert_eq!(ran_in(&t, &first), ["a", "b"]);

    std::fs::write(t.path().join("ok.flag"), "").unwrap();
    let out = t.clone().args(["run", "main.rhai", "--resume"]).run();
    out.code(0).stdout_is("3\n");
    out.stderr_line(&["cached", "a", &format!("reused from run {first}")]);
    out.stderr_contains("3 succeeded, 1 cached");
    let second = last_run(&t);
    assert_ne!(first, second);
    assert_eq!(ran_in(&t, &second), ["b", "d"]);
}

#[test]
fn resume_takes_a_run_id() {
    let t = Test::new().flow("main.rhai", FLOW);
    t.clone().args(["run", "main.rhai"]).run().code(1);
    let first = last_run(&t);
    std::fs::write(t.path().join("ok.flag"), "").unwrap();
    t.clone().args(["run", "main.rhai"]).run().code(0);
    // Resuming the failed run explicitly reuses `a` from it, not from the newer run.
    let out = t
        .clone()
        .args(["run", "main.rhai", &format!("--resume={first}")])
        .run();
    out.code(0);
    out.stderr_line(&["cached", "a", &format!("reused from run {first}")]);
}

#[test]
fn a_node_whose_code_changed_runs_again_and_so_do_its_dependents() {
    let t = Test::new().flow("main.rhai", FLOW);
    std::fs::write(t.path().join("ok.flag"), "").unwrap();
    t.clone().args(["run", "main.rhai"]).run().code(0);
    let path = t.path().join("main.rhai");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("echo 1", "echo 10")).unwrap();
    let out = t.clone().args(["run", "main.rhai", "--resume"]).run();
    out.code(0).stdout_is("12\n");
    let second = last_run(&t);
    assert_eq!(ran_in(&t, &second), ["a", "b", "d"]);
    out.stderr_line(&["ok", "c"]);
}

#[test]
fn an_unchanged_finished_run_is_reused_whole() {
    let t = Test::new().flow("main.rhai", FLOW);
    std::fs::write(t.path().join("ok.flag"), "").unwrap();
    t.clone().args(["run", "main.rhai"]).run().code(0);
    let out = t.clone().args(["run", "main.rhai", "--resume"]).run();
    out.code(0).stdout_is("3\n").stderr_contains("4 cached");
    assert!(ran_in(&t, &last_run(&t)).is_empty());
}

#[test]
fn resume_continues_the_last_run_of_this_flow_and_refuses_another_flows() {
    let t = Test::new().flow("main.rhai", FLOW).flow(
        "other.rhai",
        r#"
            fn one() { 1 }
            task(one);
            fn other() { one() }
            flow(other);
        "#,
    );
    // The first night: nothing to resume, so everything runs (and `b` fails).
    t.clone()
        .args(["run", "main.rhai", "--resume"])
        .run()
        .code(1)
        .stderr_contains("no earlier run of flow `main` in `")
        .stderr_contains("to resume: every node runs");
    let main_run = last_run(&t);
    t.clone().args(["run", "other.rhai"]).run().code(0);
    let other_run = last_run(&t);
    // Another flow of the directory ran since; `--resume` still continues `main`'s run.
    std::fs::write(t.path().join("ok.flag"), "").unwrap();
    t.clone()
        .args(["run", "main.rhai", "--resume"])
        .run()
        .code(0)
        .stderr_line(&["cached", "a", &format!("reused from run {main_run}")]);
    t.clone()
        .args(["run", "main.rhai", &format!("--resume={other_run}")])
        .run()
        .code(2)
        .stderr_contains("it is a run of flow `other`");
    t.clone()
        .args(["run", "main.rhai", "--resume=nosuchrun"])
        .run()
        .code(2)
        .stderr_contains("no run `nosuchrun` in `");
}

#[test]
fn a_reused_node_brings_its_artifacts_along() {
    let t = Test::new().flow(
        "main.rhai",
        r#"
            fn build() { artifact_write("out.txt", "built"); 1 }
            task(build, #{ persist: true });
            fn check(x) { "test -f ok.flag" }
            shell_task(check);
            fn main() { check(build()) }
            flow(main);
        "#,
    );
    t.clone().args(["run", "main.rhai"]).run().code(1);
    std::fs::write(t.path().join("ok.flag"), "").unwrap();
    t.clone()
        .args(["run", "main.rhai", "--resume"])
        .run()
        .code(0);
    t.clone()
        .args(["artifacts", "ls", "last"])
        .run()
        .code(0)
        .stdout_contains("out.txt")
        .stdout_contains("build.json");
}

/// Twelve shell nodes: four chains of three, each node appending to `ran.txt`.
const CHAINS: &str = r#"
    fn step(prev, name) { `sleep 0.01; echo $AUTOWF_RUN_ID $AUTOWF_NODE >> ran.txt; echo ${prev + 1}` }
    shell_task(step, #{ output: "json" });
    fn main() {
        let ends = [];
        for c in 0..4 {
            let x = step(0, `c${c}`);
            x = step(x, `c${c}`);
            ends.push(step(x, `c${c}`));
        }
        ends
    }
    flow(main);
"#;

/// The nodes a run's journal records as succeeded.
fn recorded_succeeded(t: &Test, run: &str) -> BTreeSet<String> {
    let path = t
        .path()
        .join(".autowf/runs")
        .join(run)
        .join("journal.jsonl");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "node_finished" && v["status"] == "succeeded")
        .map(|v| v["node"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn after_a_sigkill_at_any_moment_resume_runs_exactly_what_was_not_recorded() {
    let t = Test::new().flow("main.rhai", CHAINS);
    let dir = t.path();
    let all: BTreeSet<String> = {
        let out = t
            .clone()
            .args(["run", "main.rhai", "--dry-run", "--json"])
            .run();
        let doc: serde_json::Value = serde_json::from_str(out.stdout()).unwrap();
        doc["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["node"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(all.len(), 12);
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for round in 0..50 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let _ = std::fs::remove_file(dir.join("ran.txt"));
        let mut child = t.clone().args(["run", "main.rhai", "-j", "2"]).spawn();
        std::thread::sleep(Duration::from_micros(seed % 150_000));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let Some(killed) = newest_run(&t) else {
            continue; // killed before its run directory existed
        };
        let recorded = recorded_succeeded(&t, &killed);
        let out = t.clone().args(["run", "main.rhai", "--resume"]).run();
        assert_eq!(out.exit_code(), Some(0), "round {round}: {}", out.stderr());
        let resumed = last_run(&t);
        let rerun: BTreeSet<String> = ran_in(&t, &resumed).into_iter().collect();
        let expected: BTreeSet<String> = all.difference(&recorded).cloned().collect();
        assert_eq!(rerun, expected, "round {round}: recorded {recorded:?}");
        // Start the next round from scratch.
        std::fs::remove_dir_all(dir.join(".autowf/runs")).unwrap();
    }
}
