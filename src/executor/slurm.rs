//! The Slurm executor: attempts whose executor is `slurm` become batch jobs, submitted with
//! `sbatch`, watched by the run's one poller and cancelled with `scancel`. It routes inside
//! the [`LocalExecutor`], so the cache, `--resume`, artifacts and `retry_on` work as for local
//! attempts. The run directory must be on a filesystem the compute nodes share.

mod follow;
mod poll;
mod submit;
mod submit_all;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use follow::Follower;
use poll::{ExitStatus, JobRow, Poller, Update};
use submit::{JobFiles, Submission};
pub(crate) use submit_all::{SubmittedJob, refusals as submit_all_refusals, submit_all};

use super::local::{LocalExecutor, attempt_of, shell_outcome, worker_executable, worker_outcome};
use super::process::ProcessOutcome;
use crate::dag::{Node, NodeId, NodeKind};
use crate::events::TaskError;
use crate::scheduler::{Job, Outcome};
use crate::script::{Attempt, ExecutorKind, RunInfo};
use crate::stop::Stop;

/// The tools the executor runs; all must be on `PATH`.
const TOOLS: [&str; 3] = ["sbatch", "squeue", "scancel"];
/// How long past its timeout (and grace) a running job may go before autowf cancels it,
/// allowing for the poll interval and the job's own `timeout` wrapper to act first.
const DEADLINE_SLACK: Duration = Duration::from_secs(2);
/// How long a cancelled job may take to leave the queue before the attempt stops waiting.
const LEAVE_QUEUE_LIMIT: Duration = Duration::from_secs(20);

/// One run's Slurm executor.
pub(crate) struct Slurm {
    flow: String,
    /// `runs/<id>/slurm/`: job scripts, output files, worker requests and replies.
    dir: PathBuf,
    /// Where `sh(...)` steps (which have no task options) and tasks without an `executor`
    /// option run: the run's `--executor`.
    is_default: bool,
    poller: OnceLock<Poller>,
    /// Jobs submitted and not yet seen ending, for the sweep at the end of the run.
    outstanding: Mutex<BTreeSet<u64>>,
}

/// Why autowf stopped waiting for a job before it ended by itself.
enum GaveUp {
    Lost(String),
    TimedOut,
    Cancelled,
}

/// How waiting for a job ended: the job's final row, or why there is none.
type Waited = Result<JobRow, GaveUp>;

impl Slurm {
    pub(crate) fn new(info: &RunInfo, default: ExecutorKind) -> Self {
        Self {
            flow: info.flow.clone(),
            dir: info.run_dir.join("slurm"),
            is_default: default == ExecutorKind::Slurm,
            poller: OnceLock::new(),
            outstanding: Mutex::new(BTreeSet::new()),
        }
    }

    /// Whether `node` runs on Slurm: tasks and shell steps do (expansions always run here).
    pub(crate) fn takes(&self, node: &Node) -> bool {
        !node.kind.is_expansion()
            && match node.options.executor {
                Some(kind) => kind == ExecutorKind::Slurm,
                None => self.is_default,
            }
    }

    /// Runs one attempt as a batch job and waits for it.
    pub(super) async fn run(&self, exec: &LocalExecutor, job: &Job) -> Outcome {
        let attempt = attempt_of(job);
        let files = JobFiles::new(&self.dir, &job.node.name, job.attempt);
        let outcome = match job.node.kind {
            NodeKind::Shell | NodeKind::Sh => self.run_shell(exec, job, &attempt, &files).await,
            _ => self.run_worker(exec, job, &attempt, &files).await,
        };
        outcome.unwrap_or_else(|error| Outcome::Failed {
            error,
            is_retryable: true,
        })
    }

