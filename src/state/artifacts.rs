//! The artifact store: files a run keeps by name.
//!
//! Bytes are stored once, content-addressed, in `artifacts/blobs/<2 hex>/<64 hex>` (the blake3
//! digest), and shared by all runs: a blob is never rewritten, since a digest names one
//! content. With a remote store configured the blobs go there instead (see `blobs`); the
//! manifest always stays in the local run directory. Each run's `runs/<id>/artifacts.json` maps names to digests. Tasks of one run may
//! record artifacts at the same time, from threads and from worker processes, so the manifest
//! is read, changed and rewritten whole while holding an `flock` on `runs/<id>/artifacts.lock`.
//! Recording a name again replaces the earlier record: the later write wins.

mod blobs;
mod name;
mod staging;

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use super::StateDir;
use super::atomic::write_atomically;
use crate::error::Error;
use blobs::{BlobStore, FsBlobs};

pub(crate) use blobs::stored_blobs;
pub(crate) use name::{ArtifactName, NameError};
pub(crate) use staging::anything_staged;

/// Version of the `artifacts.json` format.
pub(crate) const MANIFEST_SCHEMA: u32 = 1;

/// The manifest's file name in a run directory.
const MANIFEST_FILE: &str = "artifacts.json";

/// One artifact of a run, as the manifest records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ArtifactRecord {
    pub(crate) name: String,
    /// blake3 of the content, 64 lowercase hex digits.
    pub(crate) digest: String,
    pub(crate) size: u64,
    /// The node whose attempt wrote it.
    pub(crate) node: String,
    /// When it was recorded, RFC 3339 in UTC.
    pub(crate) created: String,
}

/// A run's `artifacts.json`: its artifacts sorted by name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub(crate) schema: u32,
    pub(crate) run_id: String,
    pub(crate) artifacts: Vec<ArtifactRecord>,
}

impl Manifest {
    fn empty(run_id: &str) -> Self {
        Self {
            schema: MANIFEST_SCHEMA,
            run_id: run_id.to_owned(),
            artifacts: Vec::new(),
        }
    }

    /// Adds `record`, replacing one of the same name: the later write wins.
    fn upsert(&mut self, record: ArtifactRecord) {
        match self
            .artifacts
            .binary_search_by(|r| r.name.as_str().cmp(&record.name))
        {
            Ok(i) => self.artifacts[i] = record,
            Err(i) => self.artifacts.insert(i, record),
        }
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.artifacts.iter().map(|r| r.name.clone()).collect()
    }
}

