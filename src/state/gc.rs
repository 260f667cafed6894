//! Pruning a state directory (`autowf runs gc`): which runs go under `--keep` and
//! `--older-than`, removing them, and (in `blobs`) which artifact blobs nothing names any more.
//!
//! A run directory is first renamed to a dot-name in `runs/` (`.gc-<id>`), which listings
//! ignore, and only then deleted: a gc killed half way leaves a dot-name, never a run with
//! half its files, and the next gc deletes what it left.

mod blobs;

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::StateDir;
use super::runs::{self, RunStatus};
use crate::error::{Error, Result};

pub(crate) use blobs::{CacheRefs, Sweep, UnusedBlob, remove_blob, unused_blobs};

/// The prefix of a run directory being removed.
const REMOVING: &str = ".gc-";

/// A run whose flow cannot be told is kept, whatever `--older-than` says, until its id is
/// this old: a run creates its directory before its journal's first line reaches the file,
/// so a younger one may be a run that is starting right now.
const STARTING_GRACE: Duration = Duration::from_secs(3600);

/// Which runs gc removes. Runs still running are never removed, whatever the rules say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rules {
    /// `--keep N`: those beyond the newest N ended runs of their flow.
    Keep(usize),
    /// `--older-than D`: those that started more than D ago.
    OlderThan(Duration),
    /// Both: only those both rules select (beyond the newest N *and* older than D), so that
    /// neither rule alone removes a run the other would keep.
    KeepAndOlderThan(usize, Duration),
}

impl Rules {
    /// `None` when neither rule is given: there is nothing to go by.
    pub(crate) fn new(keep: Option<usize>, older_than: Option<Duration>) -> Option<Self> {
        match (keep, older_than) {
            (Some(n), Some(d)) => Some(Self::KeepAndOlderThan(n, d)),
            (Some(n), None) => Some(Self::Keep(n)),
            (None, Some(d)) => Some(Self::OlderThan(d)),
            (None, None) => None,
        }
    }

    fn keep(self) -> Option<usize> {
        match self {
            Self::Keep(n) | Self::KeepAndOlderThan(n, _) => Some(n),
            Self::OlderThan(_) => None,
        }
    }

    fn older_than(self) -> Option<Duration> {
        match self {
            Self::OlderThan(d) | Self::KeepAndOlderThan(_, d) => Some(d),
            Self::Keep(_) => None,
        }
    }
}

/// What gc weighs about one run.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RunFacts {
    pub(crate) run_id: String,
    /// From the summary or the journal's first line; `None` when neither tells.
    pub(crate) flow: Option<String>,
    /// From the journal's first line, else the time in the run id.
    pub(crate) started: Option<SystemTime>,
    pub(crate) is_running: bool,
    /// Its end cannot be seen from here: handed to Slurm by `run --submit-all` (its jobs may
    /// still need the run directory), or run on another machine sharing the state directory.
    pub(crate) is_unseen: bool,
}

impl RunFacts {
    fn age(&self, now: SystemTime) -> Option<Duration> {
        let started = self.started?;
        Some(now.duration_since(started).unwrap_or(Duration::ZERO))
    }
}

/// What the rules decide for one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Remove,
    Keep(Kept),
}

/// Why a run stays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kept {
    /// Its process is alive.
    Running,
    /// Its end cannot be seen from here (submitted to Slurm, or run on another machine), and
    /// it is not older than `--older-than` (or there is none): it may still be going.
    Unseen,
    /// Among the newest `--keep` ended runs of its flow.
    Newest,
    /// Not older than `--older-than`, or its start cannot be told. A run whose flow cannot be
    /// told counts from the time in its id, and only once it is an hour old.
    Recent,
    /// Its flow cannot be told and there is no `--older-than`: `--keep` has no flow to count
    /// it in.
    NoFlow,
}

/// What `rules` decide for each of `runs` (newest first, as `runs::run_ids` lists them), in
/// the same order.
pub(crate) fn select(runs: &[RunFacts], rules: Rules, now: SystemTime) -> Vec<Verdict> {
    // Ended runs seen so far per flow: running runs do not take a `--keep` place, so that a
    // run going on does not push the last finished one out.
    let mut newer: HashMap<&str, usize> = HashMap::new();
    let is_old = |run: &RunFacts, limit: Duration| run.age(now).is_some_and(|age| age > limit);
    runs.iter()
        .map(|run| {
            if run.is_running {
                return Verdict::Keep(Kept::Running);
            }
            if run.is_unseen {
                // Only age can tell that it is long over; it takes no `--keep` place.
                return match rules.older_than() {
                    Some(limit) if is_old(run, limit) => Verdict::Remove,
                    _ => Verdict::Keep(Kept::Unseen),
                };
            }
            let Some(flow) = run.flow.as_deref() else {
                // No flow to count it in: only the age rule can remove it.
                return match rules.older_than() {
                    None => Verdict::Keep(Kept::NoFlow),
                    Some(limit) if is_old(run, limit.max(STARTING_GRACE)) => Verdict::Remove,
                    Some(_) => Verdict::Keep(Kept::Recent),
                };
            };
            let rank = newer.entry(flow).or_default();
            let is_newest = rules.keep().is_some_and(|n| *rank < n);
            *rank += 1;
            if is_newest {
                Verdict::Keep(Kept::Newest)
            } else if rules.older_than().is_some_and(|limit| !is_old(run, limit)) {
                Verdict::Keep(Kept::Recent)
            } else {
                Verdict::Remove
            }
        })
        .collect()
}

