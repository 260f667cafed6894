//! Graph validation: names, `.after` targets, cycles, expansion checks, order.

use super::*;
use crate::error::SourceLoc;
use crate::script::Payload;

fn loc(line: u32) -> SourceLoc {
    SourceLoc {
        file: "f.rhai".into(),
        line,
        column: 5,
    }
}

fn node(id: u32, name: &str) -> Node {
    Node {
        id: NodeId(id),
        name: name.to_owned(),
        task: Some(name.to_owned()),
        kind: NodeKind::Task,
        options: Default::default(),
        deps: Vec::new(),
        loc: loc(id + 1),
        payload: Payload::fake(),
        limits: Vec::new(),
    }
}

fn dep(target: DepTarget, line: u32, is_control: bool) -> Dep {
    Dep {
        target,
        loc: loc(line),
        is_control,
    }
}

fn on(id: u32) -> DepTarget {
    DepTarget::Node(NodeId(id))
}

fn named(name: &str) -> DepTarget {
    DepTarget::Name {
        name: name.to_owned(),
        scope: String::new(),
    }
}

fn messages(result: Result<Dag, Vec<crate::error::Diagnostic>>) -> Vec<String> {
    result
        .err()
        .expect("the graph should be rejected")
        .into_iter()
        .map(|d| d.message)
        .collect()
}

#[test]
fn a_cycle_is_printed_as_its_whole_path_with_each_edge() {
    let mut a = node(0, "a");
    let mut b = node(1, "b");
    let mut c = node(2, "c");
    b.deps.push(dep(on(0), 10, false));
    c.deps.push(dep(on(1), 11, false));
    a.deps.push(dep(named("c"), 12, true));
    let errors = Dag::build(vec![a, b, c]).err().unwrap();
    assert_eq!(errors.len(), 1);
    let d = &errors[0];
    assert_eq!(d.message, "the flow has a cycle: `a` -> `b` -> `c` -> `a`");
    let notes: Vec<(String, u32)> = d
        .notes
        .iter()
        .map(|(t, l)| (t.clone(), l.as_ref().unwrap().line))
        .collect();
    assert_eq!(
        notes,
        [
            ("`b` takes the result of `a`".to_owned(), 10),
            ("`c` takes the result of `b`".to_owned(), 11),
            ("`a` runs after `c`".to_owned(), 12),
        ]
    );
}

#[test]
fn every_cycle_is_reported() {
    let mut nodes: Vec<Node> = ["a", "b", "x", "y"]
        .iter()
        .enumerate()
        .map(|(i, n)| node(i as u32, n))
        .collect();
    nodes[0].deps.push(dep(on(1), 1, true));
    nodes[1].deps.push(dep(on(0), 2, true));
    nodes[2].deps.push(dep(on(3), 3, true));
    nodes[3].deps.push(dep(on(2), 4, true));
    assert_eq!(
        messages(Dag::build(nodes)),
        [
            "the flow has a cycle: `a` -> `b` -> `a`",
            "the flow has a cycle: `x` -> `y` -> `x`"
        ]
    );
}

#[test]
fn unknown_after_target_suggests_the_nearest_name() {
    let build = node(0, "build");
    let mut deploy = node(1, "deploy");
    deploy.deps.push(dep(named("biuld"), 7, true));
    let errors = Dag::build(vec![build, deploy]).err().unwrap();
    assert_eq!(
        errors[0].message,
        "`deploy` depends on unknown node `biuld`"
    );
    assert_eq!(errors[0].help.as_deref(), Some("did you mean `build`?"));
    assert_eq!(errors[0].loc.as_ref().unwrap().line, 7);
}

#[test]
fn after_names_resolve_in_the_namespace_first() {
    let outer = node(0, "step");
    let inner = node(1, "sub/step");
    let mut user = node(2, "sub/user");
    user.deps.push(dep(
        DepTarget::Name {
            name: "step".into(),
            scope: "sub/".into(),
        },
        3,
        true,
    ));
    let dag = Dag::build(vec![outer, inner, user]).unwrap();
    assert_eq!(dag.deps(NodeId(2)).collect::<Vec<_>>(), [NodeId(1)]);
}

#[test]
fn duplicate_names_and_self_dependencies_are_rejected() {
    let a = node(0, "a");
    let a2 = node(1, "a");
    let mut s = node(2, "s");
    s.deps.push(dep(named("s"), 3, true));
    assert_eq!(
        messages(Dag::build(vec![a, a2, s])),
        ["two nodes are named `a`", "`s` cannot run after itself"]
    );
}

#[test]
fn repeated_edges_count_once_and_keep_declaration_order() {
    let mut c = node(2, "c");
    c.deps.push(dep(on(1), 1, false));
    c.deps.push(dep(on(0), 1, false));
    c.deps.push(dep(on(1), 2, true));
    let dag = Dag::build(vec![node(0, "a"), node(1, "b"), c]).unwrap();
    assert_eq!(
        dag.deps(NodeId(2)).collect::<Vec<_>>(),
        [NodeId(1), NodeId(0)]
    );
    assert_eq!(dag.dependents(NodeId(1)).count(), 1);
}

#[test]
fn topo_order_respects_forward_after_edges() {
    let mut first = node(0, "first");
    first.deps.push(dep(on(2), 1, true));
    let dag = Dag::build(vec![first, node(1, "free"), node(2, "last")]).unwrap();
    assert_eq!(dag.topo_order(), [NodeId(1), NodeId(2), NodeId(0)]);
}

#[test]
fn expansions_may_not_wait_for_their_own_parent() {
    let mut dag = Dag::build(vec![node(0, "then"), {
        let mut d = node(1, "downstream");
        d.deps.push(dep(on(0), 1, false));
        d
    }])
    .unwrap();
    let mut child = node(2, "then/x");
    child.deps.push(dep(named("downstream"), 4, true));
    let err = dag.extend(vec![child], NodeId(0)).unwrap_err();
    assert_eq!(
        err.message,
        "`then/x` cannot depend on `downstream`: that would wait for `then` itself"
    );
    let ok = node(2, "then/y");
    dag.extend(vec![ok], NodeId(0)).unwrap();
    assert_eq!(dag.len(), 3);
}

#[test]
fn expansion_names_must_be_new() {
    let mut dag = Dag::build(vec![node(0, "a")]).unwrap();
    let err = dag.extend(vec![node(1, "a")], NodeId(0)).unwrap_err();
    assert_eq!(err.message, "two nodes are named `a`");
}

#[test]
fn a_node_after_its_own_handle_is_rejected() {
    let mut a = node(0, "a");
    a.deps.push(dep(on(0), 4, true));
    assert_eq!(
        messages(Dag::build(vec![a])),
        ["`a` cannot run after itself"]
    );
}
