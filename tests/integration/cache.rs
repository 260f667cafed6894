//! The result cache: which changes miss (and how `--dry-run` names them), which do not,
//! `--no-cache` and `--refresh`, damaged entries, concurrent runs on one store, runs killed
//! mid-write, and `autowf cache ls | rm | gc | verify`.

use std::time::Duration;

use crate::support::Test;

/// `load` reads an input file, calls a helper and has a `cache_key` closure with a captured
/// value; `total` depends on both loads; `report` is not cached.
const FLOW: &str = r#"
    let salt = "v1";

    fn helper(x) { x * 2 }
    fn unrelated() { 1 }

    fn load(n, label) {
        // A comment that a test moves around.
        let checks = 0;
        for k in 0..3 { checks += k; }
        let kind = switch label { "one" => 1, _ => 2 };
        if checks != 3 || kind == 0 { throw "unreachable"; }
        helper(n) + 1
    }
    task(load, #{ cache_ttl: "1h", inputs: ["data/*.csv"], cache_key: |n, label| `${n}-${salt}` });

    fn total(a, b) { a + b }
    task(total, #{ cache_ttl: "forever" });

    fn report(t) { `total is ${t}` }
    task(report);

    fn main() { report(total(load(1, "one"), load(2, "two"))) }
    flow(main);
"#;

fn cached_flow() -> Test {
    Test::new()
        .flow("main.rhai", FLOW)
        .file("data/a.csv", "id,value\n1,10\n")
}

/// Runs the flow once so every cached task has an entry.
fn warmed() -> Test {
    let t = cached_flow();
    t.clone()
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        .stdout_is("\"total is 8\"\n");
    t
}

/// The dry-run line of `node` (`cached  load  computed 0s ago`).
fn plan_line(t: &Test, node: &str) -> String {
    let out = t.clone().args(["run", "main.rhai", "--dry-run"]).run();
    out.code(0);
    out.stdout()
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(node))
        .unwrap_or_else(|| panic!("no plan line for {node}:\n{}", out.stdout()))
        .to_owned()
}

#[track_caller]
fn assert_miss(t: &Test, node: &str, reason: &str) {
    let line = plan_line(t, node);
    assert!(line.starts_with("run "), "{node} should run: {line}");
    assert!(
        line.contains(reason),
        "{node}: expected {reason:?} in {line:?}"
    );
}

#[track_caller]
fn assert_hit(t: &Test, node: &str) {
    let line = plan_line(t, node);
    assert!(
        line.starts_with("cached "),
        "{node} should be cached: {line}"
    );
}

fn edit(t: &Test, from: &str, to: &str) {
    let path = t.path().join("main.rhai");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "the flow lacks {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_second_run_takes_every_cached_task_from_the_cache() {
    let t = warmed();
    let out = t.clone().args(["run", "main.rhai"]).run();
    out.code(0).stdout_is("\"total is 8\"\n");
    out.stderr_line(&["cached", "load ", "computed"]);
    out.stderr_line(&["cached", "total", "computed"]);
    out.stderr_line(&["ok", "report"]);
    out.stderr_contains("1 succeeded, 3 cached");
}

#[test]
fn the_first_run_explains_that_there_was_no_entry() {
    let out = cached_flow().args(["run", "main.rhai"]).run();
    out.code(0);
    out.stderr_line(&["ok", "load", "cache miss: no previous entry"]);
}

#[test]
fn a_change_in_the_task_body_misses() {
    let t = warmed();
    edit(&t, "helper(n) + 1", "helper(n) + 2");
    assert_miss(&t, "load", "the code of task `load` changed");
}

#[test]
fn a_change_in_a_called_helper_misses_and_names_it() {
    let t = warmed();
    edit(&t, "x * 2", "x * 3");
    assert_miss(
        &t,
        "load",
        "the code of `helper`, a function the task calls changed",
    );
    // `total` cannot be judged before `load` runs again.
    assert_miss(&t, "total", "depends on `load`, which runs first");
}

#[test]
fn a_changed_argument_misses_and_names_its_position() {
    let t = warmed();
    edit(&t, r#"load(2, "two")"#, r#"load(2, "deux")"#);
    assert_miss(&t, "load#2", "argument 2 changed");
    assert_hit(&t, "load");
}

#[test]
fn a_changed_captured_value_misses() {
    let t = warmed();
    edit(&t, r#"let salt = "v1";"#, r#"let salt = "v2";"#);
    assert_miss(
        &t,
        "load",
        "the values the `cache_key` closure captures changed",
    );
}

#[test]
fn a_changed_input_file_misses_and_names_the_file() {
    let t = warmed();
    std::fs::write(t.path().join("data/a.csv"), "id,value\n1,11\n").unwrap();
    assert_miss(&t, "load", "input file `data/a.csv` changed");
    std::fs::write(t.path().join("data/b.csv"), "new").unwrap();
    assert_miss(&t, "load", "input file `data/b.csv` is new");
}

#[test]
fn an_expired_ttl_misses() {
    let t = Test::new().flow(
        "main.rhai",
        r#"
            fn quick() { 7 }
            task(quick, #{ cache_ttl: "3s" });
            fn main() { quick() }
            flow(main);
        "#,
    );
    t.clone().args(["run", "main.rhai"]).run().code(0);
    // Long enough that a loaded machine still checks the hit before the entry expires.
    assert_hit(&t, "quick");
    std::thread::sleep(Duration::from_millis(3100));
    assert_miss(&t, "quick", "cache_ttl expired (computed ");
}

#[test]
fn whitespace_comments_and_unrelated_code_keep_the_hit() {
    let t = warmed();
    edit(
        &t,
        "// A comment that a test moves around.",
        "\n\n   // Moved, and reworded.\n",
    );
    edit(
        &t,
        "fn helper(x) { x * 2 }",
        "fn helper(x) {\n    x  *  2   // doubled\n}",
    );
    edit(&t, "fn unrelated() { 1 }", "fn unrelated() { 1 + 41 }");
    assert_hit(&t, "load");
    assert_hit(&t, "load#2");
    assert_hit(&t, "total");
}

#[test]
fn dry_run_json_lists_every_node_with_action_and_reason() {
    let t = warmed();
    edit(&t, "x * 2", "x * 5");
    let out = t
        .clone()
        .args(["run", "main.rhai", "--dry-run", "--json"])
        .run();
    out.code(0);
    let doc: serde_json::Value = serde_json::from_str(out.stdout()).unwrap();
    assert_eq!(doc["schema"], 1);
    let nodes = doc["nodes"].as_array().unwrap();
    let names: Vec<&str> = nodes.iter().map(|n| n["node"].as_str().unwrap()).collect();
    assert_eq!(names, ["load", "load#2", "total", "report"]);
    assert_eq!(nodes[0]["action"], "run");
    assert!(nodes[0]["reason"].as_str().unwrap().contains("`helper`"));
    assert_eq!(nodes[3]["reason"], "not cached (no cache_ttl)");
}

#[test]
fn dry_run_runs_nothing_and_writes_no_run() {
    let t = cached_flow().flow(
        "side.rhai",
        r#"
            fn touch() { "touch ran.txt" }
            shell_task(touch, #{ cache_ttl: "1h" });
            fn main() { touch() }
            flow(main);
        "#,
    );
    t.clone()
        .args(["run", "side.rhai", "--dry-run"])
        .run()
        .code(0)
        .stdout_contains("run     touch");
    assert!(!t.path().join("ran.txt").exists());
    assert!(!t.path().join(".autowf/runs").exists());
}

#[test]
fn a_cached_unit_result_is_a_hit() {
    let t = Test::new().flow(
        "main.rhai",
        r#"
            fn nothing() { () }
            task(nothing, #{ cache_ttl: "forever" });
            fn main() { nothing() }
            flow(main);
        "#,
    );
    t.clone()
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        .stdout_is("null\n");
    let out = t.clone().args(["run", "main.rhai"]).run();
    out.code(0).stdout_is("null\n");
    out.stderr_line(&["cached", "nothing"]);
}

#[test]
fn shell_task_results_are_cached_and_the_command_does_not_run_again() {
    let t = Test::new().flow(
        "main.rhai",
        r#"
            fn count() { "echo x >> runs.txt; echo 5" }
            shell_task(count, #{ cache_ttl: "1h", output: "json" });
            fn main() { count() }
            flow(main);
        "#,
    );
    for _ in 0..3 {
        t.clone()
            .args(["run", "main.rhai"])
            .run()
            .code(0)
            .stdout_is("5\n");
    }
    let runs = std::fs::read_to_string(t.path().join("runs.txt")).unwrap();
    assert_eq!(runs.lines().count(), 1, "the command ran again: {runs:?}");
}

#[test]
fn no_cache_neither_reads_nor_writes_and_refresh_recomputes() {
    let t = Test::new().flow(
        "main.rhai",
        r#"
            fn count() { "echo x >> runs.txt; echo 5" }
            shell_task(count, #{ cache_ttl: "1h" });
            fn main() { count() }
            flow(main);
        "#,
    );
    let runs = |t: &Test| {
        std::fs::read_to_string(t.path().join("runs.txt"))
            .unwrap_or_default()
            .lines()
            .count()
    };
    t.clone()
        .args(["run", "main.rhai", "--no-cache"])
        .run()
        .code(0);
    assert!(
        !t.path().join(".autowf/cache/v1/entries").exists(),
        "--no-cache wrote"
    );
    t.clone().args(["run", "main.rhai"]).run().code(0);
    t.clone()
        .args(["run", "main.rhai", "--no-cache"])
        .run()
        .code(0);
    assert_eq!(runs(&t), 3, "--no-cache read the cache");
    let out = t.clone().args(["run", "main.rhai", "--refresh"]).run();
    out.code(0)
        .stderr_line(&["ok", "count", "cache miss: --refresh"]);
    assert_eq!(runs(&t), 4);
    t.clone()
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        .stderr_line(&["cached", "count"]);
    assert_eq!(runs(&t), 4);
}

fn entry_files(t: &Test) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for shard in std::fs::read_dir(t.path().join(".autowf/cache/v1/entries")).unwrap() {
        for f in std::fs::read_dir(shard.unwrap().path()).unwrap() {
            out.push(f.unwrap().path());
        }
    }
    out.sort();
    out
}

#[test]
fn a_damaged_entry_is_a_warning_then_recomputed() {
    type Damage = fn(&mut Vec<u8>);
    let damages: [(&str, Damage); 3] = [
        ("flip a byte", |b| {
            let i = b.len() - 3;
            b[i] ^= 0x01;
        }),
        ("truncate", |b| b.truncate(b.len() / 3)),
        ("empty", Vec::clear),
    ];
    for (what, damage) in damages {
        let t = warmed();
        for path in entry_files(&t) {
            let mut bytes = std::fs::read(&path).unwrap();
            damage(&mut bytes);
            std::fs::write(&path, bytes).unwrap();
        }
        t.clone()
            .args(["cache", "verify"])
            .run()
            .code(1)
            .stdout_contains("3 damaged");
        let out = t.clone().args(["run", "main.rhai"]).run();
        out.code(0).stdout_is("\"total is 8\"\n");
        out.stderr_line(&["load", "corrupt", "recomputing"]);
        out.stderr_line(&["ok", "load", "cache miss: the cache entry was corrupt"]);
        let verify = t.clone().args(["cache", "verify"]).run();
        assert_eq!(verify.exit_code(), Some(0), "{what}: {}", verify.stdout());
    }
}

#[test]
fn an_unwritable_cache_directory_is_an_environment_error_before_anything_runs() {
    let t = Test::new().flow(
        "main.rhai",
        r#"
            fn touch() { "touch ran.txt" }
            shell_task(touch, #{ cache_ttl: "1h" });
            fn main() { touch() }
            flow(main);
        "#,
    );
    // A file where the cache directory should be.
    std::fs::create_dir_all(t.path().join(".autowf/cache")).unwrap();
    std::fs::write(t.path().join(".autowf/cache/v1"), "not a directory").unwrap();
    t.clone()
        .args(["run", "main.rhai"])
        .run()
        .code(3)
        .stderr_contains("cache/v1");
    assert!(!t.path().join("ran.txt").exists());
}

const MANY_FLOW: &str = r#"
    fn piece(i) { let s = ""; for n in 0..200 { s += `${i}:${n};`; } s }
    task(piece, #{ cache_ttl: "1h" });
    fn main() {
        let items = [];
        for i in 0..40 { items.push(i); }
        fan_out(piece, items)
    }
    flow(main);
"#;

#[test]
fn eight_concurrent_runs_on_one_store_leave_only_sound_entries() {
    let t = Test::new().flow("main.rhai", MANY_FLOW);
    let dir = t.path();
    let children: Vec<_> = (0..8)
        .map(|_| {
            t.clone()
                .args(["run", "main.rhai", "--refresh", "-j", "4"])
                .spawn()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let verify = t.clone().args(["cache", "verify", "--json"]).run();
    verify.code(0);
    let doc: serde_json::Value = serde_json::from_str(verify.stdout()).unwrap();
    assert_eq!(doc["sound"], 40);
    let tmp = std::fs::read_dir(dir.join(".autowf/cache/v1/tmp"))
        .unwrap()
        .count();
    assert_eq!(tmp, 0, "temporary files left behind");
}

#[test]
fn runs_killed_at_random_moments_never_leave_a_damaged_entry() {
    let t = Test::new().flow("main.rhai", MANY_FLOW);
    // A cheap deterministic spread of kill times over the run (0-60 ms).
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..50 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut child = t
            .clone()
            .args(["run", "main.rhai", "--refresh", "-j", "2"])
            .spawn();
        std::thread::sleep(Duration::from_micros(seed % 60_000));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let verify = t.clone().args(["cache", "verify"]).run();
        assert_eq!(verify.exit_code(), Some(0), "{}", verify.stdout());
    }
    // What the killed runs left is usable: a full run completes and everything is sound.
    t.clone().args(["run", "main.rhai"]).run().code(0);
    t.clone()
        .args(["cache", "verify"])
        .run()
        .code(0)
        .stdout_contains("40 entries sound");
}

#[test]
fn cache_ls_rm_and_gc_manage_entries() {
    let t = warmed();
    let ls = t.clone().args(["cache", "ls"]).run();
    ls.code(0).stdout_contains("3 entries");
    let ls_json = t.clone().args(["cache", "ls", "--json"]).run();
    let doc: serde_json::Value = serde_json::from_str(ls_json.stdout()).unwrap();
    let entries = doc["entries"].as_array().unwrap();
    let total_key = entries.iter().find(|e| e["node"] == "total").unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    t.clone()
        .args(["cache", "rm", &total_key[..10]])
        .run()
        .code(0)
        .stderr_contains("removed 1 cache entry");
    assert_miss(&t, "total", "the entry was removed");
    t.clone()
        .args(["cache", "rm", "ab"])
        .run()
        .code(2)
        .stderr_contains("too short");
    t.clone()
        .args(["cache", "rm", "--task", "load"])
        .run()
        .code(0)
        .stderr_contains("removed 2 cache entries");
    t.clone().args(["run", "main.rhai"]).run().code(0);
    t.clone()
        .args(["cache", "gc", "--older-than", "1h"])
        .run()
        .code(0)
        .stderr_contains("removed 0");
    t.clone()
        .args(["cache", "gc", "--older-than", "0s"])
        .run()
        .code(0)
        .stderr_contains("removed 3");
    t.clone()
        .args(["cache", "ls"])
        .run()
        .code(0)
        .stdout_contains("the cache is empty");
}

#[test]
fn cache_commands_find_the_store_of_a_flow_elsewhere() {
    let t = Test::new()
        .flow("flows/main.rhai", FLOW)
        .file("flows/data/a.csv", "id\n");
    t.clone().args(["run", "flows/main.rhai"]).run().code(0);
    t.clone()
        .args(["cache", "ls"])
        .run()
        .code(0)
        .stdout_contains("the cache is empty");
    t.clone()
        .args(["cache", "ls", "--flow", "flows/main.rhai"])
        .run()
        .code(0)
        .stdout_contains("3 entries");
    t.clone()
        .args(["--state-dir", "flows/.autowf", "cache", "ls"])
        .run()
        .code(0)
        .stdout_contains("3 entries");
}

#[test]
fn a_hit_records_the_artifacts_the_node_stored_when_it_ran() {
    let t = Test::new().flow(
        "main.rhai",
        r#"
            fn build(v) {
                artifact_write("notes.txt", `built ${v}`);
                #{ version: v }
            }
            task(build, #{ cache_ttl: "1h", persist: true });
            fn main() { build("1.2") }
            flow(main);
        "#,
    );
    t.clone().args(["run", "main.rhai"]).run().code(0);
    let out = t.clone().args(["run", "main.rhai"]).run();
    out.code(0).stderr_line(&["cached", "build"]);
    let ls = t.clone().args(["artifacts", "ls", "last"]).run();
    ls.code(0)
        .stdout_contains("notes.txt")
        .stdout_contains("build.json");
    t.clone()
        .args(["artifacts", "get", "last", "notes.txt"])
        .run()
        .code(0)
        .stdout_is("built 1.2");
}
