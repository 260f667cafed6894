//! `autowf completions SHELL` must print exactly the committed `completions/autowf.SHELL`, so
//! a changed command line without regenerated completions fails here.

use std::path::Path;

use crate::support::Test;

/// Compares the generated script for `shell` with the committed file.
#[track_caller]
fn assert_matches_committed(shell: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("completions")
        .join(format!("autowf.{shell}"));
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let out = Test::new().args(["completions", shell]).run();
    out.code(0).stderr_is("");
    assert!(
        out.stdout() == committed,
        "{} is out of date; regenerate it with `autowf completions {shell} > {}`",
        path.display(),
        path.display()
    );
}

#[test]
fn bash_completions_match_the_committed_file() {
    assert_matches_committed("bash");
}

#[test]
fn zsh_completions_match_the_committed_file() {
    assert_matches_committed("zsh");
}

#[test]
fn fish_completions_match_the_committed_file() {
    assert_matches_committed("fish");
}

#[test]
fn unknown_shell_is_a_usage_error() {
    Test::new()
        .args(["completions", "tcsh"])
        .run()
        .code(2)
        .stdout_is("")
        .stderr_contains("bash");
}