    async fn run_shell(
        &self,
        exec: &LocalExecutor,
        job: &Job,
        attempt: &Attempt,
        files: &JobFiles,
    ) -> Result<Outcome, TaskError> {
        let inputs = |id: NodeId| job.input(id);
        let command = exec
            .runtime
            .shell_command(&job.node.payload, &inputs, attempt)?;
        let spec = exec.runtime.shell_spec(command.clone(), attempt);
        let script = submit::shell_script(
            &submit::CommandLine::Known(&command),
            &spec.env,
            attempt.timeout,
            attempt.kill_grace,
        );
        write_private(&files.script, script.as_bytes()).await?;
        let (id, ended) = match self.run_job(job, attempt, files, &spec.cwd).await? {
            Ok(ran) => ran,
            Err(outcome) => return Ok(outcome),
        };
        // The job's `timeout` wrapper exits with 124 when it stops the command.
        if matches!(ended, ProcessOutcome::Exited { code: 124, .. }) && attempt.timeout.is_some() {
            return Ok(Outcome::TimedOut { is_retryable: true });
        }
        Ok(in_job(id, shell_outcome(ended, job.node.options.output)))
    }

    async fn run_worker(
        &self,
        exec: &LocalExecutor,
        job: &Job,
        attempt: &Attempt,
        files: &JobFiles,
    ) -> Result<Outcome, TaskError> {
        let inputs = |id: NodeId| job.input(id);
        let request = exec.runtime.worker_request(&job.node, &inputs, attempt)?;
        let exe = worker_executable()?;
        // The request may carry secrets (`env`): only the run's user may read it.
        write_private(&files.request, &request).await?;
        write_private(
            &files.script,
            submit::worker_script(&exe, files, false).as_bytes(),
        )
        .await?;
        let (id, ended) = match self.run_job(job, attempt, files, &started_in()).await? {
            Ok(ran) => ran,
            Err(outcome) => return Ok(outcome),
        };
        Ok(in_job(id, worker_outcome(ended)))
    }

    /// Submits the attempt's written job script, follows its stderr and waits for it: the job
    /// id and how it ended as a process (its output read from the job's stdout file, or a
    /// worker's reply file), or the outcome that stands instead (cancelled, timed out, lost).
    async fn run_job(
        &self,
        job: &Job,
        attempt: &Attempt,
        files: &JobFiles,
        cwd: &Path,
    ) -> Result<Result<(u64, ProcessOutcome), Outcome>, TaskError> {
        let is_worker = !matches!(job.node.kind, NodeKind::Shell | NodeKind::Sh);
        let id = self.submit(job, attempt, files, cwd).await?;
        // A worker's lines already carry their node's name.
        let label = if is_worker {
            ""
        } else {
            job.node.name.as_str()
        };
        let mut stderr = Follower::new(files.stderr.clone(), label);
        let waited = self.wait(id, attempt, &job.stop, &mut stderr).await;
        let stderr_tail = stderr.finish().await;
        let row = match waited {
            Ok(row) => row,
            Err(why) => return Ok(Err(stopped(id, why))),
        };
        let status = match ended_as(&row) {
            Ok(status) => status,
            Err(outcome) => return Ok(Err(outcome)),
        };
        let output = if is_worker {
            &files.reply
        } else {
            &files.stdout
        };
        Ok(Ok((
            id,
            ProcessOutcome::Exited {
                code: status_code(status),
                stdout: read_bytes(output).await,
                stderr_tail,
            },
        )))
    }

    /// Submits the attempt's job script; the job id.
    async fn submit(
        &self,
        job: &Job,
        attempt: &Attempt,
        files: &JobFiles,
        cwd: &Path,
    ) -> Result<u64, TaskError> {
        let resources = &job.node.options.slurm;
        let args = submit::sbatch_args(&Submission {
            name: format!("autowf:{}:{}", self.flow, job.node.name),
            files,
            cwd,
            resources,
            minutes: submit::time_minutes(resources, attempt.timeout, attempt.kill_grace),
            after: &[],
        });
        let id = submit::sbatch(&args).await.map_err(TaskError::new)?;
        self.outstanding
            .lock()
            .expect("invariant: the outstanding set is never poisoned")
            .insert(id);
        tracing::debug!("`{}` is Slurm job {id}", job.node.name);
        Ok(id)
    }

