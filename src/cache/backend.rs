//! Where the cache's bytes live: the byte-level operations [`CacheStore`](super::CacheStore)
//! needs, on the local file system or (feature `s3`) in a remote object store. Paths are
//! relative to the store's root (`entries/ab/ab12…`, `index/…json`).

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::state::sync_dir;

/// The operations on a store's files.
pub(crate) trait Backend: Send + Sync {
    /// Where `rel` is, for messages (a path, or an `s3://` URL).
    fn locate(&self, rel: &str) -> PathBuf;
    /// Makes the store ready to write; fails when it cannot be written.
    fn prepare(&self) -> io::Result<()>;
    /// The whole content of `rel`, or `None` when there is none.
    fn read(&self, rel: &str) -> io::Result<Option<Vec<u8>>>;
    /// Writes an entry whose content is determined by its name: a remote store keeps an
    /// existing one (create-only), the file system replaces it with an equivalent one.
    fn create(&self, rel: &str, bytes: &[u8]) -> io::Result<()>;
    /// Writes `rel`, replacing what is there (the last writer wins).
    fn replace(&self, rel: &str, bytes: &[u8]) -> io::Result<()>;
    /// Every file below `dir`, relative to the root, sorted.
    fn list(&self, dir: &str) -> io::Result<Vec<String>>;
    fn exists(&self, rel: &str) -> io::Result<bool>;
    /// Removes `rel`; whether it was there.
    fn delete(&self, rel: &str) -> io::Result<bool>;
    /// Removes what crashed writers left that is older than `older_than`.
    fn clean_temp(&self, older_than: Duration);
}

/// A store in a directory (`<state dir>/cache/v1`). Writes go through `tmp/`: flushed,
/// renamed into place, directory flushed, so a reader sees a whole file or none.
pub(crate) struct FsBackend {
    pub(super) dir: PathBuf,
}

impl FsBackend {
    fn path(&self, rel: &str) -> PathBuf {
        if rel.is_empty() {
            // `join("")` would add a trailing separator.
            self.dir.clone()
        } else {
            self.dir.join(rel)
        }
    }

    fn write(&self, rel: &str, bytes: &[u8]) -> io::Result<()> {
        let path = self.path(rel);
        let dir = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(dir)?;
        let tmp_dir = self.dir.join("tmp");
        std::fs::create_dir_all(&tmp_dir)?;
        let mut tmp = tempfile::Builder::new()
            .prefix("entry-")
            .tempfile_in(&tmp_dir)?;
        tmp.write_all(bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&path).map_err(|e| e.error)?;
        sync_dir(dir);
        Ok(())
    }
}

impl Backend for FsBackend {
    fn locate(&self, rel: &str) -> PathBuf {
        self.path(rel)
    }

    fn prepare(&self) -> io::Result<()> {
        for sub in ["entries", "index", "tmp"] {
            std::fs::create_dir_all(self.dir.join(sub))?;
        }
        let probe = tempfile::Builder::new()
            .prefix("probe-")
            .tempfile_in(self.dir.join("tmp"))?;
        drop(probe);
        Ok(())
    }

    fn read(&self, rel: &str) -> io::Result<Option<Vec<u8>>> {
        match std::fs::read(self.path(rel)) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn create(&self, rel: &str, bytes: &[u8]) -> io::Result<()> {
        self.write(rel, bytes)
    }

    fn replace(&self, rel: &str, bytes: &[u8]) -> io::Result<()> {
        self.write(rel, bytes)
    }

    fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        walk(&self.dir, &self.path(dir), &mut out);
        out.sort();
        Ok(out)
    }

    fn exists(&self, rel: &str) -> io::Result<bool> {
        Ok(self.path(rel).exists())
    }

    fn delete(&self, rel: &str) -> io::Result<bool> {
        match std::fs::remove_file(self.path(rel)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Younger temporary files may be a concurrent run's write in progress.
    fn clean_temp(&self, older_than: Duration) {
        let Ok(files) = std::fs::read_dir(self.dir.join("tmp")) else {
            return;
        };
        let now = SystemTime::now();
        for f in files.flatten() {
            let old = f
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|m| now.duration_since(m).unwrap_or(Duration::ZERO) >= older_than);
            if old {
                let _ = std::fs::remove_file(f.path());
            }
        }
    }
}

/// The files below `dir` as `/`-separated paths relative to `root`; unreadable directories
/// are passed over, as a missing one is.
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(root, &path, out);
        } else if let Ok(rel) = path.strip_prefix(root) {
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
}

