//! Where artifact bytes live: content-addressed blobs in the state directory, or (feature
//! `s3`) in a remote object store. Either way a blob is named by its blake3 digest, so writers
//! on several hosts cannot disagree about it: any two writers of a name write the same bytes.

use std::fmt::Debug;
use std::fs::File;
use std::io::Read;
#[cfg(feature = "s3")]
use std::io::Seek as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{ArtifactError, copy_hashing, read_error, write_error};
use crate::error::Error;
use crate::state::{AtomicFile, StateDir, read_dir_or_empty};

/// The operations `RunArtifacts` needs on blobs.
pub(crate) trait BlobStore: Send + Sync + Debug {
    /// Copies `content` (called `source` in errors) in; returns its digest and size. An
    /// existing blob with that digest is kept as it is.
    fn store(&self, content: &mut dyn Read, source: &Path) -> Result<(String, u64), ArtifactError>;
    /// The content of the blob with `digest`, unchecked (the caller hashes it).
    fn open(&self, digest: &str) -> Result<Box<dyn Read>, ArtifactError>;
    /// Whether the blob with `digest` exists.
    fn exists(&self, digest: &str) -> Result<bool, ArtifactError>;
    /// Where the blob with `digest` is, for messages.
    fn locate(&self, digest: &str) -> PathBuf;
}

/// `artifacts/blobs/<2 hex>/<64 hex>` in the state directory.
#[derive(Debug)]
pub(crate) struct FsBlobs {
    pub(super) dir: PathBuf,
}

/// Where the blob with `digest` lives below `dir`: `ab/abcdef…`.
pub(super) fn blob_rel(digest: &str) -> String {
    format!("{}/{digest}", digest.get(..2).unwrap_or("00"))
}

impl BlobStore for FsBlobs {
    /// The bytes go to a temporary file in the blob directory first, since the digest, and
    /// so the blob's name, is known only at the end.
    fn store(&self, content: &mut dyn Read, source: &Path) -> Result<(String, u64), ArtifactError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| write_error(&self.dir, e))?;
        let mut tmp = AtomicFile::create_in(&self.dir).map_err(|e| write_error(&self.dir, e))?;
        let (digest, size) = copy_hashing(content, source, &mut tmp, &self.dir)?;
        let path = self.locate(&digest);
        if path.is_file() {
            touch(&path);
            return Ok((digest, size));
        }
        let dir = path.parent().expect("invariant: a blob path has a parent");
        std::fs::create_dir_all(dir).map_err(|e| write_error(dir, e))?;
        tmp.commit(&path)?;
        Ok((digest, size))
    }

    fn open(&self, digest: &str) -> Result<Box<dyn Read>, ArtifactError> {
        let path = self.locate(digest);
        let file = File::open(&path).map_err(|e| read_error(&path, e))?;
        Ok(Box::new(file))
    }

    fn exists(&self, digest: &str) -> Result<bool, ArtifactError> {
        Ok(self.locate(digest).is_file())
    }

    fn locate(&self, digest: &str) -> PathBuf {
        self.dir.join(blob_rel(digest))
    }
}

/// Sets a blob's modification time to now, so that `runs gc`, which spares blobs modified
/// within its grace period, cannot delete a blob that is being recorded again under a new
/// name before the manifest says so. Best effort: at worst an older blob looks older.
fn touch(path: &Path) {
    if let Ok(file) = File::open(path) {
        let _ = file.set_modified(SystemTime::now());
    }
}

/// A blob in the local store, as `runs gc` weighs it.
#[derive(Clone, Debug)]
pub(crate) struct StoredBlob {
    pub(crate) digest: String,
    pub(crate) path: PathBuf,
    pub(crate) bytes: u64,
    /// `None` when the file system cannot tell.
    pub(crate) modified: Option<SystemTime>,
}

/// Every blob in the local store of `state`, by digest. Only files named as blobs are listed
/// (`ab/ab…` with 64 lowercase hex digits): temporary files of writes in progress and
/// anything else stay out of it. No blob directory means no blobs.
pub(crate) fn stored_blobs(state: &StateDir) -> Result<Vec<StoredBlob>, Error> {
    let dir = state.blobs();
    let mut blobs = Vec::new();
    for shard in read_dir_or_empty(&dir)? {
        let is_shard = shard.file_name().to_str().is_some_and(|n| is_hex(n, 2))
            && shard.file_type().is_ok_and(|t| t.is_dir());
        if !is_shard {
            continue;
        }
        let prefix = shard.file_name().to_string_lossy().into_owned();
        for file in read_dir_or_empty(&shard.path())? {
            let name = file.file_name().to_string_lossy().into_owned();
            let Ok(meta) = file.metadata() else { continue };
            if is_hex(&name, 64) && name.starts_with(&prefix) && meta.is_file() {
                blobs.push(StoredBlob {
                    digest: name,
                    path: file.path(),
                    bytes: meta.len(),
                    modified: meta.modified().ok(),
                });
            }
        }
    }
    blobs.sort_by(|a, b| a.digest.cmp(&b.digest));
    Ok(blobs)
}

