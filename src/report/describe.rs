//! The static views: `describe` (text, JSON, Mermaid) and `list` (text, JSON).

use std::fmt::Write as _;

use serde_json::json;

use crate::dag::{Dag, NodeKind};
use crate::error::SourceLoc;
use crate::script::{FlowSpec, Script, TaskKind};

/// One flow of a script with the graph its body builds.
pub(crate) struct DescribedFlow<'a> {
    pub(crate) spec: &'a FlowSpec,
    pub(crate) dag: Dag,
}

/// A node's options as `describe` shows them, with a fan-out's own `max_concurrency` (kept
/// as a limit shared by its children, not as a task option).
fn node_options(n: &crate::dag::Node) -> Vec<(&'static str, String)> {
    let mut shown = n.options.shown();
    let fan_out = n.limits.iter().find(|l| l.key.starts_with("fanout:"));
    if let Some(limit) = fan_out.filter(|_| n.options.max_concurrency.is_none()) {
        shown.push(("max_concurrency", limit.capacity.to_string()));
    }
    shown
}

fn options_text(shown: &[(&str, String)]) -> String {
    shown
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn at(loc: &SourceLoc) -> String {
    format!("{}:{}", loc.file, loc.line)
}

fn kind_word(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Rhai => "rhai",
        TaskKind::Shell => "shell",
    }
}

