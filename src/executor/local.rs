//! The local executor: Rhai tasks and expansions on tokio's blocking pool (bounded by `--jobs`
//! through the dispatcher), shell commands as async child processes.

use std::sync::Arc;

use crate::dag::{NodeId, NodeKind};
use crate::events::TaskError;
use crate::scheduler::{Completer, Execute, Job, Outcome};
use crate::script::{Attempt, CallResult, Runtime, Stopped, parse_output};

use super::process::{self, ProcessOutcome};

pub(crate) struct LocalExecutor {
    runtime: Runtime,
}

impl LocalExecutor {
    pub(crate) fn new(runtime: Runtime) -> Self {
        Self { runtime }
    }
}

impl Execute for LocalExecutor {
    fn start(self: &Arc<Self>, job: Job, done: Completer) {
        let this = self.clone();
        match job.node.kind {
            NodeKind::Shell | NodeKind::Sh => {
                tokio::spawn(async move { done.finish(this.run_shell(job).await) });
            }
            NodeKind::Task | NodeKind::Map | NodeKind::Then => {
                tokio::task::spawn_blocking(move || done.finish(this.run_blocking(&job)));
            }
        }
    }
}

fn attempt_of(job: &Job) -> Attempt {
    Attempt {
        node: job.node.name.clone(),
        task: job.node.task.clone(),
        number: job.attempt,
        timeout: job.node.options.timeout,
        kill_grace: job.node.options.kill_grace,
        cancel: job.cancel.clone(),
    }
}

impl LocalExecutor {
    fn run_blocking(&self, job: &Job) -> Outcome {
        let attempt = attempt_of(job);
        let inputs = |id: NodeId| job.input(id);
        if job.node.kind.is_expansion() {
            return match self.runtime.expand(&job.node, &inputs, job.next_id, job.dynamic_budget, &attempt) {
                Ok(e) => Outcome::Expanded(e),
                Err(e) => Outcome::Failed(e),
            };
        }
        match self.runtime.call_task(&job.node.payload, &inputs, &attempt) {
            CallResult::Done(v) => Outcome::Succeeded(v),
            CallResult::Failed(e) => Outcome::Failed(e),
            CallResult::Stopped(Stopped::TimedOut) => Outcome::TimedOut,
            CallResult::Stopped(Stopped::Cancelled) => Outcome::Cancelled,
        }
    }

    async fn run_shell(&self, job: Job) -> Outcome {
        let attempt = attempt_of(&job);
        let inputs = |id: NodeId| job.input(id);
        let command = match self.runtime.shell_command(&job.node.payload, &inputs, &attempt) {
            Ok(c) => c,
            Err(e) => return Outcome::Failed(e),
        };
        let spec = self.runtime.shell_spec(&job.node, command, &attempt);
        match process::run(&spec, &job.cancel, &job.hurry).await {
            ProcessOutcome::Exited { code: 0, stdout, .. } => match parse_output(&stdout, job.node.options.output) {
                Ok(v) => Outcome::Succeeded(v),
                Err(e) => Outcome::Failed(e),
            },
            ProcessOutcome::Exited { code, stderr_tail, .. } => {
                let mut e = TaskError::new(format!("command exited with code {code}{}", tail(&stderr_tail)));
                e.exit_code = Some(code);
                Outcome::Failed(e)
            }
            ProcessOutcome::TimedOut => Outcome::TimedOut,
            ProcessOutcome::Cancelled => Outcome::Cancelled,
            ProcessOutcome::SpawnFailed(e) => Outcome::Failed(TaskError::new(format!("cannot start `/bin/sh`: {e}"))),
        }
    }
}

fn tail(stderr: &str) -> String {
    if stderr.is_empty() { String::new() } else { format!(":\n{stderr}") }
}
