//! Run time: calling task bodies, producing shell command lines, expanding `.map` and `.then`.
//! What a running body can reach (`ctx`, `sh`, `sleep`) is in `running`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rhai::{AST, CallFnOptions, Dynamic, Engine, EvalAltResult, Map, Scope};

use super::build::{self, BuildContext, Built};
use super::diagnostics::{expansion_error, task_error};
use super::options::{OutputFormat, ScriptFn};
use super::payload::{Payload, PayloadKind};
use super::running::{self, Current, stop_of, task_env, trim_newline};
use super::value::{self, Quote, Value, check_data, substitute};
use crate::dag::{Node, NodeId, NodeKind};
use crate::events::TaskError;
use crate::executor::process::ProcessSpec;

/// Facts about the run that every task attempt sees through `ctx()` and `AUTOWF_*`.
#[derive(Clone, Debug)]
pub(crate) struct RunInfo {
    pub(crate) run_id: String,
    pub(crate) flow: String,
    pub(crate) params: Value,
    pub(crate) run_dir: PathBuf,
    pub(crate) state_dir: PathBuf,
    /// Where the cache and artifact blobs are shared, if anywhere.
    pub(crate) remote_store: Option<crate::remote::RemoteUrl>,
    /// Shell commands run here unless `cwd` says otherwise.
    pub(crate) flow_dir: PathBuf,
}

impl RunInfo {
    /// The run's state directory, with its remote store.
    pub(crate) fn state(&self) -> crate::state::StateDir {
        crate::state::StateDir::new(self.state_dir.clone()).with_remote(self.remote_store.clone())
    }
}

/// One attempt of one node.
#[derive(Clone, Debug)]
pub(crate) struct Attempt {
    pub(crate) node: String,
    pub(crate) task: Option<String>,
    pub(crate) number: u32,
    pub(crate) timeout: Option<Duration>,
    pub(crate) kill_grace: Duration,
    /// Stops the attempt (`cancel`) and cuts grace periods short (`hurry`).
    pub(crate) stop: Arc<crate::stop::Stop>,
    /// The node's `env` and `cwd` options: for its command, or for `sh()` in its body.
    pub(crate) env: BTreeMap<String, super::EnvValue>,
    pub(crate) cwd: Option<String>,
    /// How each dependency ended, for a node with a trigger rule (`ctx().upstream`).
    pub(crate) upstream: Vec<crate::events::Upstream>,
}

impl Attempt {
    /// An attempt that never runs: the context of a `cache_key` closure called by
    /// `run --dry-run`.
    pub(crate) fn planning(node: &str, task: Option<String>) -> Self {
        let token = tokio_util::sync::CancellationToken::new();
        Self {
            node: node.to_owned(),
            task,
            number: 1,
            timeout: None,
            kill_grace: Duration::ZERO,
            stop: Arc::new(crate::stop::Stop::finally(&token)),
            env: BTreeMap::new(),
            cwd: None,
            upstream: Vec::new(),
        }
    }

    /// A command line run for this attempt: in its `cwd` (relative to the flow file's
    /// directory), with the `AUTOWF_*` variables and its `env`.
    pub(crate) fn process(&self, info: &RunInfo, command: String) -> ProcessSpec {
        let cwd = self
            .cwd
            .as_ref()
            .map_or_else(|| info.flow_dir.clone(), |c| info.flow_dir.join(c));
        let mut env = task_env(info, self);
        env.extend(
            self.env
                .iter()
                .map(|(k, v)| (k.clone(), v.reveal().to_owned())),
        );
        let mut spec = ProcessSpec::shell(command, cwd, env, self.node.clone());
        spec.kill_grace = self.kill_grace;
        spec
    }
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

/// Everything needed to execute nodes of one flow; shared by all workers.
pub(crate) struct Runtime {
    pub(crate) run_engine: Engine,
    pub(crate) build_engine: Engine,
    pub(crate) ast: AST,
    /// The script as the user named it, for worker processes to load.
    pub(crate) script_path: PathBuf,
    pub(crate) cx: Arc<BuildContext>,
    pub(crate) info: Arc<RunInfo>,
    /// Code fingerprints for cache keys, made on first use.
    pub(crate) prints: std::sync::OnceLock<super::fingerprint::Fingerprints>,
    /// Each task's shared key parts, made on first use.
    pub(crate) task_parts:
        std::sync::RwLock<std::collections::HashMap<String, Arc<crate::cache::SharedParts>>>,
    /// The state directory's key for hashing secrets, read on first use.
    pub(crate) secret_key: std::sync::OnceLock<Result<[u8; 32], String>>,
}

/// A runtime expansion's new nodes and the value the expanding node resolves to.
pub(crate) struct Expansion {
    pub(crate) nodes: Vec<Node>,
    pub(crate) output: Value,
}

impl Runtime {
    fn enter(&self, attempt: &Attempt) -> Option<Current> {
        running::enter(Current::new(attempt, self.info.clone()))
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
        let result = if self.cx.registry.middleware.is_empty() {
            let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
            self.run_engine.call_fn_with_options::<Dynamic>(
                options,
                &mut Scope::new(),
                &self.ast,
                task.as_str(),
                args,
            )
        } else {
            let middleware: Arc<[ScriptFn]> = self.cx.registry.middleware.clone().into();
            let ctx = running::ctx_map(&self.info, attempt);
            super::hooks::call_through(
                &self.run_engine,
                &self.ast,
                middleware,
                task.clone(),
                args,
                ctx,
            )
        };
        running::leave(previous);
        match result {
            Ok(v) => check_result(&v, task)
                .map_or_else(CallResult::Failed, |()| CallResult::Done(Value(v))),
            Err(e) => classify(&e, &self.cx.file),
        }
    }

