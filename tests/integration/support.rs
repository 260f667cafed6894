//! The `Test` builder: a fresh temp directory, flow files written into it, the `autowf` binary
//! run there with a cleared environment, and assertions on exit code, stdout and stderr.
//!
//! ```ignore
//! Test::new()
//!     .flow("main.rhai", r"
//!         fn answer() { 42 }
//!         task(answer);
//!         fn main() { answer() }
//!         flow(main);
//!     ")
//!     .args(["run", "main.rhai"])
//!     .run()
//!     .code(0)
//!     .stdout_is("42\n");
//! ```

use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

/// Longest a single `autowf` invocation may take before the test kills it and fails.
const WATCHDOG: Duration = Duration::from_secs(60);

/// One `autowf` invocation to set up: files in a fresh temp directory, arguments, environment.
///
/// Cloning is cheap and shares the directory, so one set of files can be run several times.
#[must_use]
#[derive(Clone)]
pub(crate) struct Test {
    dir: Rc<TempDir>,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
}

impl Test {
    pub(crate) fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("autowf-test-")
            .tempdir()
            .expect("create a temp directory");
        Self {
            dir: Rc::new(dir),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// The temp directory the files live in and `autowf` runs in (canonical).
    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().canonicalize().expect("canonical temp dir")
    }

    /// Writes a flow script; `text` is dedented, so it can be indented like the test code.
    pub(crate) fn flow(self, name: &str, text: &str) -> Self {
        self.file(name, &dedent(text))
    }

    /// Writes a file as given (parent directories are created).
    pub(crate) fn file(self, name: &str, contents: &str) -> Self {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directories");
        }
        std::fs::write(&path, contents).expect("write test file");
        self
    }

    /// Copies the directory `from` (recursively, skipping dot-entries) to `to` in the temp dir.
    pub(crate) fn copy_dir(self, from: &Path, to: &str) -> Self {
        copy_tree(from, &self.dir.path().join(to));
        self
    }

    /// Appends command-line arguments.
    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable for the invocation (the rest of the environment is cleared).
    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The `autowf` invocation: in the temp directory, with a cleared environment (PATH,
    /// NO_COLOR and what `env` added) and no stdin.
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_autowf"));
        command
            .args(&self.args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null());
        command
    }

    /// Starts `autowf` without waiting for it, its output discarded: for tests that run
    /// several at once or kill it.
    pub(crate) fn spawn(&self) -> std::process::Child {
        self.command()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the autowf binary")
    }

    /// Runs `autowf` in the temp directory and captures what it did.
    pub(crate) fn run(&self) -> Output {
        let mut command = self.command();
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let (code, stdout, stderr) = run_with_watchdog(&mut command);
        Output {
            dir: self.dir.clone(),
            command: self.describe_command(),
            code,
            stdout,
            stderr,
        }
    }

    fn describe_command(&self) -> String {
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        format!("autowf {}", args.join(" "))
    }
}

/// Spawns `command`, reads its output on helper threads and kills it after [`WATCHDOG`].
fn run_with_watchdog(command: &mut Command) -> (Option<i32>, String, String) {
    let mut child = command.spawn().expect("start the autowf binary");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let read_out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let read_err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for autowf") {
            break status;
        }
        if started.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("autowf ran for more than {WATCHDOG:?} and was killed");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = read_out.join().expect("stdout reader");
    let stderr = read_err.join().expect("stderr reader");
    (status.code(), stdout, stderr)
}

