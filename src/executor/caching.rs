//! The result cache around an attempt: look the key up before running, store the result
//! after, and say why a cached task had to run. Runs on blocking threads (it reads files and
//! may call the `cache_key` closure).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use crate::cache::{self, CacheMode, CacheStore, Entry, KeyParts, Lookup, Write};
use crate::dag::{Node, NodeId, NodeKind};
use crate::events::TaskError;
use crate::scheduler::{CacheInfo, Job, Outcome};
use crate::script::{CacheTtl, Value};

use super::local::{LocalExecutor, attempt_of};

/// The cache as one run uses it.
pub(crate) struct RunCache {
    pub(crate) store: CacheStore,
    pub(crate) mode: CacheMode,
    pub(crate) flow: String,
    /// A result could not be stored (full disk, permissions): the run ends with exit 3.
    write_failed: AtomicBool,
}

impl RunCache {
    pub(crate) fn new(store: CacheStore, mode: CacheMode, flow: String) -> Self {
        Self {
            store,
            mode,
            flow,
            write_failed: AtomicBool::new(false),
        }
    }

    pub(crate) fn write_failed(&self) -> bool {
        self.write_failed.load(Ordering::Relaxed)
    }
}

/// A cached node that missed: what to store once it succeeds.
pub(super) struct Pending {
    parts: KeyParts,
    key: Arc<str>,
    /// Why it missed, for reports.
    reason: Arc<str>,
}

/// Whether `node`'s results are cached: a task or command with `cache_ttl`, unless the run
/// was started with `--no-cache`.
pub(super) fn is_cached(node: &Node, cache: Option<&RunCache>) -> bool {
    node.options.cache_ttl.is_some()
        && matches!(node.kind, NodeKind::Task | NodeKind::Shell | NodeKind::Sh)
        && cache.is_some_and(|c| c.mode != CacheMode::Off)
}

fn ttl_of(node: &Node) -> Option<Duration> {
    match node.options.cache_ttl {
        Some(CacheTtl::For(d)) => Some(d),
        _ => None,
    }
}

/// What the cache says about a node's key.
pub(crate) enum Verdict {
    /// An entry to use, and how to describe it ("cached, computed 3m ago").
    Hit { entry: Box<Entry>, note: String },
    /// No usable entry, and why ("argument 2 changed", "no previous entry").
    Miss { reason: String },
}

impl RunCache {
    /// Looks `key` (made of `parts`) up for `node`, explaining a miss against the node's last
    /// entry. A corrupt entry is reported, removed, and counts as a miss.
    pub(crate) fn verdict(&self, node: &Node, parts: &KeyParts, key: &str) -> Verdict {
        if self.mode == CacheMode::Refresh {
            return Verdict::Miss {
                reason: "--refresh".to_owned(),
            };
        }
        let now = SystemTime::now();
        let reason = match self.store.get(key, ttl_of(node)) {
            Lookup::Hit(entry) => {
                let note = format!("cached, computed {} ago", cache::fmt_age(entry.age(now)));
                return Verdict::Hit {
                    entry: Box::new(entry),
                    note,
                };
            }
            Lookup::Expired(entry) => format!(
                "cache_ttl expired (computed {} ago)",
                cache::fmt_age(entry.age(now))
            ),
            Lookup::Corrupt(why) => {
                tracing::warn!(
                    "{} | cache entry {} is corrupt ({why}); removed it, recomputing",
                    node.name,
                    key.get(..12).unwrap_or(key)
                );
                "the cache entry was corrupt".to_owned()
            }
            Lookup::Missing => self.explain_missing(node, parts, key),
        };
        Verdict::Miss { reason }
    }

    /// Why there is no entry for `key`: what changed since the node's last entry.
    fn explain_missing(&self, node: &Node, parts: &KeyParts, key: &str) -> String {
        let Some(last) = self.store.last_parts(&self.flow, &node.name) else {
            return "no previous entry".to_owned();
        };
        if last.key == key {
            return "the entry was removed".to_owned();
        }
        let task = node.task.as_deref().unwrap_or("sh");
        let reasons = cache::explain_change(&last.parts, parts, task);
        if reasons.is_empty() {
            "the key changed".to_owned()
        } else {
            reasons.join(", ")
        }
    }
}