/// What can go wrong storing or reading artifacts.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ArtifactError {
    #[error(transparent)]
    Name(#[from] NameError),
    #[error("run `{run_id}` has no artifact `{name}`; {}", existing_names(.existing))]
    NotFound {
        run_id: String,
        name: String,
        existing: Vec<String>,
    },
    #[error("`{}` is not a valid artifact manifest: {why}", path.display())]
    BadManifest { path: PathBuf, why: String },
    #[error(
        "the content of artifact `{name}` (`{}`) no longer matches its digest; the blob store is damaged",
        blob.display()
    )]
    Damaged { name: String, blob: PathBuf },
    #[error(
        "staged `{}` is a {kind}; only regular files and directories are stored as artifacts",
        path.display()
    )]
    NotAFile { path: PathBuf, kind: &'static str },
    #[error(transparent)]
    Io(#[from] Error),
}

fn existing_names(names: &[String]) -> String {
    if names.is_empty() {
        "it has none".to_owned()
    } else {
        let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        format!("it has {}", quoted.join(", "))
    }
}

fn read_error(path: &Path, source: io::Error) -> ArtifactError {
    ArtifactError::Io(Error::ReadFile {
        path: path.to_path_buf(),
        source,
    })
}

fn write_error(path: &Path, source: io::Error) -> ArtifactError {
    ArtifactError::Io(Error::WriteFile {
        path: path.to_path_buf(),
        source,
    })
}

/// The artifacts of one run: its manifest, and the blob store it shares with other runs.
#[derive(Clone, Debug)]
pub(crate) struct RunArtifacts {
    blobs: Arc<dyn BlobStore>,
    run_dir: PathBuf,
    run_id: String,
}

impl RunArtifacts {
    pub(crate) fn new(state: &StateDir, run_id: &str) -> Self {
        let blobs: Arc<dyn BlobStore> = match state.remote() {
            #[cfg(feature = "s3")]
            Some(url) => Arc::new(blobs::RemoteBlobs {
                url: url.clone(),
                spool: state.run(run_id),
            }),
            #[cfg(not(feature = "s3"))]
            Some(url) => url.unreachable(),
            None => Arc::new(FsBlobs { dir: state.blobs() }),
        };
        Self {
            blobs,
            run_dir: state.run(run_id),
            run_id: run_id.to_owned(),
        }
    }

    fn manifest_path(&self) -> PathBuf {
        self.run_dir.join(MANIFEST_FILE)
    }

    /// The run's manifest; a run that recorded nothing has an empty one.
    pub(crate) fn manifest(&self) -> Result<Manifest, ArtifactError> {
        load_manifest(&self.manifest_path(), &self.run_id)
    }

    /// The record of artifact `name`, or an error naming the ones that exist.
    pub(crate) fn find(&self, name: &str) -> Result<ArtifactRecord, ArtifactError> {
        let manifest = self.manifest()?;
        manifest
            .artifacts
            .iter()
            .find(|r| r.name == name)
            .cloned()
            .ok_or_else(|| ArtifactError::NotFound {
                run_id: self.run_id.clone(),
                name: name.to_owned(),
                existing: manifest.names(),
            })
    }

    /// Stores `bytes` as artifact `name`, written by `node`.
    pub(crate) fn write(
        &self,
        name: &ArtifactName,
        node: &str,
        bytes: &[u8],
    ) -> Result<ArtifactRecord, ArtifactError> {
        let mut content = bytes;
        let (digest, size) = self.store_blob(&mut content, Path::new("<value>"))?;
        let record = new_record(name, node, digest, size);
        self.record(vec![record.clone()])?;
        Ok(record)
    }

    /// Keeps a `persist: true` node's result, the JSON bytes `json`, as the artifact
    /// `<node>.json` (`compute.json`, `sub/add.json`).
    pub(crate) fn persist_value(
        &self,
        node: &str,
        json: &[u8],
    ) -> Result<ArtifactRecord, ArtifactError> {
        let name = ArtifactName::parse(&format!("{node}.json"))?;
        self.write(&name, node, json)
    }

    /// The whole content of artifact `name`, checked against its digest.
    pub(crate) fn read(&self, name: &str) -> Result<Vec<u8>, ArtifactError> {
        let record = self.find(name)?;
        let mut bytes = Vec::new();
        self.copy_to(&record, &mut bytes, Path::new("<memory>"))?;
        Ok(bytes)
    }

    /// Copies `record`'s content into `out` (called `out_path` in errors), checking it
    /// against the digest as it goes; returns the number of bytes. On a mismatch the bytes
    /// are already written: write to an [`AtomicFile`](crate::state::AtomicFile) to keep a damaged copy from landing.
    pub(crate) fn copy_to(
        &self,
        record: &ArtifactRecord,
        out: &mut dyn Write,
        out_path: &Path,
    ) -> Result<u64, ArtifactError> {
        let path = self.blobs.locate(&record.digest);
        let mut blob = self.blobs.open(&record.digest)?;
        let (digest, size) = copy_hashing(&mut blob, &path, out, out_path)?;
        if digest != record.digest {
            return Err(ArtifactError::Damaged {
                name: record.name.clone(),
                blob: path,
            });
        }
        Ok(size)
    }

    /// Copies `content` into the blob store; returns its digest and size. An existing blob
    /// with that digest is kept as it is.
    fn store_blob(
        &self,
        content: &mut dyn Read,
        source: &Path,
    ) -> Result<(String, u64), ArtifactError> {
        self.blobs.store(content, source)
    }

    /// The artifacts `node` has recorded in this run.
    pub(crate) fn of_node(&self, node: &str) -> Result<Vec<ArtifactRecord>, ArtifactError> {
        let mut records = self.manifest()?.artifacts;
        records.retain(|r| r.node == node);
        Ok(records)
    }

    /// Records, for `node` in this run, artifacts whose blobs another run stored (a cached
    /// result's artifacts). Fails without recording anything when a blob is gone.
    pub(crate) fn adopt(
        &self,
        node: &str,
        artifacts: &[(String, String, u64)],
    ) -> Result<(), ArtifactError> {
        let mut records = Vec::with_capacity(artifacts.len());
        for (name, digest, size) in artifacts {
            if !self.blobs.exists(digest)? {
                return Err(read_error(
                    &self.blobs.locate(digest),
                    io::Error::new(io::ErrorKind::NotFound, "the blob is gone"),
                ));
            }
            let name = ArtifactName::parse(name)?;
            records.push(new_record(&name, node, digest.clone(), *size));
        }
        self.record(records)
    }

    /// Adds `records` to the manifest under the run's artifact lock.
    fn record(&self, records: Vec<ArtifactRecord>) -> Result<(), ArtifactError> {
        if records.is_empty() {
            return Ok(());
        }
        std::fs::create_dir_all(&self.run_dir).map_err(|e| write_error(&self.run_dir, e))?;
        let _lock = self.lock()?;
        let mut manifest = self.manifest()?;
        for record in records {
            manifest.upsert(record);
        }
        let mut text =
            serde_json::to_vec_pretty(&manifest).expect("invariant: manifests serialize");
        text.push(b'\n');
        write_atomically(&self.manifest_path(), &text)?;
        Ok(())
    }

    /// Waits for the run's artifact lock; the kernel releases it if this process dies.
    fn lock(&self) -> Result<Flock<File>, ArtifactError> {
        let path = self.run_dir.join("artifacts.lock");
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| write_error(&path, e))?;
        loop {
            match Flock::lock(file, FlockArg::LockExclusive) {
                Ok(lock) => return Ok(lock),
                Err((again, Errno::EINTR)) => file = again,
                Err((_, errno)) => return Err(write_error(&path, io::Error::from(errno))),
            }
        }
    }
}

