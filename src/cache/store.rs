//! Cache entries on disk, shared safely by concurrent runs.
//!
//! ```text
//! cache/v1/entries/<k0k1>/<key>   one entry per key
//! cache/v1/index/<node id>.json   the parts of the last key stored for a flow's node
//! cache/v1/tmp/                   entries being written
//! ```
//!
//! An entry is a header line `{"autowf_cache":1,"blake3":"…","len":N}` and then N bytes of
//! JSON body. It is written to `tmp/`, flushed, renamed into place and its directory flushed,
//! so a reader sees a whole entry or none; concurrent writers of one key each rename a whole
//! file, the last one wins, and both are valid. A reader that finds a header or checksum that
//! does not match reports the entry as corrupt; the run then removes it and recomputes.
//!
//! The same layout can live in a remote object store (feature `s3`, see `backend`): there
//! entries are written create-only (the first writer's entry stays; later ones are
//! equivalent), index records are overwritten (the last writer wins), and reads are checked
//! exactly as here.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::KeyParts;
use super::backend::{Backend, FsBackend};
use crate::state::StateDir;
use crate::state::gc::CacheRefs;

/// Temporary files older than this are left over from a crashed writer.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// A cached result and what it was computed from.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) flow: String,
    pub(crate) node: String,
    pub(crate) task: String,
    /// Seconds since the Unix epoch.
    pub(crate) created: u64,
    pub(crate) parts: KeyParts,
    pub(crate) value: serde_json::Value,
    /// Artifacts the node stored besides its result (name, blake3 digest, size): a hit
    /// records them for the run that takes it, so its artifacts are complete too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) artifacts: Vec<(String, String, u64)>,
}

impl Entry {
    pub(crate) fn age(&self, now: SystemTime) -> Duration {
        let created = SystemTime::UNIX_EPOCH + Duration::from_secs(self.created);
        now.duration_since(created).unwrap_or(Duration::ZERO)
    }
}

/// What `get` found for a key.
#[derive(Debug)]
pub(crate) enum Lookup {
    Hit(Entry),
    /// An entry older than the task's `cache_ttl`.
    Expired(Entry),
    Missing,
    /// The entry could not be trusted (and was removed).
    Corrupt(String),
}

/// The last key stored for a node: what the next miss is explained against.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct IndexRecord {
    pub(crate) schema: u32,
    pub(crate) flow: String,
    pub(crate) node: String,
    pub(crate) task: String,
    pub(crate) key: String,
    pub(crate) created: u64,
    pub(crate) parts: KeyParts,
}

/// An entry as `cache ls` shows it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct EntryInfo {
    pub(crate) key: String,
    pub(crate) flow: String,
    pub(crate) node: String,
    pub(crate) task: String,
    pub(crate) created: u64,
    pub(crate) bytes: u64,
}

/// An entry that `verify` (or `ls`) could not read.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Problem {
    pub(crate) path: PathBuf,
    pub(crate) why: String,
    /// Where the backend has it.
    #[serde(skip)]
    rel: String,
}

#[derive(Serialize, Deserialize)]
struct Header {
    autowf_cache: u32,
    blake3: String,
    len: usize,
}

/// How `put` treats an existing entry of the same key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Write {
    /// Entries of one key are equivalent: a remote store keeps the first one written.
    CreateOnly,
    /// `--refresh`: the new entry replaces the old one everywhere.
    Replace,
}

pub(crate) struct CacheStore {
    backend: Box<dyn Backend>,
}

