//! The scheduler as seen from outside: node names, the `--jobs` bound, priorities, runtime
//! fan-out (`.map`, `fan_out`), `.then`, `.after` and nested flows.

use serde_json::json;

use crate::support::{Output, Test, max_overlap};

/// A shell task that logs `start`/`end` timestamps to `log.txt` around a short sleep.
const TIMED_WORK: &str = r#"
    fn work(i) {
        `echo "start $(date +%s%N)" >> log.txt; sleep 0.1; echo "end $(date +%s%N)" >> log.txt; echo ${i}`
    }
"#;

/// Checks the `log.txt` of a run of `TIMED_WORK` tasks: each of `tasks` ran once, and at most
/// `limit` ran at once. Returns the largest overlap seen and the log.
fn ran_once_each_at_most(out: &Output, tasks: usize, limit: usize) -> (usize, String) {
    let log = out.file("log.txt");
    assert_eq!(log.lines().count(), 2 * tasks, "every task ran once: {log}");
    let overlap = max_overlap(&log);
    assert!(
        overlap <= limit,
        "at most {limit} at once, saw {overlap}:\n{log}"
    );
    (overlap, log)
}

#[test]
fn nodes_are_named_by_task_call_order_index_and_namespace() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn compute(x) { x * 2 }
            fn square(x) { x * x }
            fn add(a, b) { a + b }
            task(compute);
            task(square);
            task(add);
            fn sub(x) { add(x, 1) }
            flow(sub, #{ params: #{ x: 0 } });
            fn main() {
                let a = compute(1);
                let b = compute(2);
                let squares = fan_out(square, [3, 4]);
                let s1 = sub(a);
                let s2 = sub(b);
                let total = add(s1, s2).named("total");
                [a, b, squares, total, [5].map(square)]
            }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "main", "--json"])
        .run();
    out.code(0);
    let summary = out.summary();
    assert_eq!(
        summary.names(),
        [
            "compute",
            "compute#2",
            "square[0]",
            "square[1]",
            "sub/add",
            "sub#2/add",
            "total",
            "square#2[0]",
        ]
    );
    assert_eq!(summary.node("sub#2/add")["task"], "add");
    assert_eq!(summary.node("total")["task"], "add");
    assert_eq!(summary.result(), &json!([2, 4, [9, 16], 8, [25]]));
}

#[test]
fn runtime_fan_out_children_are_indexed_under_the_map_node() {
    let out = Test::new()
        .flow("main.rhai", FAN_OUT_FLOW)
        .args(["run", "main.rhai", "--json", "-p", "n=3"])
        .run();
    out.code(0);
    let summary = out.summary();
    assert_eq!(
        summary.names(),
        ["nums", "square", "square[0]", "square[1]", "square[2]"]
    );
    assert_eq!(summary.result(), &json!([0, 1, 4]));
}

