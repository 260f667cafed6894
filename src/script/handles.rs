//! The functions a flow body uses besides calling tasks: `sh`, `fan_out`, and the handle
//! methods `.map`, `.then`, `.after`, `.named` and `.options`.

use rhai::{Array, Dynamic, Engine, EvalAltResult, FnPtr, Map, NativeCallContext};

use super::api::{TaskKind, call_loc, option_diagnostic, script_error};
use super::build::{
    BUILDER, RhaiResult, current_file, data_deps, flow_native, task_limits, task_node, with_builder,
};
use super::payload::{Payload, PayloadKind};
use super::value::Handle;
use crate::dag::{DepTarget, Limit, Node, NodeId, NodeKind};
use crate::error::Diagnostic;

pub(crate) fn register(engine: &mut Engine) {
    engine.register_type_with_name::<Handle>("Handle");
    engine
        .register_fn("to_string", |h: &mut Handle| h.sentinel())
        .register_fn("to_debug", |h: &mut Handle| {
            format!("<result of node {}>", h.id.0)
        })
        .register_fn("__flow", flow_native)
        .register_fn("then", then_native)
        .register_fn(
            "fan_out",
            |ctx: NativeCallContext, f: FnPtr, list: Dynamic| {
                fan_out_native(&ctx, &f, list, &Map::new())
            },
        )
        .register_fn(
            "fan_out",
            |ctx: NativeCallContext, f: FnPtr, list: Dynamic, o: Map| {
                fan_out_native(&ctx, &f, list, &o)
            },
        )
        .register_fn("after", after_native)
        .register_fn("named", named_native)
        .register_fn("options", options_native);
    super::misuse::register(engine);
}

/// `map` for the flow-building engine only: task bodies keep Rhai's own `Array.map`.
pub(crate) fn register_build_only(engine: &mut Engine) {
    engine
        .register_fn("map", |ctx: NativeCallContext, h: Handle, f: FnPtr| {
            expansion_node(&ctx, h, f, &Map::new())
        })
        .register_fn("map", |ctx: NativeCallContext, arr: Array, f: FnPtr| {
            static_fan_out(&ctx, &f, arr, &Map::new())
        });
}

/// `list.map(f)` in a flow body: a handle fans out at run time, a plain array right now.
fn fan_out_native(
    ctx: &NativeCallContext,
    f: &FnPtr,
    list: Dynamic,
    opts: &Map,
) -> RhaiResult<Dynamic> {
    if let Some(h) = list.read_lock::<Handle>().map(|h| *h) {
        return expansion_node(ctx, h, f.clone(), opts).map(Dynamic::from);
    }
    let arr = list.into_array().map_err(|t| {
        script_error(
            ctx,
            Diagnostic::new(format!(
                "`fan_out` needs an array or a task result, got {t}"
            )),
        )
    })?;
    static_fan_out(ctx, f, arr, opts)
}

/// Fan-out over a list known now: `square[0]`, `square[1]` ... for a task; a closure is called
/// once per element.
fn static_fan_out(
    ctx: &NativeCallContext,
    f: &FnPtr,
    arr: Array,
    opts: &Map,
) -> RhaiResult<Dynamic> {
    let task = BUILDER.with_borrow(|b| {
        b.as_ref()
            .and_then(|b| b.cx.registry.task(f.fn_name()).map(|t| t.name.clone()))
    });
    let Some(task) = task else {
        let mut out = Array::with_capacity(arr.len());
        for (i, item) in arr.into_iter().enumerate() {
            out.push(call_with_item(ctx, f, item, i)?);
        }
        return Ok(out.into());
    };
    let loc = call_loc(ctx, &current_file());
    let handles = with_builder(ctx, "fan_out", |b| {
        let group = b.fresh_name(&task);
        let limit = fan_out_limit(&group, opts)?;
        let mut handles = Array::with_capacity(arr.len());
        // The task's options with the fan-out's overrides: made once, shared by every node.
        let mut overridden: Option<std::sync::Arc<super::TaskOptions>> = None;
        for (i, item) in arr.into_iter().enumerate() {
            let h = task_node(b, &task, vec![item], loc.clone(), format!("{group}[{i}]"))?;
            let node = b.node_mut(h)?;
            node.options = match &overridden {
                Some(options) => options.clone(),
                None => {
                    let mut options = (*node.options).clone();
                    options
                        .apply(&fan_out_overrides(opts), node.kind == NodeKind::Shell)
                        .map_err(option_diagnostic)?;
                    overridden.insert(std::sync::Arc::new(options)).clone()
                }
            };
            node.limits.extend(limit.clone());
            handles.push(Dynamic::from(h));
        }
        Ok(handles)
    })?;
    Ok(handles.into())
}

