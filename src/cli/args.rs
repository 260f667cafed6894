//! Argument definitions (clap derive). Doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0    success
  1    a task failed
  2    invalid usage, script, config or graph (nothing ran)
  3    environment or I/O error
  4    another run of the flow holds its lock
  124  the whole run timed out (--timeout)
  130  interrupted (SIGINT)
  143  terminated (SIGTERM)";

/// A fast, dependable workflow runner: flows are Rhai scripts, run locally.
#[derive(Debug, Parser)]
#[command(name = "autowf", version, after_help = EXIT_CODES, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Console settings, accepted before or after the subcommand.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// When to use colours.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, env = "AUTOWF_COLOR")]
    pub(crate) color: ColorChoice,
    /// Format of log lines on stderr; the `log-format` setting applies when not given.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "AUTOWF_LOG_FORMAT")]
    pub(crate) log_format: LogFormat,
    /// Print only warnings, errors and the result (no event lines, no progress bars).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: bool,
    /// Where the result cache and artifact blobs are shared between hosts, as
    /// `s3://bucket/prefix` (needs a build with the `s3` feature); runs, journals and locks
    /// stay in the state directory.
    #[arg(long, global = true, value_name = "URL", env = "AUTOWF_REMOTE_STORE")]
    pub(crate) remote_store: Option<String>,
    /// Where runs, cache and artifacts are kept [default: `.autowf/` next to the flow file].
    /// An `s3://bucket/prefix` URL stands for `--remote-store`: the cache and artifact blobs
    /// go there, runs stay in the default local directory.
    #[arg(long, global = true, value_name = "DIR", env = "AUTOWF_STATE_DIR")]
    pub(crate) state_dir: Option<PathBuf>,
    /// More output: -v adds what tasks print, -vv debug logs. Without -q or -v the
    /// `log-level` setting applies.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run a flow and print its result as JSON.
    Run(RunArgs),
    /// Show a script's tasks, flows, parameters and graph.
    Describe(DescribeArgs),
    /// List the flows and tasks found in files or directories.
    List(ListArgs),
    /// Print a flow's graph in Graphviz DOT.
    ExportDot(ExportDotArgs),
    /// Print the settings a run would use and where each comes from.
    Config(ConfigArgs),
    /// Inspect and clean the result cache: ls, rm, gc, verify.
    Cache(CacheArgs),
    /// List or fetch the artifacts a run kept.
    #[command(subcommand)]
    Artifacts(ArtifactsCommand),
    /// List recent runs, newest first, show one with `runs show RUN`, or prune with `runs gc`.
    Runs(RunsArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Run one task call sent as JSON on stdin (used for `run_in: "process"`).
    #[command(hide = true)]
    Worker(WorkerArgs),
}

impl Command {
    /// The flow file whose configuration applies (a file in the working directory when the
    /// command names none), or `None` for commands that read no configuration.
    pub(crate) fn flow_file(&self) -> Option<PathBuf> {
        let here = || PathBuf::from("flow.rhai");
        match self {
            Self::Run(a) => Some(a.file.clone()),
            Self::ExportDot(a) => Some(a.file.clone()),
            Self::Describe(a) => Some(a.file.clone().unwrap_or_else(here)),
            Self::Config(a) => Some(a.file.clone().unwrap_or_else(here)),
            Self::List(a) => Some(match a.paths.first() {
                Some(p) if p.is_dir() => p.join("flow.rhai"),
                Some(p) => p.clone(),
                None => here(),
            }),
            Self::Cache(a) => Some(a.command.state().config_file()),
            Self::Artifacts(a) => Some(a.state().config_file()),
            Self::Runs(a) => Some(a.state().config_file()),
            Self::Completions(_) | Self::Worker(_) => None,
        }
    }
}

/// Which state directory a command that inspects past runs reads.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct StateArgs {
    /// Use the state directory of this flow file (`.autowf/` beside it, or what its
    /// configuration says) [default: the current directory's].
    #[arg(long, value_name = "FILE")]
    pub(crate) flow: Option<PathBuf>,
}

