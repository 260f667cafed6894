//! Trigger rules: `all_done` runs whatever its dependencies did, `one_failed` only when one
//! failed, `always` even when the run stops; such nodes see `()` for failed inputs and
//! `ctx().upstream`.

use serde_json::json;

use crate::support::Test;

const FLOWS: &str = r#"
    fn good() { 1 }
    fn bad() { throw "boom"; }
    fn slow() { sleep(5); 2 }
    fn cleanup(a, b) {
        let seen = #{ a: a, b: b, upstream: ctx().upstream };
        sh(`echo ${shell_quote(seen.to_json())} > cleanup.json`);
        "cleaned"
    }
    fn alert(x) { `echo "alert: $0" > alert.txt` }
    fn fin() { "touch finally.txt" }
    task(good);
    task(bad);
    task(slow);
    task(cleanup, #{ trigger: "all_done" });
    shell_task(alert, #{ trigger: "one_failed" });
    shell_task(fin, #{ trigger: "always" });
    fn failing() { #{ c: cleanup(good(), bad()), a: alert(bad()) } }
    fn fine() { let g = good(); #{ a: alert(g), g: g } }
    fn stopping() { let b = bad(); let s = slow(); fin().after([b, s]) }
    flow(failing); flow(fine); flow(stopping);
"#;

#[test]
fn all_done_runs_after_a_failure_with_unit_inputs_and_upstream() {
    let out = Test::new()
        .flow("main.rhai", FLOWS)
        .args([
            "run",
            "main.rhai",
            "failing",
            "--on-failure",
            "keep_going",
            "--json",
        ])
        .run();
    out.code(1);
    let summary = out.summary();
    assert_eq!(summary.status("cleanup"), "succeeded");
    assert_eq!(summary.status("alert"), "succeeded");
    let seen: serde_json::Value = serde_json::from_str(&out.file("cleanup.json")).unwrap();
    assert_eq!(seen["a"], json!(1));
    assert_eq!(seen["b"], json!(null), "a failed input arrives as ()");
    assert_eq!(
        seen["upstream"],
        json!([
            { "name": "good", "status": "succeeded", "error": null },
            { "name": "bad", "status": "failed", "error": "boom" },
        ])
    );
    assert!(out.file("alert.txt").starts_with("alert:"));
}

#[test]
fn one_failed_is_skipped_when_nothing_failed_and_the_run_still_succeeds() {
    let out = Test::new()
        .flow("main.rhai", FLOWS)
        .args(["run", "main.rhai", "fine", "--json"])
        .run();
    out.code(0).no_file("alert.txt");
    let summary = out.summary();
    assert_eq!(summary.status("alert"), "skipped");
    assert_eq!(
        summary.node("alert")["reason"],
        "no dependency failed (`trigger: \"one_failed\"`)"
    );
}

#[test]
fn always_runs_like_a_finally_when_the_run_fails_fast() {
    let out = Test::new()
        .flow("main.rhai", FLOWS)
        .args(["run", "main.rhai", "stopping", "--json"])
        .run();
    out.code(1);
    let summary = out.summary();
    assert_eq!(summary.status("bad"), "failed");
    assert_eq!(summary.status("slow"), "cancelled");
    assert_eq!(summary.status("fin"), "succeeded");
    assert!(out.path().join("finally.txt").exists());
}

#[test]
fn all_done_and_one_failed_do_not_start_once_the_run_fails_fast() {
    let out = Test::new()
        .flow("main.rhai", FLOWS)
        .args(["run", "main.rhai", "failing", "--json", "-j", "1"])
        .run();
    out.code(1);
    let summary = out.summary();
    assert_eq!(summary.status("cleanup"), "cancelled");
    assert_eq!(summary.status("alert"), "cancelled");
}
