//! Run time: calling task bodies, producing shell command lines, expanding `.map` and `.then`,
//! and the functions task bodies use (`ctx`, `sh`, `sleep`).

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rhai::{
    AST, CallFnOptions, Dynamic, Engine, EvalAltResult, Map, NativeCallContext, Position, Scope,
};
use tokio_util::sync::CancellationToken;

use super::build::{self, BuildContext, Built};
use super::diagnostics::{expansion_error, task_error};
use super::options::{OutputFormat, ScriptFn};
use super::payload::{Payload, PayloadKind};
use super::value::{self, Quote, Value, check_data, substitute};
use crate::dag::{Node, NodeId, NodeKind};
use crate::events::TaskError;
use crate::executor::process::{self, ProcessOutcome, ProcessSpec};

/// Facts about the run that every task attempt sees through `ctx()` and `AUTOWF_*`.
#[derive(Clone, Debug)]
pub(crate) struct RunInfo {
    pub(crate) run_id: String,
    pub(crate) flow: String,
    pub(crate) params: Value,
    pub(crate) run_dir: PathBuf,
    pub(crate) state_dir: PathBuf,
    /// Shell commands run here unless `cwd` says otherwise.
    pub(crate) flow_dir: PathBuf,
}

/// One attempt of one node.
#[derive(Clone, Debug)]
pub(crate) struct Attempt {
    pub(crate) node: String,
    pub(crate) task: Option<String>,
    pub(crate) number: u32,
    pub(crate) timeout: Option<Duration>,
    pub(crate) kill_grace: Duration,
    pub(crate) cancel: CancellationToken,
}

/// Why an attempt stopped before finishing.
#[derive(Debug)]
pub(crate) enum Stopped {
    TimedOut,
    Cancelled,
}

/// What a Rhai task attempt produced.
pub(crate) enum CallResult {
    Done(Value),
    Failed(TaskError),
    Stopped(Stopped),
}

/// The task currently running on this thread: what `ctx()`, `sh` and the progress check see.
struct Current {
    cancel: CancellationToken,
    deadline: Option<Instant>,
    kill_grace: Duration,
    label: String,
    task: Option<String>,
    attempt: u32,
    info: Arc<RunInfo>,
}

