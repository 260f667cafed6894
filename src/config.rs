//! The validated settings of a run: command-line flags and `AUTOWF_*` variables (through clap),
//! then the flow's own options, then built-in defaults.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::Cli;
use crate::script::FailurePolicy;

/// Settings every later stage of a run reads; nothing after this looks at raw arguments.
#[derive(Clone, Debug)]
pub(crate) struct RunConfig {
    pub(crate) jobs: usize,
    pub(crate) max_dynamic_tasks: usize,
    pub(crate) timeout: Option<Duration>,
    /// `None` leaves the choice to the flow's `on_failure`.
    pub(crate) on_failure: Option<FailurePolicy>,
    pub(crate) json: bool,
    pub(crate) quiet: bool,
    pub(crate) verbose: u8,
    pub(crate) state_dir: Option<PathBuf>,
}

impl RunConfig {
    pub(crate) fn from_cli(cli: &Cli, run: &crate::cli::RunArgs) -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self {
            jobs: run.jobs.map_or(cpus, |j| j as usize),
            max_dynamic_tasks: run.max_dynamic_tasks,
            timeout: run.timeout,
            on_failure: run.on_failure.map(|o| match o {
                crate::cli::OnFailure::FailFast => FailurePolicy::FailFast,
                crate::cli::OnFailure::KeepGoing => FailurePolicy::KeepGoing,
            }),
            json: run.json,
            quiet: cli.global.quiet,
            verbose: cli.global.verbose,
            state_dir: cli.global.state_dir.clone(),
        }
    }
}

impl RunConfig {
    /// The state directory: `--state-dir` (or `AUTOWF_STATE_DIR`), else `.autowf/` next to the
    /// flow file, so cron (which starts in the home directory) and a terminal agree.
    pub(crate) fn state_dir(&self, flow_dir: &std::path::Path) -> PathBuf {
        match &self.state_dir {
            Some(dir) if dir.is_absolute() => dir.clone(),
            Some(dir) => std::env::current_dir().map_or_else(|_| dir.clone(), |cwd| cwd.join(dir)),
            None => flow_dir.join(".autowf"),
        }
    }
}
