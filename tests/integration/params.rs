//! Flow parameters: `-p key=value` typed by each param's default, `--params-file` (JSON and
//! TOML), precedence, required params, and how flow functions receive them.

use serde_json::json;

use crate::support::Test;

/// A flow whose result shows each param's value and Rhai type.
const TYPED_FLOW: &str = r#"
    fn report(day, limit, ratio, loud, tags, opts) {
        #{
            day: day, day_type: type_of(day),
            limit: limit, limit_type: type_of(limit),
            ratio: ratio, ratio_type: type_of(ratio),
            loud: loud, loud_type: type_of(loud),
            tags: tags, tags_type: type_of(tags),
            opts: opts, opts_type: type_of(opts),
        }
    }
    flow(report, #{ params: #{
        day: "mon", limit: 3, ratio: 0.5, loud: false, tags: ["x"], opts: #{ k: 0 },
    } });
"#;

/// The Rhai type names the flow above reports for every param when the types are right.
fn with_types(values: serde_json::Value) -> serde_json::Value {
    let serde_json::Value::Object(mut map) = values else {
        panic!("expected an object, got {values}");
    };
    for (key, ty) in [
        ("day", "string"),
        ("limit", "i64"),
        ("ratio", "f64"),
        ("loud", "bool"),
        ("tags", "array"),
        ("opts", "map"),
    ] {
        map.insert(format!("{key}_type"), json!(ty));
    }
    serde_json::Value::Object(map)
}

#[test]
fn defaults_apply_when_nothing_is_given() {
    let out = Test::new()
        .flow("main.rhai", TYPED_FLOW)
        .args(["run", "main.rhai"])
        .run();
    out.code(0);
    assert_eq!(
        out.stdout_json(),
        with_types(json!({
            "day": "mon", "limit": 3, "ratio": 0.5, "loud": false, "tags": ["x"], "opts": { "k": 0 },
        }))
    );
}

#[test]
fn cli_values_are_typed_by_the_default() {
    let out = Test::new()
        .flow("main.rhai", TYPED_FLOW)
        .args(["run", "main.rhai"])
        .args([
            "-p",
            "day=tue",
            "-p",
            "limit=7",
            "-p",
            "ratio=1.5",
            "-p",
            "loud=true",
        ])
        .args([
            "-p",
            r#"tags=["a", "b"]"#,
            "-p",
            r#"opts={"k": 1, "deep": [true]}"#,
        ])
        .run();
    out.code(0);
    assert_eq!(
        out.stdout_json(),
        with_types(json!({
            "day": "tue", "limit": 7, "ratio": 1.5, "loud": true,
            "tags": ["a", "b"], "opts": { "k": 1, "deep": [true] },
        }))
    );
}

#[test]
fn string_params_keep_their_text_as_is() {
    let out = Test::new()
        .flow("main.rhai", TYPED_FLOW)
        .args(["run", "main.rhai", "-p", "day=42", "-p", "ratio=2"])
        .args(["-p", "opts={}"])
        .run();
    out.code(0);
    let result = out.stdout_json();
    assert_eq!(result["day"], "42", "a string param stays a string");
    assert_eq!(
        result["ratio"],
        json!(2.0),
        "a float param takes an integer"
    );
    assert_eq!(result["opts"], json!({}));
}

#[test]
fn value_may_contain_equals_signs() {
    let out = Test::new()
        .flow("main.rhai", TYPED_FLOW)
        .args(["run", "main.rhai", "-p", "day=a=b"])
        .run();
    out.code(0);
    assert_eq!(out.stdout_json()["day"], "a=b");
}

#[test]
fn params_file_json_sets_values() {
    let out = Test::new()
        .flow("main.rhai", TYPED_FLOW)
        .file(
            "params.json",
            r#"{ "day": "wed", "limit": 9, "ratio": 3, "tags": [], "opts": { "z": null } }"#,
        )
        .args(["run", "main.rhai", "--params-file", "params.json"])
        .run();
    out.code(0);
    assert_eq!(
        out.stdout_json(),
        with_types(json!({
            "day": "wed", "limit": 9, "ratio": 3.0, "loud": false, "tags": [], "opts": { "z": null },
        }))
    );
}

