//! The example flows in `flows/`: every script there is described successfully (a new one is
//! picked up automatically), and every one of them runs to completion.

use std::path::{Path, PathBuf};

use crate::support::{Test, rhai_files};

/// Examples that must run to completion (exit 0) with their default params and print a result,
/// each with the environment it needs (the rest of the environment is cleared).
const RUNNABLE: &[(&str, &[(&str, &str)])] = &[
    ("etl.rhai", &[]),
    ("dynamic_fanout.rhai", &[]),
    ("concurrent_priority.rhai", &[]),
    ("retries_timeouts.rhai", &[]),
    ("tracing_custom.rhai", &[]),
    ("cluster.rhai", &[]),
    (
        "secrets_and_artifacts.rhai",
        &[("REGISTRY_TOKEN", "s3cr3t-token")],
    ),
];

fn flows_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("flows")
}

/// A report of one failed invocation: the file, its exit code and its stderr.
fn failure(file: &Path, code: Option<i32>, stderr: &str) -> String {
    format!("{} exited with {code:?}:\n{stderr}", file.display())
}

#[test]
fn every_example_is_described() {
    let files = rhai_files(&flows_dir());
    assert!(
        !files.is_empty(),
        "no example flows in {}",
        flows_dir().display()
    );
    let mut failures = Vec::new();
    for file in &files {
        for format in ["text", "json"] {
            let out = Test::new()
                .args(["describe".as_ref(), file.as_os_str()])
                .args(["--format", format])
                .run();
            if out.exit_code() != Some(0) || out.stdout().is_empty() {
                failures.push(failure(file, out.exit_code(), out.stderr()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn runnable_examples_succeed() {
    let mut failures = Vec::new();
    // Run a copy, so runs write their state and files into a temp dir, not the repository.
    let test = Test::new().copy_dir(&flows_dir(), "flows");
    for (name, env) in RUNNABLE {
        let file = Path::new("flows").join(name);
        assert!(
            test.path().join(&file).exists(),
            "{name} is listed but missing"
        );
        let mut run = test.clone();
        for (key, value) in *env {
            run = run.env(key, value);
        }
        let out = run
            .args([
                "run".as_ref(),
                file.as_os_str(),
                "--jobs".as_ref(),
                "2".as_ref(),
            ])
            .run();
        let has_result = serde_json::from_str::<serde_json::Value>(out.stdout())
            .is_ok_and(|result| !result.is_null());
        if out.exit_code() != Some(0) || !has_result {
            failures.push(failure(&file, out.exit_code(), out.stderr()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