/// `nums(n)` returns `[0, n)`; the flow squares each element at run time.
const FAN_OUT_FLOW: &str = r"
    fn nums(n) { let xs = []; for i in 0..n { xs.push(i); } xs }
    fn square(x) { x * x }
    task(nums);
    task(square);
    fn main(n) { nums(n).map(square) }
    flow(main, #{ params: #{ n: 3 } });
";

#[test]
fn runtime_fan_out_over_an_empty_list_yields_an_empty_list() {
    let out = Test::new()
        .flow("main.rhai", FAN_OUT_FLOW)
        .args(["run", "main.rhai", "--json", "-p", "n=0"])
        .run();
    out.code(0);
    let summary = out.summary();
    assert_eq!(summary.names(), ["nums", "square"]);
    assert_eq!(summary.status("square"), "succeeded");
    assert_eq!(summary.result(), &json!([]));
}

#[test]
fn runtime_fan_out_over_one_element() {
    Test::new()
        .flow("main.rhai", FAN_OUT_FLOW)
        .args(["run", "main.rhai", "-p", "n=1"])
        .run()
        .code(0)
        .stdout_is("[\n  0\n]\n");
}

#[test]
fn runtime_fan_out_over_ten_thousand_elements() {
    let out = Test::new()
        .flow("main.rhai", FAN_OUT_FLOW)
        .args(["run", "main.rhai", "--json", "-q", "-p", "n=10000"])
        .run();
    out.code(0);
    let summary = out.summary();
    assert_eq!(summary.0["counts"]["succeeded"], 10_002);
    let result = summary.result().as_array().expect("a list");
    assert_eq!(result.len(), 10_000);
    assert_eq!(result[9_999], 9_999 * 9_999);
    assert!(result.iter().enumerate().all(|(i, v)| v == &json!(i * i)));
}

#[test]
fn max_dynamic_tasks_fails_a_larger_fan_out() {
    let out = Test::new()
        .flow("main.rhai", FAN_OUT_FLOW)
        .args([
            "run",
            "main.rhai",
            "--json",
            "-p",
            "n=10",
            "--max-dynamic-tasks",
            "5",
        ])
        .run();
    out.code(1).stderr_contains("--max-dynamic-tasks");
    let summary = out.summary();
    assert_eq!(summary.status("nums"), "succeeded");
    assert_eq!(summary.status("square"), "failed");
    let message = summary.node("square")["error"]["message"]
        .as_str()
        .expect("an error message");
    assert!(
        message.contains("10") && message.contains('5'),
        "names the size and the limit: {message}"
    );
    assert!(
        !summary.names().contains(&"square[0]"),
        "no child was created"
    );
}

#[test]
fn max_dynamic_tasks_allows_a_fan_out_within_it() {
    Test::new()
        .flow("main.rhai", FAN_OUT_FLOW)
        .args(["run", "main.rhai", "-p", "n=5", "--max-dynamic-tasks", "5"])
        .run()
        .code(0);
}

#[test]
fn map_over_a_non_list_fails_naming_the_type() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r"
            fn one() { 42 }
            fn square(x) { x * x }
            task(one);
            task(square);
            fn main() { one().map(square) }
            flow(main);
            ",
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1).stderr_contains("which is int, not a list");
    assert_eq!(out.summary().status("square"), "failed");
}

#[test]
fn then_takes_the_branch_the_value_picks() {
    let test = Test::new().flow(
        "main.rhai",
        r"
        fn total(n) { n }
        fn big(x) { `big:${x}` }
        fn small(x) { `small:${x}` }
        task(total);
        task(big);
        task(small);
        fn main(n) { total(n).then(|t| if t > 10 { big(t) } else { small(t) }) }
        flow(main, #{ params: #{ n: 3 } });
        ",
    );
    let small = test.clone().args(["run", "main.rhai", "--json"]).run();
    small.code(0);
    let summary = small.summary();
    assert_eq!(summary.names(), ["total", "then", "then/small"]);
    assert_eq!(summary.result(), &json!("small:3"));

    let big = test
        .args(["run", "main.rhai", "--json", "-p", "n=20"])
        .run();
    big.code(0);
    let summary = big.summary();
    assert_eq!(summary.names(), ["total", "then", "then/big"]);
    assert_eq!(summary.result(), &json!("big:20"));
}

#[test]
fn jobs_bound_is_never_exceeded() {
    let out = Test::new()
        .flow(
            "main.rhai",
            &format!(
                "{TIMED_WORK}\n{}",
                r"
                shell_task(work);
                fn main() { fan_out(work, [0, 1, 2, 3, 4, 5, 6, 7]) }
                flow(main);
                "
            ),
        )
        .args(["run", "main.rhai", "--jobs", "3"])
        .run();
    out.code(0);
    let (overlap, log) = ran_once_each_at_most(&out, 8, 3);
    assert!(
        overlap >= 2,
        "tasks did run in parallel, saw {overlap}:\n{log}"
    );
}

#[test]
fn jobs_bound_holds_for_rhai_tasks_too() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn work(i) {
                sh("echo start $(date +%s%N) >> log.txt");
                sleep(0.1);
                sh("echo end $(date +%s%N) >> log.txt");
                i
            }
            task(work);
            fn main() { fan_out(work, [0, 1, 2, 3, 4, 5]) }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "--jobs", "2"])
        .run();
    out.code(0);
    ran_once_each_at_most(&out, 6, 2);
}