/// What one invocation did. Assertions return `&Self` so they chain.
#[must_use]
pub(crate) struct Output {
    dir: Rc<TempDir>,
    command: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Output {
    /// The whole picture, for assertion messages.
    fn context(&self) -> String {
        format!(
            "command: {}\nexit code: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command, self.code, self.stdout, self.stderr
        )
    }

    #[track_caller]
    pub(crate) fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(expected),
            "unexpected exit code\n{}",
            self.context()
        );
        self
    }

    /// The exit code, for tests that collect several results before judging them.
    pub(crate) fn exit_code(&self) -> Option<i32> {
        self.code
    }

    pub(crate) fn stdout(&self) -> &str {
        &self.stdout
    }

    pub(crate) fn stderr(&self) -> &str {
        &self.stderr
    }

    #[track_caller]
    pub(crate) fn stdout_is(&self, expected: &str) -> &Self {
        assert_eq!(self.stdout, expected, "stdout differs\n{}", self.context());
        self
    }

    #[track_caller]
    pub(crate) fn stderr_is(&self, expected: &str) -> &Self {
        assert_eq!(self.stderr, expected, "stderr differs\n{}", self.context());
        self
    }

    #[track_caller]
    pub(crate) fn stdout_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n{}",
            self.context()
        );
        self
    }

    #[track_caller]
    pub(crate) fn stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n{}",
            self.context()
        );
        self
    }

    /// Checks that one line of stderr holds every fragment, in order.
    #[track_caller]
    pub(crate) fn stderr_line(&self, fragments: &[&str]) -> &Self {
        let has_all_in_order = |line: &str| {
            let mut rest = line;
            fragments.iter().all(|f| match rest.find(f) {
                Some(i) => {
                    rest = &rest[i + f.len()..];
                    true
                }
                None => false,
            })
        };
        assert!(
            self.stderr.lines().any(has_all_in_order),
            "no stderr line holds {fragments:?}\n{}",
            self.context()
        );
        self
    }

    #[track_caller]
    pub(crate) fn stdout_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stdout.contains(needle),
            "stdout unexpectedly has {needle:?}\n{}",
            self.context()
        );
        self
    }

    #[track_caller]
    pub(crate) fn stderr_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stderr.contains(needle),
            "stderr unexpectedly has {needle:?}\n{}",
            self.context()
        );
        self
    }

    /// Checks for a rendered diagnostic: `error: MESSAGE`, then ` --> LOC`, the source line
    /// at LOC (read from the temp dir) and a caret under its column.
    #[track_caller]
    pub(crate) fn error_at(&self, message: &str, loc: &str) -> &Self {
        let expected = format!("error: {message}\n{}", self.snippet(loc));
        self.stderr_contains(&expected)
    }

    /// Checks for a source snippet (` --> LOC`, the line, a caret) anywhere on stderr.
    #[track_caller]
    pub(crate) fn snippet_at(&self, loc: &str) -> &Self {
        let expected = self.snippet(loc);
        self.stderr_contains(&expected)
    }

    /// The snippet autowf prints for `file:line:column`, as the compiler-style renderer does.
    #[track_caller]
    fn snippet(&self, loc: &str) -> String {
        let mut parts = loc.rsplitn(3, ':');
        let (Some(column), Some(line), Some(file)) = (parts.next(), parts.next(), parts.next())
        else {
            panic!("`{loc}` is not FILE:LINE:COLUMN");
        };
        let line: usize = line.parse().expect("line number");
        let column: usize = column.parse().expect("column number");
        let source = self.file(file);
        let text = source
            .lines()
            .nth(line - 1)
            .unwrap_or_else(|| panic!("{file} has no line {line}"));
        let number = line.to_string();
        let pad = " ".repeat(number.len());
        let caret = " ".repeat(column - 1);
        let mut out = String::new();
        let _ = writeln!(out, "{pad}--> {loc}");
        let _ = writeln!(out, "{pad} |");
        let _ = writeln!(out, "{number} | {text}");
        let _ = writeln!(out, "{pad} | {caret}^");
        out
    }

    /// Parses stdout as one JSON document.
    #[track_caller]
    pub(crate) fn stdout_json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.context()))
    }

    /// Parses stdout as a `run --json` summary and checks its schema version.
    #[track_caller]
    pub(crate) fn summary(&self) -> Summary {
        let json = self.stdout_json();
        assert_eq!(json["schema"], 1, "summary schema\n{}", self.context());
        Summary(json)
    }

    /// Reads a file (relative to the temp dir) that the run left behind.
    #[track_caller]
    pub(crate) fn file(&self, path: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(path))
            .unwrap_or_else(|e| panic!("cannot read `{path}`: {e}\n{}", self.context()))
    }

    /// Checks that the run did not create `path` (relative to the temp dir).
    #[track_caller]
    pub(crate) fn no_file(&self, path: &str) -> &Self {
        assert!(
            !self.dir.path().join(path).exists(),
            "`{path}` exists, so something ran that should not have\n{}",
            self.context()
        );
        self
    }

    /// The canonical temp dir the run happened in.
    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().canonicalize().expect("canonical temp dir")
    }
}

