//! Configuration layers: defaults, the user's `config.toml`, the project's `autowf.toml`,
//! `AUTOWF_*` variables, flags; `autowf config` shows each setting and its source.

use crate::support::Test;

const FLOW: &str = "fn a() { 1 }\ntask(a);\nfn main() { a() }\nflow(main);\n";

/// A project with a user config (under `home/`), a project config and a flow in `proj/sub/`.
fn layered() -> Test {
    let test = Test::new()
        .file(
            "home/autowf/config.toml",
            "jobs = 3\nretries = 2\n[pools]\ndb = 4\n",
        )
        .file(
            "proj/autowf.toml",
            "jobs = 5\non-failure = \"keep_going\"\ntimeout = \"30s\"\n",
        )
        .file("proj/sub/f.rhai", FLOW);
    let home = test.path().join("home");
    test.env("XDG_CONFIG_HOME", home.to_str().unwrap())
}

fn line_of<'a>(stdout: &'a str, key: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(&format!("{key} ")))
        .unwrap_or_else(|| panic!("no `{key}` in:\n{stdout}"))
}

#[test]
fn each_layer_overrides_the_one_below() {
    let out = layered().args(["config", "proj/sub/f.rhai"]).run();
    out.code(0);
    let s = out.stdout();
    assert!(
        line_of(s, "jobs").ends_with("5  (proj/autowf.toml:1)"),
        "{s}"
    );
    assert!(
        line_of(s, "retries").contains("2  (")
            && line_of(s, "retries").ends_with("home/autowf/config.toml:2)"),
        "{s}"
    );
    assert!(
        line_of(s, "timeout").ends_with("30s  (proj/autowf.toml:3)"),
        "{s}"
    );
    assert!(line_of(s, "kill-grace").ends_with("5s  (default)"), "{s}");

    let out = layered()
        .env("AUTOWF_JOBS", "7")
        .args(["config", "proj/sub/f.rhai"])
        .run();
    assert!(line_of(out.stdout(), "jobs").ends_with("7  (environment AUTOWF_JOBS)"));

    let out = layered()
        .env("AUTOWF_JOBS", "7")
        .args(["config", "proj/sub/f.rhai", "-j", "9"])
        .run();
    assert!(line_of(out.stdout(), "jobs").ends_with("9  (flag --jobs)"));
}

#[test]
fn task_defaults_from_the_configuration_reach_tasks() {
    let out = layered().args(["describe", "proj/sub/f.rhai"]).run();
    out.code(0)
        .stdout_contains("retries=2")
        .stdout_contains("timeout=30s");
}

#[test]
fn configuration_pools_serve_flows_that_do_not_declare_them() {
    layered()
        .file(
            "proj/sub/p.rhai",
            "fn a() { 1 }\ntask(a, #{ pool: \"db\" });\nfn main() { a() }\nflow(main);\n",
        )
        .args(["run", "proj/sub/p.rhai"])
        .run()
        .code(0)
        .stdout_is("1\n");
}

#[test]
fn a_configuration_error_points_at_the_file_and_stops_before_running() {
    Test::new()
        .file("autowf.toml", "jobz = 5\ntimeout = \"soon\"\n")
        .file(
            "f.rhai",
            "fn a() { \"touch ran\" }\nshell_task(a);\nfn main() { a() }\nflow(main);\n",
        )
        .args(["run", "f.rhai"])
        .run()
        .code(2)
        .error_at("unknown configuration key `jobz`", "autowf.toml:1:1")
        .stderr_contains("help: did you mean `jobs`?")
        .stderr_contains("error: `timeout`: `soon` is not a duration")
        .no_file("ran");
}

