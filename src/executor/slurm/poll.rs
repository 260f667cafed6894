//! The run's one Slurm poller: a background task that asks about every outstanding job with a
//! single `squeue` call per tick (never a process per job), tells each attempt when its job
//! starts running and how it ended, and cancels jobs with one `scancel` per batch of requests.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::mpsc;

/// How often outstanding jobs are looked at.
pub(super) const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Failed `squeue` calls in a row (about 30 s) after which every watched job is given up.
const MAX_FAILED_POLLS: u32 = 60;
/// The `squeue --Format` that gives every field the poller needs in one call: the exit code
/// comes with the state, so no `scontrol` call is needed when a job ends.
const SQUEUE_FORMAT: &str = "JobID:|,State:|,Reason:|,exit_code:|";

/// How a job's process ended, from Slurm's wait status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ExitStatus {
    Code(i32),
    Signal(i32),
}

impl ExitStatus {
    /// Decodes a wait status as `squeue`'s `exit_code` field gives it (256 is exit code 1).
    fn from_wait_status(raw: i32) -> Self {
        if raw & 0x7f == 0 {
            Self::Code((raw >> 8) & 0xff)
        } else {
            Self::Signal(raw & 0x7f)
        }
    }
}

/// One job's line of `squeue` output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct JobRow {
    pub(super) id: u64,
    pub(super) state: String,
    pub(super) reason: String,
    pub(super) exit: ExitStatus,
}

impl JobRow {
    /// Whether the job is over: Slurm will not change its state any more.
    pub(super) fn is_final(&self) -> bool {
        !matches!(
            self.state.as_str(),
            "PENDING"
                | "RUNNING"
                | "COMPLETING"
                | "CONFIGURING"
                | "SUSPENDED"
                | "REQUEUED"
                | "REQUEUE_HOLD"
                | "REQUEUE_FED"
                | "RESIZING"
                | "SIGNALING"
                | "STAGE_OUT"
                | "STOPPED"
                | "RESV_DEL_HOLD"
        )
    }
}

/// Parses `squeue --noheader --Format=` [`SQUEUE_FORMAT`] output; lines it cannot read are
/// skipped (a job missing from the answer counts as gone).
pub(super) fn parse_squeue(text: &str) -> BTreeMap<u64, JobRow> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split('|').map(str::trim);
            let id = fields.next()?.parse().ok()?;
            let state = fields.next()?.to_owned();
            let reason = fields.next()?.to_owned();
            let exit = ExitStatus::from_wait_status(fields.next()?.parse().ok()?);
            // A state may carry a suffix ("CANCELLED by 0") in some versions.
            let state = state.split_whitespace().next()?.to_owned();
            Some((
                id,
                JobRow {
                    id,
                    state,
                    reason,
                    exit,
                },
            ))
        })
        .collect()
}

/// What an attempt hears about its job.
#[derive(Debug)]
pub(super) enum Update {
    /// Seen running for the first time.
    Started,
    /// Over, with its final state.
    Ended(JobRow),
    /// Slurm does not know the job any more (or cannot be asked): why.
    Lost(String),
}

enum Request {
    Watch {
        id: u64,
        tx: mpsc::UnboundedSender<Update>,
    },
    Cancel(u64),
}

/// The handle attempts use; the task behind it lives as long as one handle does.
#[derive(Clone)]
pub(super) struct Poller {
    tx: mpsc::UnboundedSender<Request>,
}

impl Poller {
    /// Starts the poller on the current tokio runtime.
    pub(super) fn start(interval: Duration) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(serve(rx, interval));
        Self { tx }
    }

    /// Watches job `id` until it ends; the receiver gets [`Update`]s.
    pub(super) fn watch(&self, id: u64) -> mpsc::UnboundedReceiver<Update> {
        let (tx, rx) = mpsc::unbounded_channel();
        if self.tx.send(Request::Watch { id, tx: tx.clone() }).is_err() {
            let _ = tx.send(Update::Lost("the Slurm poller has stopped".to_owned()));
        }
        rx
    }

    /// Asks for job `id` to be cancelled; requests that arrive together share one `scancel`.
    pub(super) fn cancel(&self, id: u64) {
        let _ = self.tx.send(Request::Cancel(id));
    }
}

struct Watched {
    tx: mpsc::UnboundedSender<Update>,
    has_started: bool,
}

async fn serve(mut rx: mpsc::UnboundedReceiver<Request>, interval: Duration) {
    let mut jobs: BTreeMap<u64, Watched> = BTreeMap::new();
    let mut failures = 0;
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            request = rx.recv() => {
                let Some(request) = request else { break };
                let mut cancels = Vec::new();
                take(request, &mut jobs, &mut cancels);
                while let Ok(request) = rx.try_recv() {
                    take(request, &mut jobs, &mut cancels);
                }
                if !cancels.is_empty() {
                    scancel(&cancels).await;
                }
            }
            _ = tick.tick(), if !jobs.is_empty() => poll(&mut jobs, &mut failures).await,
        }
    }
    // Every handle is gone, so no attempt waits any more: leave nothing queued behind.
    let left: Vec<u64> = jobs.keys().copied().collect();
    if !left.is_empty() {
        scancel(&left).await;
    }
}

