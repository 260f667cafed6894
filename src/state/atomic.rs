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
    let mut file = AtomicFile::create_in(dir).map_err(|e| quiet_write_error(path, &e))?;
    file.write_all(bytes)
        .map_err(|e| quiet_write_error(path, &e))?;
    file.commit(path)
}

/// A file written under a temporary name and moved to its final place only once complete,
/// for content whose final name is known only at the end (a blob named by its digest).
/// Dropped without [`AtomicFile::commit`], it is deleted.
pub(crate) struct AtomicFile {
    tmp: tempfile::NamedTempFile,
}

impl AtomicFile {
    /// Starts a temporary file in `dir`, which must be on the target's file system.
    pub(crate) fn create_in(dir: &Path) -> std::io::Result<Self> {
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(dir)
            // tempfile's error names the temporary file, which means nothing to the user.
            .map_err(|e| std::io::Error::from(e.kind()))?;
        Ok(Self { tmp })
    }

    /// Flushes the content to disk, renames it to `path` and flushes `path`'s directory.
    pub(crate) fn commit(self, path: &Path) -> Result<()> {
        let err = |e: std::io::Error| quiet_write_error(path, &e);
        self.tmp.as_file().sync_all().map_err(err)?;
        self.tmp.persist(path).map_err(|e| err(e.error))?;
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(dir);
        }
        Ok(())
    }
}

impl std::io::Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tmp.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.tmp.flush()
    }
}

/// A write error naming the target: the temporary file's name means nothing to the user, so
/// only what went wrong is kept.
fn quiet_write_error(path: &Path, source: &std::io::Error) -> Error {
    Error::WriteFile {
        path: path.to_path_buf(),
        source: std::io::Error::from(source.kind()),
    }
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
    fn an_uncommitted_file_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = AtomicFile::create_in(dir.path()).unwrap();
        file.write_all(b"half").unwrap();
        drop(file);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_missing_directory_is_a_write_error_naming_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/a.json");
        let err = write_atomically(&path, b"x").unwrap_err();
        assert!(err.to_string().contains("a.json"), "{err}");
    }
}