#[test]
fn params_file_toml_sets_values() {
    let out = Test::new()
        .flow("main.rhai", TYPED_FLOW)
        .file(
            "params.toml",
            "day = \"thu\"\nlimit = 11\nloud = true\ntags = [\"t\"]\n\n[opts]\nk = 5\n",
        )
        .args(["run", "main.rhai", "--params-file", "params.toml"])
        .run();
    out.code(0);
    assert_eq!(
        out.stdout_json(),
        with_types(json!({
            "day": "thu", "limit": 11, "ratio": 0.5, "loud": true, "tags": ["t"], "opts": { "k": 5 },
        }))
    );
}

#[test]
fn cli_param_wins_over_the_params_file() {
    let out = Test::new()
        .flow("main.rhai", TYPED_FLOW)
        .file("params.json", r#"{ "day": "wed", "limit": 9 }"#)
        .args([
            "run",
            "main.rhai",
            "-p",
            "day=fri",
            "--params-file",
            "params.json",
        ])
        .run();
    out.code(0);
    let result = out.stdout_json();
    assert_eq!(result["day"], "fri", "`-p` wins even when given first");
    assert_eq!(result["limit"], 9, "the file still sets what `-p` does not");
}

#[test]
fn params_file_value_of_the_wrong_type_is_rejected() {
    Test::new()
        .flow("main.rhai", TYPED_FLOW)
        .file("params.json", r#"{ "limit": "many" }"#)
        .args(["run", "main.rhai", "--params-file", "params.json"])
        .run()
        .code(2)
        .stderr_contains(
            "error: invalid value for parameter `limit`: expected an integer, got a string",
        );
}

#[test]
fn flow_function_parameters_bind_by_name_in_any_order() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn describe_day(day, limit) { `${day}:${limit}` }
            task(describe_day);
            fn report(limit, day) { describe_day(day, limit) }
            flow(report, #{ params: #{ day: "mon", limit: 3, unused: true } });
            "#,
        )
        .args(["run", "main.rhai", "-p", "limit=5"])
        .run();
    out.code(0).stdout_is("\"mon:5\"\n");
}

#[test]
fn parameter_named_params_receives_the_whole_map() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn pipeline(params) { params }
            flow(pipeline, #{ params: #{ a: 1, b: "x" } });
            "#,
        )
        .args(["run", "main.rhai", "-p", "a=5"])
        .run();
    out.code(0);
    assert_eq!(out.stdout_json(), json!({ "a": 5, "b": "x" }));
}

#[test]
fn tasks_see_params_through_ctx() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn show() { ctx().params }
            task(show);
            fn main() { show() }
            flow(main, #{ params: #{ who: "world" } });
            "#,
        )
        .args(["run", "main.rhai", "-p", "who=you"])
        .run();
    out.code(0);
    assert_eq!(out.stdout_json(), json!({ "who": "you" }));
}

#[test]
fn required_param_takes_json_when_it_parses_else_text() {
    let test = Test::new().flow(
        "main.rhai",
        r"
        fn deploy(target) { target }
        flow(deploy, #{ params: #{ target: () } });
        ",
    );
    let as_json = test
        .clone()
        .args(["run", "main.rhai", "-p", "target=[1, 2]"])
        .run();
    as_json.code(0);
    assert_eq!(as_json.stdout_json(), json!([1, 2]));
    test.args(["run", "main.rhai", "-p", "target=prod eu"])
        .run()
        .code(0)
        .stdout_is("\"prod eu\"\n");
}

#[test]
fn summary_records_the_bound_params() {
    let out = Test::new()
        .flow("main.rhai", TYPED_FLOW)
        .args(["run", "main.rhai", "--json", "-p", "limit=8"])
        .run();
    out.code(0);
    let summary = out.summary();
    assert_eq!(summary.0["params"]["limit"], 8);
    assert_eq!(summary.0["params"]["day"], "mon");
}
