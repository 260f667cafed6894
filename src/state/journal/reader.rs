//! The journal's reader: folds the lines into what each node last did, skipping unreadable
//! lines with a warning.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use super::canonical::result_digest;
use super::{JOURNAL_FILE, SCHEMA};
use crate::error::{Error, Result};
use crate::events::{Interruption, Status};

/// The `run_started` line, read back.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub(crate) struct RunStarted {
    pub(crate) run_id: String,
    pub(crate) flow: String,
    pub(crate) file: PathBuf,
    #[serde(default)]
    pub(crate) params: serde_json::Value,
    pub(crate) pid: u32,
    /// The machine that ran it; missing in journals written before autowf recorded it.
    #[serde(default)]
    pub(crate) host: Option<String>,
    /// RFC 3339, UTC.
    pub(crate) started: String,
    pub(crate) autowf_version: String,
}

/// A `node_finished` line, read back.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub(crate) struct NodeFinished {
    pub(crate) status: Status,
    pub(crate) attempts: u32,
    pub(crate) duration_ms: f64,
    #[serde(default)]
    pub(crate) error: Option<String>,
    /// The cache key, when one was computed.
    #[serde(default)]
    pub(crate) key: Option<String>,
    /// blake3 (hex) of `result`'s canonical JSON text; present when the node succeeded.
    #[serde(default)]
    pub(crate) digest: Option<String>,
    /// The result; `Some(Null)` for a result of `()`, `None` when the node did not succeed.
    #[serde(default, deserialize_with = "present")]
    pub(crate) result: Option<serde_json::Value>,
}

impl NodeFinished {
    /// Whether the result and its digest agree (or neither is there). A reused result must
    /// be exactly the one recorded; a damaged line is better re-run.
    fn is_intact(&self) -> bool {
        match (&self.result, &self.digest) {
            (Some(result), Some(digest)) => result_digest(result) == *digest,
            (None, None) => true,
            _ => false,
        }
    }
}

/// The `run_finished` line, read back.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub(crate) struct RunFinished {
    /// `succeeded` or `failed`.
    pub(crate) status: String,
    pub(crate) duration_ms: f64,
    #[serde(default)]
    pub(crate) interrupted: Option<Interruption>,
}

/// One node as the journal tells it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct JournalNode {
    pub(crate) name: String,
    /// The last attempt a `node_started` line recorded (0 when none did).
    pub(crate) last_attempt: u32,
    /// Its last `node_finished` line; `None` when its end was not recorded.
    pub(crate) finished: Option<NodeFinished>,
}

/// What a journal says about its run.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct JournalSummary {
    /// `None` when the `run_started` line is missing or unreadable.
    pub(crate) started: Option<RunStarted>,
    /// Every node that appears, in the order it first appears.
    pub(crate) nodes: Vec<JournalNode>,
    /// `None` when the run did not get to its end (killed, or still running).
    pub(crate) finished: Option<RunFinished>,
    by_name: HashMap<String, usize>,
}

impl JournalSummary {
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "for `run --resume`, which looks nodes up by name")
    )]
    pub(crate) fn node(&self, name: &str) -> Option<&JournalNode> {
        self.by_name.get(name).map(|&i| &self.nodes[i])
    }

    fn node_mut(&mut self, name: String) -> &mut JournalNode {
        let next = self.nodes.len();
        let i = *self.by_name.entry(name.clone()).or_insert(next);
        if i == next {
            self.nodes.push(JournalNode {
                name,
                last_attempt: 0,
                finished: None,
            });
        }
        &mut self.nodes[i]
    }
}