    /// Waits for job `id` to end, forwarding its stderr as it comes. Its timeout counts from
    /// when it is seen running; when that passes (plus grace and slack) or the attempt is
    /// cancelled, the job is cancelled and waited for, briefly, until it has left the queue.
    async fn wait(&self, id: u64, attempt: &Attempt, stop: &Stop, stderr: &mut Follower) -> Waited {
        let poller = self
            .poller
            .get_or_init(|| Poller::start(poll::POLL_INTERVAL));
        let mut updates = poller.watch(id);
        let allowed = attempt
            .timeout
            .map(|t| t + attempt.kill_grace + DEADLINE_SLACK);
        let mut deadline: Option<Instant> = None;
        let mut follow = tokio::time::interval(poll::POLL_INTERVAL);
        follow.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let waited = loop {
            let expiry = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                update = updates.recv() => match update {
                    Some(Update::Started) => deadline = allowed.map(|a| Instant::now() + a),
                    Some(Update::Ended(row)) => break Ok(row),
                    Some(Update::Lost(why)) => break Err(GaveUp::Lost(why)),
                    None => break Err(GaveUp::Lost("the Slurm poller has stopped".to_owned())),
                },
                () = expiry => {
                    leave_queue(poller, id, &mut updates, stop).await;
                    break Err(GaveUp::TimedOut);
                }
                () = stop.cancel.cancelled() => {
                    leave_queue(poller, id, &mut updates, stop).await;
                    break Err(GaveUp::Cancelled);
                }
                _ = follow.tick() => stderr.read_new().await,
            }
        };
        self.outstanding
            .lock()
            .expect("invariant: the outstanding set is never poisoned")
            .remove(&id);
        waited
    }

    /// Cancels the jobs the run still has in the queue (those whose attempts gave up waiting
    /// for them to leave); called once the run is over.
    pub(crate) fn cancel_leftovers(&self) {
        let ids: Vec<String> = self
            .outstanding
            .lock()
            .expect("invariant: the outstanding set is never poisoned")
            .iter()
            .map(u64::to_string)
            .collect();
        if ids.is_empty() {
            return;
        }
        tracing::warn!("cancelling {} Slurm job(s) left by the run", ids.len());
        let _ = std::process::Command::new("scancel")
            .args(&ids)
            .stdin(std::process::Stdio::null())
            .status();
    }
}

/// Where autowf was started: the working directory of a worker in a job (the request names
/// the flow file as autowf was given it).
fn started_in() -> PathBuf {
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
}

