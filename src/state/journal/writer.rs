//! The journal's writer: an `Observe` impl that encodes each event as a line into a buffer in
//! memory, and a background thread that appends the buffer to the file (see the module docs
//! for what a crash may lose).
//!
//! Only byte buffers cross between the two threads, swapped about ten times a second. Handing
//! over cloned events instead, to encode them on the background thread, showed no clear gain
//! on a loaded two-core machine, and it frees every name and result on another thread than
//! the one that allocated it; encoding here keeps the hand-over to one swap.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::SCHEMA;
use super::canonical::write_canonical;
use crate::error::{Error, Result};
use crate::events::{Interruption, Observe, RunEvent, Status};

/// Longest a line waits in memory before the background thread writes it out.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Pending bytes that wake the background thread before its period is up.
const HIGH_WATER: usize = 1 << 20;

/// What the `run_started` line records about a run.
pub(crate) struct RunFacts<'a> {
    pub(crate) run_id: &'a str,
    pub(crate) flow: &'a str,
    /// The flow file, absolute.
    pub(crate) file: &'a Path,
    pub(crate) params: &'a serde_json::Value,
}

/// Appends the run's events to its journal.
pub(crate) struct JournalWriter {
    shared: Arc<Shared>,
    flusher: Option<JoinHandle<()>>,
    /// The line being encoded, kept to reuse its allocation.
    line: Vec<u8>,
}

/// What the observer and the background thread share.
struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
}

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    is_closing: bool,
    /// A write failed: the thread warned once, and later lines are dropped.
    has_failed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // Neither side panics while holding the lock; if one did, the bytes are still sound.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl JournalWriter {
    /// Creates the journal at `path` and writes its `run_started` line straight away, so even
    /// a run killed at once names its flow and start.
    pub(crate) fn create(path: &Path, facts: &RunFacts<'_>) -> Result<Self> {
        let write_err = |source| Error::WriteFile {
            path: path.to_path_buf(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(write_err)?;
        let mut line = Vec::with_capacity(256);
        encode_run_started(facts, SystemTime::now(), &mut line);
        file.write_all(&crate::redact::bytes(&line))
            .map_err(write_err)?;
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
        });
        let flusher = {
            let shared = Arc::clone(&shared);
            let path = path.to_path_buf();
            std::thread::Builder::new()
                .name("autowf-journal".into())
                .spawn(move || write_out(&shared, file, &path))
                .map_err(write_err)?
        };
        Ok(Self {
            shared,
            flusher: Some(flusher),
            line,
        })
    }

    /// Writes everything pending and stops the background thread.
    fn close(&mut self) {
        let Some(flusher) = self.flusher.take() else {
            return;
        };
        self.shared.lock().is_closing = true;
        self.shared.wake.notify_one();
        if flusher.join().is_err() {
            tracing::warn!("the run journal's writer stopped unexpectedly");
        }
    }
}

impl Observe for JournalWriter {
    fn observe(&mut self, event: &RunEvent) {
        if self.flusher.is_none() {
            return;
        }
        self.line.clear();
        if !encode_event(event, &mut self.line) {
            return;
        }
        let mut pending = self.shared.lock();
        if pending.has_failed {
            return;
        }
        let was_below = pending.bytes.len() < HIGH_WATER;
        // A secret's value never reaches the file (a result holding one then fails its digest
        // check when read back, so `--resume` computes that node again).
        pending
            .bytes
            .extend_from_slice(&crate::redact::bytes(&self.line));
        let is_full = was_below && pending.bytes.len() >= HIGH_WATER;
        drop(pending);
        if is_full {
            self.shared.wake.notify_one();
        }
        if matches!(event, RunEvent::RunFinished { .. }) {
            self.close();
        }
    }
}

impl Drop for JournalWriter {
    fn drop(&mut self) {
        self.close();
    }
}