/// A store in a remote object store, below `<prefix>/cache/v1/`.
#[cfg(feature = "s3")]
pub(crate) struct RemoteBackend {
    pub(super) url: crate::remote::RemoteUrl,
}

#[cfg(feature = "s3")]
impl RemoteBackend {
    const ROOT: &'static str = "cache/v1";

    fn remote(&self) -> io::Result<std::sync::Arc<crate::remote::Remote>> {
        crate::remote::Remote::connect(&self.url)
    }

    fn rel(rel: &str) -> String {
        if rel.is_empty() {
            Self::ROOT.to_owned()
        } else {
            format!("{}/{rel}", Self::ROOT)
        }
    }
}

#[cfg(feature = "s3")]
impl Backend for RemoteBackend {
    fn locate(&self, rel: &str) -> PathBuf {
        PathBuf::from(self.url.url_of(&Self::rel(rel)))
    }

    fn prepare(&self) -> io::Result<()> {
        self.remote()?.probe()
    }

    fn read(&self, rel: &str) -> io::Result<Option<Vec<u8>>> {
        self.remote()?.get(&Self::rel(rel))
    }

    fn create(&self, rel: &str, bytes: &[u8]) -> io::Result<()> {
        let outcome = self.remote()?.put(&Self::rel(rel), bytes.to_vec(), true)?;
        if outcome == crate::remote::WriteOutcome::AlreadyExists {
            tracing::debug!("cache entry `{rel}` was stored by another writer first; kept it");
        }
        Ok(())
    }

    fn replace(&self, rel: &str, bytes: &[u8]) -> io::Result<()> {
        self.remote()?
            .put(&Self::rel(rel), bytes.to_vec(), false)
            .map(drop)
    }

    fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        let root = format!("{}/", Self::ROOT);
        let listed = self.remote()?.list(&Self::rel(dir))?;
        Ok(listed
            .into_iter()
            .filter_map(|p| p.strip_prefix(&root).map(str::to_owned))
            .collect())
    }

    fn exists(&self, rel: &str) -> io::Result<bool> {
        self.remote()?.exists(&Self::rel(rel))
    }

    fn delete(&self, rel: &str) -> io::Result<bool> {
        self.remote()?.delete(&Self::rel(rel))
    }

    /// Object writes are atomic: nothing is left half-written.
    fn clean_temp(&self, _older_than: Duration) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_system_backend_lists_reads_writes_and_deletes_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let fs = FsBackend {
            dir: dir.path().join("cache/v1"),
        };
        fs.prepare().unwrap();
        assert_eq!(fs.read("entries/ab/ab1").unwrap(), None);
        fs.create("entries/ab/ab1", b"one").unwrap();
        fs.create("entries/ab/ab1", b"two").unwrap();
        fs.replace("index/x.json", b"{}").unwrap();
        fs.create("entries/cd/cd2", b"three").unwrap();
        // The file system keeps its rename-over behaviour: the later writer's file is there.
        assert_eq!(fs.read("entries/ab/ab1").unwrap().unwrap(), b"two");
        assert_eq!(
            std::fs::read(dir.path().join("cache/v1/entries/ab/ab1")).unwrap(),
            b"two"
        );
        assert_eq!(
            fs.list("entries").unwrap(),
            ["entries/ab/ab1", "entries/cd/cd2"]
        );
        assert_eq!(fs.list("index").unwrap(), ["index/x.json"]);
        assert_eq!(
            fs.locate("entries/ab/ab1"),
            dir.path().join("cache/v1/entries/ab/ab1")
        );
        assert!(fs.exists("entries/cd/cd2").unwrap());
        assert!(fs.delete("entries/cd/cd2").unwrap());
        assert!(!fs.delete("entries/cd/cd2").unwrap());
        assert!(fs.list("nothing").unwrap().is_empty());
        assert_eq!(fs.locate(""), dir.path().join("cache/v1"));
        let tmp = std::fs::read_dir(dir.path().join("cache/v1/tmp")).unwrap();
        assert_eq!(tmp.count(), 0, "temporary files left behind");
    }
}
