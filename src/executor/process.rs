//! Child processes: each command runs in its own process group with stdin closed, so a
//! timeout or Ctrl-C can stop the whole tree it started, not just the shell.

use std::collections::{BTreeMap, VecDeque};
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, BufReader};
use tokio_util::sync::CancellationToken;

use super::tree;

/// How many trailing stderr lines a failure message keeps.
const STDERR_TAIL_LINES: usize = 20;
/// How long output is still read after the command ended.
const PIPE_DRAIN: Duration = Duration::from_millis(500);
/// How often a terminating group is checked for survivors.
const REAP_POLL: Duration = Duration::from_millis(10);

/// What to execute: a command line for `/bin/sh -c`, or a program with arguments.
#[derive(Clone, Debug)]
pub(crate) enum Program {
    Shell(String),
    Exec { path: PathBuf, args: Vec<String> },
}

/// A child process to run, and how to stop it.
#[derive(Clone, Debug)]
pub(crate) struct ProcessSpec {
    pub(crate) program: Program,
    pub(crate) cwd: PathBuf,
    pub(crate) env: BTreeMap<String, String>,
    /// Written to the child's stdin, which is then closed; without it stdin is `/dev/null`.
    pub(crate) stdin: Option<Vec<u8>>,
    /// Prefix for forwarded stderr lines: the node name.
    pub(crate) label: String,
    pub(crate) timeout: Option<Duration>,
    pub(crate) kill_grace: Duration,
}

impl ProcessSpec {
    /// A shell command line with stdin closed.
    pub(crate) fn shell(
        command: String,
        cwd: PathBuf,
        env: BTreeMap<String, String>,
        label: String,
    ) -> Self {
        Self {
            program: Program::Shell(command),
            cwd,
            env,
            stdin: None,
            label,
            timeout: None,
            kill_grace: Duration::from_secs(5),
        }
    }

    /// Fails early, with a clear message, when the working directory is missing: the OS
    /// would only say "No such file or directory" about the shell.
    fn check_cwd(&self) -> std::io::Result<()> {
        if self.cwd.is_dir() {
            return Ok(());
        }
        let message = format!("working directory `{}` does not exist", self.cwd.display());
        Err(std::io::Error::new(std::io::ErrorKind::NotFound, message))
    }

    fn std_command(&self) -> std::process::Command {
        let mut cmd = match &self.program {
            Program::Shell(line) => {
                let mut cmd = std::process::Command::new("/bin/sh");
                cmd.arg("-c").arg(line);
                cmd
            }
            Program::Exec { path, args } => {
                let mut cmd = std::process::Command::new(path);
                cmd.args(args);
                cmd
            }
        };
        cmd.current_dir(&self.cwd)
            .envs(&self.env)
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        cmd
    }
}

/// How a command ended.
#[derive(Debug)]
pub(crate) enum ProcessOutcome {
    Exited {
        code: i32,
        stdout: Vec<u8>,
        stderr_tail: String,
    },
    TimedOut,
    Cancelled,
    SpawnFailed(std::io::Error),
}