    /// Asks a `retry_on` closure whether a failed attempt should be retried. The closure gets
    /// `#{ message, exit_code, attempt }`; an error inside it counts as "no".
    pub(crate) fn should_retry(
        &self,
        node: &str,
        rule: &ScriptFn,
        error: &TaskError,
        attempt: u32,
    ) -> bool {
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
                let why = task_error(&err, &self.cx.file).message;
                tracing::warn!("{node} | `retry_on` closure failed, not retrying: {why}");
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
                let line = value::display(&substitute(command, inputs, Quote::Shell));
                no_secret_in(&line)?;
                Ok(line)
            }
            PayloadKind::Call { task, .. } => match self.call_task(payload, inputs, attempt) {
                CallResult::Done(Value(v)) => {
                    let kind = value::type_name(&v);
                    let line = v.into_string().map_err(|_| {
                        TaskError::new(format!(
                            "shell task `{task}` must return its command line as a string, got {kind}"
                        ))
                    })?;
                    no_secret_in(&line)?;
                    Ok(line)
                }
                CallResult::Failed(e) => Err(e),
                CallResult::Stopped(_) => {
                    Err(TaskError::new("stopped while building its command line"))
                }
            },
            _ => Err(TaskError::new("internal error: not a shell node")),
        }
    }

    /// A shell command's settings for a node.
    pub(crate) fn shell_spec(&self, command: String, attempt: &Attempt) -> ProcessSpec {
        let mut spec = attempt.process(&self.info, command);
        spec.timeout = attempt.timeout;
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
                let items = list_to_map(node, inputs(source.id), budget)?;
                match task {
                    Some(task) => Ok(map_children(node, task, items, base_id, &self.cx)),
                    None => {
                        self.map_closure(node, &resolved_fn(func, inputs), items, base_id, attempt)
                    }
                }
            }
            PayloadKind::Then { source, closure } => {
                let input = inputs(source.id).0;
                let closure = resolved_fn(closure, inputs);
                let prefix = format!("{}/", node.name);
                self.build_with(attempt, |rt| {
                    build::build_closure(
                        &rt.cx,
                        &rt.build_engine,
                        &closure,
                        vec![input],
                        base_id,
                        prefix,
                    )
                })
            }
            _ => Err(TaskError::new("internal error: not an expansion node")),
        }
    }

    /// `.map(|x| ...)`: the closure runs once per element in building mode; element `i`'s
    /// nodes live under `map[i]/`, so their names differ.
    fn map_closure(
        &self,
        node: &Node,
        func: &rhai::FnPtr,
        items: rhai::Array,
        base_id: u32,
        attempt: &Attempt,
    ) -> Result<Expansion, TaskError> {
        self.build_with(attempt, |rt| {
            let mut outputs = Vec::with_capacity(items.len());
            let mut nodes = Vec::new();
            for (i, item) in items.into_iter().enumerate() {
                let next = base_id + u32::try_from(nodes.len()).unwrap_or(u32::MAX);
                let prefix = format!("{}[{i}]/", node.name);
                let built =
                    build::build_closure(&rt.cx, &rt.build_engine, func, vec![item], next, prefix)?;
                nodes.extend(built.nodes);
                outputs.push(built.output.0);
            }
            Ok(Built {
                nodes,
                output: Value(Dynamic::from_array(outputs)),
            })
        })
    }

    fn build_with(
        &self,
        attempt: &Attempt,
        f: impl FnOnce(&Self) -> Result<Built, Box<EvalAltResult>>,
    ) -> Result<Expansion, TaskError> {
        let previous = self.enter(attempt);
        let result = f(self);
        running::leave(previous);
        match result {
            Ok(built) => Ok(Expansion {
                nodes: built.nodes,
                output: built.output,
            }),
            Err(e) => Err(expansion_error(&e, &self.cx.file)),
        }
    }
}

/// The list a map node fans out over, checked against the dynamic-task budget before any
/// node is made.
fn list_to_map(node: &Node, value: Value, budget: usize) -> Result<rhai::Array, TaskError> {
    let type_name = value::type_name(&value.0);
    let items = value.0.into_array().map_err(|_| {
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
    Ok(items)
}

/// A closure with the results it captured put in place of their handles.
fn resolved_fn(f: &rhai::FnPtr, inputs: &dyn Fn(NodeId) -> Value) -> rhai::FnPtr {
    substitute(&Dynamic::from(f.clone()), inputs, Quote::None)
        .try_cast::<rhai::FnPtr>()
        .expect("invariant: substituting keeps a function pointer")
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
        let mut e = TaskError::new(format!(
            "task `{task}` returned a value that is not data: {why}"
        ));
        if why.contains(value::SECRET_TYPE) {
            e.help = Some("results are printed, cached and stored, so they may not hold a secret: call `secret(...)` in the task that needs it, or pass it in as an argument".to_owned());
        }
        e
    })
}

/// Refuses a command line that interpolates a secret.
fn no_secret_in(line: &str) -> Result<(), TaskError> {
    super::secret::check_command(line).map_err(TaskError::new)
}

fn classify(e: &EvalAltResult, file: &str) -> CallResult {
    match stop_of(e) {
        Some(stopped) => CallResult::Stopped(stopped),
        None => CallResult::Failed(task_error(e, file)),
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
