//! `secret("NAME")`: the providers of `[[secrets]]`, the rules of the Secret value, keyed cache
//! keys, and the canary: a secret's value never reaches any output or file autowf writes.

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

use crate::support::Test;

/// A flow whose one task returns the length of secret `NAME`.
fn length_of(name: &str) -> String {
    format!(
        r#"
        fn probe() {{ secret("{name}").len() }}
        task(probe);
        fn main() {{ probe() }}
        flow(main);
        "#
    )
}

fn private(test: &Test, name: &str) {
    let path = test.path().join(name);
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn env_provider_reads_the_variable_with_its_prefix() {
    Test::new()
        .file(
            "autowf.toml",
            "[[secrets]]\nprovider = \"env\"\nprefix = \"APP_\"\n",
        )
        .flow("main.rhai", &length_of("TOKEN"))
        .env("APP_TOKEN", "abcdef123")
        .env("TOKEN", "ignored-without-prefix")
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        .stdout_is("9\n");
}

#[test]
fn without_configuration_the_environment_is_the_provider() {
    Test::new()
        .flow("main.rhai", &length_of("TOKEN"))
        .env("TOKEN", "1234567")
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        .stdout_is("7\n");
}

#[test]
fn file_provider_reads_a_private_dotenv_file() {
    let test = Test::new()
        .file(
            "autowf.toml",
            "[[secrets]]\nprovider = \"file\"\npath = \"secrets.env\"\n",
        )
        .file(
            "secrets.env",
            "# local secrets\nexport DB_PASSWORD=\"p@ss w0rd\" \nOTHER=x\n",
        )
        .flow("main.rhai", &length_of("DB_PASSWORD"));
    private(&test, "secrets.env");
    test.args(["run", "main.rhai"])
        .run()
        .code(0)
        .stdout_is("9\n");
}

#[test]
fn file_provider_refuses_a_file_others_can_read() {
    let test = Test::new()
        .file(
            "autowf.toml",
            "[[secrets]]\nprovider = \"file\"\npath = \"secrets.env\"\n",
        )
        .file("secrets.env", "DB_PASSWORD=p@ssw0rd\n")
        .flow("main.rhai", &length_of("DB_PASSWORD"));
    let path = test.path().join("secrets.env");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    test.args(["run", "main.rhai"])
        .run()
        .code(1)
        .stderr_contains("secrets file `./secrets.env` can be read by group or others (mode 0644); run `chmod 600 ./secrets.env`")
        .stderr_lacks("p@ssw0rd");
}

#[test]
fn command_provider_runs_the_template_with_the_name() {
    Test::new()
        .file(
            "autowf.toml",
            "[[secrets]]\nprovider = \"command\"\ncommand = \"printf 'value-of-%s\\\\n' {name}\"\n",
        )
        .flow(
            "main.rhai",
            r#"
            fn probe() { secret("db/password").len() }
            task(probe);
            fn main() { probe() }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai"])
        .run()
        .code(0)
        // `value-of-db/password`: the final newline is not part of the value.
        .stdout_is("20\n");
}

#[test]
fn a_failing_command_is_an_error_naming_the_provider_and_exit_code() {
    Test::new()
        .file(
            "autowf.toml",
            "[[secrets]]\nprovider = \"command\"\ncommand = \"echo no such entry {name} >&2; exit 4\"\n\n[[secrets]]\nprovider = \"env\"\n",
        )
        .flow("main.rhai", &length_of("TOKEN"))
        // Not reached: a failing command stops the lookup.
        .env("TOKEN", "from-the-environment")
        .args(["run", "main.rhai"])
        .run()
        .code(1)
        .stderr_contains("secret `TOKEN`: provider command `echo no such entry {name} >&2; exit 4` failed: exit code 4: no such entry TOKEN");
}

#[test]
fn a_command_past_its_timeout_fails_the_lookup_instead_of_hanging_the_run() {
    let started = std::time::Instant::now();
    Test::new()
        .file(
            "autowf.toml",
            "[[secrets]]\nprovider = \"command\"\ncommand = \"sleep 60 # {name}\"\ntimeout = \"500ms\"\n",
        )
        .flow("main.rhai", &length_of("TOKEN"))
        .args(["run", "main.rhai"])
        .run()
        .code(1)
        .stderr_contains("secret `TOKEN`: provider command `sleep 60 # {name}` failed: timed out after 500ms");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn list_describe_and_export_dot_show_a_flow_without_looking_its_secrets_up() {
    let test = Test::new()
        .file(
            "autowf.toml",
            "[[secrets]]\nprovider = \"command\"\ncommand = \"touch looked-up; echo value-of-{name}\"\n",
        )
        .flow(
            "main.rhai",
            r#"
            fn publish(v) { `./publish.sh ${v}` }
            shell_task(publish, #{ env: #{ TOKEN: secret("REGISTRY_TOKEN") } });
            fn main() { publish(secret("VERSION_KEY").name) }
            flow(main);
            "#,
        );
    for args in [
        vec!["list", "main.rhai"],
        vec!["describe", "main.rhai"],
        vec!["describe", "main.rhai", "--format", "json"],
        vec!["export-dot", "main.rhai"],
    ] {
        test.clone()
            .args(args)
            .run()
            .code(0)
            .stderr_lacks("secret")
            .no_file("looked-up");
    }
    // A run looks them up, through the provider.
    test.clone()
        .args(["run", "main.rhai", "--dry-run"])
        .run()
        .code(0);
    assert!(test.path().join("looked-up").exists());
}

#[test]
fn providers_are_tried_in_order() {
    let test = Test::new()
        .file(
            "autowf.toml",
            "[[secrets]]\nprovider = \"env\"\nprefix = \"APP_\"\n\n[[secrets]]\nprovider = \"file\"\npath = \"secrets.env\"\n",
        )
        .file("secrets.env", "BOTH=from-the-file-x\nFILE_ONLY=only-in-file\n")
        .flow(
            "main.rhai",
            r#"
            fn probe() { [secret("BOTH").len(), secret("FILE_ONLY").len()] }
            task(probe);
            fn main() { probe() }
            flow(main);
            "#,
        )
        .env("APP_BOTH", "from-env");
    private(&test, "secrets.env");
    let out = test.args(["run", "main.rhai"]).run();
    out.code(0);
    assert_eq!(out.stdout_json(), serde_json::json!([8, 12]));
}

#[test]
fn a_missing_secret_in_a_task_names_every_provider_tried() {
    let test = Test::new()
        .file(
            "autowf.toml",
            "[[secrets]]\nprovider = \"env\"\n\n[[secrets]]\nprovider = \"file\"\npath = \"secrets.env\"\n",
        )
        .file("secrets.env", "OTHER=something\n")
        .flow("main.rhai", &length_of("DB_PASSWORD"));
    private(&test, "secrets.env");
    test.args(["run", "main.rhai"])
        .run()
        .code(1)
        .stderr_contains(
            "secret `DB_PASSWORD` not found; tried: env (DB_PASSWORD), file ./secrets.env",
        );
}

#[test]
fn a_missing_secret_in_a_flow_body_stops_the_run_before_it_starts() {
    Test::new()
        .flow(
            "main.rhai",
            r#"
            fn use_it(t) { t.len() }
            task(use_it);
            fn main() {
                let token = secret("NOT_SET");
                use_it(token)
            }
            flow(main);
            "#,
        )
        .args(["run", "main.rhai"])
        .run()
        .code(2)
        .error_at(
            "secret `NOT_SET` not found; tried: env (NOT_SET)",
            "main.rhai:4:17",
        )
        .no_file(".autowf/runs");
}

#[test]
fn a_value_shorter_than_six_characters_is_refused() {
    Test::new()
        .flow("main.rhai", &length_of("PIN"))
        .env("PIN", "12345")
        .args(["run", "main.rhai"])
        .run()
        .code(1)
        .stderr_contains("secret `PIN` is too short (5 characters)")
        .stderr_lacks("12345");
}

#[test]
fn a_secret_prints_as_stars_and_cannot_be_joined_into_a_string() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn show() {
                let t = secret("TOKEN");
                print(t);
                print(`interpolated: ${t}`);
                [t.to_string() == t.to_string(), type_of(t), t.name]
            }
            task(show);
            fn join() { "Bearer " + secret("TOKEN") }
            task(join);
            fn main() { [show(), join()] }
            flow(main, #{ on_failure: "keep_going" });
            "#,
        )
        .env("TOKEN", "tok-123456")
        .args(["run", "main.rhai", "-v"])
        .run();
    out.code(1)
        .stderr_line(&["show | ***"])
        .stderr_line(&["show | interpolated: ***"])
        .stderr_contains("a secret cannot be joined into a string")
        .stderr_lacks("tok-123456");
    let log = out.file(&format!("{}/show.log", logs_dir(&out.path())));
    assert_eq!(log, "***\ninterpolated: ***\n");
}

/// The one run's `logs/` directory, relative to the test's directory.
fn logs_dir(root: &Path) -> String {
    let runs = root.join(".autowf/runs");
    let run = std::fs::read_dir(&runs).unwrap().next().unwrap().unwrap();
    format!(".autowf/runs/{}/logs", run.file_name().to_string_lossy())
}

#[test]
fn a_secret_on_a_command_line_is_refused_with_the_env_advice() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn deploy(token) { `curl -H "Authorization: ${token}" https://example.invalid` }
            shell_task(deploy);
            fn inline() { sh(`echo ${secret("TOKEN")}`) }
            task(inline);
            fn main() { [deploy(secret("TOKEN")), inline()] }
            flow(main, #{ on_failure: "keep_going" });
            "#,
        )
        .env("TOKEN", "tok-123456")
        .args(["run", "main.rhai", "--json"])
        .run();
    out.code(1);
    let summary = out.summary();
    for node in ["deploy", "inline"] {
        let message = summary.node(node)["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("a secret may not be part of a command line")
                && message.contains("`env: #{ NAME: secret(\"NAME\") }`"),
            "{node}: {message}"
        );
    }
}

#[test]
fn env_gives_the_clear_value_to_shell_tasks_and_sh() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn check() { `test "$TOKEN" = tok-123456 && echo shell-ok` }
            shell_task(check);
            fn inner() { sh(`test "$TOKEN" = tok-123456 && echo sh-ok`) }
            task(inner, #{ env: #{ TOKEN: secret("TOKEN") } });
            fn main() {
                [check().options(#{ env: #{ TOKEN: secret("TOKEN") } }), inner()]
            }
            flow(main);
            "#,
        )
        .env("TOKEN", "tok-123456")
        .args(["run", "main.rhai"])
        .run();
    out.code(0);
    assert_eq!(out.stdout_json(), serde_json::json!(["shell-ok", "sh-ok"]));
}

#[test]
fn a_task_may_not_return_a_secret() {
    Test::new()
        .flow(
            "main.rhai",
            r#"
            fn give() { secret("TOKEN") }
            task(give);
            fn main() { give() }
            flow(main);
            "#,
        )
        .env("TOKEN", "tok-123456")
        .args(["run", "main.rhai"])
        .run()
        .code(1)
        .stderr_contains("task `give` returned a value that is not data: `result` is a secret, which is not data");
}

#[test]
fn a_secret_argument_reaches_a_process_worker() {
    assert_eq!(
        Test::new()
            .flow(
                "main.rhai",
                r#"
            fn remote(token) {
                [token.len(), token.name, sh(`test "$T" = tok-123456 && echo worker-ok`)]
            }
            task(remote, #{ run_in: "process", env: #{ T: secret("TOKEN") } });
            fn main() { remote(secret("TOKEN")) }
            flow(main);
            "#,
            )
            .env("TOKEN", "tok-123456")
            .args(["run", "main.rhai"])
            .run()
            .code(0)
            .stdout_json(),
        serde_json::json!([10, "TOKEN", "worker-ok"])
    );
}

#[test]
fn cache_keys_change_with_the_secret_without_holding_it() {
    let test = Test::new().flow(
        "main.rhai",
        r#"
        fn use_token(t) { t.len() }
        task(use_token, #{ cache_ttl: "forever" });
        fn main() { use_token(secret("TOKEN")) }
        flow(main);
        "#,
    );
    let run = |value: &str| {
        test.clone()
            .env("TOKEN", value)
            .args(["run", "main.rhai", "--json"])
            .run()
    };
    let first = run("first-value");
    first.code(0);
    assert_eq!(first.summary().status("use_token"), "succeeded");
    let again = run("first-value");
    assert_eq!(again.summary().status("use_token"), "cached");
    let changed = run("other-value");
    assert_eq!(changed.summary().status("use_token"), "succeeded");
    let key = test.path().join(".autowf/secret-key");
    let meta = std::fs::metadata(&key).unwrap();
    assert_eq!((meta.len(), meta.permissions().mode() & 0o777), (32, 0o600));
    assert_eq!(
        occurrences(&test.path(), &["first-value", "other-value"]),
        Vec::<String>::new()
    );
}

/// The canary: a secret whose value contains characters that JSON and URLs escape.
const CANARY: &str = "c4n4ry\"s3cr3t/v@lue+x";

/// Every form of the canary that must never appear.
fn canary_forms() -> Vec<String> {
    let mut forms = vec![
        CANARY.to_owned(),
        serde_json::to_string(CANARY)
            .unwrap()
            .trim_matches('"')
            .to_owned(),
    ];
    let url: String = CANARY
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    forms.push(url);
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        forms.push(engine.encode(CANARY));
    }
    forms
}

/// Each file under `root` that holds one of `needles`, with the needle.
fn occurrences(root: &Path, needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_none_or(|e| e != "rhai") {
                let bytes = std::fs::read(&path).unwrap();
                let text = String::from_utf8_lossy(&bytes);
                for needle in needles {
                    if text.contains(needle) {
                        found.push(format!("{}: {needle}", path.display()));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn the_canary_never_reaches_any_output_or_file() {
    let test = Test::new().flow(
        "main.rhai",
        r#"
        fn plain() { `printf '%s\n' "$TOKEN" >&2; printf 'out %s' "$TOKEN"` }
        shell_task(plain);
        fn b64() { `printf '%s' "$TOKEN" | base64 >&2; printf '%s' "$TOKEN" | base64` }
        shell_task(b64);
        fn json() { `printf '{"token": "%s"}\n' "$TOKEN" >&2; printf '%s' "$TOKEN"` }
        shell_task(json, #{ output: "lines" });
        // Two writes by two processes, 50 ms apart: the pipe cannot join them.
        fn split() {
            `printf '%s' "$TOKEN" | head -c 5 >&2; sleep 0.05; printf '%s\n' "$TOKEN" | tail -c +6 >&2`
        }
        shell_task(split);
        fn thrown() {
            let v = sh(`printf '%s' "$TOKEN"`);
            print("printed " + v);
            debug(v);
            throw "rejected " + v;
        }
        task(thrown);
        fn main() {
            let env = #{ env: #{ TOKEN: secret("CANARY") } };
            [
                plain().options(env),
                b64().options(env),
                json().options(env),
                split().options(env),
                thrown().options(env),
            ]
        }
        flow(main, #{ on_failure: "keep_going" });
        "#,
    );
    let forms = canary_forms();
    for (format, extra) in [("text", "--json"), ("json", "-vv")] {
        let out = test
            .clone()
            .env("CANARY", CANARY)
            .args(["run", "main.rhai", "-v", "--log-format", format, extra])
            .args(["--events", "events.ndjson", "--summary", "summary.json"])
            .args(["--junit", "junit.xml", "--metrics-textfile", "metrics.prom"])
            .run();
        out.code(1);
        // The task output was forwarded (so the test looks at real output), with *** in place.
        out.stderr_contains("plain | ***")
            .stderr_contains("split | ***");
        for form in &forms {
            out.stdout_lacks(form).stderr_lacks(form);
        }
        let needles: Vec<&str> = forms.iter().map(String::as_str).collect();
        assert_eq!(occurrences(&test.path(), &needles), Vec::<String>::new());
    }
}
