//! `autowf export-dot`: a flow's graph in Graphviz DOT, on stdout or into a file.

use crate::support::{SUM_FLOW, Test};

#[test]
fn prints_nodes_and_edges() {
    Test::new()
        .flow("main.rhai", SUM_FLOW)
        .args(["export-dot", "main.rhai"])
        .run()
        .code(0)
        .stdout_is(
            "\
digraph \"main\" {
  rankdir=LR;
  node [shape=box, style=rounded, fontname=\"Helvetica\"];
  n0 [label=\"compute\"];
  n1 [label=\"compute#2\\ntask: compute\"];
  n2 [label=\"add\"];
  n0 -> n2;
  n1 -> n2;
}
",
        );
}

#[test]
fn marks_order_only_edges_expansions_and_shell_nodes() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r#"
            fn nums() { [1, 2] }
            fn square(x) { x * x }
            fn announce() { "echo go" }
            task(nums);
            task(square);
            shell_task(announce, #{ timeout: "1m" });
            fn main() {
                let a = announce();
                nums().after(a).map(square)
            }
            flow(main);
            "#,
        )
        .args(["export-dot", "main.rhai"])
        .run();
    out.code(0)
        .stdout_contains("  n0 [label=\"announce\\nshell\\ntimeout=1m\", style=\"rounded,filled\"")
        .stdout_contains("shape=trapezium")
        .stdout_contains("  n0 -> n1 [style=dashed];\n")
        .stdout_contains("  n1 -> n2;\n");
}

#[test]
fn output_file_gets_the_same_text() {
    let test = Test::new().flow("main.rhai", SUM_FLOW);
    let printed = test.clone().args(["export-dot", "main.rhai"]).run();
    printed.code(0);
    let written = test
        .args(["export-dot", "main.rhai", "-o", "graph.dot"])
        .run();
    written.code(0).stdout_is("");
    assert_eq!(written.file("graph.dot"), printed.stdout());
}

#[test]
fn output_is_identical_across_invocations() {
    let test = Test::new().flow(
        "main.rhai",
        r"
        fn leaf(i) { i }
        task(leaf);
        fn main() {
            let xs = [];
            for i in 0..20 { xs.push(leaf(i)); }
            fan_out(leaf, [1, 2, 3]) + [xs[3].after(xs[1])]
        }
        flow(main);
        ",
    );
    let first = test.clone().args(["export-dot", "main.rhai"]).run();
    let second = test.args(["export-dot", "main.rhai"]).run();
    first.code(0);
    second.code(0);
    assert_eq!(first.stdout(), second.stdout());
}

#[test]
fn picks_the_named_flow_and_binds_params() {
    let out = Test::new()
        .flow(
            "main.rhai",
            r"
            fn leaf(i) { i }
            task(leaf);
            fn other() { leaf(0) }
            fn main(n) { let xs = []; for i in 0..n { xs.push(i); } fan_out(leaf, xs) }
            flow(other);
            flow(main, #{ params: #{ n: 1 } });
            ",
        )
        .args(["export-dot", "main.rhai", "main", "-p", "n=3"])
        .run();
    out.code(0)
        .stdout_contains("digraph \"main\" {")
        .stdout_contains("n2 [label=\"leaf[2]")
        .stdout_lacks("n3 [");
}