impl CacheStore {
    /// The store under `dir` (`<state dir>/cache/v1`); nothing is created until written.
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self {
            backend: Box::new(FsBackend { dir }),
        }
    }

    /// The cache of `state`: in its remote store when it has one, else in its directory.
    pub(crate) fn of_state(state: &StateDir) -> Self {
        match state.remote() {
            #[cfg(feature = "s3")]
            Some(url) => Self {
                backend: Box::new(super::backend::RemoteBackend { url: url.clone() }),
            },
            #[cfg(not(feature = "s3"))]
            Some(url) => url.unreachable(),
            None => Self::new(state.cache()),
        }
    }

    /// Where the store is, for messages: its directory or its URL.
    pub(crate) fn location(&self) -> PathBuf {
        self.backend.locate("")
    }

    /// Creates the store's directories and removes what crashed writers left: fails when the
    /// store cannot be written (or, remote, reached), before anything runs.
    pub(crate) fn prepare(&self) -> std::io::Result<()> {
        self.backend.prepare()?;
        self.backend.clean_temp(STALE_TEMP);
        Ok(())
    }

    fn entry_rel(key: &str) -> String {
        let shard = key.get(..2).unwrap_or("xx");
        format!("entries/{shard}/{key}")
    }

    fn index_rel(flow: &str, node: &str) -> String {
        let id = super::digest(format!("{flow}\0{node}").as_bytes());
        format!("index/{}.json", &id[..32])
    }

    /// The entry for `key`, if there is a sound one younger than `ttl` (`None`: forever).
    /// A corrupt entry is removed, so the recomputed result can take its place.
    pub(crate) fn get(&self, key: &str, ttl: Option<Duration>) -> Lookup {
        let rel = Self::entry_rel(key);
        let bytes = match self.backend.read(&rel) {
            Ok(Some(b)) => b,
            Ok(None) => return Lookup::Missing,
            Err(e) => return Lookup::Corrupt(format!("cannot read it: {e}")),
        };
        match decode(&bytes) {
            Ok(entry) if entry.key == key => {
                let expired = ttl.is_some_and(|t| entry.age(SystemTime::now()) >= t);
                if expired {
                    Lookup::Expired(entry)
                } else {
                    Lookup::Hit(entry)
                }
            }
            Ok(entry) => {
                let _ = self.backend.delete(&rel);
                Lookup::Corrupt(format!("it holds the entry of key {}", entry.key))
            }
            Err(why) => {
                let _ = self.backend.delete(&rel);
                Lookup::Corrupt(why)
            }
        }
    }

    /// Stores `entry` and makes it the node's last entry. An existing entry of its key is
    /// replaced on the file system; a remote store keeps it unless `write` says `Replace`.
    pub(crate) fn put(&self, entry: &Entry, write: Write) -> std::io::Result<()> {
        let body = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        let header = Header {
            autowf_cache: super::FORMAT_VERSION,
            blake3: super::digest(&body),
            len: body.len(),
        };
        let mut bytes = serde_json::to_vec(&header).map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        bytes.extend_from_slice(&body);
        let rel = Self::entry_rel(&entry.key);
        match write {
            Write::CreateOnly => self.backend.create(&rel, &bytes)?,
            Write::Replace => self.backend.replace(&rel, &bytes)?,
        }
        let index = IndexRecord {
            schema: 1,
            flow: entry.flow.clone(),
            node: entry.node.clone(),
            task: entry.task.clone(),
            key: entry.key.clone(),
            created: entry.created,
            parts: entry.parts.clone(),
        };
        let text = serde_json::to_vec_pretty(&index).map_err(std::io::Error::other)?;
        // The last writer wins: the record only explains the next miss.
        self.backend
            .replace(&Self::index_rel(&entry.flow, &entry.node), &text)
    }

    /// The parts of the last key stored for `node` of `flow`, if any.
    pub(crate) fn last_parts(&self, flow: &str, node: &str) -> Option<IndexRecord> {
        let text = self.backend.read(&Self::index_rel(flow, node)).ok()??;
        serde_json::from_slice::<IndexRecord>(&text)
            .ok()
            .filter(|r| r.flow == flow && r.node == node)
    }

    /// Every entry, read and checked: the sound ones and the problems. Fails only when the
    /// store cannot be listed.
    pub(crate) fn scan(&self) -> std::io::Result<(Vec<EntryInfo>, Vec<Problem>)> {
        let mut ok = Vec::new();
        let bad = self.read_entries(|e, len| {
            ok.push(EntryInfo {
                key: e.key,
                flow: e.flow,
                node: e.node,
                task: e.task,
                created: e.created,
                bytes: len as u64,
            });
        })?;
        Ok((ok, bad))
    }

    /// The digests of the artifacts every sound entry names (a hit records them for its run),
    /// and the entries that could not be read, which may name any.
    pub(crate) fn artifact_digests(&self) -> std::io::Result<(HashSet<String>, Vec<Problem>)> {
        let mut digests = HashSet::new();
        let bad = self.read_entries(|e, _| {
            digests.extend(e.artifacts.into_iter().map(|(_, digest, _)| digest));
        })?;
        Ok((digests, bad))
    }

    /// Reads and checks every entry, handing each sound one to `each` with its size in bytes;
    /// returns the problems. Fails only when the store cannot be listed.
    fn read_entries(&self, mut each: impl FnMut(Entry, usize)) -> std::io::Result<Vec<Problem>> {
        let mut bad = Vec::new();
        for rel in self.backend.list("entries")? {
            let path = self.backend.locate(&rel);
            let read = match self.backend.read(&rel) {
                Ok(Some(b)) => Ok(b),
                // Removed since it was listed.
                Ok(None) => continue,
                Err(e) => Err(format!("cannot read it: {e}")),
            };
            let name = rel.rsplit('/').next().unwrap_or_default().to_owned();
            match read.and_then(|b| decode(&b).map(|e| (e, b.len()))) {
                Ok((e, _)) if e.key != name => bad.push(Problem {
                    path,
                    why: format!("it holds the entry of key {}", e.key),
                    rel,
                }),
                Ok((e, len)) => each(e, len),
                Err(why) => bad.push(Problem { path, why, rel }),
            }
        }
        Ok(bad)
    }

    /// Removes the entry of `key`; whether there was one.
    pub(crate) fn remove(&self, key: &str) -> std::io::Result<bool> {
        self.backend.delete(&Self::entry_rel(key))
    }

    /// Removes entries created more than `older_than` ago, unreadable entries, index records
    /// whose entry is gone, and stale temporary files. Returns how many entries went.
    pub(crate) fn gc(&self, older_than: Duration) -> std::io::Result<usize> {
        let now = SystemTime::now();
        let (entries, problems) = self.scan()?;
        let mut removed = 0;
        for e in &entries {
            let created = SystemTime::UNIX_EPOCH + Duration::from_secs(e.created);
            let age = now.duration_since(created).unwrap_or(Duration::ZERO);
            if age >= older_than && self.remove(&e.key)? {
                removed += 1;
            }
        }
        for p in &problems {
            if self.backend.delete(&p.rel).unwrap_or(false) {
                removed += 1;
            }
        }
        for rel in self.backend.list("index")? {
            let keep = self
                .backend
                .read(&rel)
                .ok()
                .flatten()
                .and_then(|t| serde_json::from_slice::<IndexRecord>(&t).ok())
                .is_some_and(|rec| {
                    self.backend
                        .exists(&Self::entry_rel(&rec.key))
                        .unwrap_or(true)
                });
            if !keep {
                let _ = self.backend.delete(&rel);
            }
        }
        self.backend.clean_temp(STALE_TEMP);
        Ok(removed)
    }
}

