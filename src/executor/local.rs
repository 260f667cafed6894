//! The local executor: Rhai tasks and expansions on tokio's blocking pool (bounded by `--jobs`
//! through the dispatcher), shell commands as async child processes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::dag::{NodeId, NodeKind};
use crate::events::TaskError;
use crate::scheduler::{BATCH_BUDGET, BatchCompleter, Completer, Execute, Job, Outcome};
use crate::script::{
    Attempt, CallResult, OutputFormat, RetryOn, RunIn, Runtime, Stopped, Value, WorkerResponse,
    parse_output, parse_response,
};
use crate::state::artifacts::{self, ArtifactRecord, RunArtifacts};

use super::caching::{Pending, RunCache, is_cached};
use super::process::{self, ProcessOutcome, ProcessSpec, Program};
use super::resume::Resume;
use super::slurm::Slurm;

pub(crate) struct LocalExecutor {
    pub(super) runtime: Runtime,
    pub(super) cache: Option<Arc<RunCache>>,
    pub(super) resume: Option<Arc<Resume>>,
    /// Where attempts whose executor is `slurm` go; `None` in runs that cannot use Slurm.
    pub(super) slurm: Option<Arc<Slurm>>,
}

impl LocalExecutor {
    /// An executor for one run; `cache` is the run's result cache, `resume` what an earlier
    /// run left for `--resume`.
    pub(crate) fn new(
        runtime: Runtime,
        cache: Option<Arc<RunCache>>,
        resume: Option<Arc<Resume>>,
    ) -> Self {
        Self {
            runtime,
            cache,
            resume,
            slurm: None,
        }
    }

    /// Sends the attempts whose executor is `slurm` to `slurm`.
    pub(crate) fn with_slurm(mut self, slurm: Arc<Slurm>) -> Self {
        self.slurm = Some(slurm);
        self
    }

    /// The Slurm executor, when `job` runs there. One check on the hot path of local runs.
    fn slurm_for(&self, job: &Job) -> Option<&Arc<Slurm>> {
        self.slurm.as_ref().filter(|s| s.takes(&job.node))
    }

    /// The earlier result of `job`'s node under `--resume`, when it may be reused.
    fn resumed(&self, job: &Job) -> Option<Outcome> {
        self.resume.as_deref().and_then(|r| self.reuse(job, r))
    }

    /// Starts `job` once the cache has missed (`pending`: what to store on success), or
    /// right away for a node that is not cached.
    fn launch(self: &Arc<Self>, job: Job, done: Completer, pending: Option<Pending>) {
        let this = self.clone();
        if let Some(slurm) = self.slurm_for(&job).cloned() {
            tokio::spawn(async move {
                let outcome = slurm.run(&this, &job).await;
                this.deliver(job, outcome, pending, done);
            });
            return;
        }
        match job.node.kind {
            NodeKind::Task if job.node.options.run_in == RunIn::Process => {
                tokio::spawn(async move {
                    let outcome = this.run_worker(&job).await;
                    this.deliver(job, outcome, pending, done);
                });
            }
            NodeKind::Shell | NodeKind::Sh => {
                tokio::spawn(async move {
                    let outcome = this.run_shell(&job).await;
                    this.deliver(job, outcome, pending, done);
                });
            }
            NodeKind::Task | NodeKind::Map | NodeKind::Then => {
                tokio::task::spawn_blocking(move || {
                    let outcome = this.run_blocking(&job);
                    let outcome = this.judge(&job, this.keyed(&job, outcome, pending));
                    done.finish(outcome);
                });
            }
        }
    }

