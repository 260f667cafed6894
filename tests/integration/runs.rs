//! Run history: every run's `journal.jsonl` and `summary.json`, `autowf runs` and
//! `autowf runs show`, and what a killed run leaves behind.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{Output, SUM_FLOW, Test, wait_until_gone};

const FAILING: &str = r#"
    fn good() { 1 }
    fn bad(x) {
        throw "boom";
    }
    task(good);
    task(bad);
    fn main() { bad(good()) }
    flow(main);
"#;

/// The run directories under `.autowf/runs/`, oldest first.
fn run_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir.join(".autowf/runs"))
        .expect("a runs directory")
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs
}

fn name_of(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

/// Every line of a journal, parsed; fails the test on a line that is not JSON.
fn journal(run_dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(run_dir.join("journal.jsonl"))
        .expect("a journal")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn kinds(lines: &[Value]) -> Vec<&str> {
    lines.iter().map(|l| l["event"].as_str().unwrap()).collect()
}

/// The `node_finished` line of `node`.
#[track_caller]
fn finished<'a>(lines: &'a [Value], node: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["event"] == "node_finished" && l["node"] == node)
        .unwrap_or_else(|| panic!("no node_finished for `{node}` in {lines:#?}"))
}

/// A successful run of `ok.rhai` followed by a failing run of `bad.rhai`, both with `--json`.
fn two_runs() -> (Test, Output, Output) {
    let test = Test::new()
        .flow("ok.rhai", SUM_FLOW)
        .flow("bad.rhai", FAILING);
    let ok = test.clone().args(["run", "ok.rhai", "--json"]).run();
    ok.code(0);
    let bad = test.clone().args(["run", "bad.rhai", "--json"]).run();
    bad.code(1);
    (test, ok, bad)
}

