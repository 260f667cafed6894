//! Code fingerprints for cache keys: what a task's body is, independent of where it sits in
//! the file, its whitespace and its comments, and of code it never reaches.
//!
//! A function's canonical form is the `Debug` dump of its parsed body with the positions and
//! Rhai's internal call hashes removed (they change when code moves or between processes).
//! Closures get random names per process (`anon$…`): each reference to one is replaced by the
//! closure's own canonical form, so a closure belongs to the function that creates it. The
//! dump's format is Rhai's, so cache keys also include Rhai's version.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, RwLock};

use regex::Regex;
use rhai::AST;
use rhai::ScriptFuncDef;

/// One function's share of a task's code: `task` for the task's own body, else the name of a
/// function it reaches, with the digest of its canonical form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CodePrint {
    pub(crate) function: String,
    pub(crate) is_task: bool,
    pub(crate) digest: String,
}

/// Canonical forms of every named function of a script, and what each one calls.
pub(crate) struct Fingerprints {
    /// name -> (digest of the canonical text of its overloads; names it mentions)
    functions: BTreeMap<String, (String, BTreeSet<String>)>,
    /// Each task's prints, made on first use (every node of a task needs the same).
    by_task: RwLock<HashMap<String, Arc<[CodePrint]>>>,
}

/// ` @ 3:5`, ` @ 3:16-9:1`, ` @ 2:14-22`: a node's position.
static POSITION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r" @ \d+:\d+(-\d+(:\d+)?)?").expect("valid regex"));
/// `, 8:16)`: the position of a statement or call, printed as a tuple's last field; and
/// `pos: 1:47` inside operator-assignments.
static FIELD_POSITION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r", \d+:\d+\)|pos: \d+:\d+").expect("valid regex"));
/// `hash: 123 (native only), `, `hash: (1, 2), `, `hash_op_assign: 3, `: precomputed call
/// hashes, which depend on a per-process seed.
static HASH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"hash[a-z_]*: (\(\d+, \d+\)|\d+)( \(native only\))?(, )?").expect("valid regex")
});
/// `Fn*("anon$2c05…")`: a reference to a closure.
static CLOSURE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"Fn\*\("(anon\$[0-9a-f]+)"\)"#).expect("valid regex"));
/// Names a body may reach a script function by: a call, a method call, `Fn("name")` or the
/// bare name used as a value (`xs.map(helper)`).
static MENTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"name: "([^"]+)"|Fn\("([^"]+)"\)|Variable\(([A-Za-z_][A-Za-z0-9_]*)"#)
        .expect("valid regex")
});

impl Fingerprints {
    pub(crate) fn new(ast: &AST) -> Self {
        let mut closures: HashMap<String, &ScriptFuncDef> = HashMap::new();
        let mut named: BTreeMap<String, Vec<&ScriptFuncDef>> = BTreeMap::new();
        for f in ast.iter_fn_def() {
            if f.name.starts_with("anon$") {
                closures.insert(f.name.to_string(), f);
            } else {
                named.entry(f.name.to_string()).or_default().push(f);
            }
        }
        let functions = named
            .into_iter()
            .map(|(name, defs)| {
                let mut texts: Vec<String> =
                    defs.iter().map(|f| canonical(f, &closures, 0)).collect();
                texts.sort();
                let text = texts.join("\n");
                let mentions = MENTION
                    .captures_iter(&text)
                    .filter_map(|c| c.iter().skip(1).flatten().next())
                    .map(|m| m.as_str().to_owned())
                    .collect();
                let digest = blake3::hash(text.as_bytes()).to_hex().to_string();
                (name, (digest, mentions))
            })
            .collect();
        Self {
            functions,
            by_task: RwLock::default(),
        }
    }

    /// The task's body and every script function it can reach, the task first and then the
    /// others by name.
    pub(crate) fn of_task(&self, task: &str) -> Arc<[CodePrint]> {
        let known = self.by_task.read().ok().and_then(|m| m.get(task).cloned());
        if let Some(prints) = known {
            return prints;
        }
        let prints: Arc<[CodePrint]> = self.reach(task).into();
        if let Ok(mut m) = self.by_task.write() {
            m.insert(task.to_owned(), prints.clone());
        }
        prints
    }

    fn reach(&self, task: &str) -> Vec<CodePrint> {
        let mut seen = BTreeSet::new();
        let mut queue = vec![task.to_owned()];
        while let Some(name) = queue.pop() {
            let Some((_, mentions)) = self.functions.get(&name) else {
                continue;
            };
            if !seen.insert(name) {
                continue;
            }
            queue.extend(
                mentions
                    .iter()
                    .filter(|m| self.functions.contains_key(*m) && !seen.contains(*m))
                    .cloned(),
            );
        }
        let mut prints: Vec<CodePrint> = seen
            .into_iter()
            .map(|name| CodePrint {
                digest: self.functions[&name].0.clone(),
                is_task: name == task,
                function: name,
            })
            .collect();
        prints.sort_by_key(|p| !p.is_task);
        prints
    }
}

