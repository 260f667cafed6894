//! The flow graph: nodes with resolved edges, validated once when built, extended at run time
//! by `.map` and `.then` expansions.

mod dot;
mod node;
mod validate;

use std::collections::HashMap;
use std::sync::Arc;

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};

pub(crate) use dot::to_dot;
pub(crate) use node::{Dep, DepTarget, Limit, Node, NodeId, NodeKind};

use crate::error::Diagnostic;

/// A validated, acyclic flow graph. Node ids are indexes, in creation order.
pub(crate) struct Dag {
    nodes: Vec<Arc<Node>>,
    /// Edges point from a dependency to its dependent; each weight is the index of the edge in
    /// the dependent's `deps`.
    graph: DiGraph<(), usize, u32>,
    /// Each node's dependencies without repeats, in the order its code named them.
    dep_ids: Vec<Vec<NodeId>>,
    names: HashMap<String, NodeId>,
}

impl Dag {
    /// Resolves `.after("name")` edges and checks names and cycles, reporting every problem.
    pub(crate) fn build(mut nodes: Vec<Node>) -> Result<Self, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        let names = validate::index_names(&nodes, &mut errors);
        validate::resolve_names(&mut nodes, &[&names], &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut dag = Self {
            nodes: Vec::new(),
            graph: DiGraph::default(),
            dep_ids: Vec::new(),
            names,
        };
        dag.append(nodes);
        validate::find_cycles(&dag, &mut errors);
        if errors.is_empty() {
            Ok(dag)
        } else {
            Err(errors)
        }
    }

    fn append(&mut self, nodes: Vec<Node>) {
        self.graph.reserve_nodes(nodes.len());
        for node in &nodes {
            let ix = self.graph.add_node(());
            debug_assert_eq!(ix.index(), node.id.index());
        }
        let mut seen = std::collections::HashSet::new();
        for node in &nodes {
            seen.clear();
            let mut ids = Vec::with_capacity(node.deps.len());
            for (i, dep) in node.deps.iter().enumerate() {
                // One edge per pair, even when a node is both an argument and an `.after`.
                if let Some(from) = dep.node().filter(|from| seen.insert(*from)) {
                    self.graph.add_edge(index(from), index(node.id), i);
                    ids.push(from);
                }
            }
            self.dep_ids.push(ids);
        }
        self.nodes.extend(nodes.into_iter().map(Arc::new));
    }

    /// Adds the nodes an expansion of `parent` created. They may depend on finished nodes and on
    /// each other, but never on `parent` or anything waiting for it.
    pub(crate) fn extend(
        &mut self,
        mut nodes: Vec<Node>,
        parent: NodeId,
    ) -> Result<(), Diagnostic> {
        let mut errors = Vec::new();
        let names = validate::index_names(&nodes, &mut errors);
        for (name, id) in &names {
            if let Some(&existing) = self.names.get(name) {
                let d = Diagnostic::new(format!("two nodes are named `{name}`"))
                    .at(Some(self.nodes_new_loc(&nodes, *id)))
                    .note(
                        "the other one is created here",
                        Some(self.node(existing).loc.clone()),
                    );
                errors.push(d);
            }
        }
        validate::resolve_names(&mut nodes, &[&self.names, &names], &mut errors);
        let downstream = self.downstream(parent);
        for node in &nodes {
            for dep in &node.deps {
                if dep.node().is_some_and(|d| downstream.contains(&d)) {
                    errors.push(
                        Diagnostic::new(format!(
                            "`{}` cannot depend on `{}`: that would wait for `{}` itself",
                            node.name,
                            self.node(dep.node().expect("checked")).name,
                            self.node(parent).name
                        ))
                        .at(Some(dep.loc.clone())),
                    );
                }
            }
        }
        if let Some(first) = errors.into_iter().next() {
            return Err(first);
        }
        self.names.extend(names);
        self.append(nodes);
        Ok(())
    }

    fn nodes_new_loc(&self, nodes: &[Node], id: NodeId) -> crate::error::SourceLoc {
        nodes[id.index() - self.nodes.len()].loc.clone()
    }

    /// `id` and every node that (transitively) depends on it.
    fn downstream(&self, id: NodeId) -> std::collections::HashSet<NodeId> {
        let mut seen = std::collections::HashSet::from([id]);
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            for d in self.dependents(n) {
                if seen.insert(d) {
                    stack.push(d);
                }
            }
        }
        seen
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    pub(crate) fn nodes(&self) -> &[Arc<Node>] {
        &self.nodes
    }

    /// A shared handle to a node, for workers.
    pub(crate) fn node_arc(&self, id: NodeId) -> Arc<Node> {
        self.nodes[id.index()].clone()
    }

    /// The nodes `id` waits for, each once.
    pub(crate) fn deps(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.dep_ids[id.index()].iter().copied()
    }

    /// The nodes waiting for `id`, each once.
    pub(crate) fn dependents(&self, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
        self.graph
            .neighbors_directed(index(id), Direction::Outgoing)
            .map(node_id)
    }

    /// Node ids in an order where every node comes after its dependencies; ties by creation.
    pub(crate) fn topo_order(&self) -> Vec<NodeId> {
        let mut remaining: Vec<usize> =
            self.nodes.iter().map(|n| self.deps(n.id).count()).collect();
        let mut ready: std::collections::BTreeSet<NodeId> = self
            .nodes
            .iter()
            .filter(|n| remaining[n.id.index()] == 0)
            .map(|n| n.id)
            .collect();
        let mut order = Vec::with_capacity(self.nodes.len());
        while let Some(id) = ready.pop_first() {
            order.push(id);
            for d in self.dependents(id) {
                remaining[d.index()] -= 1;
                if remaining[d.index()] == 0 {
                    ready.insert(d);
                }
            }
        }
        order
    }

    pub(crate) fn graph(&self) -> &DiGraph<(), usize, u32> {
        &self.graph
    }
}

fn index(id: NodeId) -> NodeIndex<u32> {
    NodeIndex::new(id.index())
}

fn node_id(ix: NodeIndex<u32>) -> NodeId {
    NodeId(u32::try_from(ix.index()).expect("invariant: node indexes fit in u32"))
}

#[cfg(test)]
mod tests;