/// The digests of the artifacts that the entries of `state`'s local cache name, for
/// `runs gc`, or why they cannot all be known: a damaged entry, or a directory of another
/// cache format beside `v1` (entries of another autowf version), may name any blob. The
/// local cache is read even when a remote store is configured, since gc collects local blobs.
pub(crate) fn local_blob_refs(state: &StateDir) -> CacheRefs {
    let store = CacheStore::new(state.cache());
    match other_format(state) {
        Ok(None) => {}
        Ok(Some(other)) => {
            return CacheRefs::Unknown(format!(
                "`{}` holds cache entries of another format (another autowf version), which \
                 may name any blob",
                other.display()
            ));
        }
        Err(e) => {
            return CacheRefs::Unknown(format!(
                "the cache `{}` cannot be listed: {e}",
                store.location().display()
            ));
        }
    }
    match store.artifact_digests() {
        Ok((digests, problems)) => match problems.first() {
            None => CacheRefs::Known(digests),
            Some(p) => CacheRefs::Unknown(format!(
                "cache entry `{}` cannot be read ({}), so the blobs it names cannot be told; \
                 `autowf cache verify` lists the damaged entries",
                p.path.display(),
                p.why
            )),
        },
        Err(e) => CacheRefs::Unknown(format!(
            "the cache `{}` cannot be listed: {e}",
            store.location().display()
        )),
    }
}

