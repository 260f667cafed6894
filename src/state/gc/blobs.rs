//! Which artifact blobs gc deletes: those in the local store that no remaining run's manifest
//! and no cache entry names, and that nobody wrote within the grace period. Whatever might
//! name a blob and cannot be read stops the sweep: a blob deleted by mistake is an artifact
//! lost, a blob kept by mistake is only disk space until the next gc.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::Plan;
use crate::error::{Error, Result};
use crate::state::StateDir;
use crate::state::artifacts::{read_manifest, stored_blobs};
use crate::state::runs;

/// Blobs modified within this time are kept even when nothing names them: a run going on
/// stores a blob before its manifest records it (and before a cache entry names it), so a
/// blob that looks unused may be one a concurrent run is about to record. Storing content
/// that is already there refreshes the blob's time for the same reason. An hour is far longer
/// than that gap; a blob that really is unused goes at a later gc.
pub(crate) const BLOB_GRACE: Duration = Duration::from_secs(3600);

/// The digests the result cache's entries name, or why they cannot all be known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum CacheRefs {
    Known(HashSet<String>),
    /// A damaged entry, or entries this autowf cannot read: any blob may be one of theirs.
    Unknown(String),
}

/// A blob gc deletes (or, with `--dry-run`, would).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct UnusedBlob {
    pub(crate) digest: String,
    pub(crate) bytes: u64,
    #[serde(skip)]
    path: PathBuf,
}

/// What the sweep found.
#[derive(Clone, Debug)]
pub(crate) enum Sweep {
    Unused(Vec<UnusedBlob>),
    /// No blob is deleted: something that may name blobs could not be read.
    Skipped {
        why: String,
    },
}

/// The local blobs that can go once `plan`'s runs are gone: named by no other run's manifest
/// nor by `cache`, and older than [`BLOB_GRACE`]. Runs are listed afresh, so a run that began
/// after the plan was made counts too.
pub(crate) fn unused_blobs(
    state: &StateDir,
    plan: &Plan,
    cache: CacheRefs,
    now: SystemTime,
) -> Result<Sweep> {
    let mut named = match cache {
        CacheRefs::Known(digests) => digests,
        CacheRefs::Unknown(why) => return Ok(Sweep::Skipped { why }),
    };
    for run_id in runs::run_ids(state)? {
        if plan.removes(&run_id) {
            continue;
        }
        match read_manifest(state, &run_id) {
            Ok(manifest) => named.extend(manifest.artifacts.into_iter().map(|r| r.digest)),
            Err(e) => {
                return Ok(Sweep::Skipped {
                    why: format!("the artifact manifest of run `{run_id}` cannot be read: {e}"),
                });
            }
        }
    }
    let is_past_grace = |modified: Option<SystemTime>| {
        modified.is_some_and(|m| now.duration_since(m).is_ok_and(|age| age >= BLOB_GRACE))
    };
    let unused = stored_blobs(state)?
        .into_iter()
        .filter(|b| !named.contains(&b.digest) && is_past_grace(b.modified))
        .map(|b| UnusedBlob {
            digest: b.digest,
            bytes: b.bytes,
            path: b.path,
        })
        .collect();
    Ok(Sweep::Unused(unused))
}

/// Deletes `blob`; one already gone (another gc took it) is not an error. Its shard directory
/// stays, even when empty: a concurrent run may be about to store a blob in it.
pub(crate) fn remove_blob(blob: &UnusedBlob) -> Result<()> {
    match std::fs::remove_file(&blob.path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::WriteFile {
            path: blob.path.clone(),
            source,
        }),
    }
}
