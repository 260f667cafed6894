//! The state directory: everything autowf keeps between runs, as plain files.
//!
//! ```text
//! <state dir>/            .autowf/ next to the flow file unless configured
//!   layout.json           {"schema": 1}: the layout version, written on first use
//!   cache/v1/             result cache (see `cache`)
//!   artifacts/blobs/      content-addressed artifact bytes
//!   runs/<run-id>/        one directory per run: logs/, journal.jsonl, summary.json,
//!                         artifacts.json
//!   locks/<flow>.lock     `run --lock`
//!   secret-key            32 random bytes (mode 0600) that key the hashes of secrets
//! ```
//!
//! No file here is ever rewritten in place: writers create a temporary file beside the target
//! and rename it over, so readers and concurrent runs see either the old or the new content.

pub(crate) mod artifacts;
mod atomic;
pub(crate) mod gc;
pub(crate) mod journal;
pub(crate) mod runs;
pub(crate) mod secret_key;

use std::path::{Path, PathBuf};

pub(crate) use atomic::{AtomicFile, sync_dir, write_atomically};

use crate::remote::RemoteUrl;

/// The entries of `dir`; none when it does not exist (nothing was written there yet, or a
/// concurrent gc has just removed it).
fn read_dir_or_empty(dir: &Path) -> crate::error::Result<Vec<std::fs::DirEntry>> {
    let read_error = |source| crate::error::Error::ReadFile {
        path: dir.to_path_buf(),
        source,
    };
    match std::fs::read_dir(dir) {
        Ok(entries) => entries.collect::<std::io::Result<_>>().map_err(read_error),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(read_error(e)),
    }
}

/// The version of the directory layout described above. A change that older versions would
/// misread bumps it.
pub(crate) const LAYOUT_VERSION: u32 = 1;

/// The paths of one state directory, and the remote store that holds its cache and artifact
/// blobs instead when one is configured (see `docs/remote-storage.md`).
#[derive(Debug, Clone)]
pub(crate) struct StateDir {
    root: PathBuf,
    remote: Option<RemoteUrl>,
}

impl StateDir {
    pub(crate) fn new(root: PathBuf) -> Self {
        Self { root, remote: None }
    }

    /// The same directory with its cache and artifact blobs in `remote` (if any).
    pub(crate) fn with_remote(self, remote: Option<RemoteUrl>) -> Self {
        Self { remote, ..self }
    }

    pub(crate) fn remote(&self) -> Option<&RemoteUrl> {
        self.remote.as_ref()
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn cache(&self) -> PathBuf {
        self.root.join("cache").join("v1")
    }

    pub(crate) fn blobs(&self) -> PathBuf {
        self.root.join("artifacts").join("blobs")
    }

    pub(crate) fn runs(&self) -> PathBuf {
        self.root.join("runs")
    }

    pub(crate) fn run(&self, run_id: &str) -> PathBuf {
        self.runs().join(run_id)
    }

    /// Records the layout version the first time the directory is used; a directory written
    /// by a newer autowf with another layout is refused rather than misread.
    pub(crate) fn ensure_layout(&self) -> crate::error::Result<()> {
        match self.found_layout()? {
            Some(v) if v == u64::from(LAYOUT_VERSION) => Ok(()),
            Some(v) => Err(self.layout_error(v)),
            // Missing, or a torn or foreign file: write it, the layout itself is ours.
            None => self.write_layout(),
        }
    }

    /// Refuses a directory of another layout, as `ensure_layout` does, but writes nothing:
    /// for commands that only read or remove what is there.
    pub(crate) fn check_layout(&self) -> crate::error::Result<()> {
        match self.found_layout()? {
            Some(v) if v != u64::from(LAYOUT_VERSION) => Err(self.layout_error(v)),
            _ => Ok(()),
        }
    }

    fn layout_path(&self) -> PathBuf {
        self.root.join("layout.json")
    }

    /// The version `layout.json` records; `None` when it is missing or not ours.
    fn found_layout(&self) -> crate::error::Result<Option<u64>> {
        let path = self.layout_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("schema").and_then(serde_json::Value::as_u64))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(crate::error::Error::ReadFile { path, source }),
        }
    }

    fn layout_error(&self, found: u64) -> crate::error::Error {
        crate::error::Error::StateLayout {
            path: self.layout_path(),
            found,
            supported: LAYOUT_VERSION,
        }
    }

    fn write_layout(&self) -> crate::error::Result<()> {
        std::fs::create_dir_all(&self.root).map_err(|source| crate::error::Error::WriteFile {
            path: self.root.clone(),
            source,
        })?;
        write_atomically(
            &self.layout_path(),
            format!("{{\"schema\": {LAYOUT_VERSION}}}\n").as_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_layout_is_refused_and_checking_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().join(".autowf"));
        state.check_layout().unwrap();
        assert!(!state.root().exists(), "checking created the directory");
        state.ensure_layout().unwrap();
        state.check_layout().unwrap();
        std::fs::write(state.root().join("layout.json"), r#"{"schema": 9}"#).unwrap();
        for err in [state.check_layout(), state.ensure_layout()] {
            let err = err.unwrap_err().to_string();
            assert!(err.contains("uses layout 9"), "{err}");
        }
        std::fs::write(state.root().join("layout.json"), "{ torn").unwrap();
        state.check_layout().unwrap();
        state.ensure_layout().unwrap();
        let text = std::fs::read_to_string(state.root().join("layout.json")).unwrap();
        assert_eq!(text, "{\"schema\": 1}\n");
    }
}