/// A run gc removes (or, with `--dry-run`, would).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct PrunedRun {
    pub(crate) run_id: String,
    pub(crate) flow: Option<String>,
    /// RFC 3339, UTC.
    pub(crate) started: Option<String>,
    #[serde(skip)]
    pub(crate) age: Option<Duration>,
    pub(crate) bytes: u64,
}

/// A directory an interrupted gc left in `runs/`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Leftover {
    pub(crate) name: String,
    pub(crate) bytes: u64,
}

/// What gc removes from `runs/`.
#[derive(Clone, Debug, Default)]
pub(crate) struct Plan {
    pub(crate) runs: Vec<PrunedRun>,
    pub(crate) leftovers: Vec<Leftover>,
    /// Runs kept only because their flow cannot be told: worth a warning.
    pub(crate) without_flow: Vec<String>,
}

impl Plan {
    fn removes(&self, run_id: &str) -> bool {
        self.runs.iter().any(|r| r.run_id == run_id)
    }
}

/// Reads every run of `state` and decides. Nothing is removed yet; a run that cannot be read
/// is an error, so that gc stops before removing anything rather than guess.
pub(crate) fn plan(state: &StateDir, rules: Rules, now: SystemTime) -> Result<Plan> {
    let facts = survey(state)?;
    let verdicts = select(&facts, rules, now);
    let mut plan = Plan {
        leftovers: leftovers(state)?,
        ..Plan::default()
    };
    for (run, verdict) in facts.into_iter().zip(verdicts) {
        match verdict {
            Verdict::Remove => plan.runs.push(PrunedRun {
                bytes: dir_size(&state.run(&run.run_id)),
                age: run.age(now),
                started: run
                    .started
                    .map(|t| humantime::format_rfc3339_millis(t).to_string()),
                run_id: run.run_id,
                flow: run.flow,
            }),
            Verdict::Keep(Kept::NoFlow) => plan.without_flow.push(run.run_id),
            Verdict::Keep(_) => {}
        }
    }
    Ok(plan)
}

/// The facts of every run in `state`, newest first, as `autowf runs` tells them.
fn survey(state: &StateDir) -> Result<Vec<RunFacts>> {
    runs::run_ids(state)?
        .into_iter()
        .map(|run_id| {
            // Unreadable journal lines do not change what gc decides.
            let (record, _warnings) = runs::read_run(state, &run_id)?;
            let overview = record.overview();
            let started = (overview.started.as_deref())
                .and_then(|s| humantime::parse_rfc3339(s).ok())
                .or_else(|| runs::id_start_time(&run_id));
            Ok(RunFacts {
                flow: overview.flow,
                started,
                is_running: record.status == RunStatus::Running,
                is_unseen: matches!(record.status, RunStatus::Submitted | RunStatus::Elsewhere),
                run_id,
            })
        })
        .collect()
}

/// The directories earlier gcs left half deleted.
fn leftovers(state: &StateDir) -> Result<Vec<Leftover>> {
    let mut found = Vec::new();
    for entry in super::read_dir_or_empty(&state.runs())? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(REMOVING) {
            found.push(Leftover {
                bytes: dir_size(&entry.path()),
                name,
            });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

/// Removes run `run_id`: out of the listing first, by a rename, then from the disk. A run
/// that is already gone (another gc took it) is not an error.
pub(crate) fn remove_run(state: &StateDir, run_id: &str) -> Result<()> {
    let from = state.run(run_id);
    let to = state.runs().join(format!("{REMOVING}{run_id}"));
    match std::fs::rename(&from, &to) {
        Ok(()) => remove_tree(&to),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::WriteFile { path: from, source }),
    }
}

/// Deletes what an interrupted gc left.
pub(crate) fn remove_leftover(state: &StateDir, leftover: &Leftover) -> Result<()> {
    remove_tree(&state.runs().join(&leftover.name))
}

fn remove_tree(path: &Path) -> Result<()> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::WriteFile {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// The bytes of the files below `path`, symbolic links not followed; what cannot be read
/// counts as nothing (the number is only reported).
fn dir_size(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries.flatten().map(|e| dir_size(&e.path())).sum()
}

#[cfg(test)]
mod tests;