impl StateArgs {
    /// The file whose configuration applies: the flow named, else one in the working
    /// directory.
    pub(crate) fn config_file(&self) -> PathBuf {
        self.flow
            .clone()
            .unwrap_or_else(|| PathBuf::from("flow.rhai"))
    }
}

/// Parameters given on the command line.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct ParamArgs {
    /// Set a flow parameter (repeatable); typed by the parameter's default.
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub(crate) params: Vec<(String, String)>,
    /// Read parameters from a TOML or JSON file; `-p` wins over it.
    #[arg(long, value_name = "FILE")]
    pub(crate) params_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct WorkerArgs {
    /// Exit with code 1 when the task did not succeed (the reply is written either way): for
    /// jobs whose success Slurm judges by the exit code (`run --submit-all`).
    #[arg(long)]
    pub(crate) exit_code: bool,
    /// Print the command line a shell node's request gives, as it is, instead of the reply;
    /// anything else exits 1 with the reason on stderr. For the job scripts of
    /// `run --submit-all`, which then run that command line.
    #[arg(long, conflicts_with = "exit_code")]
    pub(crate) command_line: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The flow script.
    pub(crate) file: PathBuf,
    /// Which flow to run; needed when the script registers several.
    pub(crate) flow: Option<String>,
    #[command(flatten)]
    pub(crate) params: ParamArgs,
    /// How many tasks run at once [default: number of CPUs].
    #[arg(short, long, env = "AUTOWF_JOBS", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) jobs: Option<u32>,
    /// Print a run summary as JSON instead of the flow's result.
    #[arg(long)]
    pub(crate) json: bool,
    /// Where tasks run: `local` (this machine) or `slurm` (batch jobs through sbatch); a
    /// task's `executor` option overrides it [default: the `executor` setting, else local].
    #[arg(long, value_enum, env = "AUTOWF_EXECUTOR")]
    pub(crate) executor: Option<ExecutorChoice>,
    /// Stop the whole run after this long (e.g. "30s", "2h"); exit code 124.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) timeout: Option<std::time::Duration>,
    /// Most nodes that `.map` and `.then` may add while the flow runs.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100_000,
        env = "AUTOWF_MAX_DYNAMIC_TASKS"
    )]
    pub(crate) max_dynamic_tasks: usize,
    /// One run at a time per flow and state directory: `fail` (exit 4, the default), `skip`
    /// (exit 0), `wait` or `wait=DURATION` when another run holds the lock.
    #[arg(long, value_name = "MODE", num_args = 0..=1, require_equals = true, default_missing_value = "fail", value_parser = crate::runlock::parse_mode)]
    pub(crate) lock: Option<crate::runlock::LockMode>,
    /// Write every run event to FILE as JSON lines (NDJSON), as they happen.
    #[arg(long, value_name = "FILE")]
    pub(crate) events: Option<PathBuf>,
    /// Write the run summary (the `--json` document) to FILE.
    #[arg(long, value_name = "FILE")]
    pub(crate) summary: Option<PathBuf>,
    /// Write a JUnit XML report to FILE: one test case per node, for CI test reports.
    #[arg(long, value_name = "FILE")]
    pub(crate) junit: Option<PathBuf>,
    /// Write run metrics to FILE in the Prometheus text format (for node_exporter's textfile
    /// collector; name it `*.prom`).
    #[arg(long, value_name = "FILE")]
    pub(crate) metrics_textfile: Option<PathBuf>,
    /// What a failed task does to the rest of the run [default: the flow's `on_failure`, else fail_fast].
    #[arg(long, value_enum, env = "AUTOWF_ON_FAILURE")]
    pub(crate) on_failure: Option<OnFailure>,
    /// Neither read nor write the result cache.
    #[arg(long, conflicts_with = "refresh")]
    pub(crate) no_cache: bool,
    /// Recompute every cached task and overwrite its cache entry.
    #[arg(long)]
    pub(crate) refresh: bool,
    /// Run nothing: print, for each node, whether it would run or be taken from the cache,
    /// and why (with --json, as a JSON document).
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Continue an earlier run of this flow (`last`, the default, or a run id or prefix):
    /// reuse the results of its succeeded nodes whose key still matches, run the rest.
    #[arg(long, value_name = "RUN", num_args = 0..=1, require_equals = true, default_missing_value = "last", conflicts_with = "dry_run")]
    pub(crate) resume: Option<String>,
    /// With the slurm executor: submit every node at once as a Slurm job that waits for its
    /// dependencies' jobs (`--dependency=afterok:`), print the job ids as JSON and exit
    /// without waiting. Refuses flows that need autowf while they run (results passed
    /// between nodes, `.map`, `.then`, `cache_ttl`, `retries`, ...).
    #[arg(long, conflicts_with_all = ["dry_run", "resume", "timeout", "lock", "events", "summary", "junit", "metrics_textfile"])]
    pub(crate) submit_all: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DescribeArgs {
    /// The flow script [default: every script under `flows/`, or the `flows-dir` setting].
    pub(crate) file: Option<PathBuf>,
    /// Describe only this flow.
    pub(crate) flow: Option<String>,
    #[command(flatten)]
    pub(crate) params: ParamArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DescribeFormat::Text)]
    pub(crate) format: DescribeFormat,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Files or directories to search for `.rhai` scripts
    /// [default: `flows/`, or the `flows-dir` setting].
    pub(crate) paths: Vec<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ExportDotArgs {
    /// The flow script.
    pub(crate) file: PathBuf,
    /// Which flow; needed when the script registers several.
    pub(crate) flow: Option<String>,
    #[command(flatten)]
    pub(crate) params: ParamArgs,
    /// Write to this file instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    /// A flow file: its directory decides which `autowf.toml` applies [default: this directory].
    pub(crate) file: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) run: ConfigRunFlags,
}