    /// Reports an attempt that ran on the async side; storing a cached result touches the
    /// disk, so that part goes to a blocking thread.
    fn deliver(
        self: Arc<Self>,
        job: Job,
        outcome: Outcome,
        pending: Option<Pending>,
        done: Completer,
    ) {
        if pending.is_some() && matches!(outcome, Outcome::Succeeded(..)) {
            tokio::task::spawn_blocking(move || {
                let outcome = self.judge(&job, self.keyed(&job, outcome, pending));
                done.finish(outcome);
            });
        } else {
            let outcome = self.judge(&job, self.keyed(&job, outcome, pending));
            done.finish(outcome);
        }
    }
}

impl Execute for LocalExecutor {
    fn start(self: &Arc<Self>, job: Job, done: Completer) {
        let may_reuse = self.resume.as_ref().is_some_and(|r| r.may_reuse(&job));
        let is_cached = is_cached(&job.node, self.cache.as_deref());
        if !may_reuse && !is_cached {
            return self.launch(job, done, None);
        }
        // Both look at files (and may call a `cache_key` closure): off the async threads.
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            if let Some(reused) = this.resumed(&job) {
                return done.finish(reused);
            }
            let Some(cache) = this.cache.as_deref().filter(|_| is_cached) else {
                return this.launch(job, done, None);
            };
            match this.look_up(&job, cache) {
                Ok(Ok(hit)) => done.finish(hit),
                Ok(Err(pending)) => this.launch(job, done, Some(pending)),
                Err(error) => {
                    let outcome = Outcome::Failed {
                        error,
                        is_retryable: false,
                    };
                    done.finish(outcome);
                }
            }
        });
    }

    fn run_now(&self, job: &Job) -> Option<Outcome> {
        let is_plain_call = job.node.kind == NodeKind::Task
            && job.node.options.run_in == RunIn::Thread
            && self.slurm_for(job).is_none();
        is_plain_call.then(|| {
            self.resumed(job)
                .unwrap_or_else(|| self.judge(job, self.keyed(job, self.run_blocking(job), None)))
        })
    }

    fn start_batch(self: &Arc<Self>, jobs: Vec<Job>, done: BatchCompleter) {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let began = Instant::now();
            let mut ran = Vec::with_capacity(jobs.len());
            for job in &jobs {
                if began.elapsed() >= BATCH_BUDGET || job.stop.cancel.is_cancelled() {
                    break;
                }
                let start = Instant::now();
                let outcome = this.resumed(job).unwrap_or_else(|| {
                    this.judge(job, this.keyed(job, this.run_blocking(job), None))
                });
                ran.push((job.node.id, outcome, start.elapsed()));
            }
            done.finish(ran);
        });
    }
}

/// What a worker process's end means for its attempt.
pub(super) fn worker_outcome(ended: ProcessOutcome) -> Outcome {
    match ended {
        ProcessOutcome::Exited {
            code: 0, stdout, ..
        } => match parse_response(&stdout).map(WorkerResponse::into_value) {
            Ok(Ok(v)) => Outcome::ok(v),
            Ok(Err(WorkerResponse::Error(error))) => Outcome::failed(error),
            Ok(Err(WorkerResponse::TimedOut)) => Outcome::TimedOut { is_retryable: true },
            Ok(Err(_)) => Outcome::Cancelled,
            Err(error) => Outcome::failed(error),
        },
        ProcessOutcome::Exited {
            code, stderr_tail, ..
        } => {
            let how = if code > 128 {
                format!("was killed by signal {}", code - 128)
            } else {
                format!("exited with code {code}")
            };
            let tail = process::stderr_suffix(&stderr_tail);
            Outcome::failed(TaskError::new(format!("the worker process {how}{tail}")))
        }
        ProcessOutcome::TimedOut => Outcome::TimedOut { is_retryable: true },
        ProcessOutcome::Cancelled => Outcome::Cancelled,
        ProcessOutcome::SpawnFailed(e) => Outcome::failed(TaskError::new(format!(
            "cannot start a worker process: {e}"
        ))),
    }
}

