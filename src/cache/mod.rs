//! The result cache: keys made of named parts, so that a miss can say which part changed, and
//! a store of entries on the file system that several runs can share.
//!
//! A key is the blake3 hash of its parts in order. Each part is itself a digest with a stable
//! id (`arg:2`, `code:helper`, `input:data/a.csv`) that the store's index keeps per node, so
//! the next run (or `run --dry-run`) can compare the parts of its key with the last entry's.

mod backend;
mod inputs;
mod store;

use std::sync::Arc;
use std::time::Duration;

pub(crate) use inputs::hash_inputs;
pub(crate) use store::{CacheStore, Entry, EntryInfo, Lookup, Problem, Write, local_blob_refs};

/// Bumped whenever the way keys or entries are made changes: old entries then stop matching.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// The Rhai version whose parse trees the code fingerprints are made from (pinned in
/// Cargo.toml: a new Rhai may print its trees differently, which must not produce false hits).
pub(crate) const RHAI_VERSION: &str = "1.27";

/// Whether a run reads and writes the cache (`--no-cache`, `--refresh`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CacheMode {
    /// Take hits, store misses.
    Use,
    /// Neither read nor write.
    Off,
    /// Recompute everything cacheable and overwrite the entries.
    Refresh,
}

/// One named component of a key.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Part {
    /// Stable id: `version`, `task`, `code:<fn>`, `arg:<n>`, `captures`, `options`,
    /// `input:<path>`, `inputs:<pattern>` (a pattern with no match), `cache_key`.
    pub(crate) id: String,
    pub(crate) digest: String,
}

/// The parts of a node's key, in the order they are hashed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct KeyParts(pub(crate) Vec<Part>);

/// Where the parts of a key go as they are made: kept by name ([`KeyParts`], for cached
/// tasks, whose misses are explained) or only hashed ([`KeyHasher`], for the key every other
/// node gets for the journal, at a fraction of the cost).
pub(crate) trait PartSink {
    fn part(&mut self, id: &str, digest: &str);

    /// The parts every node of a task starts with; only as the first parts.
    fn shared(&mut self, shared: &SharedParts);
}

impl PartSink for KeyParts {
    fn part(&mut self, id: &str, digest: &str) {
        self.push(id, digest);
    }

    fn shared(&mut self, shared: &SharedParts) {
        for p in &shared.parts {
            self.push(p.id.as_str(), p.digest.as_str());
        }
    }
}

/// The parts that are the same for every node of one task (versions, the task, its code),
/// with a hasher that has taken them already: a node's key starts from a copy of it rather
/// than hashing them again, which is most of the hashing a fan-out of cheap tasks does.
pub(crate) struct SharedParts {
    parts: Vec<Part>,
    hasher: blake3::Hasher,
}

impl SharedParts {
    pub(crate) fn new(parts: Vec<(String, String)>) -> Self {
        let mut hasher = blake3::Hasher::new();
        let parts = parts
            .into_iter()
            .map(|(id, digest)| {
                hash_part(&mut hasher, &id, &digest);
                Part { id, digest }
            })
            .collect();
        Self { parts, hasher }
    }
}

/// Hashes parts straight into the key.
#[derive(Default)]
pub(crate) struct KeyHasher(blake3::Hasher);

impl PartSink for KeyHasher {
    fn part(&mut self, id: &str, digest: &str) {
        hash_part(&mut self.0, id, digest);
    }

    fn shared(&mut self, shared: &SharedParts) {
        debug_assert_eq!(self.0.count(), 0, "shared parts come first");
        self.0 = shared.hasher.clone();
    }
}

impl KeyHasher {
    pub(crate) fn key(&self) -> Arc<str> {
        self.0.finalize().to_hex().as_str().into()
    }
}

/// Each of a part's id and digest length-prefixed, so that no two different lists of parts
/// hash the same bytes.
fn hash_part(h: &mut blake3::Hasher, id: &str, digest: &str) {
    for s in [id, digest] {
        h.update(&(s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    }
}

impl KeyParts {
    pub(crate) fn push(&mut self, id: impl Into<String>, digest: impl Into<String>) {
        self.0.push(Part {
            id: id.into(),
            digest: digest.into(),
        });
    }

    /// The key: blake3 over every part's id and digest, in order.
    pub(crate) fn key(&self) -> Arc<str> {
        let mut h = blake3::Hasher::new();
        for p in &self.0 {
            hash_part(&mut h, &p.id, &p.digest);
        }
        h.finalize().to_hex().as_str().into()
    }
}

/// The version part: the cache format, autowf's and Rhai's versions.
pub(crate) fn version_digest() -> &'static str {
    static DIGEST: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let text = format!(
            "cache format {FORMAT_VERSION}, autowf {}, rhai {RHAI_VERSION}",
            env!("CARGO_PKG_VERSION")
        );
        digest(text.as_bytes())
    });
    &DIGEST
}