/// The manifest of run `run_id` in `state`, read without reaching the blob store (which may
/// be remote): for `runs gc`, which needs only the digests.
pub(crate) fn read_manifest(state: &StateDir, run_id: &str) -> Result<Manifest, ArtifactError> {
    load_manifest(&state.run(run_id).join(MANIFEST_FILE), run_id)
}

/// The manifest at `path`; none there means an empty one.
fn load_manifest(path: &Path, run_id: &str) -> Result<Manifest, ArtifactError> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Manifest::empty(run_id)),
        Err(e) => return Err(read_error(path, e)),
    };
    let bad = |why: String| ArtifactError::BadManifest {
        path: path.to_path_buf(),
        why,
    };
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
    if manifest.schema != MANIFEST_SCHEMA {
        return Err(bad(format!(
            "schema {} (this autowf reads {MANIFEST_SCHEMA})",
            manifest.schema
        )));
    }
    Ok(manifest)
}

fn new_record(name: &ArtifactName, node: &str, digest: String, size: u64) -> ArtifactRecord {
    ArtifactRecord {
        name: name.as_str().to_owned(),
        digest,
        size,
        node: node.to_owned(),
        created: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
    }
}

/// Copies everything from `from` to `to`, hashing on the way; returns the blake3 hex digest
/// and the size. The paths only name the two ends in errors.
fn copy_hashing(
    from: &mut dyn Read,
    from_path: &Path,
    to: &mut dyn Write,
    to_path: &Path,
) -> Result<(String, u64), ArtifactError> {
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(from_path, e)),
        };
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])
            .map_err(|e| write_error(to_path, e))?;
        size += n as u64;
    }
    to.flush().map_err(|e| write_error(to_path, e))?;
    Ok((hasher.finalize().to_hex().to_string(), size))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> RunArtifacts {
        RunArtifacts::new(
            &StateDir::new(dir.to_path_buf()),
            "20260101T000000000-00001",
        )
    }

    fn name(s: &str) -> ArtifactName {
        ArtifactName::parse(s).unwrap()
    }

    #[test]
    fn bytes_written_read_back_and_land_under_their_digest() {
        let dir = tempfile::tempdir().unwrap();
        let run = store(dir.path());
        let record = run
            .write(&name("reports/day.csv"), "build", b"a,b\n1,2\n")
            .unwrap();
        assert_eq!(
            record.digest,
            blake3::hash(b"a,b\n1,2\n").to_hex().to_string()
        );
        assert_eq!(record.size, 8);
        assert_eq!(record.node, "build");
        assert_eq!(run.read("reports/day.csv").unwrap(), b"a,b\n1,2\n");
        let blob = dir
            .path()
            .join("artifacts/blobs")
            .join(&record.digest[..2])
            .join(&record.digest);
        assert_eq!(std::fs::read(blob).unwrap(), b"a,b\n1,2\n");
    }

    #[test]
    fn the_manifest_has_its_schema_run_id_and_records() {
        let dir = tempfile::tempdir().unwrap();
        let run = store(dir.path());
        run.write(&name("b"), "n1", b"2").unwrap();
        run.write(&name("a"), "n2", b"").unwrap();
        let path = dir
            .path()
            .join("runs/20260101T000000000-00001/artifacts.json");
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(json["schema"], 1);
        assert_eq!(json["run_id"], "20260101T000000000-00001");
        let names: Vec<&str> = json["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b"], "sorted by name");
        assert_eq!(json["artifacts"][0]["size"], 0);
        assert!(
            json["artifacts"][0]["created"]
                .as_str()
                .unwrap()
                .ends_with('Z')
        );
    }

    #[test]
    fn the_same_content_is_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let run = store(dir.path());
        let a = run.write(&name("a"), "n", b"same").unwrap();
        let b = run.write(&name("b"), "n", b"same").unwrap();
        assert_eq!(a.digest, b.digest);
        let blobs = dir.path().join("artifacts/blobs");
        let shard = std::fs::read_dir(blobs.join(&a.digest[..2]))
            .unwrap()
            .count();
        assert_eq!(shard, 1);
        let leftovers = std::fs::read_dir(&blobs)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_file())
            .count();
        assert_eq!(
            leftovers, 0,
            "no temporary file stays in the blob directory"
        );
    }

    #[test]
    fn writing_a_name_again_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let run = store(dir.path());
        run.write(&name("out"), "first", b"one").unwrap();
        run.write(&name("out"), "second", b"two").unwrap();
        let manifest = run.manifest().unwrap();
        assert_eq!(manifest.artifacts.len(), 1);
        assert_eq!(manifest.artifacts[0].node, "second");
        assert_eq!(run.read("out").unwrap(), b"two");
    }

    #[test]
    fn a_missing_artifact_names_the_ones_that_exist() {
        let dir = tempfile::tempdir().unwrap();
        let run = store(dir.path());
        let err = run.read("nothing").unwrap_err().to_string();
        assert_eq!(
            err,
            "run `20260101T000000000-00001` has no artifact `nothing`; it has none"
        );
        run.write(&name("a.txt"), "n", b"x").unwrap();
        run.write(&name("b.txt"), "n", b"y").unwrap();
        let err = run.read("c.txt").unwrap_err().to_string();
        assert!(err.ends_with("it has `a.txt`, `b.txt`"), "{err}");
    }

    #[test]
    fn a_damaged_blob_is_reported_not_returned() {
        let dir = tempfile::tempdir().unwrap();
        let run = store(dir.path());
        let record = run.write(&name("a"), "n", b"original").unwrap();
        let blob = dir
            .path()
            .join("artifacts/blobs")
            .join(blobs::blob_rel(&record.digest));
        std::fs::write(&blob, b"tampered").unwrap();
        let err = run.read("a").unwrap_err();
        assert!(matches!(err, ArtifactError::Damaged { .. }), "{err}");
    }

    #[test]
    fn a_manifest_of_another_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let run = store(dir.path());
        let run_dir = dir.path().join("runs/20260101T000000000-00001");
        std::fs::create_dir_all(&run_dir).unwrap();
        std::fs::write(
            run_dir.join("artifacts.json"),
            r#"{"schema": 9, "run_id": "x", "artifacts": []}"#,
        )
        .unwrap();
        let err = run.manifest().unwrap_err().to_string();
        assert!(err.contains("schema 9 (this autowf reads 1)"), "{err}");
    }

    #[test]
    fn a_persisted_value_is_named_after_its_node() {
        let dir = tempfile::tempdir().unwrap();
        let run = store(dir.path());
        let record = run.persist_value("sub/add", b"{\"x\": 1}").unwrap();
        assert_eq!(record.name, "sub/add.json");
        assert_eq!(run.read("sub/add.json").unwrap(), b"{\"x\": 1}");
    }

    #[test]
    fn concurrent_writers_lose_no_record() {
        let dir = tempfile::tempdir().unwrap();
        let run = store(dir.path());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let run = run.clone();
                std::thread::spawn(move || {
                    for i in 0..10 {
                        let n = name(&format!("t{t}/{i}"));
                        run.write(&n, &format!("node{t}"), format!("{t}-{i}").as_bytes())
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let manifest = run.manifest().unwrap();
        assert_eq!(manifest.artifacts.len(), 80);
        assert_eq!(run.read("t7/9").unwrap(), b"7-9");
    }
}
