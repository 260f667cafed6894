//! Graph checks done once, when a graph is built: unique names, known `.after` targets, cycles.

use std::collections::{HashMap, HashSet};

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::NodeIndex;

use super::{Dag, DepTarget, Node, NodeId};
use crate::error::Diagnostic;
use crate::script::suggest;

/// Maps each name to its node; a name used twice is an error at the second node.
pub(super) fn index_names(nodes: &[Node], errors: &mut Vec<Diagnostic>) -> HashMap<String, NodeId> {
    let mut names: HashMap<String, NodeId> = HashMap::with_capacity(nodes.len());
    for node in nodes {
        if let Some(&first) = names.get(&node.name) {
            let first_loc = nodes.iter().find(|n| n.id == first).map(|n| n.loc.clone());
            errors.push(
                Diagnostic::new(format!("two nodes are named `{}`", node.name))
                    .at(Some(node.loc.clone()))
                    .note("the first one is created here", first_loc)
                    .help("give one of them another name with `.named(\"...\")`"),
            );
        } else {
            names.insert(node.name.clone(), node.id);
        }
    }
    names
}

/// Turns `.after("name")` targets into node ids: the node's namespace first, then globally.
/// `names` are the indexes to look in: the graph's and the new nodes', without merging them
/// (a copy of the graph's index for each runtime expansion would make many expansions
/// quadratic).
pub(super) fn resolve_names(
    nodes: &mut [Node],
    names: &[&HashMap<String, NodeId>],
    errors: &mut Vec<Diagnostic>,
) {
    let get = |name: &str| names.iter().find_map(|index| index.get(name)).copied();
    for node in nodes.iter_mut() {
        let own = node.id;
        for dep in &mut node.deps {
            // `x.after(x)`: an edge from a node to itself can never be satisfied.
            if dep.target == DepTarget::Node(own) {
                errors.push(
                    Diagnostic::new(format!("`{}` cannot run after itself", node.name))
                        .at(Some(dep.loc.clone())),
                );
                continue;
            }
            let DepTarget::Name { name, scope } = &dep.target else {
                continue;
            };
            let found = get(&format!("{scope}{name}")).or_else(|| get(name));
            match found {
                Some(id) if id == own => errors.push(
                    Diagnostic::new(format!("`{}` cannot run after itself", node.name))
                        .at(Some(dep.loc.clone())),
                ),
                Some(id) => dep.target = DepTarget::Node(id),
                None => errors.push(unknown_node(&node.name, name, names, &dep.loc)),
            }
        }
    }
}

fn unknown_node(
    from: &str,
    name: &str,
    names: &[&HashMap<String, NodeId>],
    loc: &crate::error::SourceLoc,
) -> Diagnostic {
    let mut candidates: Vec<&str> = names
        .iter()
        .flat_map(|index| index.keys())
        .map(String::as_str)
        .collect();
    candidates.sort_unstable();
    let d =
        Diagnostic::new(format!("`{from}` depends on unknown node `{name}`")).at(Some(loc.clone()));
    match suggest(name, &candidates) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d,
    }
}

/// Reports each cycle as its whole path, `a -> b -> a`, with where each edge was made.
pub(super) fn find_cycles(dag: &Dag, errors: &mut Vec<Diagnostic>) {
    let graph = dag.graph();
    let mut components: Vec<Vec<NodeIndex<u32>>> = tarjan_scc(graph)
        .into_iter()
        .filter(|c| c.len() > 1)
        .collect();
    for c in &mut components {
        c.sort_unstable();
    }
    components.sort_unstable();
    for component in components {
        let members: HashSet<NodeIndex<u32>> = component.iter().copied().collect();
        let path = cycle_path(dag, component[0], &members);
        let names: Vec<String> = path
            .iter()
            .map(|ix| format!("`{}`", dag.nodes[ix.index()].name))
            .collect();
        let mut d = Diagnostic::new(format!(
            "the flow has a cycle: {} -> {}",
            names.join(" -> "),
            names[0]
        ))
        .at(Some(dag.nodes[component[0].index()].loc.clone()));
        for (i, from) in path.iter().enumerate() {
            let to = path[(i + 1) % path.len()];
            let edge = graph
                .edges_connecting(*from, to)
                .next()
                .expect("invariant: cycle edge exists");
            let dep = &dag.nodes[to.index()].deps[*edge.weight()];
            let how = if dep.is_control {
                "runs after"
            } else {
                "takes the result of"
            };
            d = d.note(
                format!(
                    "`{}` {how} `{}`",
                    dag.nodes[to.index()].name,
                    dag.nodes[from.index()].name
                ),
                Some(dep.loc.clone()),
            );
        }
        errors.push(d.help("remove one of these dependencies"));
    }
}

/// A simple cycle through `start` inside one strongly connected component.
fn cycle_path(
    dag: &Dag,
    start: NodeIndex<u32>,
    members: &HashSet<NodeIndex<u32>>,
) -> Vec<NodeIndex<u32>> {
    let graph = dag.graph();
    let mut path = vec![start];
    let mut visited = HashSet::from([start]);
    let mut stack = vec![successors(dag, start, members)];
    while let Some(next) = stack.last_mut() {
        match next.pop() {
            Some(n) if n == start => return path,
            Some(n) if visited.insert(n) => {
                path.push(n);
                stack.push(successors(dag, n, members));
            }
            Some(_) => {}
            None => {
                stack.pop();
                path.pop();
            }
        }
    }
    let _ = graph;
    vec![start]
}

/// Successors inside the component, smallest id last so it is tried first.
fn successors(
    dag: &Dag,
    n: NodeIndex<u32>,
    members: &HashSet<NodeIndex<u32>>,
) -> Vec<NodeIndex<u32>> {
    let mut out: Vec<_> = dag
        .graph()
        .neighbors_directed(n, Direction::Outgoing)
        .filter(|m| members.contains(m))
        .collect();
    out.sort_unstable_by(|a, b| b.cmp(a));
    out
}