fn take(request: Request, jobs: &mut BTreeMap<u64, Watched>, cancels: &mut Vec<u64>) {
    match request {
        Request::Watch { id, tx } => {
            jobs.insert(
                id,
                Watched {
                    tx,
                    has_started: false,
                },
            );
        }
        Request::Cancel(id) => cancels.push(id),
    }
}

/// One look at every watched job.
async fn poll(jobs: &mut BTreeMap<u64, Watched>, failures: &mut u32) {
    let ids: Vec<u64> = jobs.keys().copied().collect();
    let rows = match squeue(&ids).await {
        Ok(rows) => {
            *failures = 0;
            rows
        }
        Err(why) => {
            *failures += 1;
            tracing::warn!("cannot ask Slurm about {} job(s): {why}", ids.len());
            if *failures >= MAX_FAILED_POLLS {
                for (_, w) in std::mem::take(jobs) {
                    let message = format!("Slurm could not be asked about the job: {why}");
                    let _ = w.tx.send(Update::Lost(message));
                }
            }
            return;
        }
    };
    for id in ids {
        let watched = jobs
            .get_mut(&id)
            .expect("invariant: polled ids are watched");
        let update = match rows.get(&id) {
            Some(row) if row.is_final() => Update::Ended(row.clone()),
            Some(row) if row.state != "PENDING" && !watched.has_started => {
                watched.has_started = true;
                if watched.tx.send(Update::Started).is_err() {
                    jobs.remove(&id);
                }
                continue;
            }
            Some(_) => continue,
            None => Update::Lost(format!(
                "Slurm no longer knows job {id} (its record expired or the controller restarted)"
            )),
        };
        if let Some(w) = jobs.remove(&id) {
            let _ = w.tx.send(update);
        }
    }
}

/// One `squeue` call for `ids`, in every state (finished jobs stay listed for `MinJobAge`).
async fn squeue(ids: &[u64]) -> Result<BTreeMap<u64, JobRow>, String> {
    let list = join_ids(ids, ",");
    let output = tokio::process::Command::new("squeue")
        .args(["--noheader", "--states=all"])
        .arg(format!("--jobs={list}"))
        .arg(format!("--Format={SQUEUE_FORMAT}"))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run squeue: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        // Asked only about jobs it has forgotten, squeue fails instead of listing nothing.
        if stderr.contains("Invalid job id") {
            return Ok(BTreeMap::new());
        }
        return Err(format!("squeue failed: {}", stderr.trim()));
    }
    Ok(parse_squeue(&String::from_utf8_lossy(&output.stdout)))
}

/// One `scancel` for `ids`; a job that already ended is no error worth more than a note.
pub(super) async fn scancel(ids: &[u64]) {
    let result = tokio::process::Command::new("scancel")
        .args(ids.iter().map(u64::to_string))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await;
    match result {
        Ok(out) if !out.status.success() => tracing::debug!(
            "scancel {}: {}",
            join_ids(ids, " "),
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!("cannot run scancel: {e}"),
    }
}

fn join_ids(ids: &[u64], sep: &str) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeue_rows_are_parsed_with_their_exit_status() {
        // As squeue 22.05 prints it, padding included.
        let text = "7|FAILED|NonZeroExitCode|256|\n\
                    8|RUNNING|None|0|\n\
                    9|CANCELLED|None|15|   \n\
                    not a row\n\
                    10|COMPLETED|None|0|\n";
        let rows = parse_squeue(text);
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[&7].exit, ExitStatus::Code(1));
        assert_eq!(rows[&7].reason, "NonZeroExitCode");
        assert!(rows[&7].is_final());
        assert!(!rows[&8].is_final());
        assert_eq!(rows[&9].exit, ExitStatus::Signal(15));
        assert_eq!(rows[&9].state, "CANCELLED");
        assert_eq!(rows[&10].exit, ExitStatus::Code(0));
    }

    #[test]
    fn states_that_may_still_change_are_not_final() {
        let row = |state: &str| JobRow {
            id: 1,
            state: state.to_owned(),
            reason: String::new(),
            exit: ExitStatus::Code(0),
        };
        for state in [
            "PENDING",
            "RUNNING",
            "COMPLETING",
            "CONFIGURING",
            "SUSPENDED",
        ] {
            assert!(!row(state).is_final(), "{state}");
        }
        for state in [
            "COMPLETED",
            "FAILED",
            "TIMEOUT",
            "CANCELLED",
            "OUT_OF_MEMORY",
        ] {
            assert!(row(state).is_final(), "{state}");
        }
    }

    #[test]
    fn wait_statuses_decode_to_codes_and_signals() {
        assert_eq!(ExitStatus::from_wait_status(0), ExitStatus::Code(0));
        assert_eq!(
            ExitStatus::from_wait_status(124 << 8),
            ExitStatus::Code(124)
        );
        assert_eq!(ExitStatus::from_wait_status(9), ExitStatus::Signal(9));
    }
}