/// Checks that Slurm's command-line tools are on `PATH`; the error names the missing ones.
pub(crate) fn check_tools() -> Result<(), crate::error::Error> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let missing: Vec<&'static str> = TOOLS
        .iter()
        .copied()
        .filter(|tool| !std::env::split_paths(&path).any(|dir| is_executable(&dir.join(tool))))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(crate::error::Error::SlurmToolsMissing { missing })
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Asks for the job to be cancelled and waits until the poller sees it gone (bounded; cut
/// short by a second Ctrl-C).
async fn leave_queue(
    poller: &Poller,
    id: u64,
    updates: &mut mpsc::UnboundedReceiver<Update>,
    stop: &Stop,
) {
    poller.cancel(id);
    let gone = async {
        while let Some(update) = updates.recv().await {
            if !matches!(update, Update::Started) {
                break;
            }
        }
    };
    tokio::select! {
        _ = tokio::time::timeout(LEAVE_QUEUE_LIMIT, gone) => {}
        () = stop.hurry.cancelled() => {}
    }
}

/// A finished job's exit status, or the outcome its Slurm state means by itself.
fn ended_as(row: &JobRow) -> Result<ExitStatus, Outcome> {
    match row.state.as_str() {
        "COMPLETED" | "FAILED" => Ok(row.exit),
        "TIMEOUT" | "DEADLINE" => Err(Outcome::TimedOut { is_retryable: true }),
        "CANCELLED" => Err(Outcome::Cancelled),
        "OUT_OF_MEMORY" => Err(Outcome::failed(TaskError::new(format!(
            "Slurm job {} ran out of memory (raise the task's `mem` option)",
            row.id
        )))),
        other => {
            let reason = match row.reason.as_str() {
                "" | "None" => String::new(),
                r => format!(" ({r})"),
            };
            Err(Outcome::failed(TaskError::new(format!(
                "Slurm job {} ended as {other}{reason}",
                row.id
            ))))
        }
    }
}

/// An exit status as a shell reports it: the code, or 128 plus the signal.
fn status_code(status: ExitStatus) -> i32 {
    match status {
        ExitStatus::Code(code) => code,
        ExitStatus::Signal(signal) => 128 + signal,
    }
}

/// The outcome of a job autowf stopped waiting for.
fn stopped(id: u64, why: GaveUp) -> Outcome {
    match why {
        GaveUp::TimedOut => Outcome::TimedOut { is_retryable: true },
        GaveUp::Cancelled => Outcome::Cancelled,
        GaveUp::Lost(why) => Outcome::failed(TaskError::new(format!("Slurm job {id}: {why}"))),
    }
}

/// Names the job in a failure message.
fn in_job(id: u64, outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Failed {
            mut error,
            is_retryable,
        } => {
            error.message = format!("{} (Slurm job {id})", error.message);
            Outcome::Failed {
                error,
                is_retryable,
            }
        }
        other => other,
    }
}

/// Writes a file only the run's user can read, creating the directory. On a blocking
/// thread: the run directory may be on a network filesystem.
async fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TaskError> {
    let (path, bytes) = (path.to_path_buf(), bytes.to_vec());
    let written = tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut f| f.write_all(&bytes))
            .map_err(fail)
    })
    .await;
    match written {
        Ok(result) => result.map_err(TaskError::new),
        Err(e) => Err(TaskError::new(format!("cannot write a job file: {e}"))),
    }
}

/// A job's output file; a missing one (the job never started) reads as empty.
async fn read_bytes(path: &Path) -> Vec<u8> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || std::fs::read(path).unwrap_or_default())
        .await
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(state: &str, exit: ExitStatus) -> JobRow {
        JobRow {
            id: 7,
            state: state.to_owned(),
            reason: "NodeDown".to_owned(),
            exit,
        }
    }

    #[test]
    fn final_states_map_to_outcomes() {
        assert!(matches!(
            ended_as(&row("COMPLETED", ExitStatus::Code(0))),
            Ok(ExitStatus::Code(0))
        ));
        assert!(matches!(
            ended_as(&row("FAILED", ExitStatus::Code(3))),
            Ok(ExitStatus::Code(3))
        ));
        assert!(matches!(
            ended_as(&row("TIMEOUT", ExitStatus::Signal(15))),
            Err(Outcome::TimedOut { .. })
        ));
        assert!(matches!(
            ended_as(&row("CANCELLED", ExitStatus::Signal(15))),
            Err(Outcome::Cancelled)
        ));
        let Err(Outcome::Failed { error, .. }) = ended_as(&row("NODE_FAIL", ExitStatus::Code(0)))
        else {
            panic!("a node failure fails the attempt");
        };
        assert_eq!(error.message, "Slurm job 7 ended as NODE_FAIL (NodeDown)");
        let Err(Outcome::Failed { error, .. }) =
            ended_as(&row("OUT_OF_MEMORY", ExitStatus::Code(0)))
        else {
            panic!("running out of memory fails the attempt");
        };
        assert!(error.message.contains("ran out of memory"));
    }

    #[test]
    fn signals_read_as_shell_exit_codes() {
        assert_eq!(status_code(ExitStatus::Signal(9)), 137);
        assert_eq!(status_code(ExitStatus::Code(2)), 2);
    }
}