/// The run settings `autowf config` can be asked about, as `run` takes them.
#[derive(Debug, Args)]
pub(crate) struct ConfigRunFlags {
    /// As for `run`.
    #[arg(short, long, env = "AUTOWF_JOBS", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) jobs: Option<u32>,
    /// As for `run`.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100_000,
        env = "AUTOWF_MAX_DYNAMIC_TASKS"
    )]
    pub(crate) max_dynamic_tasks: usize,
    /// As for `run`.
    #[arg(long, value_enum, env = "AUTOWF_ON_FAILURE")]
    pub(crate) on_failure: Option<OnFailure>,
    /// As for `run`.
    #[arg(long, value_enum, env = "AUTOWF_EXECUTOR")]
    pub(crate) executor: Option<ExecutorChoice>,
}

impl RunArgs {
    /// A `run` with only the settings `autowf config` knows, for resolving them the same way.
    pub(crate) fn for_config(flags: &ConfigRunFlags) -> Self {
        Self {
            file: PathBuf::new(),
            flow: None,
            params: ParamArgs::default(),
            jobs: flags.jobs,
            json: false,
            timeout: None,
            max_dynamic_tasks: flags.max_dynamic_tasks,
            on_failure: flags.on_failure,
            executor: flags.executor,
            lock: None,
            events: None,
            summary: None,
            junit: None,
            metrics_textfile: None,
            no_cache: false,
            refresh: false,
            dry_run: false,
            resume: None,
            submit_all: false,
        }
    }
}

/// `runs`: the list's flags, or `runs show RUN`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct RunsArgs {
    #[command(subcommand)]
    pub(crate) command: Option<RunsCommand>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    /// How many runs to list.
    #[arg(short = 'n', long, value_name = "N", default_value_t = 20)]
    pub(crate) limit: usize,
    #[command(flatten)]
    pub(crate) state: StateArgs,
}

