//! The top-level registration functions `task`, `shell_task` and `flow`, and the [`Registry`]
//! they fill while a script's top level runs.

use std::cell::RefCell;
use std::collections::BTreeMap;

use rhai::{Dynamic, Engine, EvalAltResult, FnPtr, Map, NativeCallContext};

use super::options::{self, FailurePolicy, OptionError, ScriptFn, TaskOptions};
use super::value::Value;
use crate::error::{Diagnostic, SourceLoc};

/// How a task's body is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TaskKind {
    /// The body is Rhai code whose value is the result.
    Rhai,
    /// The body returns a command line, which runs in a shell.
    Shell,
}

#[derive(Clone, Debug)]
pub(crate) struct TaskSpec {
    pub(crate) name: String,
    pub(crate) kind: TaskKind,
    pub(crate) params: Vec<String>,
    /// Shared with every node that calls the task: a fan-out of 100,000 nodes holds one copy.
    pub(crate) options: std::sync::Arc<TaskOptions>,
    pub(crate) loc: SourceLoc,
}

/// A declared flow parameter; a default of `()` makes it required.
#[derive(Clone, Debug)]
pub(crate) struct Param {
    pub(crate) name: String,
    pub(crate) default: Value,
    pub(crate) is_required: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct FlowSpec {
    pub(crate) name: String,
    /// The flow function's own parameter names, bound by name to `params`.
    pub(crate) fn_params: Vec<String>,
    pub(crate) params: Vec<Param>,
    pub(crate) on_failure: FailurePolicy,
    pub(crate) pools: BTreeMap<String, u32>,
    pub(crate) loc: SourceLoc,
}

/// Everything a script's top level registered, in declaration order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Registry {
    pub(crate) tasks: Vec<TaskSpec>,
    pub(crate) flows: Vec<FlowSpec>,
    /// `on(event, closure)`: hooks by event, in registration order.
    pub(crate) hooks: Vec<(String, ScriptFn)>,
    /// `middleware(closure)`: wrappers of every Rhai task attempt, outermost first.
    pub(crate) middleware: Vec<ScriptFn>,
}

impl Registry {
    pub(crate) fn task(&self, name: &str) -> Option<&TaskSpec> {
        self.tasks.iter().find(|t| t.name == name)
    }

    pub(crate) fn flow(&self, name: &str) -> Option<&FlowSpec> {
        self.flows.iter().find(|f| f.name == name)
    }
}

/// What the top level may see of the script while registering.
pub(crate) struct Loading {
    pub(crate) registry: Registry,
    /// Script functions: name to parameter names.
    pub(crate) functions: BTreeMap<String, Vec<String>>,
    pub(crate) file: std::sync::Arc<str>,
    /// What a task's options start from: the configuration's task defaults.
    pub(crate) defaults: TaskOptions,
}

thread_local! {
    pub(crate) static LOADING: RefCell<Option<Loading>> = const { RefCell::new(None) };
}

pub(crate) fn register(engine: &mut Engine) {
    engine
        .register_fn("task", |ctx: NativeCallContext, f: FnPtr| {
            add_task(&ctx, &f, &Map::new(), TaskKind::Rhai)
        })
        .register_fn("task", |ctx: NativeCallContext, f: FnPtr, o: Map| {
            add_task(&ctx, &f, &o, TaskKind::Rhai)
        })
        .register_fn("shell_task", |ctx: NativeCallContext, f: FnPtr| {
            add_task(&ctx, &f, &Map::new(), TaskKind::Shell)
        })
        .register_fn("shell_task", |ctx: NativeCallContext, f: FnPtr, o: Map| {
            add_task(&ctx, &f, &o, TaskKind::Shell)
        })
        .register_fn("flow", |ctx: NativeCallContext, f: FnPtr| {
            add_flow(&ctx, &f, &Map::new())
        })
        .register_fn("flow", |ctx: NativeCallContext, f: FnPtr, o: Map| {
            add_flow(&ctx, &f, &o)
        })
        .register_fn("on", add_hook)
        .register_fn("middleware", add_middleware);
}

