//! Turns Rhai's errors into autowf diagnostics and task errors, with `file:line:col` of the
//! innermost failing position and the call chain that led there.

use std::sync::Arc;

use rhai::{EvalAltResult, ParseError, Position};

use super::api::DiagnosticPayload;
use super::misuse::HANDLE_HELP;
use crate::error::{Diagnostic, SourceLoc};
use crate::events::TaskError;

pub(crate) fn loc(file: &str, pos: Position) -> Option<SourceLoc> {
    let line = pos.line()?;
    Some(SourceLoc {
        file: Arc::from(file),
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(pos.position().unwrap_or(1)).unwrap_or(u32::MAX),
    })
}

pub(crate) fn parse_error(e: &ParseError, file: &str) -> Diagnostic {
    let message = e.err_type().to_string();
    Diagnostic::new(format!("syntax error: {}", lowercase_first(&message)))
        .at(loc(file, e.position()))
}

/// The innermost error, the source file it happened in, and the calls that led to it
/// (outermost first).
fn unwind<'a>(
    e: &'a EvalAltResult,
    file: &str,
) -> (&'a EvalAltResult, String, Vec<(String, Option<SourceLoc>)>) {
    let mut chain = Vec::new();
    let mut current = e;
    let mut source = file.to_owned();
    loop {
        match current {
            EvalAltResult::ErrorInFunctionCall(name, src, inner, pos)
                if !name.starts_with("__") =>
            {
                chain.push((display_fn_name(name), loc(&source, *pos)));
                if !src.is_empty() {
                    source.clone_from(src);
                }
                current = inner;
            }
            EvalAltResult::ErrorInFunctionCall(_, src, inner, _) => {
                if !src.is_empty() {
                    source.clone_from(src);
                }
                current = inner;
            }
            EvalAltResult::ErrorInModule(name, inner, pos) => {
                chain.push((format!("module `{name}`"), loc(&source, *pos)));
                source.clone_from(name);
                current = inner;
            }
            _ => return (current, source, chain),
        }
    }
}

fn display_fn_name(name: &str) -> String {
    if name.starts_with("anon$") {
        "a closure".to_owned()
    } else {
        format!("`{name}`")
    }
}

/// The message of a non-wrapper error, without Rhai's "(line x, position y)" suffix.
fn message_of(e: &EvalAltResult) -> (String, Option<Diagnostic>) {
    if let EvalAltResult::ErrorRuntime(value, _) = e {
        if let Some(d) = value.read_lock::<DiagnosticPayload>() {
            return (d.0.message.clone(), Some(d.0.clone()));
        }
        if let Ok(s) = value.as_immutable_string_ref() {
            return (s.to_string(), None);
        }
        return (format!("thrown: {}", super::value::to_json(value)), None);
    }
    if let EvalAltResult::ErrorFunctionNotFound(signature, _) = e {
        return (
            format!("function not found: {}", readable_signature(signature)),
            None,
        );
    }
    if let EvalAltResult::ErrorStackOverflow(_) = e {
        let limit = super::engine::limits::MAX_CALL_LEVELS;
        return (
            format!("too many nested function calls (the limit is {limit})"),
            None,
        );
    }
    (lowercase_first(&strip_position(&e.to_string())), None)
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if !s.starts_with("ID") => c.to_lowercase().chain(chars).collect(),
        Some(c) => std::iter::once(c).chain(chars).collect(),
        None => String::new(),
    }
}

/// A diagnostic for an error raised while a script's top level or a flow body ran.
pub(crate) fn eval_diagnostic(e: &EvalAltResult, file: &str) -> Diagnostic {
    diagnose(e, file, true)
}

/// `is_building`: the code ran in flow-building mode, where handles stand for results.
fn diagnose(e: &EvalAltResult, file: &str, is_building: bool) -> Diagnostic {
    let (inner, source, chain) = unwind(e, file);
    let (message, payload) = message_of(inner);
    let here = loc(&source, inner.position());
    let mut d = match payload {
        Some(p) => {
            let at = p.loc.clone().or(here);
            Diagnostic { loc: at, ..p }
        }
        None => Diagnostic::new(message.clone()).at(here),
    };
    if d.help.is_none() && message.contains("data race detected") {
        d = d.help(
            "a closure that captures a variable cannot be passed to a method called on that same \
             variable; copy it first: `let y = x; x.then(|v| ... y ...)`",
        );
    }
    if d.help.is_none() && (message.contains("Handle") || is_building && is_loop_over_value(inner))
    {
        d = d.help(HANDLE_HELP);
    }
    // Innermost first; a recursion's repeated frames are folded into one note.
    let mut frames = chain.into_iter().rev().peekable();
    while let Some((name, at)) = frames.next() {
        let mut repeats = 1;
        while frames.peek().is_some_and(|(n, a)| *n == name && *a == at) {
            frames.next();
            repeats += 1;
        }
        let times = if repeats > 1 {
            format!(" ({repeats} times)")
        } else {
            String::new()
        };
        d = d.note(format!("in a call to {name}{times}"), at);
    }
    d
}

/// A `for` loop over something not iterable: in a flow body, almost always a handle, whose
/// type Rhai's message does not name.
fn is_loop_over_value(e: &EvalAltResult) -> bool {
    matches!(e, EvalAltResult::ErrorFor(_))
}

/// A task error for a failed task body: innermost message, position and call chain.
pub(crate) fn task_error(e: &EvalAltResult, file: &str) -> TaskError {
    to_task_error(diagnose(e, file, false))
}

/// A task error for code that ran in building mode at run time (`.then`, map closures).
pub(crate) fn expansion_error(e: &EvalAltResult, file: &str) -> TaskError {
    to_task_error(diagnose(e, file, true))
}

fn to_task_error(d: Diagnostic) -> TaskError {
    TaskError {
        message: d.message,
        loc: d.loc,
        help: d.help,
        trace: d
            .notes
            .into_iter()
            .map(|(text, at)| match at {
                Some(at) => format!("{text} at {at}"),
                None => text,
            })
            .collect(),
        exit_code: None,
    }
}

/// Drops Rhai's trailing " (line 3, position 7)": the position is shown separately.
fn strip_position(text: &str) -> String {
    let first = text.lines().next().unwrap_or("");
    match first.rfind(" (line ") {
        Some(i) if first.ends_with(')') => first[..i].to_owned(),
        _ => first.to_owned(),
    }
}

/// Rhai's signature text with Rust type names replaced by the ones scripts use:
/// `f (&str | ImmutableString | String, i64)` becomes `f(string, int)`.
fn readable_signature(signature: &str) -> String {
    let replacements = [
        ("&str | ImmutableString | String", "string"),
        ("ImmutableString", "string"),
        ("i64", "int"),
        ("f64", "float"),
        ("rhai::Array", "array"),
        ("rhai::Map", "map"),
        ("Array", "array"),
        ("Map", "map"),
        ("()", "()"),
    ];
    let mut out = signature.replacen(" (", "(", 1);
    for (from, to) in replacements {
        out = out.replace(from, to);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_use_script_type_names() {
        assert_eq!(
            readable_signature("artifact_write (&str | ImmutableString | String, i64)"),
            "artifact_write(string, int)"
        );
        assert_eq!(readable_signature("f ()"), "f()");
    }
}
