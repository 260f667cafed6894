//! The object-store client of the `s3` feature: one per URL and process, with its own small
//! tokio runtime.
//!
//! The object store is async, but its callers are not: the cache and the artifact store run
//! on blocking threads, and `autowf cache` and `autowf artifacts` are synchronous. Each call
//! is spawned on this module's runtime and waited for over a channel, which never panics the
//! way `block_on` does inside an async context (it only blocks the calling thread, as the
//! local file system's calls do).

use std::collections::HashMap;
use std::fs::File;
use std::future::Future;
use std::io::{self, Seek as _};
use std::sync::{Arc, Mutex, OnceLock};

use futures_util::TryStreamExt as _;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{
    ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload, RetryConfig, WriteMultipart,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::RemoteUrl;

/// Retries of a failed request (with exponential backoff from 100 ms): an unreachable store
/// fails a run within seconds, not the client's default of minutes.
const MAX_RETRIES: usize = 3;
/// No request is retried after this long.
const RETRY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// The part size of a multipart upload: S3 wants at least 5 MiB in every part but the last.
const PART_SIZE: u64 = 16 * 1024 * 1024;
/// S3 takes at most this many parts, so objects above 160 GiB get larger parts.
const MAX_PARTS: u64 = 10_000;
/// Parts sent at once. Counting the one being read, at most this many parts are in memory:
/// 48 MiB for any object up to 160 GiB.
const PARTS_IN_FLIGHT: usize = 3;

/// Where a transfer between a local file and the store failed.
enum Transfer {
    Local(io::Error),
    Remote(object_store::Error),
}

/// A connection to one remote store.
#[derive(Debug)]
pub(crate) struct Remote {
    url: RemoteUrl,
    store: Arc<dyn ObjectStore>,
}

/// What a create-only write found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WriteOutcome {
    Created,
    /// Another writer created the object first; it was kept.
    AlreadyExists,
}

impl Remote {
    /// The process's connection to `url`, made on first use from the standard AWS variables
    /// (`AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
    /// `AWS_ALLOW_HTTP`, ...).
    pub(crate) fn connect(url: &RemoteUrl) -> io::Result<Arc<Self>> {
        static CONNECTIONS: OnceLock<Mutex<HashMap<String, Arc<Remote>>>> = OnceLock::new();
        let mut connections = CONNECTIONS
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let name = url.to_string();
        if let Some(remote) = connections.get(&name) {
            return Ok(remote.clone());
        }
        let store = AmazonS3Builder::from_env()
            .with_bucket_name(url.bucket())
            .with_retry(RetryConfig {
                max_retries: MAX_RETRIES,
                retry_timeout: RETRY_TIMEOUT,
                ..RetryConfig::default()
            })
            .build()
            .map_err(|e| {
                io::Error::other(format!("cannot configure remote store `{name}`: {e}"))
            })?;
        let remote = Arc::new(Self {
            url: url.clone(),
            store: Arc::new(store),
        });
        connections.insert(name, remote.clone());
        Ok(remote)
    }

    fn path(&self, rel: &str) -> ObjectPath {
        ObjectPath::from(self.url.object_path(rel))
    }

    fn error(&self, rel: &str, e: object_store::Error) -> io::Error {
        let kind = match e {
            object_store::Error::NotFound { .. } => io::ErrorKind::NotFound,
            object_store::Error::AlreadyExists { .. } => io::ErrorKind::AlreadyExists,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, format!("{}: {e}", self.url.url_of(rel)))
    }

    fn transfer_error(&self, rel: &str, e: Transfer) -> io::Error {
        match e {
            Transfer::Remote(e) => self.error(rel, e),
            // The caller's message names the object already.
            Transfer::Local(e) => {
                io::Error::new(e.kind(), format!("its local temporary copy: {e}"))
            }
        }
    }

    /// Fails unless the store answers a listing of the prefix: checked before a run starts.
    pub(crate) fn probe(&self) -> io::Result<()> {
        let store = self.store.clone();
        let prefix = self.path("");
        wait(async move { store.list_with_delimiter(Some(&prefix)).await })?
            .map(drop)
            .map_err(|e| self.error("", e))
    }