fn params_text(spec: &FlowSpec) -> String {
    spec.params
        .iter()
        .map(|p| {
            if p.is_required {
                format!("{} (required)", p.name)
            } else {
                format!("{}={}", p.name, p.default.to_json())
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn describe_text(script: &Script, flows: &[DescribedFlow<'_>]) -> String {
    let mut out = format!("{}\n", script.path.display());
    let width = script
        .registry
        .tasks
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(0)
        .max(4);
    out.push_str("\ntasks:\n");
    if script.registry.tasks.is_empty() {
        out.push_str("  (none)\n");
    }
    for t in &script.registry.tasks {
        let opts = options_text(&t.options.shown());
        let _ = writeln!(
            out,
            "  {:<width$}  {:<5}  {}{}{}",
            t.name,
            kind_word(t.kind),
            at(&t.loc),
            if opts.is_empty() { "" } else { "  " },
            opts
        );
    }
    for f in flows {
        let _ = writeln!(out, "\nflow {}  {}", f.spec.name, at(&f.spec.loc));
        if !f.spec.params.is_empty() {
            let _ = writeln!(out, "  params: {}", params_text(f.spec));
        }
        if !f.spec.pools.is_empty() {
            let pools: Vec<String> = f
                .spec
                .pools
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let _ = writeln!(out, "  pools: {}", pools.join(", "));
        }
        let _ = writeln!(out, "  graph: {} node(s)", f.dag.len());
        graph_text(&mut out, &f.dag);
    }
    out
}

fn graph_text(out: &mut String, dag: &Dag) {
    let width = dag.nodes().iter().map(|n| n.name.len()).max().unwrap_or(0);
    for id in dag.topo_order() {
        let n = dag.node(id);
        let what = match (n.kind, n.task.as_deref()) {
            (NodeKind::Map, Some(t)) => format!("map over `{t}` (expands at run time)"),
            (NodeKind::Map, None) => "map over a closure (expands at run time)".to_owned(),
            (NodeKind::Then, _) => "then (decided at run time)".to_owned(),
            (NodeKind::Sh, _) => "sh".to_owned(),
            (kind, Some(t)) => format!("{} `{t}`", kind.label()),
            (kind, None) => kind.label().to_owned(),
        };
        // An edge that passes a value is shown plainly even when `.after` repeats it.
        let deps: Vec<String> = dag
            .deps(id)
            .map(|d| {
                let is_data = n.deps.iter().any(|e| e.node() == Some(d) && !e.is_control);
                let suffix = if is_data { "" } else { " (after)" };
                format!("{}{suffix}", dag.node(d).name)
            })
            .collect();
        let _ = write!(out, "    {:<width$}  {what}", n.name);
        if !deps.is_empty() {
            let _ = write!(out, "  <- {}", deps.join(", "));
        }
        let opts = options_text(&node_options(n));
        if !opts.is_empty() {
            let _ = write!(out, "  [{opts}]");
        }
        out.push('\n');
    }
}

fn options_json(shown: &[(&str, String)]) -> serde_json::Value {
    shown
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

fn loc_json(loc: &SourceLoc) -> serde_json::Value {
    json!({ "file": &*loc.file, "line": loc.line, "column": loc.column })
}

pub(crate) fn script_json(script: &Script, flows: &[DescribedFlow<'_>]) -> serde_json::Value {
    let tasks: Vec<_> = script
        .registry
        .tasks
        .iter()
        .map(|t| json!({ "name": t.name, "kind": t.kind, "params": t.params, "options": options_json(&t.options.shown()), "location": loc_json(&t.loc) }))
        .collect();
    let flows: Vec<_> = flows
        .iter()
        .map(|f| {
            let params: serde_json::Map<_, _> = f
                .spec
                .params
                .iter()
                .map(|p| (p.name.clone(), p.default.to_json()))
                .collect();
            let required: Vec<&str> = f
                .spec
                .params
                .iter()
                .filter(|p| p.is_required)
                .map(|p| p.name.as_str())
                .collect();
            let nodes: Vec<_> = f
                .dag
                .nodes()
                .iter()
                .map(|n| {
                    let deps: Vec<&str> = f
                        .dag
                        .deps(n.id)
                        .map(|d| f.dag.node(d).name.as_str())
                        .collect();
                    json!({
                        "id": n.id.0, "name": n.name, "task": n.task, "kind": n.kind,
                        "is_expansion": n.kind.is_expansion(), "deps": deps,
                        "options": options_json(&node_options(n)), "location": loc_json(&n.loc),
                    })
                })
                .collect();
            json!({
                "name": f.spec.name, "params": params, "required_params": required,
                "on_failure": f.spec.on_failure, "pools": f.spec.pools,
                "location": loc_json(&f.spec.loc), "nodes": nodes,
            })
        })
        .collect();
    json!({ "file": script.path.display().to_string(), "tasks": tasks, "flows": flows })
}

pub(crate) fn describe_json(scripts: &[(&Script, Vec<DescribedFlow<'_>>)]) -> String {
    let files: Vec<_> = scripts.iter().map(|(s, f)| script_json(s, f)).collect();
    let doc = json!({ "schema": 1, "files": files });
    serde_json::to_string_pretty(&doc).expect("invariant: JSON values serialize") + "\n"
}

pub(crate) fn describe_mermaid(flows: &[DescribedFlow<'_>]) -> String {
    let mut out = String::new();
    for f in flows {
        let _ = writeln!(out, "%% flow {}\nflowchart LR", f.spec.name);
        for n in f.dag.nodes() {
            let label = n.name.replace('"', "#quot;");
            let shape = match n.kind {
                NodeKind::Map => format!("[/\"{label}\"\\]"),
                NodeKind::Then => format!("{{\"{label}\"}}"),
                _ => format!("[\"{label}\"]"),
            };
            let _ = writeln!(out, "  n{}{shape}", n.id.0);
        }
        for n in f.dag.nodes() {
            for d in f.dag.deps(n.id) {
                let _ = writeln!(out, "  n{} --> n{}", d.0, n.id.0);
            }
        }
    }
    out
}

/// One line per flow and task: `file:line  flow|task  name`.
pub(crate) fn list_text(scripts: &[Script]) -> String {
    let mut out = String::new();
    for s in scripts {
        for f in &s.registry.flows {
            let params = if f.params.is_empty() {
                String::new()
            } else {
                format!("  ({})", params_text(f))
            };
            let _ = writeln!(out, "{:<28}  flow   {}{params}", at(&f.loc), f.name);
        }
        for t in &s.registry.tasks {
            let _ = writeln!(
                out,
                "{:<28}  task   {} [{}]",
                at(&t.loc),
                t.name,
                kind_word(t.kind)
            );
        }
    }
    out
}

pub(crate) fn list_json(scripts: &[Script]) -> String {
    let files: Vec<_> = scripts
        .iter()
        .map(|s| {
            let flows: Vec<_> = s.registry.flows.iter().map(|f| json!({ "name": f.name, "line": f.loc.line, "params": f.params.iter().map(|p| &p.name).collect::<Vec<_>>() })).collect();
            let tasks: Vec<_> = s.registry.tasks.iter().map(|t| json!({ "name": t.name, "kind": t.kind, "line": t.loc.line })).collect();
            json!({ "file": s.path.display().to_string(), "flows": flows, "tasks": tasks })
        })
        .collect();
    serde_json::to_string_pretty(&json!({ "schema": 1, "files": files }))
        .expect("invariant: JSON values serialize")
        + "\n"
}