/// Runs `cmd` to completion, stopping its whole process group on timeout or cancellation.
pub(crate) async fn run(
    cmd: &ProcessSpec,
    cancel: &CancellationToken,
    hurry: &CancellationToken,
) -> ProcessOutcome {
    if let Err(e) = cmd.check_cwd() {
        return ProcessOutcome::SpawnFailed(e);
    }
    let mut child = match tokio::process::Command::from(cmd.std_command())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => return ProcessOutcome::SpawnFailed(e),
    };
    let pgid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    if let (Some(input), Some(mut stdin)) = (cmd.stdin.clone(), child.stdin.take()) {
        tokio::spawn(async move {
            let _ = tokio::io::AsyncWriteExt::write_all(&mut stdin, &input).await;
        });
    }
    let mut stdout = child.stdout.take().expect("invariant: stdout piped");
    let stderr = child.stderr.take().expect("invariant: stderr piped");
    // Output is read on this task, next to the wait: no extra tasks per command.
    let out_fut = async move {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf).await;
        buf
    };
    let err_fut = forward_stderr(stderr, cmd.label.clone());
    tokio::pin!(out_fut, err_fut);
    let (mut out, mut err) = (None, None);
    let deadline = async {
        match cmd.timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            buf = &mut out_fut, if out.is_none() => out = Some(buf),
            tail = &mut err_fut, if err.is_none() => err = Some(tail),
            () = &mut deadline => {
                let stopping = terminate(&mut child, pgid, cmd.kill_grace, hurry);
                drain_while(stopping, &mut err_fut, err.is_none(), cmd.kill_grace).await;
                return ProcessOutcome::TimedOut;
            }
            () = cancel.cancelled() => {
                let stopping = terminate(&mut child, pgid, cmd.kill_grace, hurry);
                drain_while(stopping, &mut err_fut, err.is_none(), cmd.kill_grace).await;
                return ProcessOutcome::Cancelled;
            }
        }
    };
    // The shell is gone; anything it left in its group is not part of the result.
    if let Some(pgid) = pgid {
        let _ = killpg(pgid, Signal::SIGKILL);
    }
    // A process that left the group may still hold the pipes: do not wait on it for long.
    let rest = async {
        let stdout = match out {
            Some(b) => b,
            None => out_fut.await,
        };
        let stderr_tail = match err {
            Some(t) => t,
            None => err_fut.await,
        };
        (stdout, stderr_tail)
    };
    let (stdout, stderr_tail) = tokio::time::timeout(PIPE_DRAIN, rest)
        .await
        .unwrap_or_default();
    exited(status, stdout, stderr_tail)
}

/// Runs `stopping` (the termination) while still forwarding the command's stderr, so what it
/// says on its way out (a SIGTERM handler's message) reaches the log.
async fn drain_while(
    stopping: impl std::future::Future<Output = ()>,
    err_fut: &mut std::pin::Pin<&mut impl std::future::Future<Output = String>>,
    is_pending: bool,
    grace: Duration,
) {
    // The pipe closes when the last process holding it is gone: within the grace period,
    // unless something escaped with it.
    let forward = async {
        if is_pending {
            let _ = tokio::time::timeout(grace + PIPE_DRAIN, err_fut.as_mut()).await;
        }
    };
    tokio::join!(stopping, forward);
}

fn exited(
    status: std::io::Result<std::process::ExitStatus>,
    stdout: Vec<u8>,
    stderr_tail: String,
) -> ProcessOutcome {
    match status {
        Ok(s) => ProcessOutcome::Exited {
            code: exit_code(s),
            stdout,
            stderr_tail,
        },
        Err(e) => ProcessOutcome::SpawnFailed(e),
    }
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt as _;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

/// Logs each stderr line with the node's name and returns the last few lines.
async fn forward_stderr(stderr: tokio::process::ChildStderr, label: String) -> String {
    let mut lines = BufReader::new(stderr).lines();
    let mut tail = StderrTail::new(label);
    while let Ok(Some(line)) = lines.next_line().await {
        tail.push(line);
    }
    tail.into_text()
}

/// Forwards a task's stderr lines to the log and keeps the last few for its failure message.
pub(crate) struct StderrTail {
    label: String,
    lines: VecDeque<String>,
}

impl StderrTail {
    /// Lines of the node `label`; an empty label for a worker's, which carry their node.
    pub(crate) fn new(label: String) -> Self {
        Self {
            label,
            lines: VecDeque::with_capacity(STDERR_TAIL_LINES),
        }
    }

    pub(crate) fn push(&mut self, line: String) {
        log_line(&self.label, &line);
        if self.lines.len() == STDERR_TAIL_LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }

    pub(crate) fn into_text(self) -> String {
        Vec::from(self.lines).join("\n")
    }
}

/// SIGTERM to the group, up to `grace` for it to go, then SIGKILL. `hurry` cuts the grace short
/// (a second Ctrl-C).
async fn terminate(
    child: &mut tokio::process::Child,
    pgid: Option<Pid>,
    grace: Duration,
    hurry: &CancellationToken,
) {
    let Some(pgid) = pgid else { return };
    // Descendants that left the group (setsid, daemons) are stopped along with it.
    let escaped = tree::descendants(pgid);
    if tree::signal_tree(pgid, &escaped, Signal::SIGTERM) {
        let deadline = tokio::time::Instant::now() + grace;
        // Reaping the shell as we go, so its zombie does not keep the group alive.
        while {
            let _ = child.try_wait();
            tree::any_alive(pgid, &escaped)
        } && tokio::time::Instant::now() < deadline
            && !hurry.is_cancelled()
        {
            tokio::time::sleep(REAP_POLL).await;
        }
        tree::signal_tree(pgid, &escaped, Signal::SIGKILL);
    }
    let _ = child.wait().await;
}

/// The last stderr lines of a failed command, to follow its one-line message.
pub(crate) fn stderr_suffix(tail: &str) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!("\nstderr (last lines):\n{tail}")
    }
}

