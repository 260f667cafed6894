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
pub(crate) mod journal;
pub(crate) mod runs;
pub(crate) mod secret_key;

use std::path::{Path, PathBuf};

pub(crate) use atomic::{AtomicFile, sync_dir, write_atomically};

use crate::remote::RemoteUrl;

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
        let path = self.root.join("layout.json");
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let found = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v.get("schema").and_then(serde_json::Value::as_u64));
                match found {
                    Some(v) if v == u64::from(LAYOUT_VERSION) => Ok(()),
                    // A torn or foreign file: rewrite it, the layout itself is ours.
                    None => self.write_layout(&path),
                    Some(v) => Err(crate::error::Error::StateLayout {
                        path,
                        found: v,
                        supported: LAYOUT_VERSION,
                    }),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => self.write_layout(&path),
            Err(source) => Err(crate::error::Error::ReadFile { path, source }),
        }
    }

    fn write_layout(&self, path: &Path) -> crate::error::Result<()> {
        std::fs::create_dir_all(&self.root).map_err(|source| crate::error::Error::WriteFile {
            path: self.root.clone(),
            source,
        })?;
        write_atomically(
            path,
            format!("{{\"schema\": {LAYOUT_VERSION}}}\n").as_bytes(),
        )
    }
}
