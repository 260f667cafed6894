//! Whole-file writes that a crash or a concurrent writer cannot tear.

use std::io::Write as _;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `bytes` to `path` through a temporary file in the same directory: written, flushed
/// to disk, renamed over the target, then the directory entry flushed too. Readers see the
/// old content or the new, never a mix; a crash leaves at most a stray temporary file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // The temporary file's name means nothing to the user: keep only what went wrong.
    let err = |source: std::io::Error| Error::WriteFile {
        path: path.to_path_buf(),
        source: std::io::Error::from(source.kind()),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    sync_dir(dir);
    Ok(())
}

/// Flushes a directory's entries (a rename is durable only once its directory is). Best
/// effort: some file systems refuse to open directories for this, and the data is safe anyway.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_whole_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_atomically(&path, b"first, longer content").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_missing_directory_is_a_write_error_naming_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/a.json");
        let err = write_atomically(&path, b"x").unwrap_err();
        assert!(err.to_string().contains("a.json"), "{err}");
    }
}
