//! Flow-building mode: evaluating a flow body (or a `.then` closure) creates nodes instead of
//! running tasks.
//!
//! In the building AST each task function is replaced by a placeholder of an arity nobody
//! calls, so a call `square(x)` falls through to a native `square` registered on the building
//! engine, which adds a node and knows its call position; the placeholder keeps `square`
//! usable as a function pointer (`nums.map(square)`). Flow functions are shadowed by script
//! shims calling `__flow`, which inlines the flow under its namespace. The script's own AST and
//! the engine that runs task bodies never change.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use rhai::{
    AST, Array, CallFnOptions, Dynamic, Engine, EvalAltResult, FnPtr, Map, NativeCallContext, Scope,
};

use super::Value;
use super::api::{Registry, TaskKind, call_loc, script_error};
use super::payload::{Payload, PayloadKind};
use super::value::{Handle, collect_handles};
use crate::dag::{Dep, DepTarget, Limit, Node, NodeId, NodeKind};
use crate::error::{Diagnostic, SourceLoc};

pub(super) type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// What flow-building needs from a loaded script; shared by every build of a run.
pub(crate) struct BuildContext {
    pub(crate) registry: Registry,
    pub(crate) file: Arc<str>,
    /// All shims over the script's functions: for `.then` closures and map closures.
    pub(crate) build_ast: AST,
    /// Per flow, the same without that flow's own shim, so calling it runs its body.
    pub(crate) flow_asts: HashMap<String, AST>,
}

impl BuildContext {
    pub(crate) fn new(
        engine: &Engine,
        ast: &AST,
        registry: Registry,
        file: Arc<str>,
    ) -> Result<Self, Diagnostic> {
        let mut functions = ast.clone_functions_only();
        functions.retain_functions(|_, _, name, arity| {
            registry.task(name).is_none_or(|t| t.params.len() != arity)
        });
        let shim = |skip: Option<&str>| -> Result<AST, Diagnostic> {
            let text = shim_source(&registry, skip);
            let shims = engine.compile(&text).map_err(|e| {
                Diagnostic::new(format!("internal error: cannot compile task shims: {e}"))
            })?;
            Ok(functions.merge(&shims))
        };
        let build_ast = shim(None)?;
        let flow_asts = registry
            .flows
            .iter()
            .map(|f| Ok((f.name.clone(), shim(Some(&f.name))?)))
            .collect::<Result<_, Diagnostic>>()?;
        Ok(Self {
            registry,
            file,
            build_ast,
            flow_asts,
        })
    }
}

/// Arity of the task placeholders: high enough that no script calls it by accident.
const PLACEHOLDER_ARITY: usize = 13;

/// Source of the placeholders for every task and of `fn sub(a) { __flow("sub", [a]) }` for
/// every flow but `skip`.
fn shim_source(registry: &Registry, skip: Option<&str>) -> String {
    let mut out = String::new();
    let unused: Vec<String> = (0..PLACEHOLDER_ARITY)
        .map(|i| format!("unused{i}"))
        .collect();
    for t in &registry.tasks {
        out.push_str(&format!(
            "fn {}({}) {{ throw \"`{}` takes {} argument(s)\" }}\n",
            t.name,
            unused.join(", "),
            t.name,
            t.params.len()
        ));
    }
    for f in registry
        .flows
        .iter()
        .filter(|f| Some(f.name.as_str()) != skip)
    {
        let list = f.fn_params.join(", ");
        out.push_str(&format!(
            "fn {0}({list}) {{ __flow(\"{0}\", [{list}]) }}\n",
            f.name
        ));
    }
    out
}

/// Registers, on a building engine, one native per task with the task's name and arity.
pub(crate) fn register_task_natives(engine: &mut Engine, registry: &Registry) {
    for t in &registry.tasks {
        let name: rhai::ImmutableString = t.name.as_str().into();
        let types = vec![std::any::TypeId::of::<Dynamic>(); t.params.len()];
        engine.register_raw_fn(t.name.as_str(), types, move |ctx, args| {
            // Clone, never take: Rhai may pass the caller's own variable as the first argument.
            let args: Array = args.iter().map(|a| (**a).clone()).collect();
            node_native(&ctx, &name, args).map(Dynamic::from)
        });
    }
}

