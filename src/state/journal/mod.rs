//! The run journal, `runs/<id>/journal.jsonl`: what a run did, one JSON object per line,
//! appended while it runs, so that `runs`, `runs show` and a resumed run can read it back even
//! when autowf was killed. The format is described with an example in docs/state.md.
//!
//! Every line carries `"schema": 1` and `"event"`: `run_started` (written when the journal is
//! created), `node_started`, `node_retrying`, `node_expanded`, `node_finished` and
//! `run_finished`. A succeeded node's line holds its result as canonical JSON and the blake3
//! digest of exactly that text.
//!
//! Durability: the scheduler emits events microseconds apart, so the writer makes no system
//! call per event. Lines collect in memory and a background thread appends them to the file
//! at least every 100 ms (sooner when much is pending), and all that is left when the run
//! finishes. A killed autowf therefore loses at most the last fraction of a second of records,
//! and its last line may be torn; the reader skips such a line with a warning, and a resumed
//! run re-runs the nodes whose end was lost. The journal is not fsynced: surviving a power
//! loss is what `summary.json` (written atomically at the end) is for.

mod canonical;
mod reader;
mod writer;

pub(crate) use reader::{JournalSummary, RunStarted, read_journal, read_run_started};
pub(crate) use writer::{JournalWriter, RunFacts};

/// Version of the journal lines; bumped on any change older readers would misread.
pub(crate) const SCHEMA: u32 = 1;

/// The journal's file name in a run directory.
pub(crate) const JOURNAL_FILE: &str = "journal.jsonl";
