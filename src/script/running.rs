//! The task running on this thread: what `ctx()`, `sh()`, `sleep()`, `print` and the progress
//! check see. Set around each call of a task body (or a `.then` closure) by the runtime.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rhai::{Dynamic, Engine, EvalAltResult, Map, NativeCallContext, Position};

use super::runtime::{Attempt, RunInfo, Stopped};
use super::value;
use super::{build, handles};
use crate::executor::process::{self, ProcessOutcome};

/// The task currently running on this thread: what `ctx()`, `sh` and the progress check see.
pub(super) struct Current {
    attempt: Attempt,
    deadline: Option<Instant>,
    info: Arc<RunInfo>,
}

impl Current {
    pub(super) fn new(attempt: &Attempt, info: Arc<RunInfo>) -> Self {
        Self {
            attempt: attempt.clone(),
            deadline: attempt.timeout.map(|t| Instant::now() + t),
            info,
        }
    }

    /// The map `ctx()` returns; built on demand, most tasks never ask.
    fn ctx(&self) -> Map {
        ctx_map(&self.info, &self.attempt)
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
}

/// How often (in Rhai operations) a running body checks its deadline and cancellation.
const PROGRESS_EVERY: u64 = 1024;
const TIMEOUT_TOKEN: &str = "autowf:timeout";
const CANCEL_TOKEN: &str = "autowf:cancelled";

pub(crate) fn check_cancelled(ops: u64) -> Option<Dynamic> {
    if ops % PROGRESS_EVERY != 0 {
        return None;
    }
    CURRENT.with_borrow(|c| {
        c.as_ref().and_then(|c| {
            stop_reason(c).map(|s| match s {
                Stopped::TimedOut => Dynamic::from(TIMEOUT_TOKEN),
                Stopped::Cancelled => Dynamic::from(CANCEL_TOKEN),
            })
        })
    })
}

fn stop_reason(c: &Current) -> Option<Stopped> {
    if c.attempt.stop.cancel.is_cancelled() {
        Some(Stopped::Cancelled)
    } else if c.deadline.is_some_and(|d| Instant::now() >= d) {
        Some(Stopped::TimedOut)
    } else {
        None
    }
}

fn current_label() -> String {
    CURRENT
        .with_borrow(|c| c.as_ref().map(|c| c.attempt.node.clone()))
        .unwrap_or_else(|| "script".to_owned())
}

pub(crate) fn log_print(text: &str) {
    let text = super::secret::unmark(text);
    let label = current_label();
    crate::tasklog::append(&label, &text);
    tracing::info!(target: "autowf::task", "{label} | {text}");
}

pub(crate) fn log_debug(text: &str, source: Option<&str>, pos: Position) {
    let at = match (source, pos.line()) {
        (Some(s), Some(l)) => format!(" ({s}:{l})"),
        (None, Some(l)) => format!(" (line {l})"),
        _ => String::new(),
    };
    let text = super::secret::unmark(text);
    let label = current_label();
    // Kept in the node's log like print(), so a debug line is not lost without -vv.
    crate::tasklog::append(&label, &format!("{text}{at}"));
    tracing::debug!(target: "autowf::task", "{label} | {text}{at}");
}

pub(crate) fn register(engine: &mut Engine) {
    engine
        .register_fn(
            "ctx",
            |ctx: NativeCallContext| -> Result<Map, Box<EvalAltResult>> {
                CURRENT
                    .with_borrow(|c| c.as_ref().map(Current::ctx))
                    .ok_or_else(|| {
                        super::api::script_error(
                            &ctx,
                            crate::error::Diagnostic::new(
                                "`ctx()` is only available inside a running task",
                            ),
                        )
                    })
            },
        )
        .register_fn(
            "sh",
            |ctx: NativeCallContext, cmd: &str| -> Result<Dynamic, Box<EvalAltResult>> {
                if build::is_building() {
                    handles::sh_node(&ctx, cmd).map(Dynamic::from)
                } else {
                    sh_now(&ctx, cmd).map(Dynamic::from)
                }
            },
        )
        .register_fn("sleep", |ctx: NativeCallContext, secs: f64| {
            sleep(&ctx, secs)
        })
        .register_fn("sleep", |ctx: NativeCallContext, secs: i64| {
            sleep(&ctx, secs as f64)
        })
        .register_fn("shell_quote", |s: &str| value::shell_quote(s));
}

fn stopped_error(s: &Stopped, pos: Position) -> Box<EvalAltResult> {
    let token = match s {
        Stopped::TimedOut => TIMEOUT_TOKEN,
        Stopped::Cancelled => CANCEL_TOKEN,
    };
    EvalAltResult::ErrorTerminated(token.into(), pos).into()
}

/// `sleep(seconds)` that a timeout or cancellation interrupts.
fn sleep(ctx: &NativeCallContext, secs: f64) -> Result<(), Box<EvalAltResult>> {
    let end = Instant::now() + Duration::from_secs_f64(secs.max(0.0));
    while Instant::now() < end {
        if let Some(s) = CURRENT.with_borrow(|c| c.as_ref().and_then(stop_reason)) {
            return Err(stopped_error(&s, ctx.call_position()));
        }
        std::thread::sleep((end - Instant::now()).min(Duration::from_millis(10)));
    }
    Ok(())
}

/// `sh("cmd")` inside a running task: runs now, returns stdout, throws on failure.
fn sh_now(ctx: &NativeCallContext, command: &str) -> Result<String, Box<EvalAltResult>> {
    super::secret::check_command(command)
        .map_err(|message| super::api::script_error(ctx, crate::error::Diagnostic::new(message)))?;
    let (cmd, stop, deadline) = CURRENT
        .with_borrow(|c| {
            let c = c.as_ref()?;
            let cmd = c.attempt.process(&c.info, command.to_owned());
            Some((cmd, c.attempt.stop.clone(), c.deadline))
        })
        .ok_or_else(|| {
            super::api::script_error(
                ctx,
                crate::error::Diagnostic::new(
                    "`sh` may only run inside a task or build a node inside a flow body",
                ),
            )
        })?;
    let should_stop =
        || stop.cancel.is_cancelled() || deadline.is_some_and(|d| Instant::now() >= d);
    match process::run_blocking(&cmd, &should_stop, &|| stop.hurry.is_cancelled()) {
        ProcessOutcome::Exited {
            code: 0, stdout, ..
        } => Ok(trim_newline(String::from_utf8_lossy(&stdout).into_owned())),
        ProcessOutcome::Exited {
            code, stderr_tail, ..
        } => Err(EvalAltResult::ErrorRuntime(
            format!(
                "command `{command}` failed with exit code {code}{}",
                process::stderr_suffix(&stderr_tail)
            )
            .into(),
            ctx.call_position(),
        )
        .into()),
        ProcessOutcome::TimedOut | ProcessOutcome::Cancelled => {
            let reason = CURRENT
                .with_borrow(|c| c.as_ref().and_then(stop_reason))
                .unwrap_or(Stopped::Cancelled);
            Err(stopped_error(&reason, ctx.call_position()))
        }
        ProcessOutcome::SpawnFailed(e) => Err(EvalAltResult::ErrorRuntime(
            format!("cannot run `{command}`: {e}").into(),
            ctx.call_position(),
        )
        .into()),
    }
}

pub(super) fn trim_newline(mut s: String) -> String {
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    s
}

/// The `AUTOWF_*` variables of a shell command started by a task.
/// The `AUTOWF_*` variables of a command run for `attempt`.
pub(super) fn task_env(
    info: &RunInfo,
    attempt: &Attempt,
) -> std::collections::BTreeMap<String, String> {
    [
        ("AUTOWF_RUN_ID", info.run_id.clone()),
        ("AUTOWF_FLOW", info.flow.clone()),
        ("AUTOWF_NODE", attempt.node.clone()),
        ("AUTOWF_TASK", attempt.task.clone().unwrap_or_default()),
        ("AUTOWF_ATTEMPT", attempt.number.to_string()),
        ("AUTOWF_RUN_DIR", info.run_dir.display().to_string()),
        ("AUTOWF_STATE_DIR", info.state_dir.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// What `ctx()` returns; `upstream` only for a node with a trigger rule.
pub(super) fn ctx_map(info: &RunInfo, attempt: &Attempt) -> Map {
    let mut m = Map::new();
    m.insert("run_id".into(), info.run_id.clone().into());
    m.insert("flow".into(), info.flow.clone().into());
    m.insert("node".into(), attempt.node.clone().into());
    m.insert(
        "task".into(),
        attempt.task.clone().map_or(Dynamic::UNIT, Into::into),
    );
    m.insert(
        "attempt".into(),
        Dynamic::from_int(i64::from(attempt.number)),
    );
    m.insert("params".into(), info.params.0.clone());
    m.insert("run_dir".into(), info.run_dir.display().to_string().into());
    m.insert(
        "state_dir".into(),
        info.state_dir.display().to_string().into(),
    );
    if !attempt.upstream.is_empty() {
        let upstream: rhai::Array = attempt
            .upstream
            .iter()
            .map(|u| {
                let mut entry = Map::new();
                entry.insert("name".into(), u.name.clone().into());
                entry.insert("status".into(), u.status.name().into());
                entry.insert(
                    "error".into(),
                    u.error.clone().map_or(Dynamic::UNIT, Into::into),
                );
                Dynamic::from_map(entry)
            })
            .collect();
        m.insert("upstream".into(), upstream.into());
    }
    m
}

/// Calls `f` with the running task's run facts and attempt, if a task is running here.
pub(super) fn with_current<T>(f: impl FnOnce(&RunInfo, &Attempt) -> T) -> Option<T> {
    CURRENT.with_borrow(|c| c.as_ref().map(|c| f(&c.info, &c.attempt)))
}

/// Makes `current` the running task of this thread; returns the one it replaces.
pub(super) fn enter(current: Current) -> Option<Current> {
    CURRENT.replace(Some(current))
}

/// Restores what [`enter`] returned.
pub(super) fn leave(previous: Option<Current>) {
    CURRENT.replace(previous);
}

/// Whether `e` (or the error it wraps) is autowf stopping the body.
pub(super) fn stop_of(e: &EvalAltResult) -> Option<Stopped> {
    match e {
        EvalAltResult::ErrorTerminated(token, _) => {
            match token.clone().into_string().ok()?.as_str() {
                TIMEOUT_TOKEN => Some(Stopped::TimedOut),
                _ => Some(Stopped::Cancelled),
            }
        }
        EvalAltResult::ErrorInFunctionCall(_, _, inner, _)
        | EvalAltResult::ErrorInModule(_, inner, _) => stop_of(inner),
        _ => None,
    }
}