impl LocalExecutor {
    /// Looks `job`'s key up: a hit is the attempt's outcome; a miss says what to store later.
    pub(super) fn look_up(
        &self,
        job: &Job,
        cache: &RunCache,
    ) -> Result<Result<Outcome, Pending>, TaskError> {
        let inputs = |id: NodeId| job.input(id);
        let parts = self
            .runtime
            .key_parts(&job.node, &inputs, &attempt_of(job))?;
        let key = parts.key();
        match cache.verdict(&job.node, &parts, &key) {
            Verdict::Hit { entry, note } => {
                let value = Value::from_json(&entry.value);
                // The run's artifacts must be complete whether the node ran or not.
                let adopted = self
                    .artifacts()
                    .adopt(&job.node.name, &entry.artifacts)
                    .map_err(|e| e.to_string());
                match adopted {
                    Ok(()) => {
                        if job.node.options.persist {
                            self.persist(job, &value)?;
                        }
                        let info = CacheInfo {
                            key: Some(key),
                            hit: true,
                            note: Some(note.into()),
                        };
                        Ok(Ok(Outcome::Succeeded(value, info)))
                    }
                    Err(why) => {
                        tracing::warn!(
                            "{} | the cache entry's artifacts cannot be restored ({why}); recomputing",
                            job.node.name
                        );
                        Ok(Err(Pending {
                            parts,
                            key,
                            reason: "cache miss: the entry's artifacts are gone".into(),
                        }))
                    }
                }
            }
            Verdict::Miss { reason } => Ok(Err(Pending {
                parts,
                key,
                reason: format!("cache miss: {reason}").into(),
            })),
        }
    }

    /// A finished attempt made whole: on success, its artifacts kept (see `keep_artifacts`),
    /// its key attached, and for a cached node, the entry stored before it is reported.
    pub(super) fn keyed(&self, job: &Job, outcome: Outcome, pending: Option<Pending>) -> Outcome {
        let Outcome::Succeeded(value, _) = outcome else {
            return outcome;
        };
        let produced = match self.keep_artifacts(job, &value, pending.is_some()) {
            Ok(records) => records,
            Err(error) => {
                return Outcome::Failed {
                    error,
                    is_retryable: false,
                };
            }
        };
        let Some(p) = pending else {
            let inputs = |id: NodeId| job.input(id);
            let key = self.runtime.node_key(&job.node, &inputs, &attempt_of(job));
            return Outcome::Succeeded(
                value,
                CacheInfo {
                    key,
                    ..CacheInfo::default()
                },
            );
        };
        if let Some(cache) = &self.cache {
            // A persisted result is written again under the name of the node that hits.
            let persisted = format!("{}.json", job.node.name);
            let artifacts = produced
                .into_iter()
                .filter(|r| !(job.node.options.persist && r.name == persisted))
                .map(|r| (r.name, r.digest, r.size))
                .collect();
            self.store(cache, job, &p, &value, artifacts);
        }
        let info = CacheInfo {
            key: Some(p.key),
            hit: false,
            note: Some(p.reason),
        };
        Outcome::Succeeded(value, info)
    }

    fn store(
        &self,
        cache: &RunCache,
        job: &Job,
        p: &Pending,
        value: &Value,
        artifacts: Vec<(String, String, u64)>,
    ) {
        let json = value.to_json();
        if crate::redact::is_active() && crate::redact::contains_secret(json.to_string().as_bytes())
        {
            tracing::warn!(
                "{} | not cached: its result holds the value of a secret",
                job.node.name
            );
            return;
        }
        let created = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let entry = Entry {
            key: p.key.to_string(),
            flow: cache.flow.clone(),
            node: job.node.name.clone(),
            task: job.node.task.clone().unwrap_or_else(|| "sh".to_owned()),
            created,
            parts: p.parts.clone(),
            value: json,
            artifacts,
        };
        let write = if cache.mode == CacheMode::Refresh {
            Write::Replace
        } else {
            Write::CreateOnly
        };
        if let Err(e) = cache.store.put(&entry, write) {
            cache.write_failed.store(true, Ordering::Relaxed);
            tracing::error!(
                "{} | cannot store the result in the cache: {e}",
                job.node.name
            );
        }
    }
}
