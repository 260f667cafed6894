//! The runs of a state directory: listing them newest first, finding one by id, unique id
//! prefix or `last`, and telling how each ended (from `summary.json`, else the journal).
//!
//! Run ids start with the UTC start time (`20240501T101500123-04211`), so sorting them by
//! name sorts the runs by start; the directory names are all a listing has to read.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::StateDir;
use super::journal::{self, JOURNAL_FILE, JournalSummary, RunStarted};
use crate::error::{Error, Result};
use crate::events::Interruption;

/// The summary's file name in a run directory.
pub(crate) const SUMMARY_FILE: &str = "summary.json";
/// The jobs `run --submit-all` submitted, in its run directory.
pub(crate) const JOBS_FILE: &str = "jobs.json";

/// How many ids an unknown-run error lists.
const RECENT_IN_ERRORS: usize = 5;

/// How a run ended, or that it has not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RunStatus {
    Succeeded,
    Failed,
    /// Stopped by a signal or `--timeout`.
    Interrupted,
    /// No recorded end, and the process that ran it is still alive.
    Running,
    /// Handed to Slurm whole (`run --submit-all`): its jobs run without autowf, which records
    /// nothing of them, so its end is Slurm's to tell.
    Submitted,
    /// No recorded end, and it ran on another machine (a shared state directory), whose
    /// processes cannot be looked up from here: it may be running or may have died.
    Elsewhere,
    /// No recorded end and no such process: killed, or the machine went down.
    Incomplete,
}

impl RunStatus {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
            Self::Running => "running",
            Self::Submitted => "submitted",
            Self::Elsewhere => "elsewhere",
            Self::Incomplete => "incomplete",
        }
    }

    fn ended(status: &str, is_interrupted: bool) -> Self {
        match status {
            _ if is_interrupted => Self::Interrupted,
            "succeeded" => Self::Succeeded,
            _ => Self::Failed,
        }
    }
}

/// The ids of the runs in `state`, newest first. No `runs/` directory means no runs.
pub(crate) fn run_ids(state: &StateDir) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for entry in super::read_dir_or_empty(&state.runs())? {
        let name = entry.file_name().to_string_lossy().into_owned();
        // Dot-names are temporary files of atomic writes, or runs `runs gc` is removing.
        if !name.starts_with('.') && entry.file_type().is_ok_and(|t| t.is_dir()) {
            ids.push(name);
        }
    }
    ids.sort_unstable_by(|a, b| b.cmp(a));
    Ok(ids)
}

/// When the run `run_id` started, as its id tells (`20261126T174609040-05098`: UTC, to the
/// millisecond); `None` for a name of another shape.
pub(crate) fn id_start_time(run_id: &str) -> Option<std::time::SystemTime> {
    let stamp = run_id.split('-').next()?;
    let is_stamp = stamp.len() == 18
        && stamp.is_ascii()
        && stamp.bytes().enumerate().all(|(i, b)| {
            if i == 8 {
                b == b'T'
            } else {
                b.is_ascii_digit()
            }
        });
    if !is_stamp {
        return None;
    }
    let part = |from: usize, to: usize| &stamp[from..to];
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}.{}Z",
        part(0, 4),
        part(4, 6),
        part(6, 8),
        part(9, 11),
        part(11, 13),
        part(13, 15),
        part(15, 18)
    );
    humantime::parse_rfc3339(&rfc3339).ok()
}