/// Calls `f(item)`, or `f(item, index)` when `f` takes two parameters, like `Array.map`.
fn call_with_item(
    ctx: &NativeCallContext,
    f: &FnPtr,
    item: Dynamic,
    index: usize,
) -> RhaiResult<Dynamic> {
    match f.call_within_context::<Dynamic>(ctx, (item.clone(),)) {
        Err(e) if matches!(*e, EvalAltResult::ErrorFunctionNotFound(ref sig, _) if sig.starts_with(f.fn_name())) => {
            f.call_within_context(
                ctx,
                (
                    item,
                    Dynamic::from_int(i64::try_from(index).unwrap_or(i64::MAX)),
                ),
            )
        }
        other => other,
    }
}

/// `max_concurrency` in a fan-out's options limits its children together.
fn fan_out_limit(group: &str, opts: &Map) -> Result<Option<Limit>, Diagnostic> {
    let Some(v) = opts.get("max_concurrency") else {
        return Ok(None);
    };
    let n = v.as_int().ok().filter(|n| *n >= 1).ok_or_else(|| {
        Diagnostic::new(
            "invalid value for option `max_concurrency`: expected an integer of at least 1",
        )
    })?;
    Ok(Some(Limit::one_each(
        format!("fanout:{group}"),
        u32::try_from(n).unwrap_or(u32::MAX),
    )))
}

