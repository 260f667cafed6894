//! Graphviz DOT output: one node per graph node, labelled with its task and key options;
//! expansion points are drawn as such.

use std::fmt::Write as _;

use super::{Dag, NodeKind};

pub(crate) fn to_dot(dag: &Dag, flow: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", quote(flow));
    out.push_str("  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
    for node in dag.nodes() {
        let mut label = node.name.clone();
        if let Some(task) = node.task.as_deref().filter(|t| *t != node.name) {
            let _ = write!(label, "\n{}: {task}", node.kind.label());
        } else if node.kind != NodeKind::Task {
            let _ = write!(label, "\n{}", node.kind.label());
        }
        for (name, value) in node.options.shown() {
            let _ = write!(label, "\n{name}={value}");
        }
        let shape = match node.kind {
            NodeKind::Map => ", shape=trapezium, style=\"dashed\"",
            NodeKind::Then => ", shape=diamond, style=\"dashed\"",
            NodeKind::Shell | NodeKind::Sh => ", style=\"rounded,filled\", fillcolor=\"#eeeeee\"",
            NodeKind::Task => "",
        };
        let _ = writeln!(out, "  n{} [label={}{shape}];", node.id.0, quote(&label));
    }
    for node in dag.nodes() {
        let mut seen = Vec::new();
        for dep in &node.deps {
            let Some(from) = dep.node() else { continue };
            if seen.contains(&from) {
                continue;
            }
            seen.push(from);
            let style = if dep.is_control {
                " [style=dashed]"
            } else {
                ""
            };
            let _ = writeln!(out, "  n{} -> n{}{style};", from.0, node.id.0);
        }
    }
    out.push_str("}\n");
    out
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