#[test]
fn fan_out_max_concurrency_limits_its_children() {
    let out = Test::new()
        .flow(
            "main.rhai",
            &format!(
                "{TIMED_WORK}\n{}",
                r"
                shell_task(work);
                fn main() { fan_out(work, [0, 1, 2, 3, 4, 5], #{ max_concurrency: 2 }) }
                flow(main);
                "
            ),
        )
        .args(["run", "main.rhai", "--jobs", "8"])
        .run();
    out.code(0);
    assert_eq!(out.stdout_json(), json!(["0", "1", "2", "3", "4", "5"]));
    ran_once_each_at_most(&out, 6, 2);
}

#[test]
fn runtime_fan_out_max_concurrency_limits_its_children() {
    let out = Test::new()
        .flow(
            "main.rhai",
            &format!(
                "{TIMED_WORK}\n{}",
                r"
                fn items() { [0, 1, 2, 3, 4, 5] }
                task(items);
                shell_task(work);
                fn main() { fan_out(work, items(), #{ max_concurrency: 2 }) }
                flow(main);
                "
            ),
        )
        .args(["run", "main.rhai", "--jobs", "8"])
        .run();
    out.code(0);
    ran_once_each_at_most(&out, 6, 2);
}

#[test]
fn task_max_concurrency_limits_its_nodes() {
    let out = Test::new()
        .flow(
            "main.rhai",
            &format!(
                "{TIMED_WORK}\n{}",
                r"
                shell_task(work, #{ max_concurrency: 1 });
                fn main() { [work(1), work(2), work(3)] }
                flow(main);
                "
            ),
        )
        .args(["run", "main.rhai", "--jobs", "4"])
        .run();
    out.code(0);
    let log = out.file("log.txt");
    assert_eq!(max_overlap(&log), 1, "one at a time:\n{log}");
}

#[test]
fn higher_priority_runs_first_then_declaration_order() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn low() { "echo $AUTOWF_NODE >> order.txt" }
            fn mid() { "echo $AUTOWF_NODE >> order.txt" }
            fn high() { "echo $AUTOWF_NODE >> order.txt" }
            shell_task(low, #{ priority: -1 });
            shell_task(mid);
            shell_task(high, #{ priority: 5 });
            fn main() { [low(), mid(), high(), mid()] }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "--jobs", "1"])
        .run();
    out.code(0);
    assert_eq!(out.file("order.txt"), "high\nmid\nmid#2\nlow\n");
}

#[test]
fn node_priority_can_be_overridden_with_options() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn step() { "echo $AUTOWF_NODE >> order.txt" }
            shell_task(step);
            fn main() { [step(), step(), step().options(#{ priority: 1 })] }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "--jobs", "1"])
        .run();
    out.code(0);
    assert_eq!(out.file("order.txt"), "step#3\nstep\nstep#2\n");
}

#[test]
fn after_orders_nodes_without_passing_data() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn first() { "sleep 0.1; echo first >> order.txt" }
            fn second() { "echo second >> order.txt" }
            shell_task(first);
            shell_task(second, #{ priority: 9 });
            fn main() {
                let a = first();
                let b = second().after(a);
                let c = second().after("first");
                [a, b, c]
            }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "--jobs", "4"])
        .run();
    out.code(0);
    assert_eq!(out.file("order.txt"), "first\nsecond\nsecond\n");
}

#[test]
fn nested_flows_pass_results_between_namespaces() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn add(a, b) { a + b }
            task(add);
            fn inc(x) { add(x, 1).named("plus_one") }
            flow(inc, #{ params: #{ x: 0 } });
            fn main() { let a = inc(1); let b = inc(a); inc(b) }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "main", "--json"])
        .run();
    out.code(0);
    let summary = out.summary();
    assert_eq!(
        summary.names(),
        ["inc/plus_one", "inc#2/plus_one", "inc#3/plus_one"]
    );
    assert_eq!(summary.result(), &json!(4));
}

#[test]
fn a_nested_flow_runs_on_its_own_too() {
    Test::new()
        .flow(
            "main.rhai",
            r"
            fn add(a, b) { a + b }
            task(add);
            fn inc(x) { add(x, 1) }
            flow(inc, #{ params: #{ x: 0 } });
            fn main() { inc(inc(1)) }
            flow(main);
            ",
        )
        .args(["run", "main.rhai", "inc", "-p", "x=41"])
        .run()
        .code(0)
        .stdout_is("42\n");
}

#[test]
fn a_closure_map_names_each_elements_nodes_apart() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn files() { ["a", "b", "c"] }
            fn load(f) { f + "!" }
            task(files);
            task(load);
            fn main() { files().map(|f| load(f)) }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(0);
    let summary = out.summary();
    assert_eq!(summary.result(), &json!(["a!", "b!", "c!"]));
    for name in ["map[0]/load", "map[1]/load", "map[2]/load"] {
        assert_eq!(summary.status(name), "succeeded", "{name}");
    }
}

#[test]
fn a_fan_out_whose_child_failed_is_skipped_not_cancelled() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn nums() { [1, 2, 3] }
            fn check(x) { if x == 2 { throw "two is unlucky"; } x }
            fn total(xs) { xs.len() }
            task(nums);
            task(check);
            task(total);
            fn main() { total(nums().map(check)) }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "--json", "-j", "1"])
        .run();
    out.code(1);
    let summary = out.summary();
    assert_eq!(summary.status("check[1]"), "failed");
    assert_eq!(summary.status("check"), "skipped");
    assert_eq!(
        summary.node("check")["reason"],
        "`check[1]` did not succeed"
    );
    assert_eq!(summary.status("total"), "skipped");
}

