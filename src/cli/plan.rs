//! `run --dry-run`: what each node would do, without running anything. A node is taken from
//! the cache when its key (with the cached values of its dependencies) has a sound entry;
//! otherwise it runs, and the plan says why: what changed since its last entry, no
//! `cache_ttl`, or a dependency that runs (its value is not known before it does).

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Arc;

use crate::dag::{Dag, NodeId, NodeKind};
use crate::error::{Result, exit};
use crate::executor::{RunCache, Verdict};
use crate::script::{Attempt, Runtime, Value};

/// One node's line of the plan.
#[derive(serde::Serialize)]
struct Step {
    node: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    task: Option<String>,
    action: &'static str,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

pub(super) fn dry_run(runtime: &Runtime, cache: &RunCache, dag: &Dag, json: bool) -> Result<u8> {
    let steps = plan(runtime, cache, dag);
    let mut out = std::io::stdout().lock();
    if json {
        let doc = serde_json::json!({
            "schema": 1,
            "flow": cache.flow,
            "nodes": steps,
        });
        let text = super::pretty_json(&doc);
        let _ = writeln!(out, "{text}");
    } else {
        let width = steps.iter().map(|s| s.node.len()).max().unwrap_or(0);
        for s in &steps {
            let _ = writeln!(out, "{:<6}  {:<width$}  {}", s.action, s.node, s.reason);
        }
        let cached = steps.iter().filter(|s| s.action == "cached").count();
        let _ = writeln!(
            out,
            "{} node(s): {} would run, {cached} from the cache",
            steps.len(),
            steps.len() - cached
        );
    }
    Ok(exit::OK)
}

fn plan(runtime: &Runtime, cache: &RunCache, dag: &Dag) -> Vec<Step> {
    // The values a later node would receive: known only for nodes served from the cache.
    let mut known: HashMap<NodeId, Arc<Value>> = HashMap::new();
    let mut steps = Vec::with_capacity(dag.len());
    for id in dag.topo_order() {
        let node = dag.node(id);
        let step = |action, reason: String, key: Option<String>| Step {
            node: node.name.clone(),
            task: node.task.clone(),
            action,
            reason,
            key,
        };
        if node.kind.is_expansion() {
            let what = if node.kind == NodeKind::Map {
                ".map"
            } else {
                ".then"
            };
            steps.push(step(
                "run",
                format!("{what}: adds its nodes while the flow runs"),
                None,
            ));
            continue;
        }
        if node.options.cache_ttl.is_none() {
            steps.push(step("run", "not cached (no cache_ttl)".to_owned(), None));
            continue;
        }
        if cache.mode == crate::cache::CacheMode::Off {
            steps.push(step("run", "--no-cache".to_owned(), None));
            continue;
        }
        if let Some(dep) = dag.deps(id).find(|d| !known.contains_key(d)) {
            let reason = format!("depends on `{}`, which runs first", dag.node(dep).name);
            steps.push(step("run", reason, None));
            continue;
        }
        let inputs = |d: NodeId| known.get(&d).map_or_else(Value::unit, |v| (**v).clone());
        let attempt = Attempt::planning(&node.name, node.task.clone());
        let parts = match runtime.key_parts(node, &inputs, &attempt) {
            Ok(p) => p,
            Err(e) => {
                steps.push(step("run", e.message, None));
                continue;
            }
        };
        let key = parts.key();
        match cache.verdict(node, &parts, &key) {
            Verdict::Hit { entry, note } => {
                known.insert(id, Arc::new(Value::from_json(&entry.value)));
                steps.push(step(
                    "cached",
                    note.replacen("cached, ", "", 1),
                    Some(key.to_string()),
                ));
            }
            Verdict::Miss { reason } => {
                steps.push(step(
                    "run",
                    format!("cache miss: {reason}"),
                    Some(key.to_string()),
                ));
            }
        }
    }
    steps
}