    /// The whole object `rel`, or `None` when there is none.
    pub(crate) fn get(&self, rel: &str) -> io::Result<Option<Vec<u8>>> {
        let store = self.store.clone();
        let path = self.path(rel);
        let got = wait(async move {
            match store.get(&path).await {
                Ok(found) => found.bytes().await.map(Some),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })?;
        got.map(|b| b.map(|b| b.to_vec()))
            .map_err(|e| self.error(rel, e))
    }

    /// Streams object `rel` into `file`, which should be empty; `false` when there is no such
    /// object. Only the chunk in transit is held in memory.
    pub(crate) fn get_to_file(&self, rel: &str, file: &File) -> io::Result<bool> {
        let store = self.store.clone();
        let path = self.path(rel);
        let out = file.try_clone()?;
        let got = wait(async move {
            let mut body = match store.get(&path).await {
                Ok(found) => found.into_stream(),
                Err(object_store::Error::NotFound { .. }) => return Ok(false),
                Err(e) => return Err(Transfer::Remote(e)),
            };
            let mut out = tokio::fs::File::from_std(out);
            while let Some(chunk) = body.try_next().await.map_err(Transfer::Remote)? {
                out.write_all(&chunk).await.map_err(Transfer::Local)?;
            }
            // Waits for the last write, which tokio runs on another thread.
            out.flush().await.map_err(Transfer::Local)?;
            Ok(true)
        })?;
        got.map_err(|e| self.transfer_error(rel, e))
    }

    /// Writes the whole of `file` to `rel` with a multipart upload, streamed from the file a
    /// few parts at a time; an upload that fails is aborted, so that no parts are left behind
    /// in the store. A reader sees no object until the upload completes, then the whole one.
    ///
    /// Unlike [`Remote::put`], this cannot be create-only: object_store's multipart uploads
    /// take no put mode, and not every S3-compatible store offers a conditional completion.
    /// The caller must make sure that any two writers of `rel` write the same bytes, as a
    /// content-addressed name does.
    pub(crate) fn put_file_multipart(&self, rel: &str, file: &File) -> io::Result<()> {
        let store = self.store.clone();
        let path = self.path(rel);
        let mut from = file.try_clone()?;
        from.rewind()?;
        let part_size = PART_SIZE.max(from.metadata()?.len().div_ceil(MAX_PARTS));
        let part_size = usize::try_from(part_size).map_err(io::Error::other)?;
        let sent = wait(async move {
            let upload = store.put_multipart(&path).await.map_err(Transfer::Remote)?;
            let mut parts = WriteMultipart::new_with_chunk_size(upload, part_size);
            let mut from = tokio::fs::File::from_std(from);
            match send_parts(&mut parts, &mut from, part_size).await {
                // `finish` aborts the upload itself when it fails.
                Ok(()) => parts.finish().await.map(drop).map_err(Transfer::Remote),
                Err(e) => {
                    // The first error is the one to report; parts that even the abort
                    // leaves behind are for the bucket's lifecycle rule.
                    let _ = parts.abort().await;
                    Err(e)
                }
            }
        })?;
        sent.map_err(|e| self.transfer_error(rel, e))
    }

    /// Writes `rel`: with `create_only`, an existing object is kept (and reported as such),
    /// otherwise replaced. Either way a reader sees the old or the new object whole.
    pub(crate) fn put(
        &self,
        rel: &str,
        bytes: Vec<u8>,
        create_only: bool,
    ) -> io::Result<WriteOutcome> {
        let store = self.store.clone();
        let path = self.path(rel);
        let mode = if create_only {
            PutMode::Create
        } else {
            PutMode::Overwrite
        };
        let opts = PutOptions {
            mode,
            ..PutOptions::default()
        };
        let put = wait(async move { store.put_opts(&path, PutPayload::from(bytes), opts).await })?;
        match put {
            Ok(_) => Ok(WriteOutcome::Created),
            Err(object_store::Error::AlreadyExists { .. }) => Ok(WriteOutcome::AlreadyExists),
            Err(e) => Err(self.error(rel, e)),
        }
    }

    /// Whether object `rel` exists.
    pub(crate) fn exists(&self, rel: &str) -> io::Result<bool> {
        let store = self.store.clone();
        let path = self.path(rel);
        match wait(async move { store.head(&path).await })? {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(self.error(rel, e)),
        }
    }

    /// Removes object `rel`; whether it was there.
    pub(crate) fn delete(&self, rel: &str) -> io::Result<bool> {
        if !self.exists(rel)? {
            return Ok(false);
        }
        let store = self.store.clone();
        let path = self.path(rel);
        match wait(async move { store.delete(&path).await })? {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(true),
            Err(e) => Err(self.error(rel, e)),
        }
    }

    /// Every object below `dir` (`cache/v1/entries`), as paths relative to the prefix.
    pub(crate) fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        let store = self.store.clone();
        let path = self.path(dir);
        let found = wait(async move {
            store
                .list(Some(&path))
                .map_ok(|meta| meta.location.to_string())
                .try_collect::<Vec<String>>()
                .await
        })?
        .map_err(|e| self.error(dir, e))?;
        let root = self.url.object_path("");
        let mut rels: Vec<String> = found
            .into_iter()
            .map(|p| p.strip_prefix(&root).map_or(p.clone(), str::to_owned))
            .collect();
        rels.sort();
        Ok(rels)
    }
}

/// Hands `from` to `parts` in parts of `part_size` bytes, waiting while
/// [`PARTS_IN_FLIGHT`] are being sent.
async fn send_parts(
    parts: &mut WriteMultipart,
    from: &mut tokio::fs::File,
    part_size: usize,
) -> Result<(), Transfer> {
    loop {
        parts
            .wait_for_capacity(PARTS_IN_FLIGHT)
            .await
            .map_err(Transfer::Remote)?;
        let part = read_part(from, part_size).await.map_err(Transfer::Local)?;
        if part.is_empty() {
            return Ok(());
        }
        parts.put(part.into());
    }
}

/// The next `size` bytes of `from`, fewer only at its end.
async fn read_part(from: &mut tokio::fs::File, size: usize) -> io::Result<Vec<u8>> {
    let mut part = vec![0; size];
    let mut filled = 0;
    while filled < size {
        match from.read(&mut part[filled..]).await? {
            0 => break,
            n => filled += n,
        }
    }
    part.truncate(filled);
    Ok(part)
}

/// Runs `future` on the remote store's runtime and waits for it on this thread.
fn wait<F>(future: F) -> io::Result<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    let runtime = RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("autowf-remote")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| io::Error::other(format!("cannot start the remote store's runtime: {e}")))?;
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        // The receiver waits until this is sent; a dropped one means its thread is gone.
        let _ = tx.send(future.await);
    });
    rx.recv()
        .map_err(|_| io::Error::other("the remote store's runtime stopped a request"))
}