/// The newest run of flow `flow`, as its journal's first line names it: what `--resume`
/// continues when it names no run, since the flows of one directory share its state
/// directory. Runs whose journal cannot be read are passed over.
pub(crate) fn last_run_of(state: &StateDir, flow: &str) -> Result<Option<String>> {
    for id in run_ids(state)? {
        let path = state.run(&id).join(JOURNAL_FILE);
        if let Ok(Some(started)) = journal::read_run_started(&path)
            && started.flow == flow
        {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// The id of the run `query` names: `last` (the newest), an exact id, or a prefix of exactly
/// one id. Otherwise an error (exit 2) that lists the most recent ids.
pub(crate) fn resolve_run(state: &StateDir, query: &str) -> Result<String> {
    let ids = run_ids(state)?;
    pick_run(&ids, query).map_err(|matches| {
        if matches.is_empty() {
            Error::UnknownRun {
                query: query.to_owned(),
                runs_dir: state.runs(),
                recent: ids.iter().take(RECENT_IN_ERRORS).cloned().collect(),
            }
        } else {
            Error::AmbiguousRun {
                query: query.to_owned(),
                matches,
            }
        }
    })
}

/// The id `query` picks among `ids` (newest first), or every id it matches when not exactly
/// one (none: unknown; several: ambiguous).
fn pick_run(ids: &[String], query: &str) -> std::result::Result<String, Vec<String>> {
    if query == "last" {
        return ids.first().cloned().ok_or_else(Vec::new);
    }
    if let Some(id) = ids.iter().find(|id| *id == query) {
        return Ok(id.clone());
    }
    let mut matches: Vec<String> = ids
        .iter()
        .filter(|id| !query.is_empty() && id.starts_with(query))
        .cloned()
        .collect();
    if matches.len() == 1 {
        Ok(matches.remove(0))
    } else {
        Err(matches)
    }
}

/// One line of `autowf runs`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct RunOverview {
    pub(crate) run_id: String,
    pub(crate) flow: Option<String>,
    /// RFC 3339, from the journal.
    pub(crate) started: Option<String>,
    pub(crate) duration_ms: Option<f64>,
    pub(crate) status: RunStatus,
}

/// Everything recorded about one run: its summary when it got to the end, its journal.
#[derive(Debug)]
pub(crate) struct RunRecord {
    pub(crate) run_id: String,
    pub(crate) dir: PathBuf,
    /// What `summary.json` says of the whole run, when the run wrote one and it parses.
    pub(crate) summary: Option<SummaryHead>,
    /// The journal, read whole only when there is no summary; otherwise only its first line.
    pub(crate) journal: JournalSummary,
    pub(crate) status: RunStatus,
}

impl RunRecord {
    pub(crate) fn started(&self) -> Option<&RunStarted> {
        self.journal.started.as_ref()
    }

    pub(crate) fn overview(&self) -> RunOverview {
        RunOverview {
            run_id: self.run_id.clone(),
            flow: (self.summary.as_ref())
                .and_then(|s| s.flow.clone())
                .or_else(|| self.started().map(|s| s.flow.clone())),
            started: self.started().map(|s| s.started.clone()),
            duration_ms: (self.summary.as_ref())
                .and_then(|s| s.duration_ms)
                .or_else(|| self.journal.finished.as_ref().map(|f| f.duration_ms)),
            status: self.status,
        }
    }

    /// The whole `summary.json` (nodes included), when the run wrote one that parses.
    pub(crate) fn summary_document(&self) -> Result<Option<serde_json::Value>> {
        read_summary(&self.dir.join(SUMMARY_FILE))
    }
}

/// The fields of `summary.json` that say how the whole run went. Reading only these lets
/// serde skip the nodes without building them: a listing reads one summary per run, and a
/// run of 100,000 nodes has a summary of megabytes.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub(crate) struct SummaryHead {
    #[serde(default)]
    pub(crate) flow: Option<String>,
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) interrupted: Option<Interruption>,
    #[serde(default)]
    pub(crate) duration_ms: Option<f64>,
}

