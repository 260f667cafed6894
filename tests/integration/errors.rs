//! Errors found before anything runs: exit code 2, nothing executed, and a message with
//! ` --> file:line:col`, the source line and a caret when the script is at fault.
//!
//! Flows here call `mark()`, a shell task that creates `ran`, so each test can check that
//! nothing ran.

use crate::support::{SUM_FLOW, Test};

/// A shell task whose only effect is the file `ran`; prepended to the flows below.
const MARK: &str = "fn mark() { \"touch ran\" }\nshell_task(mark);\n";

/// A test whose `main.rhai` is [`MARK`] followed by `body` (dedented).
fn with_marked_flow(body: &str) -> Test {
    let text = format!("{MARK}{}", crate::support::dedent(body));
    Test::new().file("main.rhai", &text)
}

#[test]
fn syntax_error_points_at_the_token() {
    Test::new()
        .flow(
            "main.rhai",
            r"
            fn main() {
                let x = ;
            }
            flow(main);
            ",
        )
        .args(["run", "main.rhai"])
        .run()
        .code(2)
        .stdout_is("")
        .stderr_is(
            "\
error: syntax error: unexpected ';'
 --> main.rhai:2:13
  |
2 |     let x = ;
  |             ^
",
        );
}

#[test]
fn unknown_option_lists_valid_ones_and_suggests_the_nearest() {
    with_marked_flow(
        r"
        fn fetch() { 1 }
        task(fetch, #{ retires: 2 });
        fn main() { [mark(), fetch()] }
        flow(main);
        ",
    )
    .args(["run", "main.rhai"])
    .run()
    .code(2)
    .stdout_is("")
    .error_at("unknown option `retires`", "main.rhai:4:1")
    .stderr_contains("help: did you mean `retries`? valid options: retries, retry_backoff, ")
    .stderr_contains(", timeout, ")
    .no_file("ran");
}

#[test]
fn shell_only_option_on_a_rhai_task_is_unknown() {
    with_marked_flow(
        r#"
        fn fetch() { 1 }
        task(fetch, #{ output: "json" });
        fn main() { fetch() }
        flow(main);
        "#,
    )
    .args(["run", "main.rhai"])
    .run()
    .code(2)
    .error_at("unknown option `output`", "main.rhai:4:1");
}

#[test]
fn unknown_flow_option_suggests_the_nearest() {
    with_marked_flow(
        r#"
        fn main() { mark() }
        flow(main, #{ on_failur: "keep_going" });
        "#,
    )
    .args(["run", "main.rhai"])
    .run()
    .code(2)
    .error_at("unknown option `on_failur`", "main.rhai:4:1")
    .stderr_contains("did you mean `on_failure`?")
    .no_file("ran");
}

#[test]
fn option_of_the_wrong_type_is_rejected() {
    with_marked_flow(
        r#"
        fn fetch() { 1 }
        task(fetch, #{ timeout: "soon" });
        fn main() { [mark(), fetch()] }
        flow(main);
        "#,
    )
    .args(["run", "main.rhai"])
    .run()
    .code(2)
    .stderr_contains("error: invalid value for option `timeout`: `soon` is not a duration")
    .snippet_at("main.rhai:4:1")
    .no_file("ran");
}

#[test]
fn negative_retries_are_rejected() {
    with_marked_flow(
        r"
        fn fetch() { 1 }
        task(fetch, #{ retries: -1 });
        fn main() { [mark(), fetch()] }
        flow(main);
        ",
    )
    .args(["run", "main.rhai"])
    .run()
    .code(2)
    .error_at(
        "invalid value for option `retries`: expected an integer of at least 0, got -1",
        "main.rhai:4:1",
    )
    .no_file("ran");
}

#[test]
fn duplicate_registration_shows_both_places() {
    with_marked_flow(
        r"
        fn fetch() { 1 }
        task(fetch);
        task(fetch, #{ retries: 1 });
        fn main() { [mark(), fetch()] }
        flow(main);
        ",
    )
    .args(["run", "main.rhai"])
    .run()
    .code(2)
    .error_at("`fetch` is registered twice", "main.rhai:5:1")
    .stderr_contains("note: first registered here\n")
    .snippet_at("main.rhai:4:1")
    .no_file("ran");
}

#[test]
fn cycle_is_printed_as_its_whole_path() {
    with_marked_flow(
        r#"
        fn a() { 1 }
        fn b() { 2 }
        task(a);
        task(b);
        fn main() {
            let m = mark();
            let x = a().after("b");
            let y = b().after("a");
            [m, x, y]
        }
        flow(main);
        "#,
    )
    .args(["run", "main.rhai"])
    .run()
    .code(2)
    .stdout_is("")
    .error_at("the flow has a cycle: `a` -> `b` -> `a`", "main.rhai:9:13")
    .stderr_contains("note: `b` runs after `a`\n")
    .snippet_at("main.rhai:10:17")
    .stderr_contains("note: `a` runs after `b`\n")
    .snippet_at("main.rhai:9:17")
    .no_file("ran");
}

#[test]
fn unknown_after_target_suggests_the_nearest_node() {
    with_marked_flow(
        r#"
        fn build() { 1 }
        fn deploy() { 2 }
        task(build);
        task(deploy);
        fn main() {
            let m = mark();
            let b = build();
            deploy().after("biuld")
        }
        flow(main);
        "#,
    )
    .args(["run", "main.rhai"])
    .run()
    .code(2)
    .error_at(
        "`deploy` depends on unknown node `biuld`",
        "main.rhai:10:14",
    )
    .stderr_contains("help: did you mean `build`?")
    .no_file("ran");
}

#[test]
fn every_graph_error_is_reported_not_just_the_first() {
    with_marked_flow(
        r#"
        fn build() { 1 }
        task(build);
        fn main() {
            let m = mark().after("nowhere");
            build().after("nothing")
        }
        flow(main);
        "#,
    )
    .args(["run", "main.rhai"])
    .run()
    .code(2)
    .error_at("`mark` depends on unknown node `nowhere`", "main.rhai:6:20")
    .error_at(
        "`build` depends on unknown node `nothing`",
        "main.rhai:7:13",
    )
    .no_file("ran");
}

#[test]
fn handle_used_as_a_plain_value_hints_at_then() {
    with_marked_flow(
        r"
        fn total() { 11 }
        fn big() { 1 }
        task(total);
        task(big);
        fn main() {
            let m = mark();
            let t = total();
            if t > 10 { big() } else { t }
        }
        flow(main);
        ",
    )
    .args(["run", "main.rhai"])
    .run()
    .code(2)
    .error_at(
        "cannot use a task result with `>` while building the flow",
        "main.rhai:10:10",
    )
    .stderr_contains(
        "help: a task's result is not known while the flow is being built: use `.then(",
    )
    .no_file("ran");
}

#[test]
fn handle_method_call_in_a_flow_body_hints_at_then() {
    with_marked_flow(
        r"
        fn nums() { [1, 2] }
        task(nums);
        fn main() {
            let m = mark();
            let n = nums();
            n.len()
        }
        flow(main);
        ",
    )
    .args(["run", "main.rhai"])
    .run()
    .code(2)
    .stderr_contains("error: cannot use a task result with `len` while building the flow")
    .stderr_contains("`.then(")
    .no_file("ran");
}

#[test]
fn duplicate_node_names_are_rejected() {
    with_marked_flow(
        r#"
        fn step() { 1 }
        task(step);
        fn main() {
            let m = mark();
            let a = step().named("same");
            let b = step().named("same");
            [a, b]
        }
        flow(main);
        "#,
    )
    .args(["run", "main.rhai"])
    .run()
    .code(2)
    .stderr_contains("error: two nodes are named `same`")
    .no_file("ran");
}

#[test]
fn missing_flow_file_is_a_usage_error() {
    Test::new()
        .args(["run", "missing.rhai"])
        .run()
        .code(2)
        .stdout_is("")
        .stderr_contains("error: cannot read flow file `missing.rhai`");
}

#[test]
fn unknown_flow_name_suggests_the_nearest() {
    Test::new()
        .flow("main.rhai", SUM_FLOW)
        .args(["run", "main.rhai", "maim"])
        .run()
        .code(2)
        .stderr_is(
            "\
error: `main.rhai` has no flow `maim`
help: did you mean `main`? flows: main
",
        );
}

#[test]
fn several_flows_and_none_named_lists_them() {
    with_marked_flow(
        r"
        fn first() { mark() }
        fn second() { mark() }
        flow(first);
        flow(second);
        ",
    )
    .args(["run", "main.rhai"])
    .run()
    .code(2)
    .stderr_contains("error: `main.rhai` has several flows; name the one to use")
    .stderr_contains("help: flows: first, second")
    .no_file("ran");
}

/// A flow `report` with typed params; used by the parameter error tests.
const REPORT_FLOW: &str = r#"
    fn report(day, limit) { [mark(), day, limit] }
    flow(report, #{ params: #{ day: "mon", limit: 3, tags: [] } });
"#;

#[test]
fn bad_param_value_names_the_expected_type() {
    with_marked_flow(REPORT_FLOW)
        .args(["run", "main.rhai", "-p", "limit=abc"])
        .run()
        .code(2)
        .stderr_contains(
            "error: invalid value for parameter `limit`: expected an integer, got `abc`",
        )
        .no_file("ran");
}

#[test]
fn bad_json_for_a_list_param_is_rejected() {
    with_marked_flow(REPORT_FLOW)
        .args(["run", "main.rhai", "-p", "tags=not-json"])
        .run()
        .code(2)
        .stderr_contains("error: invalid value for parameter `tags`")
        .no_file("ran");
}

#[test]
fn unknown_param_suggests_the_nearest() {
    with_marked_flow(REPORT_FLOW)
        .args(["run", "main.rhai", "-p", "limt=4"])
        .run()
        .code(2)
        .stderr_contains("error: flow `report` has no parameter `limt`")
        .stderr_contains("did you mean `limit`?")
        .no_file("ran");
}

#[test]
fn missing_required_param_is_named() {
    with_marked_flow(
        r"
        fn deploy(target) { [mark(), target] }
        flow(deploy, #{ params: #{ target: () } });
        ",
    )
    .args(["run", "main.rhai"])
    .run()
    .code(2)
    .stderr_contains("error: flow `deploy` requires parameter `target`")
    .stderr_contains("-p target=")
    .no_file("ran");
}

#[test]
fn undeclared_flow_function_parameter_is_rejected() {
    with_marked_flow(
        r"
        fn report(day) { [mark(), day] }
        flow(report);
        ",
    )
    .args(["run", "main.rhai"])
    .run()
    .code(2)
    .error_at(
        "parameter `day` of flow `report` is not declared in its `params`",
        "main.rhai:4:1",
    )
    .no_file("ran");
}

#[test]
fn invalid_params_file_is_rejected() {
    with_marked_flow(REPORT_FLOW)
        .file("params.json", "{ not json")
        .args(["run", "main.rhai", "--params-file", "params.json"])
        .run()
        .code(2)
        .stderr_contains("error: params file `params.json` is invalid")
        .no_file("ran");
}

#[test]
fn zero_jobs_is_a_usage_error() {
    Test::new()
        .flow("main.rhai", SUM_FLOW)
        .args(["run", "main.rhai", "-j", "0"])
        .run()
        .code(2)
        .stdout_is("")
        .stderr_contains("--jobs");
}

#[test]
fn unknown_on_failure_names_both_choices() {
    Test::new()
        .flow("main.rhai", SUM_FLOW)
        .args(["run", "main.rhai", "--on-failure", "sometimes"])
        .run()
        .code(2)
        .stderr_contains("fail_fast")
        .stderr_contains("keep_going");
}

#[test]
fn bad_run_timeout_is_a_usage_error() {
    Test::new()
        .flow("main.rhai", SUM_FLOW)
        .args(["run", "main.rhai", "--timeout", "soon"])
        .run()
        .code(2)
        .stderr_contains("`soon` is not a duration");
}

#[test]
fn graph_errors_fail_describe_and_export_dot_too() {
    let test = with_marked_flow(
        r#"
        fn a() { 1 }
        task(a);
        fn main() { a().after("b") }
        flow(main);
        "#,
    );
    for command in ["describe", "export-dot"] {
        test.clone()
            .args([command, "main.rhai"])
            .run()
            .code(2)
            .stdout_is("")
            .stderr_contains("error: `a` depends on unknown node `b`");
    }
}