/// A directory beside `cache/v1` that another cache format would use (`cache/v2`).
fn other_format(state: &StateDir) -> std::io::Result<Option<PathBuf>> {
    let ours = state.cache();
    let Some(dir) = ours.parent() else {
        return Ok(None);
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let is_hidden = entry.file_name().to_string_lossy().starts_with('.');
        if entry.file_type()?.is_dir() && !is_hidden && entry.path() != ours {
            return Ok(Some(entry.path()));
        }
    }
    Ok(None)
}

/// Parses and checks an entry file: header, length, checksum, body.
fn decode(bytes: &[u8]) -> Result<Entry, String> {
    if bytes.is_empty() {
        return Err("it is empty".to_owned());
    }
    let newline = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("its header is incomplete")?;
    let header: Header = serde_json::from_slice(&bytes[..newline])
        .map_err(|_| "its header is damaged".to_owned())?;
    if header.autowf_cache != super::FORMAT_VERSION {
        return Err(format!(
            "it has cache format {}, not {}",
            header.autowf_cache,
            super::FORMAT_VERSION
        ));
    }
    let body = &bytes[newline + 1..];
    if body.len() != header.len {
        return Err(format!(
            "it is truncated or extended ({} bytes instead of {})",
            body.len(),
            header.len
        ));
    }
    if super::digest(body) != header.blake3 {
        return Err("its checksum does not match its content".to_owned());
    }
    serde_json::from_slice(body).map_err(|e| format!("its content is damaged: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str) -> Entry {
        let mut parts = KeyParts::default();
        parts.push("arg:1", "d1");
        Entry {
            key: key.to_owned(),
            flow: "f".into(),
            node: "n".into(),
            task: "t".into(),
            created: SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            parts,
            value: serde_json::json!({"rows": [1, 2, 3]}),
            artifacts: Vec::new(),
        }
    }

    fn store() -> (tempfile::TempDir, CacheStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = CacheStore::new(dir.path().join("cache/v1"));
        store.prepare().unwrap();
        (dir, store)
    }

    const KEY: &str = "ab12cd";

    #[test]
    fn a_stored_entry_is_a_hit_until_its_ttl() {
        let (_d, s) = store();
        assert!(matches!(s.get(KEY, None), Lookup::Missing));
        s.put(&entry(KEY), Write::CreateOnly).unwrap();
        let Lookup::Hit(e) = s.get(KEY, None) else {
            panic!("expected a hit")
        };
        assert_eq!(e.value["rows"][2], 3);
        assert!(matches!(
            s.get(KEY, Some(Duration::from_secs(3600))),
            Lookup::Hit(_)
        ));
        assert!(matches!(
            s.get(KEY, Some(Duration::ZERO)),
            Lookup::Expired(_)
        ));
        let last = s.last_parts("f", "n").unwrap();
        assert_eq!(last.key, KEY);
    }

    #[test]
    fn every_kind_of_damage_is_corrupt_and_removed() {
        let (_d, s) = store();
        type Damage = fn(&mut Vec<u8>);
        let damages: [(&str, Damage); 4] = [
            ("flipped byte", |b| {
                let i = b.len() - 5;
                b[i] ^= 0x20;
            }),
            ("truncated", |b| b.truncate(b.len() / 2)),
            ("empty", Vec::clear),
            ("header damaged", |b| b[3] = b'#'),
        ];
        for (what, damage) in damages {
            s.put(&entry(KEY), Write::CreateOnly).unwrap();
            let path = s.backend.locate(&CacheStore::entry_rel(KEY));
            let mut bytes = std::fs::read(&path).unwrap();
            damage(&mut bytes);
            std::fs::write(&path, &bytes).unwrap();
            assert!(
                matches!(s.get(KEY, None), Lookup::Corrupt(_)),
                "{what} was not detected"
            );
            assert!(!path.exists(), "{what}: corrupt entry left in place");
        }
    }

    #[test]
    fn scan_lists_sound_entries_and_reports_damaged_ones() {
        let (_d, s) = store();
        s.put(&entry("aa11"), Write::CreateOnly).unwrap();
        s.put(&entry("bb22"), Write::CreateOnly).unwrap();
        std::fs::write(s.backend.locate(&CacheStore::entry_rel("bb22")), b"garbage").unwrap();
        let (ok, bad) = s.scan().unwrap();
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].key, "aa11");
        assert_eq!(bad.len(), 1);
        assert!(bad[0].why.contains("header"), "{}", bad[0].why);
    }

    #[test]
    fn gc_removes_old_and_damaged_entries_and_stale_index_records() {
        let (_d, s) = store();
        s.put(&entry("aa11"), Write::CreateOnly).unwrap();
        assert_eq!(s.gc(Duration::from_secs(3600)).unwrap(), 0);
        assert_eq!(s.gc(Duration::ZERO).unwrap(), 1);
        assert!(s.scan().unwrap().0.is_empty());
        assert!(s.last_parts("f", "n").is_none());
    }

    #[test]
    fn the_blobs_entries_name_are_known_unless_an_entry_cannot_be_read() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_path_buf());
        let s = CacheStore::new(state.cache());
        assert_eq!(local_blob_refs(&state), CacheRefs::Known(HashSet::new()));
        let mut with_artifacts = entry("aa11");
        with_artifacts.artifacts = vec![
            ("a.txt".into(), "d1".into(), 1),
            ("b.txt".into(), "d2".into(), 2),
        ];
        s.put(&with_artifacts, Write::CreateOnly).unwrap();
        s.put(&entry("bb22"), Write::CreateOnly).unwrap();
        assert_eq!(
            local_blob_refs(&state),
            CacheRefs::Known(HashSet::from(["d1".to_owned(), "d2".to_owned()]))
        );

        std::fs::create_dir_all(dir.path().join("cache/v2")).unwrap();
        let CacheRefs::Unknown(why) = local_blob_refs(&state) else {
            panic!("entries of another format were ignored")
        };
        assert!(why.contains("another format"), "{why}");
        std::fs::remove_dir(dir.path().join("cache/v2")).unwrap();

        std::fs::write(s.backend.locate(&CacheStore::entry_rel("bb22")), b"garbage").unwrap();
        let CacheRefs::Unknown(why) = local_blob_refs(&state) else {
            panic!("a damaged entry was ignored")
        };
        assert!(why.contains("bb22"), "{why}");
    }

    #[test]
    fn concurrent_writers_of_one_key_leave_a_sound_entry() {
        let (d, s) = store();
        let s = std::sync::Arc::new(s);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        s.put(&entry(KEY), Write::CreateOnly).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(matches!(s.get(KEY, None), Lookup::Hit(_)));
        let (_, bad) = s.scan().unwrap();
        assert!(bad.is_empty());
        let left = std::fs::read_dir(d.path().join("cache/v1/tmp"))
            .unwrap()
            .count();
        assert_eq!(left, 0, "temporary files left behind");
    }
}