/// A function's parameters and body without positions, hashes or closure names. `depth`
/// bounds closures nested in closures (the parser bounds them anyway).
fn canonical(f: &ScriptFuncDef, closures: &HashMap<String, &ScriptFuncDef>, depth: u32) -> String {
    let raw = format!("fn({:?}) {:?}", f.params, f.body);
    let text = outside_literals(&raw, strip_positions_and_hashes);
    CLOSURE
        .replace_all(&text, |c: &regex::Captures<'_>| {
            match closures.get(&c[1]).filter(|_| depth < 32) {
                Some(inner) => format!("Closure({})", canonical(inner, closures, depth + 1)),
                None => "Closure(?)".to_owned(),
            }
        })
        .into_owned()
}

fn strip_positions_and_hashes(code: &str) -> String {
    let code = POSITION.replace_all(code, "");
    let code = FIELD_POSITION.replace_all(&code, |c: &regex::Captures<'_>| {
        if c[0].ends_with(')') { ")" } else { "" }.to_owned()
    });
    HASH.replace_all(&code, "").into_owned()
}

/// Applies `edit` to the parts of a dump outside string and character literals, so that a
/// literal such as `" @ 3:5"` is never mistaken for a position.
fn outside_literals(dump: &str, edit: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(dump.len());
    let mut code = String::new();
    let mut chars = dump.chars();
    while let Some(c) = chars.next() {
        if c != '"' && c != '\'' {
            code.push(c);
            continue;
        }
        out.push_str(&edit(&code));
        code.clear();
        out.push(c);
        // Copy the literal up to its unescaped closing quote.
        while let Some(d) = chars.next() {
            out.push(d);
            if d == '\\' {
                if let Some(e) = chars.next() {
                    out.push(e);
                }
            } else if d == c {
                break;
            }
        }
    }
    out.push_str(&edit(&code));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prints(src: &str, task: &str) -> Vec<CodePrint> {
        let ast = rhai::Engine::new().compile(src).unwrap();
        Fingerprints::new(&ast).of_task(task).to_vec()
    }

    const BASE: &str = r#"
fn helper(x) { x + 1 }
fn unrelated() { 42 }
fn task1(a) {
    let f = |y| y * a;
    [1, 2].map(helper).len() + f.call(2)
}
"#;

    #[test]
    fn reaches_the_task_and_the_functions_it_names() {
        let p = prints(BASE, "task1");
        let names: Vec<&str> = p.iter().map(|c| c.function.as_str()).collect();
        assert_eq!(names, ["task1", "helper"]);
        assert!(p[0].is_task && !p[1].is_task);
    }

    #[test]
    fn whitespace_comments_moves_and_unrelated_edits_keep_the_print() {
        let moved = r#"
// a comment that shifts every line
fn unrelated() { 43 + 1 }

fn task1(a)
{
    let f = |y| y  *  a;   // same closure
    [1, 2].map(helper).len() + f.call(2)
}
fn helper(x) {
    x + 1
}
"#;
        assert_eq!(prints(BASE, "task1"), prints(moved, "task1"));
    }

    #[test]
    fn a_change_in_the_body_a_helper_or_a_closure_changes_that_part() {
        let base = prints(BASE, "task1");
        let helper = prints(&BASE.replace("x + 1", "x + 2"), "task1");
        assert_eq!(base[0], helper[0]);
        assert_ne!(base[1], helper[1]);
        let closure = prints(&BASE.replace("y * a", "y * a * 2"), "task1");
        assert_ne!(base[0], closure[0]);
        let renamed = prints(&BASE.replace("fn task1(a)", "fn task1(b)"), "task1");
        assert_ne!(base[0], renamed[0]);
    }

    #[test]
    fn literals_that_look_like_positions_or_hashes_are_kept() {
        let a = prints(r#"fn t() { " @ 3:5" + "hash: 1, " + '"' }"#, "t");
        let b = prints(r#"fn t() { " @ 4:6" + "hash: 2, " + '"' }"#, "t");
        assert_ne!(a, b);
    }

    #[test]
    fn per_process_hashes_and_operator_positions_are_removed() {
        let raw = "OpAssignment { hash_op_assign: 386, hash_op: 3565, op_assign: PlusAssign, pos: 1:47 }, 1:27)";
        let edited = outside_literals(raw, strip_positions_and_hashes);
        assert_eq!(edited, "OpAssignment { op_assign: PlusAssign,  })");
    }

    #[test]
    fn recursion_and_mutual_calls_terminate() {
        let src = "fn a(n) { if n > 0 { b(n - 1) } } fn b(n) { a(n) } fn t() { a(3) }";
        let names: Vec<String> = prints(src, "t").into_iter().map(|c| c.function).collect();
        assert_eq!(names, ["t", "a", "b"]);
    }
}