fn is_hex(name: &str, len: usize) -> bool {
    name.len() == len && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `<prefix>/artifacts/blobs/<2 hex>/<64 hex>` in a remote object store. A blob passes
/// through a temporary file on its way in and out; a large one is never in memory whole.
#[cfg(feature = "s3")]
#[derive(Debug)]
pub(crate) struct RemoteBlobs {
    pub(super) url: crate::remote::RemoteUrl,
    /// Where the temporary files go: the run's directory, on the local disk that already
    /// holds the files the run stages (the system's temporary directory may be in memory).
    pub(super) spool: PathBuf,
}

/// Blobs up to this size are sent in one create-only PUT, read into memory first: a single
/// request, and the store itself keeps the first of two writers. Larger ones go in a
/// multipart upload, which holds only a few parts in memory at a time.
#[cfg(feature = "s3")]
const SINGLE_PUT_MAX: u64 = 8 * 1024 * 1024;

#[cfg(feature = "s3")]
impl RemoteBlobs {
    fn rel(digest: &str) -> String {
        format!("artifacts/blobs/{}", blob_rel(digest))
    }

    fn remote(&self, digest: &str) -> Result<std::sync::Arc<crate::remote::Remote>, ArtifactError> {
        crate::remote::Remote::connect(&self.url).map_err(|e| read_error(&self.locate(digest), e))
    }

    /// A new temporary file without a name: the kernel frees it once it is closed, whether
    /// the transfer succeeded, failed or the process died.
    fn spool_file(&self) -> Result<File, ArtifactError> {
        std::fs::create_dir_all(&self.spool).map_err(|e| write_error(&self.spool, e))?;
        tempfile::tempfile_in(&self.spool).map_err(|e| write_error(&self.spool, e))
    }
}

#[cfg(feature = "s3")]
impl BlobStore for RemoteBlobs {
    /// The bytes go to a temporary file first, since the digest, and so the blob's name, is
    /// known only at the end.
    fn store(&self, content: &mut dyn Read, source: &Path) -> Result<(String, u64), ArtifactError> {
        let mut spooled = self.spool_file()?;
        let (digest, size) = copy_hashing(content, source, &mut spooled, &self.spool)?;
        let rel = Self::rel(&digest);
        let remote = self.remote(&digest)?;
        let failed = |e| write_error(&self.locate(&digest), e);
        if size <= SINGLE_PUT_MAX {
            let mut bytes = Vec::new();
            spooled
                .rewind()
                .and_then(|()| spooled.read_to_end(&mut bytes))
                .map_err(|e| read_error(&self.spool, e))?;
            remote.put(&rel, bytes, true).map_err(failed)?;
        } else if !remote.exists(&rel).map_err(failed)? {
            // Not create-only, but the name is the digest of the bytes: a concurrent writer
            // of the same name writes the same bytes, and S3 shows a multipart object only
            // once it is complete.
            remote.put_file_multipart(&rel, &spooled).map_err(failed)?;
        }
        Ok((digest, size))
    }

    /// The blob is downloaded to a temporary file, which goes away with the reader.
    fn open(&self, digest: &str) -> Result<Box<dyn Read>, ArtifactError> {
        let path = self.locate(digest);
        let mut spooled = self.spool_file()?;
        match self
            .remote(digest)?
            .get_to_file(&Self::rel(digest), &spooled)
        {
            Ok(true) => {}
            Ok(false) => {
                return Err(read_error(
                    &path,
                    std::io::Error::new(std::io::ErrorKind::NotFound, "the blob is gone"),
                ));
            }
            Err(e) => return Err(read_error(&path, e)),
        }
        spooled.rewind().map_err(|e| read_error(&self.spool, e))?;
        Ok(Box::new(spooled))
    }

    fn exists(&self, digest: &str) -> Result<bool, ArtifactError> {
        self.remote(digest)?
            .exists(&Self::rel(digest))
            .map_err(|e| read_error(&self.locate(digest), e))
    }

    fn locate(&self, digest: &str) -> PathBuf {
        PathBuf::from(self.url.url_of(&Self::rel(digest)))
    }
}