impl Current {
    /// The map `ctx()` returns; built on demand, most tasks never ask.
    fn ctx(&self) -> Map {
        ctx_map(&self.info, &self.label, self.task.as_deref(), self.attempt)
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
    if c.cancel.is_cancelled() {
        Some(Stopped::Cancelled)
    } else if c.deadline.is_some_and(|d| Instant::now() >= d) {
        Some(Stopped::TimedOut)
    } else {
        None
    }
}

fn current_label() -> String {
    CURRENT
        .with_borrow(|c| c.as_ref().map(|c| c.label.clone()))
        .unwrap_or_else(|| "script".to_owned())
}

pub(crate) fn log_print(text: &str) {
    tracing::info!(target: "autowf::task", "{} | {text}", current_label());
}

pub(crate) fn log_debug(text: &str, source: Option<&str>, pos: Position) {
    let at = match (source, pos.line()) {
        (Some(s), Some(l)) => format!(" ({s}:{l})"),
        (None, Some(l)) => format!(" (line {l})"),
        _ => String::new(),
    };
    tracing::debug!(target: "autowf::task", "{} | {text}{at}", current_label());
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
                    build::sh_node(&ctx, cmd).map(Dynamic::from)
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
    let (cmd, cancel, deadline) = CURRENT
        .with_borrow(|c| {
            let c = c.as_ref()?;
            let mut cmd = ProcessSpec::shell(
                command.to_owned(),
                c.info.flow_dir.clone(),
                task_env(&c.info, &c.ctx()),
                c.label.clone(),
            );
            cmd.kill_grace = c.kill_grace;
            Some((cmd, c.cancel.clone(), c.deadline))
        })
        .ok_or_else(|| {
            super::api::script_error(
                ctx,
                crate::error::Diagnostic::new(
                    "`sh` may only run inside a task or build a node inside a flow body",
                ),
            )
        })?;
    let should_stop = || cancel.is_cancelled() || deadline.is_some_and(|d| Instant::now() >= d);
    match process::run_blocking(&cmd, &should_stop) {
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

fn trim_newline(mut s: String) -> String {
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    s
}

/// The `AUTOWF_*` variables of a shell command started by a task.
fn task_env(info: &RunInfo, ctx: &Map) -> std::collections::BTreeMap<String, String> {
    let get = |k: &str| ctx.get(k).map(value::display).unwrap_or_default();
    [
        ("AUTOWF_RUN_ID", info.run_id.clone()),
        ("AUTOWF_FLOW", info.flow.clone()),
        ("AUTOWF_NODE", get("node")),
        ("AUTOWF_TASK", get("task")),
        ("AUTOWF_ATTEMPT", get("attempt")),
        ("AUTOWF_RUN_DIR", info.run_dir.display().to_string()),
        ("AUTOWF_STATE_DIR", info.state_dir.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn ctx_map(info: &RunInfo, node: &str, task: Option<&str>, attempt: u32) -> Map {
    let mut m = Map::new();
    m.insert("run_id".into(), info.run_id.clone().into());
    m.insert("flow".into(), info.flow.clone().into());
    m.insert("node".into(), node.into());
    m.insert("task".into(), task.map_or(Dynamic::UNIT, Into::into));
    m.insert("attempt".into(), Dynamic::from_int(i64::from(attempt)));
    m.insert("params".into(), info.params.0.clone());
    m.insert("run_dir".into(), info.run_dir.display().to_string().into());
    m.insert(
        "state_dir".into(),
        info.state_dir.display().to_string().into(),
    );
    m
}

/// Everything needed to execute nodes of one flow; shared by all workers.
pub(crate) struct Runtime {
    pub(crate) run_engine: Engine,
    pub(crate) build_engine: Engine,
    pub(crate) ast: AST,
    /// The script as the user named it, for worker processes to load.
    pub(crate) script_path: PathBuf,
    pub(crate) cx: Arc<BuildContext>,
    pub(crate) info: Arc<RunInfo>,
}

/// A runtime expansion's new nodes and the value the expanding node resolves to.
pub(crate) struct Expansion {
    pub(crate) nodes: Vec<Node>,
    pub(crate) output: Value,
}

impl Runtime {
    fn enter(&self, attempt: &Attempt) -> Option<Current> {
        let current = Current {
            cancel: attempt.cancel.clone(),
            deadline: attempt.timeout.map(|t| Instant::now() + t),
            kill_grace: attempt.kill_grace,
            label: attempt.node.clone(),
            task: attempt.task.clone(),
            attempt: attempt.number,
            info: self.info.clone(),
        };
        CURRENT.replace(Some(current))
    }

    /// Runs a Rhai task node's body with its inputs resolved. Blocks: call from a worker thread.
    pub(crate) fn call_task(
        &self,
        payload: &Payload,
        inputs: &dyn Fn(NodeId) -> Value,
        attempt: &Attempt,
    ) -> CallResult {
        let PayloadKind::Call { task, args } = &*payload.0 else {
            return CallResult::Failed(TaskError::new("internal error: not a task call"));
        };
        let args: Vec<Dynamic> = args
            .iter()
            .map(|a| substitute(a, inputs, Quote::None))
            .collect();
        let previous = self.enter(attempt);
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let result = self.run_engine.call_fn_with_options::<Dynamic>(
            options,
            &mut Scope::new(),
            &self.ast,
            task.as_str(),
            args,
        );
        CURRENT.replace(previous);
        match result {
            Ok(v) => check_result(&v, task)
                .map_or_else(CallResult::Failed, |()| CallResult::Done(Value(v))),
            Err(e) => classify(&e, &self.cx.file),
        }
    }

    /// Asks a `retry_on` closure whether a failed attempt should be retried. The closure gets
    /// `#{ message, exit_code, attempt }`; an error inside it counts as "no".
    pub(crate) fn should_retry(&self, rule: &ScriptFn, error: &TaskError, attempt: u32) -> bool {
        let mut e = Map::new();
        e.insert("message".into(), error.message.clone().into());
        e.insert(
            "exit_code".into(),
            error
                .exit_code
                .map_or(Dynamic::UNIT, |c| Dynamic::from_int(i64::from(c))),
        );
        e.insert("attempt".into(), Dynamic::from_int(i64::from(attempt)));
        match rule
            .0
            .call::<Dynamic>(&self.run_engine, &self.ast, (Dynamic::from_map(e),))
        {
            Ok(v) => v.as_bool().unwrap_or(false),
            Err(err) => {
                tracing::warn!(
                    "`retry_on` closure failed, not retrying: {}",
                    task_error(&err, &self.cx.file).message
                );
                false
            }
        }
    }

    /// The command line of a shell node: its task's body for `shell_task`, the text for `sh`.
    pub(crate) fn shell_command(
        &self,
        payload: &Payload,
        inputs: &dyn Fn(NodeId) -> Value,
        attempt: &Attempt,
    ) -> Result<String, TaskError> {
        match &*payload.0 {
            PayloadKind::Sh { command } => {
                Ok(value::display(&substitute(command, inputs, Quote::Shell)))
            }
            PayloadKind::Call { task, .. } => match self.call_task(payload, inputs, attempt) {
                CallResult::Done(Value(v)) => v.into_string().map_err(|t| {
                    TaskError::new(format!(
                        "shell task `{task}` must return its command line as a string, got {t}"
                    ))
                }),
                CallResult::Failed(e) => Err(e),
                CallResult::Stopped(_) => {
                    Err(TaskError::new("stopped while building its command line"))
                }
            },
            _ => Err(TaskError::new("internal error: not a shell node")),
        }
    }

    /// A shell command's settings for a node.
    pub(crate) fn shell_spec(
        &self,
        node: &Node,
        command: String,
        attempt: &Attempt,
    ) -> ProcessSpec {
        let cwd = node.options.cwd.as_ref().map_or_else(
            || self.info.flow_dir.clone(),
            |c| self.info.flow_dir.join(c),
        );
        let mut env = task_env(
            &self.info,
            &ctx_map(
                &self.info,
                &attempt.node,
                attempt.task.as_deref(),
                attempt.number,
            ),
        );
        env.extend(node.options.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut spec = ProcessSpec::shell(command, cwd, env, node.name.clone());
        spec.timeout = attempt.timeout;
        spec.kill_grace = attempt.kill_grace;
        spec
    }

    /// Expands a `.map` or `.then` node whose inputs are known, numbering new nodes from `base_id`.
    pub(crate) fn expand(
        &self,
        node: &Node,
        inputs: &dyn Fn(NodeId) -> Value,
        base_id: u32,
        budget: usize,
        attempt: &Attempt,
    ) -> Result<Expansion, TaskError> {
        match &*node.payload.0 {
            PayloadKind::Map { source, func, task } => {
                let list = inputs(source.id).0;
                let type_name = value::type_name(&list);
                let items = list.into_array().map_err(|_| {
                    TaskError::new(format!(
                        "`{}` maps over the result of its input, which is {type_name}, not a list",
                        node.name
                    ))
                })?;
                if items.len() > budget {
                    return Err(TaskError::new(format!(
                        "`{}` would fan out to {} nodes, over the remaining budget of {budget} dynamic tasks (`--max-dynamic-tasks`)",
                        node.name,
                        items.len()
                    )));
                }
                match task {
                    Some(task) => Ok(map_children(node, task, items, base_id, &self.cx)),
                    None => {
                        let func = substitute(&Dynamic::from(func.clone()), inputs, Quote::None);
                        let func = func
                            .try_cast::<rhai::FnPtr>()
                            .expect("invariant: still a function pointer");
                        let prefix = format!("{}/", node.name);
                        self.build_with(attempt, |rt| {
                            let mut out = Vec::new();
                            let mut next = base_id;
                            let mut all = Vec::new();
                            for item in items {
                                let built = build::build_closure(
                                    &rt.cx,
                                    &rt.build_engine,
                                    &func,
                                    vec![item],
                                    next,
                                    prefix.clone(),
                                )?;
                                next += u32::try_from(built.nodes.len()).unwrap_or(u32::MAX);
                                all.extend(built.nodes);
                                out.push(built.output.0);
                            }
                            Ok(Built {
                                nodes: all,
                                output: Value(Dynamic::from_array(out)),
                            })
                        })
                    }
                }
            }
            PayloadKind::Then { source, closure } => {
                let input = inputs(source.id).0;
                let closure = substitute(&Dynamic::from(closure.clone()), inputs, Quote::None);
                let closure = closure
                    .try_cast::<rhai::FnPtr>()
                    .expect("invariant: still a function pointer");
                let prefix = format!("{}/", node.name);
                self.build_with(attempt, |rt| {
                    build::build_closure(
                        &rt.cx,
                        &rt.build_engine,
                        &closure,
                        vec![input],
                        base_id,
                        prefix.clone(),
                    )
                })
            }
            _ => Err(TaskError::new("internal error: not an expansion node")),
        }
    }

    fn build_with(
        &self,
        attempt: &Attempt,
        f: impl FnOnce(&Self) -> Result<Built, Box<EvalAltResult>>,
    ) -> Result<Expansion, TaskError> {
        let previous = self.enter(attempt);
        let result = f(self);
        CURRENT.replace(previous);
        match result {
            Ok(built) => Ok(Expansion {
                nodes: built.nodes,
                output: built.output,
            }),
            Err(e) => Err(expansion_error(&e, &self.cx.file)),
        }
    }
}

/// `square[0]`, `square[1]` ...: one child per element, calling `task` on it.
fn map_children(
    node: &Node,
    task: &str,
    items: rhai::Array,
    base_id: u32,
    cx: &BuildContext,
) -> Expansion {
    let kind = match cx.registry.task(task).map(|t| t.kind) {
        Some(super::TaskKind::Shell) => NodeKind::Shell,
        _ => NodeKind::Task,
    };
    let task_name: rhai::ImmutableString = task.into();
    let mut limits = node.limits.clone();
    limits.extend(build::task_limits(task, &node.options));
    let mut nodes = Vec::with_capacity(items.len());
    let mut handles = rhai::Array::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let id = NodeId(base_id + u32::try_from(i).unwrap_or(u32::MAX));
        nodes.push(Node {
            id,
            name: format!("{}[{i}]", node.name),
            task: Some(task.to_owned()),
            kind,
            options: node.options.clone(),
            deps: Vec::new(),
            loc: node.loc.clone(),
            payload: Payload::new(PayloadKind::Call {
                task: task_name.clone(),
                args: vec![item],
            }),
            limits: limits.clone(),
        });
        handles.push(Dynamic::from(value::Handle { id }));
    }
    Expansion {
        nodes,
        output: Value(Dynamic::from_array(handles)),
    }
}

/// A task's result must be data; say where it is not.
fn check_result(v: &Dynamic, task: &str) -> Result<(), TaskError> {
    let mut path = "result".to_owned();
    check_data(v, &mut path).map_err(|why| {
        TaskError::new(format!(
            "task `{task}` returned a value that is not data: {why}"
        ))
    })
}

fn classify(e: &EvalAltResult, file: &str) -> CallResult {
    match stop_of(e) {
        Some(stopped) => CallResult::Stopped(stopped),
        None => CallResult::Failed(task_error(e, file)),
    }
}

/// Whether `e` (or the error it wraps) is autowf stopping the body.
fn stop_of(e: &EvalAltResult) -> Option<Stopped> {
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

/// Parses a shell node's stdout according to its `output` option.
pub(crate) fn parse_output(stdout: &[u8], format: OutputFormat) -> Result<Value, TaskError> {
    let text = trim_newline(String::from_utf8_lossy(stdout).into_owned());
    match format {
        OutputFormat::Text => Ok(Value(text.into())),
        OutputFormat::Lines => Ok(Value(Dynamic::from_array(
            text.lines().map(|l| Dynamic::from(l.to_owned())).collect(),
        ))),
        OutputFormat::Json => serde_json::from_str::<serde_json::Value>(&text)
            .map(|j| Value::from_json(&j))
            .map_err(|e| TaskError::new(format!("output is not valid JSON ({e})"))),
    }
}