fn add_hook(ctx: NativeCallContext, event: &str, f: FnPtr) -> RhaiResult<()> {
    with_loading(&ctx, "on", |loading| {
        if !super::hooks::HOOK_EVENTS.contains(&event) {
            let d = Diagnostic::new(format!("unknown hook event `{event}`"));
            return Err(match options::suggest(event, super::hooks::HOOK_EVENTS) {
                Some(s) => d.help(format!(
                    "did you mean `{s}`? events: {}",
                    super::hooks::HOOK_EVENTS.join(", ")
                )),
                None => d.help(format!("events: {}", super::hooks::HOOK_EVENTS.join(", "))),
            });
        }
        loading.registry.hooks.push((event.to_owned(), ScriptFn(f)));
        Ok(())
    })
}

fn add_middleware(ctx: NativeCallContext, f: FnPtr) -> RhaiResult<()> {
    with_loading(&ctx, "middleware", |loading| {
        loading.registry.middleware.push(ScriptFn(f));
        Ok(())
    })
}

type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// A script error raised at the current call, carrying an autowf diagnostic for rendering.
pub(crate) fn script_error(ctx: &NativeCallContext, d: Diagnostic) -> Box<EvalAltResult> {
    let pos = ctx.call_position();
    EvalAltResult::ErrorRuntime(Dynamic::from(DiagnosticPayload(d)), pos).into()
}

/// A diagnostic travelling through Rhai's error value, so its help text survives.
#[derive(Clone, Debug)]
pub(crate) struct DiagnosticPayload(pub(crate) Diagnostic);

pub(crate) fn call_loc(ctx: &NativeCallContext, file: &std::sync::Arc<str>) -> SourceLoc {
    let pos = ctx.call_position();
    SourceLoc {
        file: ctx.call_source().map_or_else(|| file.clone(), Into::into),
        line: pos.line().unwrap_or(0).try_into().unwrap_or(u32::MAX),
        column: pos.position().unwrap_or(0).try_into().unwrap_or(u32::MAX),
    }
}

/// Runs `f` with the loading state, or fails when called outside the top level.
fn with_loading<T>(
    ctx: &NativeCallContext,
    what: &str,
    f: impl FnOnce(&mut Loading) -> Result<T, Diagnostic>,
) -> RhaiResult<T> {
    LOADING.with_borrow_mut(|state| match state.as_mut() {
        Some(loading) => f(loading).map_err(|d| script_error(ctx, d)),
        None => Err(script_error(
            ctx,
            Diagnostic::new(format!(
                "`{what}(...)` may only be called at the top level of a script"
            )),
        )),
    })
}

/// Checks that `f` names a script function and returns its parameter names.
fn named_function(loading: &Loading, f: &FnPtr, what: &str) -> Result<Vec<String>, Diagnostic> {
    let name = f.fn_name();
    if f.is_anonymous() || name.starts_with("anon$") {
        return Err(
            Diagnostic::new(format!("`{what}` needs a named function, not a closure")).help(
                format!("define `fn my_step(...) {{ ... }}` and call `{what}(my_step)`"),
            ),
        );
    }
    loading.functions.get(name).cloned().ok_or_else(|| {
        let names: Vec<&str> = loading.functions.keys().map(String::as_str).collect();
        let d = Diagnostic::new(format!("`{name}` is not a function defined in this script"));
        match options::suggest(name, &names) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d,
        }
    })
}

fn ensure_unique(loading: &Loading, name: &str) -> Result<(), Diagnostic> {
    let first = loading
        .registry
        .task(name)
        .map(|t| t.loc.clone())
        .or_else(|| loading.registry.flow(name).map(|f| f.loc.clone()));
    match first {
        None => Ok(()),
        Some(loc) => Err(Diagnostic::new(format!("`{name}` is registered twice"))
            .note("first registered here", Some(loc))),
    }
}

