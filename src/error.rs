//! The crate's error type, source locations and the exit-code contract.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// Exit codes, documented in `docs/exit-codes.md`.
pub(crate) mod exit {
    /// The run succeeded (or the command did its job).
    pub(crate) const OK: u8 = 0;
    /// At least one task failed.
    pub(crate) const TASK_FAILED: u8 = 1;
    /// Invalid usage, script, config or graph: nothing ran.
    pub(crate) const INVALID: u8 = 2;
    /// An environment or I/O error.
    pub(crate) const ENVIRONMENT: u8 = 3;
    /// Another run of the flow holds its lock.
    pub(crate) const LOCKED: u8 = 4;
    /// The whole run hit `--timeout`.
    pub(crate) const TIMEOUT: u8 = 124;
    /// Interrupted by SIGINT.
    pub(crate) const SIGINT: u8 = 130;
    /// Terminated by SIGTERM.
    pub(crate) const SIGTERM: u8 = 143;
}

/// A position in a script: file, 1-based line and 1-based column (in characters).
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub(crate) struct SourceLoc {
    pub(crate) file: Arc<str>,
    pub(crate) line: u32,
    pub(crate) column: u32,
}

impl fmt::Display for SourceLoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One problem found in a script, a flow graph, parameters or arguments, with where it is and
/// what may fix it. Rendered by `report::diagnostic`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Diagnostic {
    pub(crate) message: String,
    pub(crate) loc: Option<SourceLoc>,
    pub(crate) help: Option<String>,
    /// Further positions worth showing, e.g. each edge of a cycle.
    pub(crate) notes: Vec<(String, Option<SourceLoc>)>,
}

impl Diagnostic {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            loc: None,
            help: None,
            notes: Vec::new(),
        }
    }

    #[must_use]
    pub(crate) fn at(mut self, loc: Option<SourceLoc>) -> Self {
        self.loc = loc;
        self
    }

    #[must_use]
    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    #[must_use]
    pub(crate) fn note(mut self, text: impl Into<String>, loc: Option<SourceLoc>) -> Self {
        self.notes.push((text.into(), loc));
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(loc) = &self.loc {
            write!(f, " (at {loc})")?;
        }
        Ok(())
    }
}

/// Everything that can stop a command before or outside task execution.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// Problems in a script, its graph, parameters or the command line: nothing ran.
    #[error("{}", .0.first().map(ToString::to_string).unwrap_or_default())]
    Invalid(Vec<Diagnostic>),
    #[error("cannot read `{}`: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write `{}`: {source}", path.display())]
    WriteFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "state directory `{}` uses layout {found}; this autowf understands layout {supported}",
        path.parent().unwrap_or(path).display()
    )]
    StateLayout {
        path: PathBuf,
        found: u64,
        supported: u32,
    },
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("another run of flow `{flow}` holds its lock ({holder}); lock file `{}`", path.display())]
    Locked {
        flow: String,
        holder: String,
        path: PathBuf,
    },
    /// `runs show RUN` (and other commands taking a run) named no known run.
    #[error("{}", unknown_run_message(query, runs_dir, recent))]
    UnknownRun {
        query: String,
        runs_dir: PathBuf,
        /// The newest run ids, newest first.
        recent: Vec<String>,
    },
    #[error("run `{query}` is ambiguous: it matches {} runs ({})", matches.len(), matches.join(", "))]
    AmbiguousRun { query: String, matches: Vec<String> },
    /// The run needs Slurm, but its command-line tools are not installed here.
    #[error(
        "Slurm's tools were not found on PATH (missing: {}); the slurm executor needs sbatch, \
         squeue and scancel",
        missing.join(", ")
    )]
    SlurmToolsMissing { missing: Vec<&'static str> },
    /// `run --submit-all` could not submit a node; the jobs submitted before it were
    /// cancelled (`cancelled` says how that went).
    #[error("cannot submit `{node}` to Slurm: {why}; {cancelled}")]
    SubmitAllFailed {
        node: String,
        why: String,
        cancelled: String,
    },
    /// A bug: the scheduler panicked. Reported, never hidden.
    #[error("internal error: the scheduler stopped unexpectedly ({0}); please report this")]
    SchedulerStopped(String),
}

impl Error {
    pub(crate) fn invalid(diagnostic: Diagnostic) -> Self {
        Self::Invalid(vec![diagnostic])
    }

    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Invalid(_) | Self::UnknownRun { .. } | Self::AmbiguousRun { .. } => exit::INVALID,
            Self::Locked { .. } => exit::LOCKED,
            Self::ReadFile { .. }
            | Self::WriteFile { .. }
            | Self::StateLayout { .. }
            | Self::Runtime(_)
            | Self::SlurmToolsMissing { .. }
            | Self::SubmitAllFailed { .. }
            | Self::SchedulerStopped(_) => exit::ENVIRONMENT,
        }
    }
}

fn unknown_run_message(query: &str, runs_dir: &std::path::Path, recent: &[String]) -> String {
    if recent.is_empty() {
        format!(
            "no run `{query}`: there are no runs in `{}`",
            runs_dir.display()
        )
    } else {
        format!(
            "no run `{query}` in `{}`; recent runs: {}",
            runs_dir.display(),
            recent.join(", ")
        )
    }
}

impl From<Diagnostic> for Error {
    fn from(d: Diagnostic) -> Self {
        Self::invalid(d)
    }
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;
