//! Artifacts: `artifact_write`, `artifact_read` and `artifact_path` in task bodies, and
//! `autowf artifacts ls` / `get` on what a run kept.

use serde_json::json;

use crate::support::Test;

/// `produce` writes a CSV and a blob, `consume` reads the CSV back; the flow returns what
/// `consume` read and the digest `produce` got.
const WRITE_THEN_READ: &str = r#"
    fn produce() {
        artifact_write("raw.bin", blob(3, 0xff));
        artifact_write("reports/day.csv", "day,count\nmon,3\n")
    }
    fn consume(digest) { #{ text: artifact_read("reports/day.csv"), digest: digest } }
    task(produce);
    task(consume);
    fn main() { consume(produce()) }
    flow(main);
"#;

/// Runs `flow` with `--json` and returns the test (for more commands) and the run id.
fn run_ok(flow: &str) -> (Test, String) {
    let test = Test::new().flow("main.rhai", flow);
    let out = test.clone().args(["run", "main.rhai", "--json"]).run();
    out.code(0);
    let run_id = out.summary().0["run_id"]
        .as_str()
        .expect("run id")
        .to_owned();
    (test, run_id)
}

#[test]
fn a_downstream_task_reads_what_an_upstream_task_wrote() {
    let out = Test::new()
        .flow("main.rhai", WRITE_THEN_READ)
        .args(["run", "main.rhai"])
        .run();
    out.code(0);
    let result = out.stdout_json();
    assert_eq!(result["text"], "day,count\nmon,3\n");
    let digest = result["digest"].as_str().expect("digest string");
    assert_eq!(digest.len(), 64, "a blake3 hex digest: {digest}");
}

#[test]
fn artifacts_outlive_the_run_and_are_listed() {
    let (test, run_id) = run_ok(WRITE_THEN_READ);
    let listing = test.clone().args(["artifacts", "ls"]).run();
    listing.code(0);
    let lines: Vec<&str> = listing.stdout().lines().collect();
    assert_eq!(lines.len(), 2, "{}", listing.stdout());
    assert!(lines[0].starts_with("raw.bin "), "{}", lines[0]);
    assert!(lines[1].starts_with("reports/day.csv "), "{}", lines[1]);
    let fields: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(fields[1..3], ["16", "produce"]);
    assert_eq!(fields[3].len(), 12, "a short digest: {}", fields[3]);

    // By id, by `last`, and as JSON: the same run.
    for run in [run_id.as_str(), "last"] {
        let out = test.clone().args(["artifacts", "ls", run, "--json"]).run();
        out.code(0);
        let doc = out.stdout_json();
        assert_eq!(doc["schema"], 1);
        assert_eq!(doc["run_id"], run_id.as_str());
        assert_eq!(doc["artifacts"][1]["name"], "reports/day.csv");
        assert_eq!(doc["artifacts"][1]["size"], 16);
        assert_eq!(doc["artifacts"][1]["node"], "produce");
        let digest = doc["artifacts"][1]["digest"].as_str().expect("digest");
        assert_eq!(&digest[..12], fields[3]);
    }
}

#[test]
fn get_writes_the_bytes_to_stdout_or_to_a_file() {
    let (test, run_id) = run_ok(WRITE_THEN_READ);
    test.clone()
        .args(["artifacts", "get", &run_id, "reports/day.csv"])
        .run()
        .code(0)
        .stdout_is("day,count\nmon,3\n");
    let out = test
        .clone()
        .args(["artifacts", "get", "last", "raw.bin", "-o", "copy.bin"])
        .run();
    out.code(0).stdout_is("");
    let copied = std::fs::read(out.path().join("copy.bin")).expect("copy.bin written");
    assert_eq!(copied, [0xff, 0xff, 0xff]);
    test.args([
        "artifacts",
        "get",
        "last",
        "raw.bin",
        "-o",
        "missing/dir/copy.bin",
    ])
    .run()
    .code(3)
    .stderr_contains("error: cannot write `missing/dir/copy.bin`")
    .stderr_lacks(".tmp-");
}

#[test]
fn an_unknown_run_or_artifact_exits_2_naming_what_exists() {
    let (test, run_id) = run_ok(WRITE_THEN_READ);
    test.clone()
        .args(["artifacts", "get", "last", "reports/week.csv"])
        .run()
        .code(2)
        .stderr_contains(&format!(
            "error: run `{run_id}` has no artifact `reports/week.csv`"
        ))
        .stderr_contains("help: artifacts: `raw.bin`, `reports/day.csv`");
    test.clone()
        .args(["artifacts", "ls", "20990101T000000000-00001"])
        .run()
        .code(2)
        .stderr_contains("error: no run `20990101T000000000-00001` in `")
        .stderr_contains(&format!("; recent runs: {run_id}"));
    // As for `runs show`, a unique prefix of a run id names that run.
    test.clone()
        .args(["artifacts", "ls", &run_id[..12]])
        .run()
        .code(0)
        .stdout_contains("reports/day.csv");
    // A run id is looked up among the runs, never used as a path.
    test.args(["artifacts", "ls", "../.."])
        .run()
        .code(2)
        .stderr_contains("no run `../..`");
}

#[test]
fn listing_without_any_run_exits_2() {
    Test::new()
        .args(["artifacts", "ls"])
        .run()
        .code(2)
        .stderr_contains("error: no runs in state directory")
        .stdout_is("");
}

#[test]
fn the_flow_option_picks_that_flows_state_directory() {
    let test = Test::new().flow("jobs/main.rhai", WRITE_THEN_READ);
    test.clone().args(["run", "jobs/main.rhai"]).run().code(0);
    test.clone()
        .args(["artifacts", "ls"])
        .run()
        .code(2)
        .stderr_contains("no runs");
    test.args([
        "artifacts",
        "get",
        "last",
        "reports/day.csv",
        "--flow",
        "jobs/main.rhai",
    ])
    .run()
    .code(0)
    .stdout_is("day,count\nmon,3\n");
}

#[test]
fn a_later_write_of_a_name_wins() {
    let (test, _) = run_ok(
        r#"
        fn first() { artifact_write("out.txt", "first"); 1 }
        fn second(x) { artifact_write("out.txt", "second"); 2 }
        task(first);
        task(second);
        fn main() { second(first()) }
        flow(main);
        "#,
    );
    test.clone()
        .args(["artifacts", "get", "last", "out.txt"])
        .run()
        .code(0)
        .stdout_is("second");
    let doc = test.args(["artifacts", "ls", "--json"]).run().stdout_json();
    assert_eq!(doc["artifacts"].as_array().map(Vec::len), Some(1));
    assert_eq!(doc["artifacts"][0]["node"], "second");
}

#[test]
fn a_bad_name_fails_the_task_naming_the_rule() {
    Test::new()
        .flow(
            "main.rhai",
            r#"
            fn escape() { artifact_write("../outside.txt", "x") }
            task(escape);
            fn main() { escape() }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai"])
        .run()
        .code(1)
        .stderr_contains(
            "artifact name `../outside.txt` has a `..` part; names may not refer to the current or parent directory",
        )
        .no_file(".autowf/outside.txt")
        .no_file(".autowf/runs/outside.txt");
}

#[test]
fn only_strings_and_blobs_are_written() {
    Test::new()
        .flow(
            "main.rhai",
            r#"
            fn store() { artifact_write("m.json", #{ a: 1 }) }
            task(store);
            fn main() { store() }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai"])
        .run()
        .code(1)
        .stderr_contains("`artifact_write` stores a string or a blob, got map");
}

#[test]
fn reading_a_missing_artifact_fails_the_task_naming_the_ones_that_exist() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn write() { artifact_write("have.txt", "x"); 1 }
            fn read(x) { artifact_read("want.txt") }
            task(write);
            task(read);
            fn main() { read(write()) }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai"])
        .run();
    out.code(1)
        .stderr_contains("has no artifact `want.txt`; it has `have.txt`");
}

#[test]
fn a_process_task_writes_artifacts_too() {
    let (test, _) = run_ok(
        r#"
        fn isolated() { artifact_write("from-worker.txt", `written by ${ctx().node}`) }
        fn check(d) { artifact_read("from-worker.txt") }
        task(isolated, #{ run_in: "process" });
        task(check);
        fn main() { check(isolated()) }
        flow(main);
        "#,
    );
    let doc = test
        .clone()
        .args(["artifacts", "ls", "--json"])
        .run()
        .stdout_json();
    assert_eq!(doc["artifacts"][0]["name"], "from-worker.txt");
    assert_eq!(doc["artifacts"][0]["node"], "isolated");
    test.args(["artifacts", "get", "last", "from-worker.txt"])
        .run()
        .code(0)
        .stdout_is("written by isolated");
}

#[test]
fn artifact_functions_in_a_flow_body_are_an_error() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn noop() { 1 }
            task(noop);
            fn main() {
                artifact_write("x.txt", "y");
                noop()
            }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai"])
        .run();
    out.code(2).error_at(
        "`artifact_write` is only available inside a running task",
        "main.rhai:4:5",
    );
}

#[test]
fn a_json_map_is_stored_through_to_json() {
    let (test, _) = run_ok(
        r#"
        fn store() { artifact_write("m.json", #{ a: 1, b: [true] }.to_json()); 1 }
        task(store);
        fn main() { store() }
        flow(main);
        "#,
    );
    let out = test.args(["artifacts", "get", "last", "m.json"]).run();
    out.code(0);
    assert_eq!(out.stdout_json(), json!({ "a": 1, "b": [true] }));
}

#[test]
fn a_shell_task_stages_a_file_that_becomes_an_artifact_on_success() {
    let (test, _) = run_ok(
        r#"
        fn report() { `printf 'day,count\n' > ${shell_quote(artifact_path("reports/day.csv"))}` }
        shell_task(report);
        fn main() { report() }
        flow(main);
        "#,
    );
    test.clone()
        .args(["artifacts", "get", "last", "reports/day.csv"])
        .run()
        .code(0)
        .stdout_is("day,count\n");
    let doc = test.args(["artifacts", "ls", "--json"]).run().stdout_json();
    assert_eq!(doc["artifacts"][0]["node"], "report");
}

#[test]
fn a_failed_attempt_stages_nothing() {
    let test = Test::new().flow(
        "main.rhai",
        r#"
        fn failing() { `echo half > ${shell_quote(artifact_path("half.txt"))}; exit 3` }
        shell_task(failing);
        fn main() { failing() }
        flow(main);
        "#,
    );
    test.clone().args(["run", "main.rhai"]).run().code(1);
    test.args(["artifacts", "ls", "--json"])
        .run()
        .code(0)
        .stdout_contains("\"artifacts\": []");
}
