//! Staged artifacts: files a task writes at a path it asked for with `artifact_path`, stored
//! once its attempt succeeds.
//!
//! Each attempt stages under its own directory, `runs/<id>/staging/<node>/<attempt>/`, so what
//! a failed attempt left behind never becomes an artifact of a later, successful one. The node
//! part is percent-encoded, so node names such as `sub/add` or `..` stay one path component.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;

use super::{
    ArtifactError, ArtifactName, ArtifactRecord, NameError, RunArtifacts, new_record, read_error,
    write_error,
};

/// Whether any task of this process asked for a staging path: until one does, a finished
/// attempt has nothing to collect and no directory needs to be looked at (a run of 100,000
/// tiny tasks stays free of file-system calls).
static STAGED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// See [`STAGED`]. Tasks in worker processes stage in their own process, so their attempts
/// are collected regardless.
pub(crate) fn anything_staged() -> bool {
    STAGED.load(std::sync::atomic::Ordering::Relaxed)
}

impl RunArtifacts {
    /// Where `node`'s attempt `attempt` may write the file that becomes artifact `name`; its
    /// parent directories exist when this returns.
    pub(crate) fn staging_path(
        &self,
        node: &str,
        attempt: u32,
        name: &ArtifactName,
    ) -> Result<PathBuf, ArtifactError> {
        let path = self.attempt_dir(node, attempt).join(name.as_str());
        let dir = path
            .parent()
            .expect("invariant: a staging path has a parent");
        std::fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
        STAGED.store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(path)
    }

    /// Stores what `node`'s attempt `attempt` staged, each file as the artifact named by its
    /// path below the attempt's directory; call it once the attempt has succeeded. Then the
    /// node's staging directory is removed. Symbolic links are refused, never followed, so a
    /// task cannot make the store copy a file from elsewhere; on such an error the staged
    /// files are left in place for inspection.
    pub(crate) fn collect_staged(
        &self,
        node: &str,
        attempt: u32,
    ) -> Result<Vec<ArtifactRecord>, ArtifactError> {
        let node_dir = self.node_dir(node);
        let dir = self.attempt_dir(node, attempt);
        let staged = match std::fs::symlink_metadata(&dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(read_error(&dir, e)),
            Ok(meta) if !meta.is_dir() => {
                return Err(ArtifactError::NotAFile {
                    path: dir,
                    kind: kind_of(&meta),
                });
            }
            Ok(_) => {
                let mut files = Vec::new();
                walk(&dir, &dir, &mut files)?;
                files.sort();
                files
            }
        };
        let mut records = Vec::with_capacity(staged.len());
        for (name, path) in staged {
            let mut file = open_no_follow(&path)?;
            let (digest, size) = self.store_blob(&mut file, &path)?;
            records.push(new_record(&name, node, digest, size));
        }
        self.record(records.clone())?;
        match std::fs::remove_dir_all(&node_dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(write_error(&node_dir, e));
            }
            _ => {}
        }
        Ok(records)
    }

    fn node_dir(&self, node: &str) -> PathBuf {
        self.run_dir.join("staging").join(encode_node(node))
    }

    fn attempt_dir(&self, node: &str, attempt: u32) -> PathBuf {
        self.node_dir(node).join(attempt.to_string())
    }
}

/// Collects the regular files below `dir` with their artifact names (paths relative to
/// `root`); anything else than a file or a directory is an error.
fn walk(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(ArtifactName, PathBuf)>,
) -> Result<(), ArtifactError> {
    for entry in std::fs::read_dir(dir).map_err(|e| read_error(dir, e))? {
        let entry = entry.map_err(|e| read_error(dir, e))?;
        let path = entry.path();
        // The entry's own type: a symbolic link is reported as one, not as its target.
        let meta = std::fs::symlink_metadata(&path).map_err(|e| read_error(&path, e))?;
        if meta.is_dir() {
            walk(root, &path, out)?;
        } else if meta.is_file() {
            let relative = path
                .strip_prefix(root)
                .expect("invariant: walked paths are below the root");
            let text = relative.to_str().ok_or_else(|| NameError::NotUtf8 {
                name: relative.to_string_lossy().into_owned(),
            })?;
            out.push((ArtifactName::parse(text)?, path));
        } else {
            return Err(ArtifactError::NotAFile {
                path,
                kind: kind_of(&meta),
            });
        }
    }
    Ok(())
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    if meta.file_type().is_symlink() {
        "symbolic link"
    } else if meta.is_file() {
        "regular file"
    } else {
        "special file"
    }
}