/// "timed out after 2s": how a timed-out attempt is described.
pub(crate) fn timeout_message(timeout: Option<std::time::Duration>) -> String {
    match timeout {
        Some(t) => format!("timed out after {}", crate::script::fmt_duration(t)),
        None => "timed out".to_owned(),
    }
}

pub(super) fn attempt_of(job: &Job) -> Attempt {
    Attempt {
        node: job.node.name.clone(),
        task: job.node.task.clone(),
        number: job.attempt,
        timeout: job.node.options.timeout,
        kill_grace: job.node.options.kill_grace,
        stop: job.stop.clone(),
        env: job.node.options.env.clone(),
        cwd: job.node.options.cwd.clone(),
        upstream: job.upstream.clone(),
    }
}

impl LocalExecutor {
    /// Applies the node's `retry_on` rule to a failure. Runs a closure rule in place, so
    /// shell failures with a closure rule block a worker thread briefly.
    fn judge(&self, job: &Job, outcome: Outcome) -> Outcome {
        match outcome {
            Outcome::Failed { error, .. } => {
                let is_retryable = self.may_retry(job, &error);
                Outcome::Failed {
                    error,
                    is_retryable,
                }
            }
            // A timeout has no exit code: a list of codes rules it out, a closure decides.
            Outcome::TimedOut { .. } => {
                let error = TaskError::new(timeout_message(job.node.options.timeout));
                Outcome::TimedOut {
                    is_retryable: self.may_retry(job, &error),
                }
            }
            other => other,
        }
    }

    /// Stores what the attempt staged with `artifact_path`, and its result when the node has
    /// `persist: true`; returns the artifacts the node recorded in this run when `list` asks
    /// (for a cache entry). Failing to store fails the attempt.
    pub(super) fn keep_artifacts(
        &self,
        job: &Job,
        value: &Value,
        list: bool,
    ) -> Result<Vec<ArtifactRecord>, TaskError> {
        // A worker (of `run_in: "process"` or in a Slurm job) stages in another process.
        let may_have_staged = artifacts::anything_staged()
            || job.node.options.run_in == RunIn::Process
            || self.slurm_for(job).is_some();
        if !may_have_staged && !job.node.options.persist && !list {
            return Ok(Vec::new());
        }
        let store = self.artifacts();
        let fail = |e: artifacts::ArtifactError| TaskError::new(e.to_string());
        if may_have_staged {
            store
                .collect_staged(&job.node.name, job.attempt)
                .map_err(fail)?;
        }
        if job.node.options.persist {
            self.persist(job, value)?;
        }
        if list {
            return store.of_node(&job.node.name).map_err(fail);
        }
        Ok(Vec::new())
    }

    /// Stores a `persist: true` node's result as the artifact `<node>.json`.
    pub(super) fn persist(&self, job: &Job, value: &Value) -> Result<(), TaskError> {
        let json =
            serde_json::to_vec_pretty(&value.to_json()).expect("invariant: JSON values serialize");
        self.artifacts()
            .persist_value(&job.node.name, &json)
            .map(drop)
            .map_err(|e| TaskError::new(e.to_string()))
    }

    pub(super) fn artifacts(&self) -> RunArtifacts {
        let info = &self.runtime.info;
        RunArtifacts::new(&info.state(), &info.run_id)
    }

    fn may_retry(&self, job: &Job, error: &TaskError) -> bool {
        match &job.node.options.retry_on {
            None => true,
            Some(RetryOn::ExitCodes(codes)) => error
                .exit_code
                .is_some_and(|c| codes.contains(&i64::from(c))),
            Some(RetryOn::Closure(f)) => {
                self.runtime
                    .should_retry(&job.node.name, f, error, job.attempt)
            }
        }
    }