/// The options of a fan-out other than `max_concurrency`, which apply to each child.
fn fan_out_overrides(opts: &Map) -> Map {
    opts.iter()
        .filter(|(k, _)| k.as_str() != "max_concurrency")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A runtime fan-out node over the result behind `source`.
fn expansion_node(
    ctx: &NativeCallContext,
    source: Handle,
    f: FnPtr,
    opts: &Map,
) -> RhaiResult<Handle> {
    let loc = call_loc(ctx, &current_file());
    with_builder(ctx, "map", |b| {
        let task = b.cx.registry.task(f.fn_name()).cloned();
        let base = task.as_ref().map_or("map", |t| t.name.as_str()).to_owned();
        let name = b.fresh_name(&base);
        let mut options = task
            .as_ref()
            .map(|t| (*t.options).clone())
            .unwrap_or_default();
        options
            .apply(
                &fan_out_overrides(opts),
                task.as_ref().is_some_and(|t| t.kind == TaskKind::Shell),
            )
            .map_err(option_diagnostic)?;
        let curried: Vec<&Dynamic> = f.curry().iter().collect();
        let mut deps = data_deps(&[&Dynamic::from(source)], &loc);
        deps.extend(data_deps(&curried, &loc));
        let limits = fan_out_limit(&name, opts)?.into_iter().collect();
        let payload = Payload::new(PayloadKind::Map {
            source,
            func: f,
            task: task.as_ref().map(|t| t.name.clone()),
        });
        Ok(b.push(Node {
            id: NodeId(0),
            name,
            task: task.map(|t| t.name),
            kind: NodeKind::Map,
            options: options.into(),
            deps,
            loc,
            payload,
            limits,
        }))
    })
}

fn then_native(ctx: NativeCallContext, source: Handle, f: FnPtr) -> RhaiResult<Handle> {
    let loc = call_loc(&ctx, &current_file());
    with_builder(&ctx, "then", |b| {
        let name = b.fresh_name("then");
        let curried: Vec<&Dynamic> = f.curry().iter().collect();
        let mut deps = data_deps(&[&Dynamic::from(source)], &loc);
        deps.extend(data_deps(&curried, &loc));
        deps.dedup_by_key(|d| d.node());
        let payload = Payload::new(PayloadKind::Then { source, closure: f });
        Ok(b.push(Node {
            id: NodeId(0),
            name,
            task: None,
            kind: NodeKind::Then,
            options: std::sync::Arc::default(),
            deps,
            loc,
            payload,
            limits: Vec::new(),
        }))
    })
}

/// `sh("cmd")` in a flow body: an inline shell step; interpolated handles become edges.
pub(crate) fn sh_node(ctx: &NativeCallContext, command: &str) -> RhaiResult<Handle> {
    super::secret::check_command(command)
        .map_err(|message| super::api::script_error(ctx, crate::error::Diagnostic::new(message)))?;
    let loc = call_loc(ctx, &current_file());
    with_builder(ctx, "sh", |b| {
        let name = b.fresh_name("sh");
        let cmd = Dynamic::from(command.to_owned());
        let deps = data_deps(&[&cmd], &loc);
        let payload = Payload::new(PayloadKind::Sh { command: cmd });
        Ok(b.push(Node {
            id: NodeId(0),
            name,
            task: Some("sh".to_owned()),
            kind: NodeKind::Sh,
            options: std::sync::Arc::default(),
            deps,
            loc,
            payload,
            limits: Vec::new(),
        }))
    })
}

fn after_native(ctx: NativeCallContext, h: Handle, target: Dynamic) -> RhaiResult<Handle> {
    let loc = call_loc(&ctx, &current_file());
    with_builder(&ctx, "after", |b| {
        let scope = b.prefix.clone();
        let mut deps = Vec::new();
        let items = if target.is_array() {
            target.into_array().unwrap_or_default()
        } else {
            vec![target]
        };
        for item in items {
            let dep = if let Some(other) = item.read_lock::<Handle>() {
                DepTarget::Node(other.id)
            } else if let Ok(name) = item.clone().into_string() {
                DepTarget::Name {
                    name,
                    scope: scope.clone(),
                }
            } else {
                return Err(Diagnostic::new(format!(
                    "`after` takes a task result, a node name or a list of them, got {}",
                    super::value::type_name(&item)
                )));
            };
            deps.push(crate::dag::Dep {
                target: dep,
                loc: loc.clone(),
                is_control: true,
            });
        }
        b.node_mut(h)?.deps.extend(deps);
        Ok(h)
    })
}

fn named_native(ctx: NativeCallContext, h: Handle, name: &str) -> RhaiResult<Handle> {
    with_builder(&ctx, "named", |b| {
        if name.is_empty() || name.contains(['/', '\n', '"']) {
            return Err(Diagnostic::new(format!(
                "invalid node name `{name}`: use a non-empty name without `/`, quotes or newlines"
            )));
        }
        let full = format!("{}{name}", b.prefix);
        b.node_mut(h)?.name = full;
        Ok(h)
    })
}

fn options_native(ctx: NativeCallContext, h: Handle, opts: Map) -> RhaiResult<Handle> {
    with_builder(&ctx, "options", |b| {
        let node = b.node_mut(h)?;
        let is_shell = matches!(node.kind, NodeKind::Shell | NodeKind::Sh);
        std::sync::Arc::make_mut(&mut node.options)
            .apply(&opts, is_shell)
            .map_err(option_diagnostic)?;
        let task = node.task.clone().unwrap_or_default();
        node.limits.retain(|l| !l.key.starts_with("task:"));
        let extra = task_limits(&task, &node.options);
        node.limits.extend(extra);
        Ok(h)
    })
}
