//! `--events FILE`: every run event as one JSON object per line (NDJSON). Each line carries
//! `"schema": 1`, `"event"` (its kind) and `"at_ms"` (milliseconds since the run started);
//! the kinds and their fields are listed in docs/cli.md.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::error::Error;
use crate::events::RunEvent;
use crate::scheduler::Observe;

/// Version of the event lines; bumped on any incompatible change.
const SCHEMA: u32 = 1;

pub(crate) struct EventLog {
    out: BufWriter<File>,
    started: Instant,
    run_id: String,
    flow: String,
    /// The first write error; later events are dropped and the error reported once.
    failed: bool,
}

impl EventLog {
    pub(crate) fn create(path: &Path, run_id: &str, flow: &str) -> Result<Self, Error> {
        let file = File::create(path).map_err(|source| Error::WriteFile {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self {
            out: BufWriter::new(file),
            started: Instant::now(),
            run_id: run_id.to_owned(),
            flow: flow.to_owned(),
            failed: false,
        })
    }
}

impl Observe for EventLog {
    fn observe(&mut self, event: &RunEvent) {
        if self.failed {
            return;
        }
        let mut line = event_json(event, self.started.elapsed());
        if matches!(event, RunEvent::RunStarted { .. }) {
            line["run_id"] = json!(self.run_id);
            line["flow"] = json!(self.flow);
        }
        let written = if crate::redact::is_active() {
            writeln!(self.out, "{}", crate::redact::text(&line.to_string()))
        } else {
            writeln!(self.out, "{line}")
        };
        let written = written.and_then(|()| {
            // The last line is on disk before autowf exits; the rest stream with the run.
            if matches!(event, RunEvent::RunFinished { .. }) {
                self.out.flush()
            } else {
                Ok(())
            }
        });
        if let Err(e) = written {
            tracing::warn!("cannot write the event log: {e}; later events are not recorded");
            self.failed = true;
        }
    }
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// The JSON line for one event.
pub(crate) fn event_json(event: &RunEvent, at: Duration) -> Value {
    let (kind, fields) = match event {
        RunEvent::RunStarted { nodes } => ("run_started", json!({ "nodes": nodes })),
        RunEvent::NodeStarted { name, attempt } => {
            ("node_started", json!({ "node": name, "attempt": attempt }))
        }
        RunEvent::NodeRetrying {
            name,
            attempt,
            delay,
            error,
        } => (
            "node_retrying",
            json!({ "node": name, "attempt": attempt, "delay_ms": millis(*delay), "error": error }),
        ),
        RunEvent::NodeExpanded { name, children } => (
            "node_expanded",
            json!({ "node": name, "children": children }),
        ),
        RunEvent::NodeFinished {
            name,
            status,
            attempts,
            duration,
            error,
            key,
            cache_note,
            ..
        } => {
            let mut v = json!({ "node": name, "status": status, "attempts": attempts, "duration_ms": millis(*duration) });
            if let Some(e) = error {
                v["error"] = json!(e);
            }
            if let Some(k) = key {
                v["cache_key"] = json!(k);
            }
            if let Some(n) = cache_note {
                v["cache"] = json!(n);
            }
            ("node_finished", v)
        }
        RunEvent::RunFinished {
            is_success,
            duration,
            ..
        } => (
            "run_finished",
            json!({ "status": if *is_success { "succeeded" } else { "failed" }, "duration_ms": millis(*duration) }),
        ),
    };
    let mut line = json!({ "schema": SCHEMA, "event": kind, "at_ms": millis(at) });
    if let (Some(line), Value::Object(fields)) = (line.as_object_mut(), fields) {
        line.extend(fields);
    }
    line
}

/// Sends each event to several observers in turn (console, event log).
pub(crate) struct Observers(pub(crate) Vec<Box<dyn Observe>>);

impl Observe for Observers {
    fn observe(&mut self, event: &RunEvent) {
        for o in &mut self.0 {
            o.observe(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Status, TaskError};

    #[test]
    fn lines_carry_schema_kind_and_time() {
        let e = RunEvent::NodeFinished {
            name: "load".into(),
            status: Status::Failed,
            attempts: 2,
            duration: Duration::from_millis(1500),
            error: Some(TaskError::new("boom")),
            key: None,
            result: None,
            cache_note: None,
        };
        let line = event_json(&e, Duration::from_micros(2500));
        assert_eq!(
            line.to_string(),
            r#"{"schema":1,"event":"node_finished","at_ms":2.5,"node":"load","status":"failed","attempts":2,"duration_ms":1500.0,"error":{"message":"boom"}}"#
        );
    }

    #[test]
    fn the_log_file_holds_one_line_per_event() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.ndjson");
        let mut log = EventLog::create(&path, "r1", "main").unwrap();
        log.observe(&RunEvent::RunStarted { nodes: 1 });
        log.observe(&RunEvent::RunFinished {
            is_success: true,
            duration: Duration::ZERO,
            interruption: None,
        });
        let text = std::fs::read_to_string(&path).unwrap();
        let kinds: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["event"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(kinds, ["run_started", "run_finished"]);
        assert!(text.contains(r#""run_id":"r1""#));
    }
}