/// The nodes one build created and the value it produced (which may hold handles).
pub(crate) struct Built {
    pub(crate) nodes: Vec<Node>,
    pub(crate) output: Value,
}

/// The state of one build, kept in a thread-local while Rhai code runs in building mode.
pub(crate) struct Builder {
    pub(super) cx: Arc<BuildContext>,
    base_id: u32,
    nodes: Vec<Node>,
    /// Namespace of the nodes being created, e.g. `sub/` inside a nested flow.
    pub(super) prefix: String,
    counters: HashMap<String, u32>,
}

thread_local! {
    pub(super) static BUILDER: RefCell<Option<Builder>> = const { RefCell::new(None) };
}

pub(crate) fn is_building() -> bool {
    BUILDER.with_borrow(Option::is_some)
}

impl Builder {
    pub(crate) fn new(cx: Arc<BuildContext>, base_id: u32, prefix: String) -> Self {
        Self {
            cx,
            base_id,
            nodes: Vec::new(),
            prefix,
            counters: HashMap::new(),
        }
    }

    /// Runs `f` with this builder installed, and returns the nodes it created.
    pub(crate) fn run<T>(self, f: impl FnOnce() -> T) -> (T, Vec<Node>) {
        let previous = BUILDER.replace(Some(self));
        let out = f();
        let builder = BUILDER
            .replace(previous)
            .expect("invariant: builder installed");
        (out, builder.nodes)
    }

    /// `square`, then `square#2`, `square#3` ... within the current namespace.
    pub(super) fn fresh_name(&mut self, base: &str) -> String {
        let full = format!("{}{base}", self.prefix);
        let n = self.counters.entry(full.clone()).or_insert(0);
        *n += 1;
        if *n == 1 { full } else { format!("{full}#{n}") }
    }

    pub(super) fn push(&mut self, mut node: Node) -> Handle {
        let id = NodeId(
            self.base_id
                + u32::try_from(self.nodes.len()).expect("invariant: fewer than 2^32 nodes"),
        );
        node.id = id;
        self.nodes.push(node);
        Handle { id }
    }

    pub(super) fn node_mut(&mut self, h: Handle) -> Result<&mut Node, Diagnostic> {
        h.id.0
            .checked_sub(self.base_id)
            .and_then(|i| self.nodes.get_mut(i as usize))
            .ok_or_else(|| {
                Diagnostic::new("this node was created earlier and can no longer be changed")
            })
    }
}

pub(super) fn with_builder<T>(
    ctx: &NativeCallContext,
    what: &str,
    f: impl FnOnce(&mut Builder) -> Result<T, Diagnostic>,
) -> RhaiResult<T> {
    BUILDER.with_borrow_mut(|b| match b.as_mut() {
        Some(builder) => f(builder).map_err(|d| script_error(ctx, d)),
        None => Err(script_error(
            ctx,
            Diagnostic::new(format!("`{what}` may only be used inside a flow body")),
        )),
    })
}

pub(super) fn current_file() -> Arc<str> {
    BUILDER
        .with_borrow(|b| b.as_ref().map(|b| b.cx.file.clone()))
        .unwrap_or_else(|| "<script>".into())
}

pub(super) fn data_deps(values: &[&Dynamic], loc: &SourceLoc) -> Vec<Dep> {
    let mut ids = Vec::new();
    values.iter().for_each(|v| collect_handles(v, &mut ids));
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .map(|id| Dep {
            target: DepTarget::Node(id),
            loc: loc.clone(),
            is_control: false,
        })
        .collect()
}