#[test]
fn config_json_lists_settings_with_sources() {
    let out = layered()
        .args(["config", "proj/sub/f.rhai", "--json"])
        .run();
    out.code(0);
    let doc = out.stdout_json();
    assert_eq!(doc["schema"], 1);
    let jobs = doc["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "jobs")
        .unwrap();
    assert_eq!(jobs["value"], "5");
    assert_eq!(jobs["source"], "proj/autowf.toml:1");
}

#[test]
fn log_settings_from_the_configuration_apply_unless_a_flag_or_variable_says_otherwise() {
    let project =
        || {
            Test::new()
            .flow(
                "f.rhai",
                "fn a() { print(\"hello from a\"); 1 }\ntask(a);\nfn main() { a() }\nflow(main);\n",
            )
            .file("autowf.toml", "log-level = \"verbose\"\nlog-format = \"json\"\n")
        };
    // `verbose` shows task output, `json` formats log lines.
    project()
        .args(["run", "f.rhai"])
        .run()
        .code(0)
        .stderr_line(&[r#""message":"a | hello from a""#]);
    // `-q` beats the file's level; AUTOWF_LOG_FORMAT beats its format.
    project()
        .args(["run", "f.rhai", "-q"])
        .run()
        .code(0)
        .stderr_lacks("hello from a")
        .stderr_lacks("start");
    project()
        .env("AUTOWF_LOG_FORMAT", "text")
        .args(["run", "f.rhai"])
        .run()
        .code(0)
        .stderr_line(&["a | hello from a"])
        .stderr_lacks(r#""message""#);

    let out = project().args(["config", "f.rhai"]).run();
    out.code(0);
    let s = out.stdout();
    assert!(
        line_of(s, "log-level").ends_with("verbose  (autowf.toml:1)"),
        "{s}"
    );
    assert!(
        line_of(s, "log-format").ends_with("json  (autowf.toml:2)"),
        "{s}"
    );
    let out = project().args(["config", "f.rhai", "-vv"]).run();
    assert!(
        line_of(out.stdout(), "log-level").ends_with("debug  (flag --verbose)"),
        "{}",
        out.stdout()
    );
}

#[test]
fn a_bad_log_level_names_the_valid_ones() {
    Test::new()
        .flow("f.rhai", FLOW)
        .file("autowf.toml", "log-level = \"loud\"\n")
        .args(["run", "f.rhai"])
        .run()
        .code(2)
        .stderr_contains(r#"`log-level` expects "warn", "info", "verbose" or "debug", got "loud""#)
        .stderr_contains("autowf.toml:1:13");
}

#[test]
fn flows_dir_is_where_list_and_describe_look_without_a_file() {
    let project = || {
        Test::new()
            .flow("pipelines/nightly.rhai", FLOW)
            .flow("flows/other.rhai", FLOW)
            .file("autowf.toml", "flows-dir = \"pipelines\"\n")
    };
    project()
        .args(["list"])
        .run()
        .code(0)
        .stdout_contains("pipelines/nightly.rhai")
        .stdout_lacks("other.rhai");
    project()
        .args(["describe"])
        .run()
        .code(0)
        .stdout_contains("pipelines/nightly.rhai")
        .stdout_lacks("other.rhai");
    let out = project().args(["config"]).run();
    assert!(
        line_of(out.stdout(), "flows-dir").ends_with("pipelines  (autowf.toml:1)"),
        "{}",
        out.stdout()
    );
}

#[test]
fn keys_without_a_flag_take_their_autowf_variable_over_the_files() {
    let out = layered()
        .env("AUTOWF_RETRIES", "4")
        .env("AUTOWF_TIMEOUT", "2m")
        .env("AUTOWF_KILL_GRACE", "1s")
        .env("AUTOWF_DEFAULT_EXECUTOR", "process")
        .env("AUTOWF_LOG_LEVEL", "warn")
        .args(["config", "proj/sub/f.rhai"])
        .run();
    out.code(0);
    let s = out.stdout();
    // Each one over the file layer that sets the same key.
    assert!(
        line_of(s, "retries").ends_with("4  (environment AUTOWF_RETRIES)"),
        "{s}"
    );
    assert!(
        line_of(s, "timeout").ends_with("2m  (environment AUTOWF_TIMEOUT)"),
        "{s}"
    );
    assert!(
        line_of(s, "kill-grace").ends_with("1s  (environment AUTOWF_KILL_GRACE)"),
        "{s}"
    );
    assert!(
        line_of(s, "default-executor").ends_with("process  (environment AUTOWF_DEFAULT_EXECUTOR)"),
        "{s}"
    );
    // A flag still wins over the variable.
    let out = layered()
        .env("AUTOWF_LOG_LEVEL", "warn")
        .args(["config", "proj/sub/f.rhai", "-v"])
        .run();
    assert!(line_of(out.stdout(), "log-level").ends_with("verbose  (flag --verbose)"));
}

#[test]
fn an_autowf_variable_reaches_the_run() {
    let t = Test::new().flow(
        "main.rhai",
        r#"
            fn flaky() { if ctx().attempt < 3 { throw "not yet"; } ctx().attempt }
            task(flaky, #{ retry_backoff: "1ms" });
            fn main() { flaky() }
            flow(main);
        "#,
    );
    t.clone().args(["run", "main.rhai", "-q"]).run().code(1);
    t.clone()
        .env("AUTOWF_RETRIES", "2")
        .env("AUTOWF_LOG_LEVEL", "warn")
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        .stdout_is("3\n")
        .stderr_is("");
}

#[test]
fn a_bad_autowf_variable_is_a_usage_error_naming_it() {
    Test::new()
        .flow("main.rhai", FLOW)
        .env("AUTOWF_TIMEOUT", "soon")
        .args(["run", "main.rhai"])
        .run()
        .code(2)
        .stderr_contains("AUTOWF_TIMEOUT")
        .stderr_contains("not a duration");
    Test::new()
        .flow("main.rhai", FLOW)
        .env("AUTOWF_DEFAULT_EXECUTOR", "cluster")
        .args(["run", "main.rhai"])
        .run()
        .code(2)
        .stderr_contains("`default-executor` expects \"thread\" or \"process\"");
}

#[cfg(not(feature = "s3"))]
#[test]
fn a_remote_store_in_a_build_without_s3_is_a_usage_error() {
    let expected = "needs the `s3` feature, and this autowf was built without it";
    Test::new()
        .file("f.rhai", FLOW)
        .args(["run", "f.rhai", "--remote-store", "s3://bucket/prefix"])
        .run()
        .code(2)
        .stderr_contains(expected);
    Test::new()
        .file("f.rhai", FLOW)
        .env("AUTOWF_REMOTE_STORE", "s3://bucket/prefix")
        .args(["cache", "ls"])
        .run()
        .code(2)
        .stderr_contains(expected);
    Test::new()
        .file("f.rhai", FLOW)
        .file("autowf.toml", "remote-store = \"s3://bucket/prefix\"\n")
        .args(["artifacts", "ls"])
        .run()
        .code(2)
        .stderr_contains(expected);
}

#[test]
fn a_remote_store_must_be_an_s3_url() {
    Test::new()
        .file("f.rhai", FLOW)
        .args(["run", "f.rhai", "--remote-store", "gs://bucket/prefix"])
        .run()
        .code(2)
        .stderr_contains("`gs://` is not supported; give an `s3://bucket/prefix` URL");
}

/// A URL as the state directory stands for the remote store; the run's own records keep the
/// local state directory. A build without `s3` says it needs the feature, and creates nothing.
#[cfg(not(feature = "s3"))]
#[test]
fn a_url_as_the_state_directory_is_the_remote_store() {
    for (flag, file) in [
        (Some("s3://bucket/prefix"), None),
        (None, Some("state-dir = \"s3://bucket/prefix\"\n")),
    ] {
        let mut t = Test::new().file("f.rhai", FLOW);
        if let Some(toml) = file {
            t = t.file("autowf.toml", toml);
        }
        if let Some(url) = flag {
            t = t.args(["--state-dir", url]);
        }
        t.args(["run", "f.rhai"])
            .run()
            .code(2)
            .stderr_contains("remote store `s3://bucket/prefix` needs the `s3` feature")
            .no_file("s3:")
            .no_file(".autowf");
    }
}

#[cfg(feature = "s3")]
#[test]
fn a_url_as_the_state_directory_is_the_remote_store() {
    let out = Test::new()
        .file("f.rhai", FLOW)
        .args(["--state-dir", "s3://bucket/prefix", "config", "f.rhai"])
        .run();
    out.code(0);
    let words: Vec<&str> = line_of(out.stdout(), "remote-store")
        .split_whitespace()
        .collect();
    assert_eq!(
        words,
        [
            "remote-store",
            "s3://bucket/prefix",
            "(flag",
            "--state-dir)"
        ]
    );
    assert!(
        line_of(out.stdout(), "state-dir").contains(".autowf next to the flow file"),
        "{}",
        out.stdout()
    );
    let twice = "the remote store is given twice, as `s3://other/x` and as `s3://bucket/prefix`";
    Test::new()
        .file("f.rhai", FLOW)
        .args([
            "--state-dir",
            "s3://bucket/prefix",
            "--remote-store",
            "s3://other/x",
        ])
        .args(["run", "f.rhai"])
        .run()
        .code(2)
        .stderr_contains(twice);
    Test::new()
        .file("f.rhai", FLOW)
        .file(
            "autowf.toml",
            "remote-store = \"s3://other/x\"\nstate-dir = \"s3://bucket/prefix\"\n",
        )
        .args(["run", "f.rhai"])
        .run()
        .code(2)
        .stderr_contains(twice)
        .stderr_contains("autowf.toml");
}

#[test]
fn config_shows_the_remote_store_setting() {
    let out = Test::new()
        .file("f.rhai", FLOW)
        .args(["config", "f.rhai"])
        .run();
    out.code(0);
    assert!(
        line_of(out.stdout(), "remote-store")
            .ends_with("none: cache and artifacts stay in the state directory  (default)"),
        "{}",
        out.stdout()
    );
}
