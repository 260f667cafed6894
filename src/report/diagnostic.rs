//! Renders diagnostics the way compilers do: the message, ` --> file:line:col`, the source
//! line with a caret, then notes and a hint.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::error::{Diagnostic, SourceLoc};

/// Colours for the parts of a diagnostic; empty strings when colour is off.
struct Palette {
    error: &'static str,
    note: &'static str,
    help: &'static str,
    dim: &'static str,
    reset: &'static str,
}

impl Palette {
    fn new(color: bool) -> Self {
        if color {
            Self {
                error: "\x1b[1;31m",
                note: "\x1b[1;36m",
                help: "\x1b[1;32m",
                dim: "\x1b[34m",
                reset: "\x1b[0m",
            }
        } else {
            Self {
                error: "",
                note: "",
                help: "",
                dim: "",
                reset: "",
            }
        }
    }
}

/// Source files read for rendering, so each is read once.
#[derive(Default)]
pub(crate) struct Sources {
    files: HashMap<String, Option<Vec<String>>>,
}

impl Sources {
    fn line(&mut self, loc: &SourceLoc) -> Option<&str> {
        let lines = self.files.entry(loc.file.to_string()).or_insert_with(|| {
            std::fs::read_to_string(&*loc.file)
                .ok()
                .map(|t| t.lines().map(str::to_owned).collect())
        });
        lines
            .as_ref()?
            .get((loc.line as usize).checked_sub(1)?)
            .map(String::as_str)
    }
}

pub(crate) fn render(d: &Diagnostic, color: bool, sources: &mut Sources) -> String {
    let p = Palette::new(color);
    let mut out = format!("{}error{}: {}\n", p.error, p.reset, d.message);
    if let Some(loc) = &d.loc {
        snippet(&mut out, loc, sources, &p);
    }
    for (text, loc) in &d.notes {
        let _ = writeln!(out, "{}note{}: {text}", p.note, p.reset);
        if let Some(loc) = loc {
            snippet(&mut out, loc, sources, &p);
        }
    }
    if let Some(help) = &d.help {
        let _ = writeln!(out, "{}help{}: {help}", p.help, p.reset);
    }
    out
}

fn snippet(out: &mut String, loc: &SourceLoc, sources: &mut Sources, p: &Palette) {
    let Some(text) = sources.line(loc) else {
        let _ = writeln!(out, " {}-->{} {loc}", p.dim, p.reset);
        return;
    };
    let number = loc.line.to_string();
    let pad = " ".repeat(number.len());
    let _ = writeln!(out, "{pad}{}-->{} {loc}", p.dim, p.reset);
    let _ = writeln!(out, "{pad} {}|{}", p.dim, p.reset);
    let _ = writeln!(
        out,
        "{}{number} |{} {}",
        p.dim,
        p.reset,
        text.replace('\t', "    ")
    );
    // Columns count characters; tabs are shown as four spaces.
    let before: String = text
        .chars()
        .take((loc.column as usize).saturating_sub(1))
        .collect();
    let indent = before.replace('\t', "    ").chars().count();
    let _ = writeln!(
        out,
        "{pad} {}|{} {}{}^{}",
        p.dim,
        p.reset,
        " ".repeat(indent),
        p.error,
        p.reset
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_location_caret_and_help() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.rhai");
        std::fs::write(&path, "fn a() {}\n    task(a, #{ retires: 1 });\n").unwrap();
        let loc = SourceLoc {
            file: path.display().to_string().into(),
            line: 2,
            column: 5,
        };
        let d = Diagnostic::new("unknown option `retires`")
            .at(Some(loc))
            .help("did you mean `retries`?");
        let text = render(&d, false, &mut Sources::default());
        let expected = format!(
            "error: unknown option `retires`\n --> {}:2:5\n  |\n2 |     task(a, #{{ retires: 1 }});\n  |     ^\nhelp: did you mean `retries`?\n",
            path.display()
        );
        assert_eq!(text, expected);
    }
}