fn add_task(ctx: &NativeCallContext, f: &FnPtr, opts: &Map, kind: TaskKind) -> RhaiResult<()> {
    let what = if kind == TaskKind::Shell {
        "shell_task"
    } else {
        "task"
    };
    with_loading(ctx, what, |loading| {
        let params = named_function(loading, f, what)?;
        let name = f.fn_name().to_owned();
        ensure_unique(loading, &name)?;
        let mut options = loading.defaults.clone();
        options
            .apply(opts, kind == TaskKind::Shell)
            .map_err(option_diagnostic)?;
        let loc = call_loc(ctx, &loading.file);
        loading.registry.tasks.push(TaskSpec {
            name,
            kind,
            params,
            options: std::sync::Arc::new(options),
            loc,
        });
        Ok(())
    })
}

pub(crate) fn option_diagnostic(e: OptionError) -> Diagnostic {
    let help = e.help();
    let d = Diagnostic::new(e.message());
    match help {
        Some(h) => d.help(h),
        None => d,
    }
}

fn add_flow(ctx: &NativeCallContext, f: &FnPtr, opts: &Map) -> RhaiResult<()> {
    with_loading(ctx, "flow", |loading| {
        let fn_params = named_function(loading, f, "flow")?;
        let name = f.fn_name().to_owned();
        ensure_unique(loading, &name)?;
        let mut spec = FlowSpec {
            name,
            fn_params,
            params: Vec::new(),
            on_failure: FailurePolicy::FailFast,
            pools: BTreeMap::new(),
            loc: call_loc(ctx, &loading.file),
        };
        for (key, value) in opts {
            apply_flow_option(&mut spec, key, value).map_err(option_diagnostic)?;
        }
        check_flow_params(&spec)?;
        loading.registry.flows.push(spec);
        Ok(())
    })
}

fn apply_flow_option(spec: &mut FlowSpec, key: &str, value: &Dynamic) -> Result<(), OptionError> {
    let bad = |reason: String| OptionError::BadValue {
        name: key.to_owned(),
        reason,
    };
    match key {
        "params" => {
            let map = value.as_map_ref().map_err(|_| {
                bad(format!(
                    "expected a map, got {}",
                    super::value::type_name(value)
                ))
            })?;
            spec.params = map
                .iter()
                .map(|(k, v)| Param {
                    name: k.to_string(),
                    default: Value(v.clone()),
                    is_required: v.is_unit(),
                })
                .collect();
        }
        "on_failure" => {
            spec.on_failure = options::choice(
                value,
                &[
                    ("fail_fast", FailurePolicy::FailFast),
                    ("keep_going", FailurePolicy::KeepGoing),
                ],
            )
            .map_err(bad)?;
        }
        "pools" => {
            let map = value
                .as_map_ref()
                .map_err(|_| bad("expected a map of pool name to size".to_owned()))?;
            for (k, v) in map.iter() {
                let n = v
                    .as_int()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| bad(format!("pool `{k}`: expected a size of at least 1")))?;
                spec.pools
                    .insert(k.to_string(), u32::try_from(n).unwrap_or(u32::MAX));
            }
        }
        other => return Err(options::unknown_flow_option(other)),
    }
    Ok(())
}

/// A flow function's parameters must each name a declared param (or be `params`).
fn check_flow_params(spec: &FlowSpec) -> Result<(), Diagnostic> {
    for p in &spec.fn_params {
        if p == "params" || spec.params.iter().any(|d| &d.name == p) {
            continue;
        }
        let declared: Vec<&str> = spec.params.iter().map(|d| d.name.as_str()).collect();
        return Err(Diagnostic::new(format!(
            "parameter `{p}` of flow `{}` is not declared in its `params`",
            spec.name
        ))
        .help(if declared.is_empty() {
            format!(
                "declare it: `flow({}, #{{ params: #{{ {p}: <default> }} }})`",
                spec.name
            )
        } else {
            format!("declared params: {}", declared.join(", "))
        }));
    }
    Ok(())
}