/// Opens a staged file, refusing a symbolic link put there since it was listed.
fn open_no_follow(path: &Path) -> Result<File, ArtifactError> {
    OpenOptions::new()
        .read(true)
        .custom_flags(OFlag::O_NOFOLLOW.bits())
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(nix::errno::Errno::ELOOP as i32) {
                ArtifactError::NotAFile {
                    path: path.to_path_buf(),
                    kind: "symbolic link",
                }
            } else {
                read_error(path, e)
            }
        })
}

/// A node name as one path component: bytes other than ASCII letters, digits, `-`, `_`, `#`,
/// `[` and `]` become `%XX`, so distinct names get distinct directories and none is `.` or
/// `..`.
fn encode_node(node: &str) -> String {
    if node.is_empty() {
        // `%` alone is no encoding of anything else.
        return "%".to_owned();
    }
    let mut out = String::with_capacity(node.len());
    for b in node.bytes() {
        if b.is_ascii_alphanumeric() || b"-_#[]".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::StateDir;
    use super::*;

    const RUN: &str = "20260101T000000000-00001";

    fn store(dir: &Path) -> RunArtifacts {
        RunArtifacts::new(&StateDir::new(dir.to_path_buf()), RUN)
    }

    fn name(s: &str) -> ArtifactName {
        ArtifactName::parse(s).unwrap()
    }

    #[test]
    fn staged_files_become_artifacts_and_staging_is_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let run = store(dir.path());
        let report = run
            .staging_path("build", 1, &name("reports/day.csv"))
            .unwrap();
        std::fs::write(&report, "a,b\n").unwrap();
        let log = run.staging_path("build", 1, &name("log.txt")).unwrap();
        std::fs::write(&log, "ok").unwrap();
        let records = run.collect_staged("build", 1).unwrap();
        let names: Vec<&str> = records.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["log.txt", "reports/day.csv"]);
        assert_eq!(run.read("reports/day.csv").unwrap(), b"a,b\n");
        assert!(
            !dir.path()
                .join("runs")
                .join(RUN)
                .join("staging/build")
                .exists()
        );
    }

    #[test]
    fn a_node_that_staged_nothing_records_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let run = store(dir.path());
        assert!(run.collect_staged("quiet", 1).unwrap().is_empty());
        assert!(run.manifest().unwrap().artifacts.is_empty());
    }

    #[test]
    fn only_the_succeeding_attempt_is_collected() {
        let dir = tempfile::tempdir().unwrap();
        let run = store(dir.path());
        let first = run.staging_path("flaky", 1, &name("partial.txt")).unwrap();
        std::fs::write(first, "half").unwrap();
        let second = run.staging_path("flaky", 2, &name("whole.txt")).unwrap();
        std::fs::write(second, "all").unwrap();
        let records = run.collect_staged("flaky", 2).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].name, "whole.txt");
        assert!(run.find("partial.txt").is_err());
    }

    #[test]
    fn a_symlink_pointing_outside_staging_is_refused_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret.txt");
        std::fs::write(&secret, "do not copy").unwrap();
        let run = store(dir.path());
        let link = run.staging_path("sneaky", 1, &name("leak.txt")).unwrap();
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        let err = run.collect_staged("sneaky", 1).unwrap_err();
        assert!(
            matches!(
                err,
                ArtifactError::NotAFile {
                    kind: "symbolic link",
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("leak.txt"), "{err}");
        assert!(run.manifest().unwrap().artifacts.is_empty());
        assert!(link.symlink_metadata().is_ok(), "kept for inspection");
    }

    #[test]
    fn a_symlinked_directory_in_staging_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("f"), "x").unwrap();
        let run = store(dir.path());
        let sub = run.staging_path("sneaky", 1, &name("sub")).unwrap();
        std::os::unix::fs::symlink(&outside, &sub).unwrap();
        let err = run.collect_staged("sneaky", 1).unwrap_err();
        assert!(matches!(err, ArtifactError::NotAFile { .. }), "{err}");
    }

    #[test]
    fn an_open_refuses_a_symlink_swapped_in_after_listing() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink("/etc/hostname", &link).unwrap();
        let err = open_no_follow(&link).unwrap_err();
        assert!(matches!(err, ArtifactError::NotAFile { .. }), "{err}");
    }

    #[test]
    fn node_names_become_distinct_single_components() {
        assert_eq!(encode_node("compute#2"), "compute#2");
        assert_eq!(encode_node("square[0]"), "square[0]");
        assert_eq!(encode_node("sub/add"), "sub%2Fadd");
        assert_eq!(encode_node(".."), "%2E%2E");
        assert_ne!(encode_node("a/b"), encode_node("a%2Fb"));
        assert_eq!(encode_node(""), "%");
    }
}