/// A parsed `run --json` summary with lookups by node name.
pub(crate) struct Summary(pub(crate) Value);

impl Summary {
    /// The node called `name`; fails the test when there is none.
    #[track_caller]
    pub(crate) fn node(&self, name: &str) -> &Value {
        self.0["nodes"]
            .as_array()
            .expect("`nodes` is an array")
            .iter()
            .find(|n| n["name"] == name)
            .unwrap_or_else(|| panic!("no node `{name}` in {:#}", self.0))
    }

    #[track_caller]
    pub(crate) fn status(&self, name: &str) -> &str {
        self.node(name)["status"].as_str().expect("status string")
    }

    #[track_caller]
    pub(crate) fn attempts(&self, name: &str) -> u64 {
        self.node(name)["attempts"]
            .as_u64()
            .expect("attempts count")
    }

    /// Node names in the order the summary lists them (creation order).
    pub(crate) fn names(&self) -> Vec<&str> {
        self.0["nodes"]
            .as_array()
            .expect("`nodes` is an array")
            .iter()
            .map(|n| n["name"].as_str().expect("name string"))
            .collect()
    }

    /// The flow's result (`null` when the run did not succeed).
    pub(crate) fn result(&self) -> &Value {
        &self.0["result"]
    }
}

/// Removes the indentation common to all non-blank lines, a leading newline and trailing
/// blank space, and ends the text with one newline.
pub(crate) fn dedent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.get(indent..).unwrap_or_else(|| l.trim_start()))
        .collect();
    let mut out = lines.join("\n").trim_end().to_owned();
    out.push('\n');
    out
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create destination directory");
    for entry in std::fs::read_dir(from).expect("read source directory") {
        let entry = entry.expect("directory entry");
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// The `.rhai` files under `dir`, recursively, sorted; dot-entries are skipped.
pub(crate) fn rhai_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.map(|e| e.expect("directory entry")) {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            out.extend(rhai_files(&path));
        } else if path.extension().is_some_and(|e| e == "rhai") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Whether a process is still running: present in `/proc` and not a zombie.
pub(crate) fn is_running(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the parenthesised command name, which may itself hold spaces.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    !matches!(state, Some("Z" | "X") | None)
}

/// Polls for up to `limit` until `pid` is gone; true when it went.
pub(crate) fn wait_until_gone(pid: u32, limit: Duration) -> bool {
    let started = Instant::now();
    while is_running(pid) {
        if started.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// The largest number of `start`/`end` intervals open at once in a log of lines
/// `start <nanos>` and `end <nanos>` (as written by `date +%s%N`).
pub(crate) fn max_overlap(log: &str) -> usize {
    let mut events: Vec<(u128, i32)> = log
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(kind, stamp)| {
            let at: u128 = stamp.trim().parse().expect("a nanosecond timestamp");
            // Ends sort before starts at the same instant, so touching intervals do not count.
            let delta = if kind == "start" { 1 } else { -1 };
            (at, delta)
        })
        .collect();
    events.sort_unstable();
    let mut open = 0;
    let mut max = 0;
    for (_, delta) in events {
        open += delta;
        max = max.max(open);
    }
    usize::try_from(max).unwrap_or(0)
}

/// A small flow used by several modules: `compute` twice, then `add`; the result is 6.
pub(crate) const SUM_FLOW: &str = r"
    fn compute(x) { x * 2 }
    fn add(a, b) { a + b }
    task(compute);
    task(add);
    fn main() {
        let a = compute(1);
        let b = compute(2);
        add(a, b)
    }
    flow(main);
";