impl RunsArgs {
    /// Whose state directory to read: `runs show`'s `--flow`, or the list's.
    pub(crate) fn state(&self) -> &StateArgs {
        match &self.command {
            Some(RunsCommand::Show(show)) => &show.state,
            Some(RunsCommand::Gc(gc)) => &gc.state,
            None => &self.state,
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum RunsCommand {
    /// Show one run: its facts, parameters and each node's status, attempts, duration and error.
    Show(RunsShowArgs),
    /// Remove old runs, and the artifact blobs no remaining run or cache entry names.
    ///
    /// Give --keep, --older-than or both (then a run goes only when both rules select it).
    /// Runs still running are never removed; runs whose end cannot be seen from here
    /// (`submitted` to Slurm, or run `elsewhere`) go only by --older-than. Blobs written within
    /// the last hour stay, as a run going on may not have recorded them yet; a remote store is
    /// not touched.
    Gc(RunsGcArgs),
}

#[derive(Debug, Args)]
#[command(group(
    clap::ArgGroup::new("rule").args(["keep", "older_than"]).required(true).multiple(true)
))]
pub(crate) struct RunsGcArgs {
    /// Print what would be removed, and remove nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Print what was removed as JSON on stdout.
    #[arg(long)]
    pub(crate) json: bool,
    /// Keep the newest N ended runs of each flow.
    #[arg(long, value_name = "N")]
    pub(crate) keep: Option<usize>,
    /// Remove runs that started more than DURATION ago (e.g. "30d", "12h").
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) older_than: Option<std::time::Duration>,
    #[command(flatten)]
    pub(crate) state: StateArgs,
}

#[derive(Debug, Args)]
pub(crate) struct RunsShowArgs {
    /// The run: its id, a prefix of exactly one id, or `last` (the newest).
    pub(crate) run: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) state: StateArgs,
}

