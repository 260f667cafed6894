//! Lifecycle hooks, `on("task_failure", |event| ...)`, and task middleware,
//! `middleware(|ctx, next| { ...; let r = next.call(); ...; r })`, both registered at the top
//! level of a script. Hooks watch the run's events; middleware wraps every attempt of a Rhai
//! task, in registration order.

use std::cell::RefCell;
use std::sync::Arc;

use rhai::{AST, Dynamic, Engine, EvalAltResult, FnPtr, ImmutableString, Map, NativeCallContext};

use super::diagnostics::task_error;
use super::options::ScriptFn;
use super::runtime::RunInfo;
use crate::events::{Observe, RunEvent, Status};

/// The events `on(...)` accepts.
pub(crate) const HOOK_EVENTS: &[&str] = &[
    "flow_start",
    "flow_success",
    "flow_failure",
    "task_start",
    "task_success",
    "task_failure",
    "task_retry",
];

/// The native a middleware's `next` points at.
const NEXT: &str = "__autowf_next";

/// Runs the script's hooks for each run event, on the dispatcher's thread. A failing hook is
/// reported as a warning naming it and changes nothing else.
pub(crate) struct HookRunner {
    pub(crate) engine: Engine,
    pub(crate) ast: AST,
    pub(crate) hooks: Vec<(String, ScriptFn)>,
    pub(crate) info: Arc<RunInfo>,
    pub(crate) file: Arc<str>,
}

impl Observe for HookRunner {
    fn observe(&mut self, event: &RunEvent) {
        let Some((kind, map)) = self.event_map(event) else {
            return;
        };
        for (on, hook) in &self.hooks {
            if on != kind {
                continue;
            }
            let arg = Dynamic::from_map(map.clone());
            if let Err(e) = hook.0.call::<Dynamic>(&self.engine, &self.ast, (arg,)) {
                let why = task_error(&e, &self.file).message;
                tracing::warn!("hook `{kind}` failed: {why}");
            }
        }
    }
}

impl HookRunner {
    /// The hook event kind and the map a hook receives, for the events hooks see.
    fn event_map(&self, event: &RunEvent) -> Option<(&'static str, Map)> {
        let mut m = Map::new();
        m.insert("run_id".into(), self.info.run_id.clone().into());
        m.insert("flow".into(), self.info.flow.clone().into());
        let kind = match event {
            RunEvent::RunStarted { .. } => "flow_start",
            RunEvent::RunFinished {
                is_success,
                duration,
                ..
            } => {
                m.insert(
                    "status".into(),
                    if *is_success { "succeeded" } else { "failed" }.into(),
                );
                m.insert(
                    "duration".into(),
                    Dynamic::from_float(duration.as_secs_f64()),
                );
                if *is_success {
                    "flow_success"
                } else {
                    "flow_failure"
                }
            }
            RunEvent::NodeStarted { name, attempt } => {
                m.insert("node".into(), name.clone().into());
                m.insert("attempt".into(), Dynamic::from_int(i64::from(*attempt)));
                "task_start"
            }
            RunEvent::NodeRetrying {
                name,
                attempt,
                error,
                ..
            } => {
                m.insert("node".into(), name.clone().into());
                m.insert("attempt".into(), Dynamic::from_int(i64::from(*attempt)));
                m.insert("error".into(), error.message.clone().into());
                "task_retry"
            }
            RunEvent::NodeFinished {
                name,
                status,
                attempts,
                duration,
                error,
                ..
            } => {
                m.insert("node".into(), name.clone().into());
                m.insert("attempt".into(), Dynamic::from_int(i64::from(*attempts)));
                m.insert("status".into(), status.name().into());
                m.insert(
                    "duration".into(),
                    Dynamic::from_float(duration.as_secs_f64()),
                );
                m.insert(
                    "error".into(),
                    error
                        .as_ref()
                        .map_or(Dynamic::UNIT, |e| e.message.clone().into()),
                );
                match status {
                    Status::Succeeded | Status::Cached => "task_success",
                    Status::Failed | Status::TimedOut => "task_failure",
                    Status::Skipped | Status::Cancelled => return None,
                }
            }
            RunEvent::NodeExpanded { .. } => return None,
        };
        m.insert("event".into(), kind.into());
        Some((kind, m))
    }
}

/// One middleware chain in progress on this thread: the call it wraps and how far it got.
struct Chain {
    task: ImmutableString,
    args: Vec<Dynamic>,
    ctx: Map,
    middleware: Arc<[ScriptFn]>,
    next: usize,
}

thread_local! {
    static CHAINS: RefCell<Vec<Chain>> = const { RefCell::new(Vec::new()) };
}

/// Calls `task(args)` through the middleware, outermost first.
pub(crate) fn call_through(
    engine: &Engine,
    ast: &AST,
    middleware: Arc<[ScriptFn]>,
    task: ImmutableString,
    args: Vec<Dynamic>,
    ctx: Map,
) -> Result<Dynamic, Box<EvalAltResult>> {
    let first = middleware[0].0.clone();
    let ctx_arg = Dynamic::from_map(ctx.clone());
    CHAINS.with_borrow_mut(|c| {
        c.push(Chain {
            task,
            args,
            ctx,
            middleware,
            next: 1,
        })
    });
    let result = first.call::<Dynamic>(engine, ast, (ctx_arg, next_fn()));
    CHAINS.with_borrow_mut(Vec::pop);
    result
}

fn next_fn() -> FnPtr {
    FnPtr::new(NEXT).expect("invariant: a valid function name")
}

/// `next.call()` inside a middleware: the next middleware, or the task itself.
fn next_native(ctx: NativeCallContext) -> Result<Dynamic, Box<EvalAltResult>> {
    let step = CHAINS.with_borrow_mut(|chains| {
        let chain = chains.last_mut()?;
        let i = chain.next;
        chain.next += 1;
        Some(match chain.middleware.get(i) {
            Some(m) => Err((m.0.clone(), chain.ctx.clone())),
            None => Ok((chain.task.clone(), chain.args.clone())),
        })
    });
    match step {
        None => Err(EvalAltResult::ErrorRuntime(
            "`next` may only be called inside a middleware".into(),
            ctx.call_position(),
        )
        .into()),
        Some(Ok((task, args))) => ctx.call_fn(task.as_str(), args),
        Some(Err((middleware, map))) => {
            middleware.call_within_context(&ctx, (Dynamic::from_map(map), next_fn()))
        }
    }
}

pub(crate) fn register(engine: &mut Engine) {
    engine.register_fn(NEXT, next_native);
}