#[test]
fn an_expansion_error_is_not_retried() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn one() { 1 }
            fn sq(x) { x * x }
            task(one);
            task(sq, #{ retries: 2, retry_backoff: "10ms" });
            fn main() { one().map(sq) }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1);
    let summary = out.summary();
    assert_eq!(summary.status("sq"), "failed");
    assert_eq!(summary.attempts("sq"), 1);
}

#[test]
fn a_pool_bounds_the_tasks_that_use_it() {
    let out = Test::new()
        .flow(
            "main.rhai",
            &format!(
                "{TIMED_WORK}\n{}",
                r#"
                shell_task(work, #{ pool: "db", pool_slots: 2 });
                fn main() { fan_out(work, [0, 1, 2, 3]) }
                flow(main, #{ pools: #{ db: 3 } });
                "#
            ),
        )
        .args(["run", "main.rhai", "--jobs", "8"])
        .run();
    out.code(0);
    let log = out.file("log.txt");
    assert_eq!(log.lines().count(), 8, "every task ran once: {log}");
    assert_eq!(
        max_overlap(&log),
        1,
        "two slots each in a pool of three: one at a time:\n{log}"
    );
}

#[test]
fn an_undeclared_pool_is_an_error_before_anything_runs() {
    Test::new()
        .flow(
            "main.rhai",
            r#"
            fn step() { "touch ran" }
            shell_task(step, #{ pool: "dbx" });
            fn main() { step() }
            flow(main, #{ pools: #{ db: 2 } });
            "#,
        )
        .args(["run", "main.rhai"])
        .run()
        .code(2)
        .stderr_contains(
            "error: `step` uses pool `dbx`, which the flow does not declare (pools: db)",
        )
        .no_file("ran");
}