/// Reads what the run `run_id` left: its summary if any, else its whole journal. Unreadable
/// journal lines come back as warnings; a missing journal is not an error (the run may predate
/// journals, or have died before writing one).
pub(crate) fn read_run(state: &StateDir, run_id: &str) -> Result<(RunRecord, Vec<String>)> {
    let dir = state.run(run_id);
    let summary: Option<SummaryHead> = read_summary(&dir.join(SUMMARY_FILE))?;
    let journal_path = dir.join(JOURNAL_FILE);
    let (journal, warnings) = match (&summary, journal_path.exists()) {
        (_, false) => (JournalSummary::default(), Vec::new()),
        (Some(_), true) => {
            let mut head = JournalSummary::default();
            head.started = journal::read_run_started(&journal_path)?;
            (head, Vec::new())
        }
        (None, true) => journal::read_journal(&journal_path)?,
    };
    let is_submitted = || dir.join(JOBS_FILE).exists();
    let status = match (&summary, &journal.finished, journal.started.as_ref()) {
        (Some(s), _, _) => RunStatus::ended(&s.status, s.interrupted.is_some()),
        (None, Some(f), _) => RunStatus::ended(&f.status, f.interrupted.is_some()),
        (None, None, Some(s)) if is_other_host(s) => {
            if is_submitted() {
                RunStatus::Submitted
            } else {
                RunStatus::Elsewhere
            }
        }
        (None, None, Some(s)) if is_alive(s.pid) => RunStatus::Running,
        (None, None, _) if is_submitted() => RunStatus::Submitted,
        (None, None, _) => RunStatus::Incomplete,
    };
    let record = RunRecord {
        run_id: run_id.to_owned(),
        dir,
        summary,
        journal,
        status,
    };
    Ok((record, warnings))
}

/// The parsed summary (whole, or only some fields); `None` when it is missing or does not
/// parse (a torn copy cannot exist, as it is written atomically, but a hand-edited one can).
fn read_summary<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(serde_json::from_slice::<T>(&bytes).ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::ReadFile {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// This machine's name, as runs record it (`None` if the system will not say).
pub(crate) fn this_host() -> Option<&'static str> {
    static HOST: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        nix::unistd::gethostname()
            .ok()
            .and_then(|name| name.into_string().ok())
    })
    .as_deref()
}

/// Whether the run was recorded on another machine, whose process ids mean nothing here.
fn is_other_host(started: &RunStarted) -> bool {
    match (started.host.as_deref(), this_host()) {
        (Some(theirs), Some(ours)) => theirs != ours,
        _ => false,
    }
}

