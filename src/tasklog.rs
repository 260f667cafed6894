//! Task output kept per node in the run directory: `runs/<id>/logs/<node>.log` holds what the
//! node's commands wrote to stderr and what its Rhai body printed, one line each, whatever
//! the console showed. A file is created only for a node that says something.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The run's log directory, set once a run starts.
static DIR: OnceLock<PathBuf> = OnceLock::new();

/// Keeps task output under `dir` for the rest of the process.
pub(crate) fn init(dir: &Path) {
    let _ = DIR.set(dir.to_path_buf());
}

/// Appends `line` to `node`'s log; a failure to write is not worth failing the task for.
pub(crate) fn append(node: &str, line: &str) {
    let Some(dir) = DIR.get() else { return };
    let path = dir.join(file_name(node));
    let written = std::fs::create_dir_all(dir).and_then(|()| {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        writeln!(file, "{}", crate::redact::text(line))
    });
    if let Err(e) = written {
        tracing::debug!("cannot keep output of `{node}` in {}: {e}", path.display());
    }
}

/// A file name for a node: `/` of nested flows becomes `__`, other characters that are not
/// safe in names become `_`.
pub(crate) fn file_name(node: &str) -> String {
    format!("{}.log", safe_name(node))
}

/// A node's name made safe for a file name (without an extension).
pub(crate) fn safe_name(node: &str) -> String {
    node.replace('/', "__")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.#[]".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn node_names_become_safe_file_names() {
        assert_eq!(file_name("sub#2/load"), "sub#2__load.log");
        assert_eq!(file_name("square[3]"), "square[3].log");
        assert_eq!(file_name("a b:c"), "a_b_c.log");
    }
}