#[test]
fn every_run_keeps_a_journal_of_what_happened() {
    let (test, _, _) = two_runs();
    let dirs = run_dirs(&test.path());
    assert_eq!(dirs.len(), 2);

    let ok = journal(&dirs[0]);
    assert!(ok.iter().all(|l| l["schema"] == 1), "{ok:#?}");
    assert_eq!(
        kinds(&ok),
        [
            "run_started",
            "node_started",
            "node_started",
            "node_finished",
            "node_finished",
            "node_started",
            "node_finished",
            "run_finished"
        ]
    );
    assert_eq!(ok[0]["run_id"], name_of(&dirs[0]));
    assert_eq!(ok[0]["flow"], "main");
    assert_eq!(
        ok[0]["file"],
        test.path().join("ok.rhai").display().to_string()
    );
    assert!(ok[0]["pid"].is_u64() && ok[0]["started"].is_string());
    assert!(ok[0]["autowf_version"].is_string());
    let add = finished(&ok, "add");
    assert_eq!(add["status"], "succeeded");
    assert_eq!(add["attempts"], 1);
    assert!(add["duration_ms"].is_number());
    assert_eq!(add["result"], 6);
    let digest = add["digest"].as_str().unwrap();
    assert_eq!(digest.len(), 64);
    assert!(digest.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(finished(&ok, "compute")["digest"], add["digest"]);
    assert_eq!(ok[7]["status"], "succeeded");
    assert!(ok[7].get("interrupted").is_none());

    let bad = journal(&dirs[1]);
    assert_eq!(
        bad[0]["file"],
        test.path().join("bad.rhai").display().to_string()
    );
    assert_eq!(finished(&bad, "good")["result"], 1);
    let failed = finished(&bad, "bad");
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"], "boom");
    assert!(failed.get("result").is_none() && failed.get("digest").is_none());
    assert_eq!(bad.last().unwrap()["event"], "run_finished");
    assert_eq!(bad.last().unwrap()["status"], "failed");
}

#[test]
fn summary_json_is_the_run_json_document_even_when_the_run_fails() {
    let (test, ok, bad) = two_runs();
    let dirs = run_dirs(&test.path());
    for (dir, out) in dirs.iter().zip([ok, bad]) {
        let text = std::fs::read_to_string(dir.join("summary.json")).expect("a summary");
        let summary: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(summary, out.stdout_json());
        assert_eq!(summary["run_id"], name_of(dir));
    }
}

#[test]
fn runs_lists_the_newest_first_with_their_status() {
    let (test, _, _) = two_runs();
    let dirs = run_dirs(&test.path());
    let (old, new) = (name_of(&dirs[0]), name_of(&dirs[1]));
    let out = test.clone().args(["runs"]).run();
    out.code(0).stderr_is("");
    let lines: Vec<&str> = out.stdout().lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout());
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["RUN", "FLOW", "STARTED", "DURATION", "STATUS"]);
    assert!(lines[1].starts_with(&new) && lines[1].ends_with(" failed"));
    assert!(lines[2].starts_with(&old) && lines[2].ends_with(" succeeded"));

    let out = test.clone().args(["runs", "--json"]).run();
    out.code(0);
    let doc = out.stdout_json();
    assert_eq!(doc["schema"], 1);
    let runs = doc["runs"].as_array().unwrap();
    let ids: Vec<&str> = runs.iter().map(|r| r["run_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [new.as_str(), old.as_str()]);
    assert_eq!(runs[0]["status"], "failed");
    assert_eq!(runs[1]["status"], "succeeded");
    assert_eq!(runs[1]["flow"], "main");
    assert!(runs[1]["duration_ms"].is_number());
    assert!(runs[1]["started"].is_string());

    let out = test.clone().args(["runs", "-n", "1", "--json"]).run();
    assert_eq!(
        out.code(0).stdout_json()["runs"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn runs_show_names_a_run_by_last_id_or_prefix() {
    let (test, _, _) = two_runs();
    let dirs = run_dirs(&test.path());
    let newest = name_of(&dirs[1]);
    let out = test.clone().args(["runs", "show", "last"]).run();
    out.code(0)
        .stdout_contains(&format!("run       {newest}\n"))
        .stdout_contains("status    failed\n");
    let node_line = |name: &str| {
        out.stdout()
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no line for `{name}`:\n{}", out.stdout()))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(node_line("good")[1..3], ["succeeded", "1"]);
    assert_eq!(node_line("bad")[1..3], ["failed", "1"]);
    assert_eq!(node_line("bad").last(), Some(&"boom"));

    let out = test
        .clone()
        .args(["runs", "show", &newest[..20], "--json"])
        .run();
    let doc = out.code(0).stdout_json();
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["run_id"], newest);
    assert_eq!(doc["source"], "summary");
    let statuses: Vec<(&str, &str)> = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["name"].as_str().unwrap(), n["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses, [("good", "succeeded"), ("bad", "failed")]);
    assert_eq!(doc["nodes"][1]["error"], "boom");

    // `--flow` picks the state directory from elsewhere.
    let out = Test::new()
        .args(["runs", "show", "last", "--json", "--flow"])
        .args([test.path().join("ok.rhai")])
        .run();
    assert_eq!(out.code(0).stdout_json()["run_id"], newest);
}

#[test]
fn an_unknown_or_ambiguous_run_is_a_usage_error_naming_recent_runs() {
    let (test, _, _) = two_runs();
    let dirs = run_dirs(&test.path());
    let out = test.clone().args(["runs", "show", "nope"]).run();
    out.code(2)
        .stdout_is("")
        .stderr_contains("error: no run `nope` in `")
        .stderr_contains(&format!(
            "recent runs: {}, {}",
            name_of(&dirs[1]),
            name_of(&dirs[0])
        ));
    let out = test.clone().args(["runs", "show", "2"]).run();
    out.code(2)
        .stderr_contains("error: run `2` is ambiguous: it matches 2 runs");
    Test::new()
        .args(["runs", "show", "last"])
        .run()
        .code(2)
        .stderr_contains("there are no runs in");
    Test::new()
        .args(["runs"])
        .run()
        .code(0)
        .stdout_is("")
        .stderr_contains("no runs in `");
}

#[test]
fn a_journal_cut_short_is_read_up_to_the_torn_line_with_a_warning() {
    let (test, _, _) = two_runs();
    let dirs = run_dirs(&test.path());
    let run = &dirs[1];
    // As if autowf had been killed while writing `bad`'s end: no summary, no run_finished,
    // and half a line.
    std::fs::remove_file(run.join("summary.json")).unwrap();
    let text = std::fs::read_to_string(run.join("journal.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let torn_at = lines.len() - 2;
    assert!(lines[torn_at].contains(r#""node":"bad""#), "{text}");
    let mut cut = lines[..torn_at].join("\n");
    cut.push('\n');
    cut.push_str(&lines[torn_at][..lines[torn_at].len() / 2]);
    std::fs::write(run.join("journal.jsonl"), &cut).unwrap();

    let warning = format!(
        "journal.jsonl line {} is incomplete (the run was probably killed while writing it); ignored",
        torn_at + 1
    );
    let out = test.clone().args(["runs", "show", "last", "--json"]).run();
    out.code(0).stderr_contains(&warning);
    let doc = out.stdout_json();
    assert_eq!(doc["source"], "journal");
    assert_eq!(doc["status"], "incomplete");
    assert_eq!(doc["flow"], "main");
    assert_eq!(doc["nodes"][0]["name"], "good");
    assert_eq!(doc["nodes"][0]["status"], "succeeded");
    assert_eq!(doc["nodes"][1]["name"], "bad");
    assert_eq!(doc["nodes"][1]["status"], "unfinished");

    let out = test.clone().args(["runs"]).run();
    out.code(0).stderr_contains(&warning);
    assert!(
        out.stdout()
            .lines()
            .nth(1)
            .unwrap()
            .ends_with(" incomplete")
    );
}

#[test]
fn a_run_stopped_by_its_timeout_is_interrupted() {
    let test = Test::new().flow(
        "main.rhai",
        r"
        fn slow() { sleep(5); 1 }
        task(slow);
        fn main() { slow() }
        flow(main);
        ",
    );
    test.clone()
        .args(["run", "main.rhai", "--timeout", "300ms"])
        .run()
        .code(124);
    let dirs = run_dirs(&test.path());
    let lines = journal(&dirs[0]);
    let end = lines.last().unwrap();
    assert_eq!(
        (&end["event"], &end["status"], &end["interrupted"]),
        (
            &Value::from("run_finished"),
            &Value::from("failed"),
            &Value::from("timeout")
        )
    );
    let out = test.clone().args(["runs", "--json"]).run();
    assert_eq!(
        out.code(0).stdout_json()["runs"][0]["status"],
        "interrupted"
    );
}

#[test]
fn a_killed_run_is_incomplete_and_its_journal_readable() {
    let test = Test::new().flow(
        "main.rhai",
        r"
        fn quick() { 1 }
        fn slow(x) { sleep(60); x }
        task(quick);
        task(slow);
        fn main() { slow(quick()) }
        flow(main);
        ",
    );
    let dir = test.path();
    let mut child = test.clone().args(["run", "main.rhai"]).spawn();
    // The journal reaches the file while the run goes on: wait for `slow` to have started.
    let started = Instant::now();
    let journal_path = loop {
        let found = std::fs::read_dir(dir.join(".autowf/runs"))
            .ok()
            .and_then(|mut d| d.next())
            .map(|e| e.unwrap().path().join("journal.jsonl"))
            .filter(|p| {
                std::fs::read_to_string(p)
                    .is_ok_and(|t| t.contains(r#""event":"node_started","node":"slow""#))
            });
        if let Some(path) = found {
            break path;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("`slow` never showed up in the journal");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let running = test.clone().args(["runs", "--json"]).run();
    assert_eq!(
        running.code(0).stdout_json()["runs"][0]["status"],
        "running"
    );

    child.kill().expect("SIGKILL autowf");
    child.wait().expect("reap autowf");
    assert!(wait_until_gone(child.id(), Duration::from_secs(5)));

    let run_dir = journal_path.parent().unwrap();
    assert!(!run_dir.join("summary.json").exists());
    let lines = journal(run_dir);
    assert_eq!(finished(&lines, "quick")["result"], 1);
    assert!(!kinds(&lines).contains(&"run_finished"));

    let out = test.clone().args(["runs"]).run();
    out.code(0).stderr_is("");
    assert!(
        out.stdout()
            .lines()
            .nth(1)
            .unwrap()
            .ends_with(" incomplete")
    );
    let out = test.clone().args(["runs", "show", "last", "--json"]).run();
    let doc = out.code(0).stdout_json();
    assert_eq!(doc["status"], "incomplete");
    assert_eq!(doc["nodes"][0]["status"], "succeeded");
    assert_eq!(doc["nodes"][1]["name"], "slow");
    assert_eq!(doc["nodes"][1]["status"], "unfinished");
    assert_eq!(doc["nodes"][1]["attempts"], 1);
}