/// The background thread: every [`FLUSH_EVERY`] (or when woken) it takes what is pending and
/// appends it to the file, until the writer closes.
fn write_out(shared: &Shared, mut file: File, path: &Path) {
    let mut out = Vec::new();
    let mut pending = shared.lock();
    loop {
        pending = shared
            .wake
            .wait_timeout_while(pending, FLUSH_EVERY, |p| {
                !p.is_closing && p.bytes.len() < HIGH_WATER
            })
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        std::mem::swap(&mut pending.bytes, &mut out);
        let is_closing = pending.is_closing;
        drop(pending);
        if !out.is_empty()
            && let Err(e) = file.write_all(&out)
        {
            tracing::warn!(
                "cannot write the run journal `{}`: {e}; later records are not kept",
                path.display()
            );
            shared.lock().has_failed = true;
            return;
        }
        out.clear();
        if is_closing {
            return;
        }
        pending = shared.lock();
    }
}

#[derive(Serialize)]
struct RunStartedLine<'a> {
    schema: u32,
    event: &'static str,
    run_id: &'a str,
    flow: &'a str,
    file: &'a Path,
    params: &'a serde_json::Value,
    pid: u32,
    /// The machine `pid` belongs to: another machine's processes cannot be looked up.
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'static str>,
    started: String,
    autowf_version: &'static str,
}

#[derive(Serialize)]
struct NodeLine<'a> {
    schema: u32,
    event: &'static str,
    node: &'a str,
    attempt: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    delay_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct NodeExpandedLine<'a> {
    schema: u32,
    event: &'static str,
    node: &'a str,
    children: usize,
}

#[derive(Serialize)]
struct NodeFinishedLine<'a> {
    schema: u32,
    event: &'static str,
    node: &'a str,
    status: Status,
    attempts: u32,
    duration_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<&'a str>,
    /// Where a cached result came from, or why a cached task missed.
    #[serde(skip_serializing_if = "Option::is_none")]
    cache: Option<&'a str>,
}

#[derive(Serialize)]
struct RunFinishedLine {
    schema: u32,
    event: &'static str,
    status: &'static str,
    duration_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    interrupted: Option<Interruption>,
}

fn encode_run_started(facts: &RunFacts<'_>, now: SystemTime, out: &mut Vec<u8>) {
    let line = RunStartedLine {
        schema: SCHEMA,
        event: "run_started",
        run_id: facts.run_id,
        flow: facts.flow,
        file: facts.file,
        params: facts.params,
        pid: std::process::id(),
        host: crate::state::runs::this_host(),
        started: humantime::format_rfc3339_millis(now).to_string(),
        autowf_version: env!("CARGO_PKG_VERSION"),
    };
    // A path that is not UTF-8 cannot be a JSON string: record it lossily rather than not at all.
    if serde_json::to_writer(&mut *out, &line).is_err() {
        out.clear();
        let lossy = PathBuf::from(facts.file.to_string_lossy().into_owned());
        let line = RunStartedLine {
            file: &lossy,
            ..line
        };
        serde_json::to_writer(&mut *out, &line)
            .expect("invariant: a run_started line with a UTF-8 path serializes");
    }
    out.push(b'\n');
}

/// Appends the line for `event` to `out`; false for events the journal does not keep.
pub(crate) fn encode_event(event: &RunEvent, out: &mut Vec<u8>) -> bool {
    let start = out.len();
    let written = match event {
        // The run_started line is written when the journal is created.
        RunEvent::RunStarted { .. } => return false,
        RunEvent::NodeStarted { name, attempt } => serde_json::to_writer(
            &mut *out,
            &NodeLine {
                schema: SCHEMA,
                event: "node_started",
                node: name,
                attempt: *attempt,
                delay_ms: None,
                error: None,
            },
        ),
        RunEvent::NodeRetrying {
            name,
            attempt,
            delay,
            error,
        } => serde_json::to_writer(
            &mut *out,
            &NodeLine {
                schema: SCHEMA,
                event: "node_retrying",
                node: name,
                attempt: *attempt,
                delay_ms: Some(millis(*delay)),
                error: Some(&error.message),
            },
        ),
        RunEvent::NodeExpanded { name, children } => serde_json::to_writer(
            &mut *out,
            &NodeExpandedLine {
                schema: SCHEMA,
                event: "node_expanded",
                node: name,
                children: *children,
            },
        ),
        RunEvent::NodeFinished {
            name,
            status,
            attempts,
            duration,
            error,
            key,
            result,
            cache_note,
        } => {
            let line = NodeFinishedLine {
                schema: SCHEMA,
                event: "node_finished",
                node: name,
                status: *status,
                attempts: *attempts,
                duration_ms: millis(*duration),
                error: error.as_ref().map(|e| e.message.as_str()),
                key: key.as_deref(),
                cache: cache_note.as_deref(),
            };
            serde_json::to_writer(&mut *out, &line).map(|()| {
                if let Some(result) = result {
                    append_result(out, &result.to_json());
                }
            })
        }
        RunEvent::RunFinished {
            is_success,
            duration,
            interruption,
        } => serde_json::to_writer(
            &mut *out,
            &RunFinishedLine {
                schema: SCHEMA,
                event: "run_finished",
                status: if *is_success { "succeeded" } else { "failed" },
                duration_ms: millis(*duration),
                interrupted: *interruption,
            },
        ),
    };
    // Writing these plain structs to a Vec cannot fail; if it ever did, the line is dropped
    // whole rather than left half-written.
    if written.is_err() {
        out.truncate(start);
        return false;
    }
    out.push(b'\n');
    true
}