/// Reads a journal. Unreadable lines are skipped, each with a warning (a torn last line is
/// expected after a crash); only failing to read the file is an error.
pub(crate) fn read_journal(path: &Path) -> Result<(JournalSummary, Vec<String>)> {
    let bytes = std::fs::read(path).map_err(|source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(parse_journal(&bytes))
}

/// Reads only the `run_started` line (the first), for listings that need no more.
pub(crate) fn read_run_started(path: &Path) -> Result<Option<RunStarted>> {
    use std::io::BufRead as _;
    let file = File::open(path).map_err(|source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    let mut first = Vec::new();
    std::io::BufReader::new(file)
        .read_until(b'\n', &mut first)
        .map_err(|source| Error::ReadFile {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(match decode_line(&first) {
        Ok(Record::RunStarted(started)) => Some(started),
        _ => None,
    })
}

/// The reader's view of one line.
enum Record {
    RunStarted(RunStarted),
    NodeStarted {
        node: String,
        attempt: u32,
    },
    NodeFinished {
        node: String,
        line: NodeFinished,
    },
    RunFinished(RunFinished),
    /// A kind this reader does not use (`node_retrying`, `node_expanded`, newer kinds).
    Other,
}

enum LineError {
    Invalid,
    Schema(u64),
}

#[derive(Deserialize)]
struct Envelope {
    schema: u64,
    event: String,
}

#[derive(Deserialize)]
struct NodeAttempt {
    node: String,
    attempt: u32,
}

#[derive(Deserialize)]
struct NodeFinishedEnvelope {
    node: String,
    #[serde(flatten)]
    line: NodeFinished,
}

fn decode_line(line: &[u8]) -> Result<Record, LineError> {
    let value: serde_json::Value = serde_json::from_slice(line).map_err(|_| LineError::Invalid)?;
    let envelope = Envelope::deserialize(&value).map_err(|_| LineError::Invalid)?;
    if envelope.schema != u64::from(SCHEMA) {
        return Err(LineError::Schema(envelope.schema));
    }
    let record = match envelope.event.as_str() {
        "run_started" => RunStarted::deserialize(value).map(Record::RunStarted),
        "node_started" => NodeAttempt::deserialize(value).map(|a| Record::NodeStarted {
            node: a.node,
            attempt: a.attempt,
        }),
        "node_finished" => NodeFinishedEnvelope::deserialize(value).map(|f| Record::NodeFinished {
            node: f.node,
            line: f.line,
        }),
        "run_finished" => RunFinished::deserialize(value).map(Record::RunFinished),
        _ => Ok(Record::Other),
    };
    record.map_err(|_| LineError::Invalid)
}

/// Folds a journal's lines into a summary, with a warning for each line skipped.
pub(crate) fn parse_journal(bytes: &[u8]) -> (JournalSummary, Vec<String>) {
    let mut summary = JournalSummary::default();
    let mut warnings = Vec::new();
    let lines: Vec<(usize, &[u8])> = bytes
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
        .map(|(i, l)| (i + 1, l))
        .collect();
    let last = lines.last().map(|&(n, _)| n);
    for (number, line) in lines {
        let record = match decode_line(line) {
            Ok(record) => record,
            Err(LineError::Invalid) if Some(number) == last => {
                warnings.push(format!(
                    "{JOURNAL_FILE} line {number} is incomplete (the run was probably killed \
                     while writing it); ignored"
                ));
                continue;
            }
            Err(LineError::Invalid) => {
                warnings.push(format!(
                    "{JOURNAL_FILE} line {number} is not a valid journal record; ignored"
                ));
                continue;
            }
            Err(LineError::Schema(found)) => {
                warnings.push(format!(
                    "{JOURNAL_FILE} line {number} has schema {found}, this autowf reads schema \
                     {SCHEMA}; ignored"
                ));
                continue;
            }
        };
        match record {
            Record::RunStarted(started) => summary.started = Some(started),
            Record::NodeStarted { node, attempt } => summary.node_mut(node).last_attempt = attempt,
            Record::NodeFinished { node, mut line } => {
                if !line.is_intact() {
                    warnings.push(format!(
                        "{JOURNAL_FILE} line {number}: the result of `{node}` does not match \
                         its digest; result ignored"
                    ));
                    line.result = None;
                    line.digest = None;
                }
                summary.node_mut(node).finished = Some(line);
            }
            Record::RunFinished(finished) => summary.finished = Some(finished),
            Record::Other => {}
        }
    }
    (summary, warnings)
}

/// Deserializes a field that is present as `Some`, even when it is `null`.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<serde_json::Value>, D::Error> {
    serde_json::Value::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value as J, json};

    use super::super::writer::tests::{finished, lines_of};
    use super::*;

    const STARTED: &str = r#"{"schema":1,"event":"run_started","run_id":"r1","flow":"main","file":"/w/main.rhai","params":{"day":"mon"},"pid":7,"started":"2024-05-01T08:00:00.000Z","autowf_version":"0.1.0"}"#;

    #[test]
    fn a_torn_last_line_is_skipped_with_a_warning() {
        let text = format!(
            "{STARTED}\n{}{{\"schema\":1,\"event\":\"node_fin",
            lines_of(&finished("a", Status::Succeeded, Some(json!(1))))
        );
        let (summary, warnings) = parse_journal(text.as_bytes());
        assert_eq!(
            warnings,
            [
                "journal.jsonl line 3 is incomplete (the run was probably killed while writing it); ignored"
            ]
        );
        assert_eq!(summary.started.unwrap().flow, "main");
        assert_eq!(summary.nodes.len(), 1);
        assert!(summary.finished.is_none());
    }

    #[test]
    fn a_garbled_middle_line_is_skipped_and_the_rest_read() {
        let text = format!(
            "{STARTED}\nnot json at all\n{{\"schema\":1,\"event\":\"node_finished\",\"node\":\"a\"}}\n{{\"schema\":2,\"event\":\"node_started\"}}\n{}{}",
            lines_of(&finished("b", Status::Failed, None)),
            "{\"schema\":1,\"event\":\"run_finished\",\"status\":\"failed\",\"duration_ms\":1.0}\n"
        );
        let (summary, warnings) = parse_journal(text.as_bytes());
        assert_eq!(
            warnings,
            [
                "journal.jsonl line 2 is not a valid journal record; ignored",
                "journal.jsonl line 3 is not a valid journal record; ignored",
                "journal.jsonl line 4 has schema 2, this autowf reads schema 1; ignored",
            ]
        );
        let b = summary.node("b").unwrap().finished.as_ref().unwrap();
        assert_eq!(b.error.as_deref(), Some("boom"));
        assert_eq!(b.result, None);
        assert!(summary.finished.is_some());
    }

    #[test]
    fn the_last_finish_of_a_node_wins_and_a_null_result_is_kept() {
        let text = format!(
            "{}{}",
            lines_of(&finished("a", Status::Failed, None)),
            lines_of(&finished("a", Status::Succeeded, Some(J::Null)))
        );
        let (summary, warnings) = parse_journal(text.as_bytes());
        assert!(warnings.is_empty());
        assert!(summary.started.is_none());
        let a = summary.node("a").unwrap().finished.as_ref().unwrap();
        assert_eq!(
            (a.status, a.result.clone()),
            (Status::Succeeded, Some(J::Null))
        );
    }

    #[test]
    fn a_result_that_does_not_match_its_digest_is_dropped() {
        let line = lines_of(&finished("a", Status::Succeeded, Some(json!({ "n": 12 }))));
        let damaged = line.replace(r#""result":{"n":12}"#, r#""result":{"n":13}"#);
        assert_ne!(line, damaged);
        let (summary, warnings) = parse_journal(damaged.as_bytes());
        assert_eq!(
            warnings,
            ["journal.jsonl line 1: the result of `a` does not match its digest; result ignored"]
        );
        let a = summary.node("a").unwrap().finished.as_ref().unwrap();
        assert_eq!(
            (a.status, &a.result, &a.digest),
            (Status::Succeeded, &None, &None)
        );
        let (summary, warnings) = parse_journal(line.as_bytes());
        assert!(warnings.is_empty());
        let a = summary.node("a").unwrap().finished.as_ref().unwrap();
        assert_eq!(a.result, Some(json!({ "n": 12 })));
    }

    #[test]
    fn an_empty_journal_says_nothing() {
        assert_eq!(parse_journal(b""), (JournalSummary::default(), Vec::new()));
        assert_eq!(
            parse_journal(b"\n\n"),
            (JournalSummary::default(), Vec::new())
        );
    }

    #[test]
    fn a_missing_journal_is_a_read_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_journal(&dir.path().join(JOURNAL_FILE)).unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err}");
    }
}