#[derive(Debug, Args)]
pub(crate) struct CacheArgs {
    #[command(subcommand)]
    pub(crate) command: CacheCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CacheCommand {
    /// List the cache entries: key, node, task, flow, age and size.
    Ls {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        state: StateArgs,
    },
    /// Remove entries: by key (or a unique prefix of one), every entry of a task, or all.
    Rm {
        /// Keys or unique key prefixes (at least 4 characters).
        #[arg(required_unless_present_any = ["task", "all"])]
        keys: Vec<String>,
        /// Remove every entry of this task.
        #[arg(long, conflicts_with = "all")]
        task: Option<String>,
        /// Remove every entry.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        state: StateArgs,
    },
    /// Remove entries computed more than DURATION ago, damaged entries and files left by
    /// interrupted writes.
    Gc {
        /// e.g. "7d", "12h".
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        older_than: std::time::Duration,
        #[command(flatten)]
        state: StateArgs,
    },
    /// Re-check every entry's checksum and content; exit 1 when one is damaged.
    Verify {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        state: StateArgs,
    },
}

impl CacheCommand {
    pub(crate) fn state(&self) -> &StateArgs {
        match self {
            Self::Ls { state, .. }
            | Self::Rm { state, .. }
            | Self::Gc { state, .. }
            | Self::Verify { state, .. } => state,
        }
    }
}

/// `autowf artifacts ...`.
#[derive(Debug, Subcommand)]
pub(crate) enum ArtifactsCommand {
    /// List a run's artifacts: name, size in bytes, node, digest.
    Ls(ArtifactsLsArgs),
    /// Write an artifact's bytes to stdout or to a file.
    Get(ArtifactsGetArgs),
}

impl ArtifactsCommand {
    pub(crate) fn state(&self) -> &StateArgs {
        match self {
            Self::Ls(a) => &a.state,
            Self::Get(a) => &a.state,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ArtifactsLsArgs {
    /// The run: a run id (a directory name under `runs/`) or `last` [default: the latest run].
    pub(crate) run: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) state: StateArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ArtifactsGetArgs {
    /// The run: a run id (a directory name under `runs/`) or `last`.
    pub(crate) run: String,
    /// The artifact's name, as `artifacts ls` shows it.
    pub(crate) name: String,
    /// Write the bytes to FILE (replaced atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) state: StateArgs,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DescribeFormat {
    Text,
    Json,
    Mermaid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub(crate) enum OnFailure {
    FailFast,
    KeepGoing,
}

/// Where tasks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ExecutorChoice {
    /// Threads and child processes of this autowf.
    Local,
    /// Batch jobs submitted with sbatch.
    Slurm,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got `{s}`")),
    }
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s)
        .map_err(|e| format!("`{s}` is not a duration ({e}); use e.g. \"30s\", \"5m\""))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;
    use clap::error::ErrorKind;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn command_lines_parse_or_fail_as_expected() {
        let ok: &[&[&str]] = &[
            &["autowf", "run", "f.rhai"],
            &[
                "autowf", "run", "f.rhai", "main", "-p", "a=1", "-p", "b=x=y", "-j", "2", "--json",
            ],
            &["autowf", "-q", "run", "f.rhai", "--timeout", "30s"],
            &["autowf", "run", "f.rhai", "-v", "--color", "never"],
            &["autowf", "describe"],
            &["autowf", "describe", "f.rhai", "--format", "mermaid"],
            &["autowf", "list", "a", "b", "--json"],
            &["autowf", "export-dot", "f.rhai", "-o", "g.dot"],
            &["autowf", "completions", "bash"],
            &["autowf", "run", "f.rhai", "--on-failure", "keep_going"],
            &["autowf", "runs"],
            &["autowf", "runs", "-n", "5", "--json", "--flow", "f.rhai"],
            &["autowf", "runs", "show", "last"],
            &[
                "autowf", "runs", "show", "2026", "--json", "--flow", "f.rhai", "-q",
            ],
            &["autowf", "runs", "gc", "--keep", "3"],
            &["autowf", "runs", "gc", "--older-than", "30d", "--dry-run"],
            &[
                "autowf",
                "runs",
                "gc",
                "--keep",
                "0",
                "--older-than",
                "1h",
                "--json",
            ],
        ];
        for args in ok {
            assert!(Cli::try_parse_from(*args).is_ok(), "{args:?}");
        }
        let bad: &[(&[&str], ErrorKind)] = &[
            (
                &["autowf", "run", "f.rhai", "-j", "0"],
                ErrorKind::ValueValidation,
            ),
            (
                &["autowf", "run", "f.rhai", "-p", "novalue"],
                ErrorKind::ValueValidation,
            ),
            (
                &["autowf", "run", "f.rhai", "--timeout", "soon"],
                ErrorKind::ValueValidation,
            ),
            (
                &["autowf", "run", "f.rhai", "--on-failure", "sometimes"],
                ErrorKind::InvalidValue,
            ),
            (&["autowf", "run"], ErrorKind::MissingRequiredArgument),
            (&["autowf", "frobnicate"], ErrorKind::InvalidSubcommand),
            (&["autowf", "-q", "-v", "list"], ErrorKind::ArgumentConflict),
            (
                &["autowf", "runs", "show"],
                ErrorKind::MissingRequiredArgument,
            ),
            (
                &["autowf", "runs", "-n", "many"],
                ErrorKind::ValueValidation,
            ),
            (
                &["autowf", "runs", "-n", "5", "show", "last"],
                ErrorKind::ArgumentConflict,
            ),
            (
                &["autowf", "runs", "gc", "--dry-run"],
                ErrorKind::MissingRequiredArgument,
            ),
            (
                &["autowf", "runs", "gc", "--keep", "-1"],
                ErrorKind::UnknownArgument,
            ),
            (
                &["autowf", "runs", "gc", "--older-than", "a while"],
                ErrorKind::ValueValidation,
            ),
        ];
        for (args, kind) in bad {
            let err = Cli::try_parse_from(*args).unwrap_err();
            assert_eq!(err.kind(), *kind, "{args:?}");
        }
    }
}