    fn run_blocking(&self, job: &Job) -> Outcome {
        let attempt = attempt_of(job);
        let inputs = |id: NodeId| job.input(id);
        if job.node.kind.is_expansion() {
            return match self.runtime.expand(
                &job.node,
                &inputs,
                job.next_id,
                job.dynamic_budget,
                &attempt,
            ) {
                Ok(e) => Outcome::Expanded(e),
                Err(error) => Outcome::failed(error),
            };
        }
        match self.runtime.call_task(&job.node.payload, &inputs, &attempt) {
            CallResult::Done(v) => Outcome::ok(v),
            CallResult::Failed(error) => Outcome::failed(error),
            CallResult::Stopped(Stopped::TimedOut) => Outcome::TimedOut { is_retryable: true },
            CallResult::Stopped(Stopped::Cancelled) => Outcome::Cancelled,
        }
    }

    /// Runs a task in `autowf worker`, a child process in its own group. The worker enforces
    /// the timeout itself (so it can stop what it started); the run kills it after the grace.
    async fn run_worker(&self, job: &Job) -> Outcome {
        match self.worker_spec(job) {
            Ok(spec) => {
                worker_outcome(process::run(&spec, &job.stop.cancel, &job.stop.hurry).await)
            }
            Err(error) => Outcome::Failed {
                error,
                is_retryable: false,
            },
        }
    }

    /// The `autowf worker` child for `job`: the request on its stdin, a timeout backstop of the
    /// task's timeout plus its grace (the worker enforces the timeout itself).
    fn worker_spec(&self, job: &Job) -> Result<ProcessSpec, TaskError> {
        let attempt = attempt_of(job);
        let inputs = |id: NodeId| job.input(id);
        let request = self.runtime.worker_request(&job.node, &inputs, &attempt)?;
        let exe = worker_executable()?;
        Ok(ProcessSpec {
            program: Program::Exec {
                path: exe,
                args: vec!["worker".to_owned()],
            },
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
            env: BTreeMap::new(),
            stdin: Some(request),
            label: String::new(),
            timeout: attempt.timeout.map(|t| t + attempt.kill_grace),
            kill_grace: attempt.kill_grace,
        })
    }

    async fn run_shell(&self, job: &Job) -> Outcome {
        let attempt = attempt_of(job);
        let inputs = |id: NodeId| job.input(id);
        let command = match self
            .runtime
            .shell_command(&job.node.payload, &inputs, &attempt)
        {
            Ok(c) => c,
            Err(error) => {
                return Outcome::failed(error);
            }
        };
        let spec = self.runtime.shell_spec(command, &attempt);
        let ended = process::run(&spec, &job.stop.cancel, &job.stop.hurry).await;
        shell_outcome(ended, job.node.options.output)
    }
}

/// What a shell command's end means for its attempt; its stdout is the result.
pub(super) fn shell_outcome(ended: ProcessOutcome, output: OutputFormat) -> Outcome {
    match ended {
        ProcessOutcome::Exited {
            code: 0, stdout, ..
        } => match parse_output(&stdout, output) {
            Ok(v) => Outcome::ok(v),
            Err(error) => Outcome::failed(error),
        },
        ProcessOutcome::Exited {
            code, stderr_tail, ..
        } => {
            let mut e = TaskError::new(format!(
                "command exited with code {code}{}",
                process::stderr_suffix(&stderr_tail)
            ));
            e.exit_code = Some(code);
            Outcome::failed(e)
        }
        ProcessOutcome::TimedOut => Outcome::TimedOut { is_retryable: true },
        ProcessOutcome::Cancelled => Outcome::Cancelled,
        ProcessOutcome::SpawnFailed(e) => {
            let error = TaskError::new(format!("cannot start the command: {e}"));
            Outcome::failed(error)
        }
    }
}

/// This autowf's own executable, which `autowf worker` children and Slurm jobs run.
pub(super) fn worker_executable() -> Result<std::path::PathBuf, TaskError> {
    std::env::current_exe().map_err(|e| {
        TaskError::new(format!(
            "cannot find the autowf executable for a worker: {e}"
        ))
    })
}
