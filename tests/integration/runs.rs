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

/// A flow whose every run stores an artifact of its own (its run id, from a shell command)
/// and one that all runs share.
fn reporting_flow(flow: &str) -> String {
    format!(
        r#"
        fn report() {{
            artifact_write("shared.txt", "the same in every run");
            let out = artifact_path("report.txt");
            `printf '{flow} %s' ${{shell_quote(ctx().run_id)}} > ${{shell_quote(out)}}`
        }}
        shell_task(report);
        fn {flow}() {{ report() }}
        flow({flow});
        "#
    )
}

/// How long before now the blobs of [`pruning`] were (seemingly) written: past gc's grace.
const LONG_AGO: Duration = Duration::from_secs(2 * 3600);

/// Five runs in one state directory, `alpha`, `beta`, `alpha`, `beta`, `alpha`, with every
/// blob set back past gc's grace period, plus two blobs no run names: one as old, one new.
struct Pruning {
    test: Test,
    /// Run ids of each flow, oldest first.
    alpha: Vec<String>,
    beta: Vec<String>,
    old_orphan: PathBuf,
    new_orphan: PathBuf,
}

impl Pruning {
    fn new() -> Self {
        let test = Test::new()
            .flow("alpha.rhai", &reporting_flow("alpha"))
            .flow("beta.rhai", &reporting_flow("beta"));
        let (mut alpha, mut beta) = (Vec::new(), Vec::new());
        for flow in ["alpha", "beta", "alpha", "beta", "alpha"] {
            let out = test
                .clone()
                .args(["run", &format!("{flow}.rhai"), "--json"])
                .run();
            let id = out.code(0).summary().0["run_id"]
                .as_str()
                .unwrap()
                .to_owned();
            if flow == "alpha" {
                alpha.push(id)
            } else {
                beta.push(id)
            }
        }
        let blobs = test.path().join(".autowf/artifacts/blobs");
        let orphan = |c: &str| blobs.join(format!("{c}{c}")).join(c.repeat(64));
        let (old_orphan, new_orphan) = (orphan("a"), orphan("b"));
        for path in [&old_orphan, &new_orphan] {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "no run names this").unwrap();
        }
        for blob in files_under(&blobs) {
            if blob != new_orphan {
                set_back(&blob, LONG_AGO);
            }
        }
        Self {
            test,
            alpha,
            beta,
            old_orphan,
            new_orphan,
        }
    }

    fn gc(&self, args: &[&str]) -> Output {
        self.test.clone().args(["runs", "gc"]).args(args).run()
    }

    /// The runs `--keep 1` removes, oldest first per flow.
    fn doomed(&self) -> Vec<&str> {
        let (alpha, beta) = (&self.alpha, &self.beta);
        vec![&alpha[0], &alpha[1], &beta[0]]
            .into_iter()
            .map(String::as_str)
            .collect()
    }

    /// The file `name` in run `run_id`'s directory.
    fn run_file(&self, run_id: &str, name: &str) -> PathBuf {
        self.test
            .path()
            .join(".autowf/runs")
            .join(run_id)
            .join(name)
    }

    /// The blob of run `run_id`'s artifact `name`, from its manifest.
    fn blob_of(&self, run_id: &str, name: &str) -> PathBuf {
        let manifest = self.run_file(run_id, "artifacts.json");
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
        let digest = doc["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap_or_else(|| panic!("run `{run_id}` has no `{name}`: {doc:#}"))["digest"]
            .as_str()
            .unwrap()
            .to_owned();
        self.test
            .path()
            .join(".autowf/artifacts/blobs")
            .join(&digest[..2])
            .join(digest)
    }

    /// The names in `.autowf/runs/`, dot-names included, sorted.
    fn run_dir_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.test.path().join(".autowf/runs"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

/// Every file below `dir`, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Sets a file's modification time `by` into the past.
fn set_back(path: &Path, by: Duration) {
    let file = std::fs::File::options().append(true).open(path).unwrap();
    file.set_modified(std::time::SystemTime::now() - by)
        .unwrap();
}

#[test]
fn runs_gc_keeps_the_newest_runs_of_each_flow_and_the_blobs_they_name() {
    let p = Pruning::new();
    let gone_blobs: Vec<PathBuf> = p
        .doomed()
        .iter()
        .map(|id| p.blob_of(id, "report.txt"))
        .collect();
    let shared = p.blob_of(&p.alpha[2], "shared.txt");

    let out = p.gc(&["--keep", "1"]);
    out.code(0).stdout_is("");
    for id in &p.alpha[..2] {
        out.stderr_line(&["removed run `", id, "` (alpha, ", "s old)"]);
    }
    out.stderr_line(&["removed run `", &p.beta[0], "` (beta, "]);
    // Three runs' own reports and the old orphan; the shared blob stays.
    out.stderr_line(&["removed 3 runs and 4 blobs, freed ", " KiB"]);

    let mut kept = vec![p.alpha[2].clone(), p.beta[1].clone()];
    kept.sort();
    assert_eq!(p.run_dir_names(), kept, "no `.gc-` directory is left");
    for blob in &gone_blobs {
        assert!(!blob.exists(), "{} is still there", blob.display());
    }
    assert!(!p.old_orphan.exists(), "an unnamed old blob stays");
    assert!(p.new_orphan.exists(), "a blob within the grace went");
    assert!(shared.exists(), "a blob the kept runs name went");
    for (id, name, content) in [
        (&p.alpha[2], "report.txt", format!("alpha {}", p.alpha[2])),
        (&p.beta[1], "report.txt", format!("beta {}", p.beta[1])),
        (
            &p.alpha[2],
            "shared.txt",
            "the same in every run".to_owned(),
        ),
    ] {
        p.test
            .clone()
            .args(["artifacts", "get", id, name])
            .run()
            .code(0)
            .stdout_is(&content);
    }

    p.gc(&["--keep", "1"])
        .code(0)
        .stderr_is("removed 0 runs and 0 blobs, freed 0 B\n");
}

#[test]
fn runs_gc_dry_run_says_what_would_go_and_removes_nothing() {
    let p = Pruning::new();
    let before = files_under(&p.test.path().join(".autowf"));
    let out = p.gc(&["--keep", "1", "--dry-run"]);
    out.code(0).stdout_is("");
    for id in p.doomed() {
        out.stderr_line(&["would remove run `", id, "` ("]);
    }
    out.stderr_line(&["would remove 3 runs and 4 blobs, freeing "])
        .stderr_lacks(&p.alpha[2])
        .stderr_lacks(&p.beta[1]);
    assert_eq!(files_under(&p.test.path().join(".autowf")), before);
}

#[test]
fn runs_gc_json_lists_the_runs_and_blobs_with_their_sizes() {
    let p = Pruning::new();
    let out = p.gc(&["--keep", "1", "--json"]);
    out.code(0).stderr_is("");
    let doc = out.stdout_json();
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["dry_run"], false);
    assert_eq!(doc["blobs_skipped"], Value::Null);
    assert_eq!(doc["remote_store"], Value::Null);
    assert!(
        doc["state_dir"].as_str().unwrap().ends_with(".autowf"),
        "{doc:#}"
    );
    let runs = doc["runs"].as_array().unwrap();
    let mut ids: Vec<&str> = runs.iter().map(|r| r["run_id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    let mut doomed = p.doomed();
    doomed.sort_unstable();
    assert_eq!(ids, doomed);
    for run in runs {
        assert!(["alpha", "beta"].contains(&run["flow"].as_str().unwrap()));
        assert!(run["started"].as_str().unwrap().ends_with('Z'), "{run}");
        assert!(run["bytes"].as_u64().unwrap() > 0, "{run}");
    }
    let blobs = doc["blobs"].as_array().unwrap();
    assert_eq!(blobs.len(), 4, "{doc:#}");
    assert!(blobs.iter().any(|b| b["digest"] == "a".repeat(64)));
    assert!(blobs.iter().all(|b| b["digest"] != "b".repeat(64)));
    let sum = |list: &[Value]| {
        list.iter()
            .map(|x| x["bytes"].as_u64().unwrap())
            .sum::<u64>()
    };
    let bytes = &doc["bytes"];
    assert_eq!(bytes["runs"], sum(runs));
    assert_eq!(bytes["blobs"], sum(blobs));
    assert_eq!(bytes["total"].as_u64(), Some(sum(runs) + sum(blobs)));
    assert_eq!(doc["leftovers"], serde_json::json!([]));
}

#[test]
fn runs_gc_without_keep_or_older_than_is_a_usage_error() {
    let p = Pruning::new();
    for args in [&[][..], &["--dry-run", "--json"]] {
        p.gc(args)
            .code(2)
            .stdout_is("")
            .stderr_contains("--keep <N>|--older-than <DURATION>");
    }
    p.gc(&["--older-than", "soon"]).code(2);
    assert_eq!(p.run_dir_names().len(), 5);
}

#[test]
fn runs_gc_keeps_every_blob_when_a_manifest_cannot_be_read() {
    let p = Pruning::new();
    std::fs::write(p.run_file(&p.alpha[2], "artifacts.json"), "{ torn").unwrap();
    p.gc(&["--keep", "1"])
        .code(0)
        .stderr_contains(&format!(
            "no artifact blob was removed: the artifact manifest of run `{}` cannot be read",
            p.alpha[2]
        ))
        .stderr_line(&["removed 3 runs and 0 blobs, freed "]);
    assert!(p.old_orphan.exists());
}

#[test]
fn runs_gc_that_cannot_read_a_run_removes_nothing_and_exits_3() {
    let p = Pruning::new();
    let summary = p.run_file(&p.beta[0], "summary.json");
    std::fs::remove_file(&summary).unwrap();
    std::fs::create_dir(&summary).unwrap();
    p.gc(&["--keep", "1"])
        .code(3)
        .stderr_contains("error: cannot read `")
        .stderr_lacks("removed");
    assert_eq!(p.run_dir_names().len(), 5);
}

/// A run directory as a run of `flow` that started at the time in `run_id` leaves it, by
/// process `pid`, without an end; or, with no flow, an empty directory.
fn fake_run(state: &Path, run_id: &str, flow: Option<&str>, pid: u32) {
    let dir = state.join("runs").join(run_id);
    std::fs::create_dir_all(&dir).unwrap();
    if let Some(flow) = flow {
        let started = format!(
            "{}-{}-{}T{}:{}:{}.{}Z",
            &run_id[0..4],
            &run_id[4..6],
            &run_id[6..8],
            &run_id[9..11],
            &run_id[11..13],
            &run_id[13..15],
            &run_id[15..18]
        );
        let line = serde_json::json!({
            "schema": 1, "event": "run_started", "run_id": run_id, "flow": flow,
            "file": "/f.rhai", "params": {}, "pid": pid, "started": started,
            "autowf_version": "0.1.0",
        });
        std::fs::write(dir.join("journal.jsonl"), format!("{line}\n")).unwrap();
    }
}

#[test]
fn runs_gc_older_than_goes_by_start_time_and_spares_running_runs() {
    let test = Test::new().flow("alpha.rhai", &reporting_flow("alpha"));
    let recent = test.clone().args(["run", "alpha.rhai", "--json"]).run();
    let recent = recent.code(0).summary().0["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let state = test.path().join(".autowf");
    // A pid beyond the kernel's limit is never alive; this test's own pid is.
    fake_run(
        &state,
        "20200101T000000000-00001",
        Some("alpha"),
        2_147_483_647,
    );
    fake_run(
        &state,
        "20200102T000000000-00001",
        Some("alpha"),
        std::process::id(),
    );
    fake_run(&state, "20200103T000000000-00001", None, 0);
    std::fs::create_dir_all(state.join("runs/.gc-20190101T000000000-00001/logs")).unwrap();
    let names = || {
        let mut names: Vec<String> = std::fs::read_dir(state.join("runs"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };

    // `--keep` has no flow to count a run in whose journal is missing: it stays, with a word.
    test.clone()
        .args(["runs", "gc", "--keep", "5", "--dry-run"])
        .run()
        .code(0)
        .stderr_contains("run `20200103T000000000-00001` was kept: its journal names no flow")
        .stderr_line(&["would remove `.gc-20190101T000000000-00001` (left by an interrupted gc)"])
        .stderr_line(&["would remove 0 runs and 0 blobs"]);

    let out = test
        .clone()
        .args(["runs", "gc", "--older-than", "30d"])
        .run();
    out.code(0)
        .stderr_line(&["removed run `20200101T000000000-00001` (alpha, ", "d old)"])
        .stderr_line(&[
            "removed run `20200103T000000000-00001` (no flow, ",
            "d old)",
        ])
        .stderr_line(&["removed `.gc-20190101T000000000-00001`"])
        .stderr_line(&["removed 2 runs and "]);
    assert_eq!(names(), [String::from("20200102T000000000-00001"), recent]);
}

#[test]
fn a_run_recorded_on_another_machine_is_elsewhere_and_kept_by_keep() {
    let test = Test::new().flow("alpha.rhai", &reporting_flow("alpha"));
    test.clone().args(["run", "alpha.rhai"]).run().code(0);
    let state = test.path().join(".autowf");
    let run_id = "20200101T000000000-00001";
    // This test's own pid, alive here: on another machine it means nothing.
    fake_run(&state, run_id, Some("alpha"), std::process::id());
    let journal = state.join("runs").join(run_id).join("journal.jsonl");
    let line = std::fs::read_to_string(&journal)
        .unwrap()
        .replace("\"pid\":", "\"host\":\"not-this-host.invalid\",\"pid\":");
    std::fs::write(&journal, line).unwrap();
    let runs = test.clone().args(["runs", "--json"]).run();
    runs.code(0);
    let listed = runs.stdout_json();
    let this = listed["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["run_id"] == run_id)
        .expect("the faked run is listed");
    assert_eq!(this["status"], "elsewhere");
    // It may still be going on that machine: `--keep` leaves it, `--older-than` does not.
    test.clone()
        .args(["runs", "gc", "--keep", "0"])
        .run()
        .code(0);
    assert!(journal.exists());
    test.clone()
        .args(["runs", "gc", "--older-than", "30d"])
        .run()
        .code(0)
        .stderr_line(&[&format!("removed run `{run_id}` (alpha, "), "d old)"]);
    assert!(!journal.exists());
}