/// Forwards one line a task wrote to stderr; a worker's lines already carry their prefix.
fn log_line(label: &str, line: &str) {
    if label.is_empty() {
        // A worker's line: `node | text`.
        if let Some((node, text)) = line.split_once(" | ") {
            crate::tasklog::append(node, text);
        }
        tracing::info!(target: "autowf::task", "{line}");
    } else {
        crate::tasklog::append(label, line);
        tracing::info!(target: "autowf::task", "{label} | {line}");
    }
}

/// Runs `cmd` synchronously for `sh(...)` inside a Rhai task; `should_stop` is polled so the
/// task's timeout and cancellation stop the command too.
pub(crate) fn run_blocking(
    cmd: &ProcessSpec,
    should_stop: &dyn Fn() -> bool,
    should_hurry: &dyn Fn() -> bool,
) -> ProcessOutcome {
    if let Err(e) = cmd.check_cwd() {
        return ProcessOutcome::SpawnFailed(e);
    }
    let mut child = match cmd.std_command().spawn() {
        Ok(child) => child,
        Err(e) => return ProcessOutcome::SpawnFailed(e),
    };
    let pgid = i32::try_from(child.id()).ok().map(Pid::from_raw);
    let mut stdout = child.stdout.take().expect("invariant: stdout piped");
    let stderr = child.stderr.take().expect("invariant: stderr piped");
    let out_thread = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut buf);
        buf
    });
    let label = cmd.label.clone();
    let err_thread = std::thread::spawn(move || {
        let mut tail = StderrTail::new(label);
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)).map_while(Result::ok) {
            tail.push(line);
        }
        tail.into_text()
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if should_stop() => {
                terminate_blocking(&mut child, pgid, cmd.kill_grace, should_hurry);
                return ProcessOutcome::Cancelled;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => break Err(e),
        }
    };
    if let Some(pgid) = pgid {
        let _ = killpg(pgid, Signal::SIGKILL);
    }
    let stdout = out_thread.join().unwrap_or_default();
    let stderr_tail = err_thread.join().unwrap_or_default();
    exited(status, stdout, stderr_tail)
}

fn terminate_blocking(
    child: &mut std::process::Child,
    pgid: Option<Pid>,
    grace: Duration,
    should_hurry: &dyn Fn() -> bool,
) {
    let Some(pgid) = pgid else { return };
    let escaped = tree::descendants(pgid);
    if tree::signal_tree(pgid, &escaped, Signal::SIGTERM) {
        let deadline = Instant::now() + grace;
        while {
            let _ = child.try_wait();
            tree::any_alive(pgid, &escaped)
        } && Instant::now() < deadline
            && !should_hurry()
        {
            std::thread::sleep(REAP_POLL);
        }
        tree::signal_tree(pgid, &escaped, Signal::SIGKILL);
    }
    let _ = child.wait();
}