/// Whether a process with this id exists. A recycled id can make a dead run look alive; the
/// journal records no more than the id, and a false `running` is the safer mistake.
fn is_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        // The process exists but belongs to someone else.
        Err(e) => e == nix::errno::Errno::EPERM,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|&n| n.to_owned()).collect()
    }

    #[test]
    fn last_is_the_newest_and_prefixes_must_be_unique() {
        let all = ids(&["20240502T0900-2", "20240502T0800-1", "20240501T0800-3"]);
        assert_eq!(pick_run(&all, "last"), Ok("20240502T0900-2".to_owned()));
        assert_eq!(pick_run(&all, "20240501"), Ok("20240501T0800-3".to_owned()));
        assert_eq!(
            pick_run(&all, "20240502T08"),
            Ok("20240502T0800-1".to_owned())
        );
        assert_eq!(
            pick_run(&all, "20240502"),
            Err(ids(&["20240502T0900-2", "20240502T0800-1"]))
        );
        assert_eq!(pick_run(&all, "2023"), Err(Vec::new()));
        assert_eq!(pick_run(&all, ""), Err(Vec::new()));
        assert_eq!(pick_run(&[], "last"), Err(Vec::new()));
    }

    #[test]
    fn an_exact_id_wins_over_longer_ids_it_prefixes() {
        let all = ids(&["run-10", "run-1"]);
        assert_eq!(pick_run(&all, "run-1"), Ok("run-1".to_owned()));
    }

    #[test]
    fn runs_are_listed_newest_first_skipping_files_and_dot_entries() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_path_buf());
        assert!(run_ids(&state).unwrap().is_empty());
        for name in [
            "20240501T0800-1",
            "20240503T0800-1",
            "20240502T0800-1",
            ".tmp-x",
        ] {
            std::fs::create_dir_all(state.run(name)).unwrap();
        }
        std::fs::write(state.runs().join("stray.json"), "{}").unwrap();
        assert_eq!(
            run_ids(&state).unwrap(),
            ids(&["20240503T0800-1", "20240502T0800-1", "20240501T0800-1"])
        );
        assert_eq!(
            resolve_run(&state, "last").unwrap(),
            "20240503T0800-1".to_owned()
        );
        let err = resolve_run(&state, "1999").unwrap_err();
        assert!(
            err.to_string().contains("recent runs: 20240503T0800-1"),
            "{err}"
        );
        let err = resolve_run(&state, "2024").unwrap_err();
        assert!(err.to_string().contains("matches 3 runs"), "{err}");
    }

    #[test]
    fn status_comes_from_the_summary_else_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().to_path_buf());
        let run = |id: &str, summary: Option<&str>, journal: &str| {
            std::fs::create_dir_all(state.run(id)).unwrap();
            if let Some(s) = summary {
                std::fs::write(state.run(id).join(SUMMARY_FILE), s).unwrap();
            }
            std::fs::write(state.run(id).join(JOURNAL_FILE), journal).unwrap();
        };
        // A pid that cannot be alive: beyond the kernel's limit.
        let started = r#"{"schema":1,"event":"run_started","run_id":"r","flow":"main","file":"/f.rhai","params":{},"pid":2147483647,"started":"2024-05-01T08:00:00.000Z","autowf_version":"0.1.0"}"#;
        let finished = r#"{"schema":1,"event":"run_finished","status":"failed","duration_ms":5.0,"interrupted":"sigint"}"#;
        run(
            "a",
            Some(
                r#"{"schema":1,"flow":"main","status":"succeeded","interrupted":null,"duration_ms":12.5}"#,
            ),
            &format!("{started}\n"),
        );
        run("b", None, &format!("{started}\n{finished}\n"));
        run("c", None, &format!("{started}\n{{\"schema\":1,\"ev"));
        let status = |id| read_run(&state, id).unwrap().0.overview();
        let a = status("a");
        assert_eq!(a.status, RunStatus::Succeeded);
        assert_eq!(a.duration_ms, Some(12.5));
        assert_eq!(a.started.as_deref(), Some("2024-05-01T08:00:00.000Z"));
        assert_eq!(status("b").status, RunStatus::Interrupted);
        let (c, warnings) = read_run(&state, "c").unwrap();
        assert_eq!(c.status, RunStatus::Incomplete);
        assert_eq!(c.overview().flow.as_deref(), Some("main"));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        // `run --submit-all` leaves a journal with its first line only, and its jobs.
        run("d", None, &format!("{started}\n"));
        std::fs::write(state.run("d").join(JOBS_FILE), "{}").unwrap();
        assert_eq!(status("d").status, RunStatus::Submitted);
        // Another machine's run: its pid, even one alive here, says nothing.
        let ours = std::process::id();
        let elsewhere = started.replace(
            "\"pid\":2147483647",
            &format!("\"pid\":{ours},\"host\":\"not-this-host.invalid\""),
        );
        run("e", None, &format!("{elsewhere}\n"));
        assert_eq!(status("e").status, RunStatus::Elsewhere);
        let here = elsewhere.replace("not-this-host.invalid", this_host().unwrap());
        run("f", None, &format!("{here}\n"));
        assert_eq!(status("f").status, RunStatus::Running);
    }

    #[test]
    fn a_run_id_tells_when_the_run_started() {
        let started = id_start_time("20261126T174609040-05098").unwrap();
        assert_eq!(
            humantime::format_rfc3339_millis(started).to_string(),
            "2026-11-26T17:46:09.040Z"
        );
        for other in [
            "20240502T0900-2",
            "stray",
            "",
            "20261126X174609040-1",
            "20261126T1746090é-1",
            "20261399T174609040-1",
        ] {
            assert_eq!(id_start_time(other), None, "{other}");
        }
    }

    #[test]
    fn a_live_pid_without_an_end_is_running() {
        assert!(is_alive(std::process::id()));
        assert!(!is_alive(0));
        assert!(!is_alive(u32::MAX));
    }
}