pub(crate) fn digest(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// What a part's id means to a reader: "argument 2", "the code of `helper`, a function the
/// task calls", "input file `data/a.csv`".
pub(crate) fn describe_part(id: &str, task: &str) -> String {
    let (kind, rest) = id.split_once(':').unwrap_or((id, ""));
    match kind {
        "version" => "the autowf or Rhai version (or the cache format)".to_owned(),
        "task" => "the task".to_owned(),
        "code" if rest == task => format!("the code of task `{task}`"),
        "code" => format!("the code of `{rest}`, a function the task calls"),
        "arg" => format!("argument {rest}"),
        "captures" => "the values the `cache_key` closure captures".to_owned(),
        "options" => "the options `env`, `cwd` or `output`".to_owned(),
        "input" => format!("input file `{rest}`"),
        "inputs" => format!("input pattern `{rest}` (no file matched)"),
        "cache_key" => "the `cache_key` closure's result".to_owned(),
        "command" => "the command line".to_owned(),
        _ => format!("`{id}`"),
    }
}

/// Why the parts `now` miss the entry made from `before`: every part that changed, appeared
/// or disappeared, in key order, as a reader would name it.
pub(crate) fn explain_change(before: &KeyParts, now: &KeyParts, task: &str) -> Vec<String> {
    let mut reasons = Vec::new();
    for p in &now.0 {
        match before.0.iter().find(|b| b.id == p.id) {
            Some(b) if b.digest == p.digest => {}
            Some(_) => reasons.push(format!("{} changed", describe_part(&p.id, task))),
            None => match p.id.split_once(':') {
                Some(("code", f)) => reasons.push(format!("the task now calls `{f}`")),
                _ => reasons.push(format!("{} is new", describe_part(&p.id, task))),
            },
        }
    }
    for b in &before.0 {
        if !now.0.iter().any(|p| p.id == b.id) {
            let gone = match b.id.split_once(':') {
                Some(("code", f)) => format!("the task no longer calls `{f}`"),
                Some(("input", f)) => format!("input file `{f}` is gone"),
                Some(("arg", n)) => format!("argument {n} is gone"),
                _ => format!("{} is gone", describe_part(&b.id, task)),
            };
            reasons.push(gone);
        }
    }
    reasons
}

/// A duration as a reader likes it: `3m`, `2h`, `5d` (rounded down to the largest unit).
pub(crate) fn fmt_age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(list: &[(&str, &str)]) -> KeyParts {
        let mut k = KeyParts::default();
        for (id, d) in list {
            k.push(*id, *d);
        }
        k
    }

    #[test]
    fn the_key_depends_on_every_part_and_its_order() {
        let a = parts(&[("arg:1", "x"), ("arg:2", "y")]);
        let b = parts(&[("arg:1", "x"), ("arg:2", "z")]);
        let c = parts(&[("arg:2", "y"), ("arg:1", "x")]);
        assert_eq!(a.key(), a.clone().key());
        assert_ne!(a.key(), b.key());
        assert_ne!(a.key(), c.key());
        assert_eq!(a.key().len(), 64);
    }

    #[test]
    fn hashing_parts_as_they_come_gives_the_same_key() {
        let mut kept = KeyParts::default();
        let mut hashed = KeyHasher::default();
        for (id, d) in [("version", "v"), ("arg:1", "x"), ("input:a.csv", "y")] {
            kept.part(id, d);
            hashed.part(id, d);
        }
        assert_eq!(kept.key(), hashed.key());
    }

    #[test]
    fn the_key_cannot_be_forged_by_moving_bytes_between_parts() {
        let a = parts(&[("arg:1", "ab"), ("arg:2", "c")]);
        let b = parts(&[("arg:1", "a"), ("arg:2", "bc")]);
        assert_ne!(a.key(), b.key());
    }

    #[test]
    fn a_miss_names_each_changed_new_and_gone_part() {
        let before = parts(&[
            ("code:fetch", "1"),
            ("code:helper", "2"),
            ("arg:1", "3"),
            ("arg:2", "4"),
            ("input:data/a.csv", "5"),
        ]);
        let now = parts(&[
            ("code:fetch", "1"),
            ("code:other", "9"),
            ("arg:1", "3"),
            ("arg:2", "8"),
            ("input:data/a.csv", "6"),
        ]);
        assert_eq!(
            explain_change(&before, &now, "fetch"),
            [
                "the task now calls `other`",
                "argument 2 changed",
                "input file `data/a.csv` changed",
                "the task no longer calls `helper`",
            ]
        );
    }

    #[test]
    fn code_parts_name_the_task_or_the_helper() {
        assert_eq!(
            describe_part("code:fetch", "fetch"),
            "the code of task `fetch`"
        );
        assert_eq!(
            describe_part("code:helper", "fetch"),
            "the code of `helper`, a function the task calls"
        );
    }

    #[test]
    fn ages_round_down_to_the_largest_unit() {
        assert_eq!(fmt_age(Duration::from_secs(59)), "59s");
        assert_eq!(fmt_age(Duration::from_secs(3599)), "59m");
        assert_eq!(fmt_age(Duration::from_secs(7200)), "2h");
        assert_eq!(fmt_age(Duration::from_secs(3 * 86_400)), "3d");
    }
}