pub(super) fn task_node(
    b: &mut Builder,
    task: &str,
    args: Vec<Dynamic>,
    loc: SourceLoc,
    name: String,
) -> Result<Handle, Diagnostic> {
    let spec =
        b.cx.registry
            .task(task)
            .ok_or_else(|| Diagnostic::new(format!("`{task}` is not a task")))?;
    let kind = match spec.kind {
        TaskKind::Rhai => NodeKind::Task,
        TaskKind::Shell => NodeKind::Shell,
    };
    let options = spec.options.clone();
    let refs: Vec<&Dynamic> = args.iter().collect();
    let deps = data_deps(&refs, &loc);
    let limits = task_limits(task, &options);
    let payload = Payload::new(PayloadKind::Call {
        task: task.into(),
        args,
    });
    Ok(b.push(Node {
        id: NodeId(0),
        name,
        task: Some(task.to_owned()),
        kind,
        options,
        deps,
        loc,
        payload,
        limits,
    }))
}

pub(crate) fn task_limits(task: &str, options: &super::TaskOptions) -> Vec<Limit> {
    options
        .max_concurrency
        .map(|capacity| Limit::one_each(format!("task:{task}"), capacity))
        .into_iter()
        .collect()
}

fn node_native(ctx: &NativeCallContext, task: &str, args: Array) -> RhaiResult<Handle> {
    let loc = call_loc(ctx, &current_file());
    with_builder(ctx, task, |b| {
        let name = b.fresh_name(task);
        task_node(b, task, args, loc, name)
    })
}

pub(super) fn flow_native(ctx: NativeCallContext, flow: &str, args: Array) -> RhaiResult<Dynamic> {
    let (ast, saved_prefix) = with_builder(&ctx, flow, |b| {
        let ns = b.fresh_name(flow);
        let ast =
            b.cx.flow_asts
                .get(flow)
                .cloned()
                .ok_or_else(|| Diagnostic::new(format!("`{flow}` is not a flow")))?;
        Ok((ast, std::mem::replace(&mut b.prefix, format!("{ns}/"))))
    })?;
    let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
    let result =
        ctx.engine()
            .call_fn_with_options::<Dynamic>(options, &mut Scope::new(), &ast, flow, args);
    BUILDER.with_borrow_mut(|b| {
        if let Some(b) = b.as_mut() {
            b.prefix = saved_prefix;
        }
    });
    result
}

/// Calls `flow` with `params` bound by name, in building mode; returns its nodes and result.
pub(crate) fn build_flow(
    cx: &Arc<BuildContext>,
    engine: &Engine,
    flow: &str,
    params: &Map,
) -> Result<Built, Box<EvalAltResult>> {
    let spec = cx.registry.flow(flow).expect("invariant: flow exists");
    let args: Vec<Dynamic> = spec
        .fn_params
        .iter()
        .map(|p| {
            if p == "params" {
                Dynamic::from_map(params.clone())
            } else {
                params.get(p.as_str()).cloned().unwrap_or_default()
            }
        })
        .collect();
    let ast = &cx.flow_asts[flow];
    let builder = Builder::new(cx.clone(), 0, String::new());
    let (result, nodes) = builder.run(|| {
        engine.call_fn_with_options::<Dynamic>(
            CallFnOptions::new().eval_ast(false),
            &mut Scope::new(),
            ast,
            flow,
            args,
        )
    });
    Ok(Built {
        nodes,
        output: Value(result?),
    })
}

/// Calls `f(args)` in building mode at run time, creating nodes from `base_id` under `prefix`.
pub(crate) fn build_closure(
    cx: &Arc<BuildContext>,
    engine: &Engine,
    f: &FnPtr,
    args: Vec<Dynamic>,
    base_id: u32,
    prefix: String,
) -> Result<Built, Box<EvalAltResult>> {
    let builder = Builder::new(cx.clone(), base_id, prefix);
    let (result, nodes) = builder.run(|| f.call::<Dynamic>(engine, &cx.build_ast, args));
    Ok(Built {
        nodes,
        output: Value(result?),
    })
}