/// Adds `"digest"` and `"result"` to the object just written to `out`. The result goes in as
/// its canonical text, which is also what the digest is taken of, so a reader can check one
/// against the other and resume compares digests without re-encoding.
fn append_result(out: &mut Vec<u8>, result: &serde_json::Value) {
    let mut canonical = Vec::new();
    write_canonical(result, &mut canonical);
    let digest = blake3::hash(&canonical);
    debug_assert_eq!(out.last(), Some(&b'}'));
    out.pop();
    out.extend_from_slice(b",\"digest\":\"");
    out.extend_from_slice(digest.to_hex().as_bytes());
    out.extend_from_slice(b"\",\"result\":");
    out.extend_from_slice(&canonical);
    out.push(b'}');
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

#[cfg(test)]
pub(super) mod tests {
    use serde_json::{Value as J, json};

    use super::super::canonical::result_digest;
    use super::super::{JOURNAL_FILE, read_journal};
    use super::*;
    use crate::events::TaskError;
    use crate::script::Value;

    pub(in crate::state::journal) fn finished(
        name: &str,
        status: Status,
        result: Option<J>,
    ) -> RunEvent {
        RunEvent::NodeFinished {
            name: name.into(),
            status,
            attempts: 2,
            duration: Duration::from_micros(1500),
            error: (!status.is_success()).then(|| TaskError::new("boom")),
            key: result.as_ref().map(|_| Arc::from("k123")),
            result: result.map(|r| Arc::new(Value::from_json(&r))),
            cache_note: None,
        }
    }

    pub(in crate::state::journal) fn lines_of(event: &RunEvent) -> String {
        let mut out = Vec::new();
        assert!(encode_event(event, &mut out));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn each_event_is_one_line_with_schema_and_kind() {
        let started = RunEvent::NodeStarted {
            name: "load".into(),
            attempt: 1,
        };
        assert_eq!(
            lines_of(&started),
            "{\"schema\":1,\"event\":\"node_started\",\"node\":\"load\",\"attempt\":1}\n"
        );
        let retrying = RunEvent::NodeRetrying {
            name: "load".into(),
            attempt: 1,
            delay: Duration::from_millis(250),
            error: TaskError::new("flaky"),
        };
        assert_eq!(
            lines_of(&retrying),
            "{\"schema\":1,\"event\":\"node_retrying\",\"node\":\"load\",\"attempt\":1,\"delay_ms\":250.0,\"error\":\"flaky\"}\n"
        );
        assert_eq!(
            lines_of(&finished("load", Status::Failed, None)),
            "{\"schema\":1,\"event\":\"node_finished\",\"node\":\"load\",\"status\":\"failed\",\"attempts\":2,\"duration_ms\":1.5,\"error\":\"boom\"}\n"
        );
        let end = RunEvent::RunFinished {
            is_success: false,
            duration: Duration::from_secs(2),
            interruption: Some(Interruption::Sigterm),
        };
        assert_eq!(
            lines_of(&end),
            "{\"schema\":1,\"event\":\"run_finished\",\"status\":\"failed\",\"duration_ms\":2000.0,\"interrupted\":\"sigterm\"}\n"
        );
        let mut out = Vec::new();
        assert!(!encode_event(&RunEvent::RunStarted { nodes: 3 }, &mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn a_success_records_key_digest_and_canonical_result() {
        let result = json!({ "z": 1, "a": [true, null, "x"], "m": { "b": 2.5, "a": "é" } });
        let line = lines_of(&finished("load", Status::Succeeded, Some(result.clone())));
        let canonical = r#"{"a":[true,null,"x"],"m":{"a":"é","b":2.5},"z":1}"#;
        let digest = blake3::hash(canonical.as_bytes()).to_hex().to_string();
        assert_eq!(
            line,
            format!(
                "{{\"schema\":1,\"event\":\"node_finished\",\"node\":\"load\",\"status\":\"succeeded\",\"attempts\":2,\"duration_ms\":1.5,\"key\":\"k123\",\"digest\":\"{digest}\",\"result\":{canonical}}}\n"
            )
        );
        assert_eq!(result_digest(&result), digest);
        let parsed: J = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["result"], result);
    }

    fn facts_in(dir: &Path) -> (PathBuf, J) {
        (dir.join("flow.rhai"), json!({ "n": 3 }))
    }

    #[test]
    fn the_writer_starts_with_run_started_and_ends_with_run_finished() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        let (file, params) = facts_in(dir.path());
        let facts = RunFacts {
            run_id: "r1",
            flow: "main",
            file: &file,
            params: &params,
        };
        let mut writer = JournalWriter::create(&path, &facts).unwrap();
        writer.observe(&RunEvent::RunStarted { nodes: 1 });
        writer.observe(&RunEvent::NodeStarted {
            name: "a".into(),
            attempt: 1,
        });
        writer.observe(&finished("a", Status::Succeeded, Some(json!(42))));
        writer.observe(&RunEvent::RunFinished {
            is_success: true,
            duration: Duration::from_millis(3),
            interruption: None,
        });
        // Everything is in the file once RunFinished was observed, before the writer is dropped.
        let (summary, warnings) = read_journal(&path).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let started = summary.started.as_ref().unwrap();
        assert_eq!(started.run_id, "r1");
        assert_eq!(started.file, file);
        assert_eq!(started.params, params);
        assert_eq!(started.pid, std::process::id());
        assert!(humantime::parse_rfc3339(&started.started).is_ok());
        let a = summary.node("a").unwrap();
        assert_eq!(a.last_attempt, 1);
        let f = a.finished.as_ref().unwrap();
        assert_eq!(
            (f.status, f.result.clone()),
            (Status::Succeeded, Some(json!(42)))
        );
        assert_eq!(
            f.digest.as_deref(),
            Some(result_digest(&json!(42)).as_str())
        );
        assert_eq!(f.key.as_deref(), Some("k123"));
        assert_eq!(summary.finished.as_ref().unwrap().status, "succeeded");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 4);
        for line in text.lines() {
            let v: J = serde_json::from_str(line).unwrap();
            assert_eq!(v["schema"], 1);
            assert!(v["event"].is_string());
        }
        drop(writer);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn records_reach_the_file_without_waiting_for_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        let (file, params) = facts_in(dir.path());
        let facts = RunFacts {
            run_id: "r1",
            flow: "main",
            file: &file,
            params: &params,
        };
        let mut writer = JournalWriter::create(&path, &facts).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
        writer.observe(&RunEvent::NodeStarted {
            name: "slow".into(),
            attempt: 1,
        });
        // The background thread writes it within its period; allow a loaded machine 10 s.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::fs::read_to_string(&path).unwrap().lines().count() < 2 {
            assert!(std::time::Instant::now() < deadline, "never flushed");
            std::thread::sleep(Duration::from_millis(10));
        }
        let (summary, _) = read_journal(&path).unwrap();
        assert_eq!(summary.node("slow").unwrap().finished, None);
        assert!(summary.finished.is_none());
    }

    #[test]
    fn dropping_the_writer_writes_what_is_pending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        let (file, params) = facts_in(dir.path());
        let facts = RunFacts {
            run_id: "r1",
            flow: "main",
            file: &file,
            params: &params,
        };
        let mut writer = JournalWriter::create(&path, &facts).unwrap();
        for i in 0..1000 {
            writer.observe(&RunEvent::NodeStarted {
                name: format!("n{i}"),
                attempt: 1,
            });
        }
        drop(writer);
        let (summary, warnings) = read_journal(&path).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(summary.nodes.len(), 1000);
    }
}
