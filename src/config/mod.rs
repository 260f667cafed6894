//! The validated settings of a run: command-line flags and `AUTOWF_*` variables (through clap),
//! then the flow's own options, then built-in defaults.

mod file;
mod secrets;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use file::FileValues;

use crate::cli::{Cli, GlobalArgs, LogFormat};
use crate::error::{Diagnostic, Error, SourceLoc};
use crate::remote::RemoteUrl;
use crate::script::{ExecutorKind, FailurePolicy, TaskOptions};

/// Where `list` and `describe` look for scripts unless `flows-dir` says otherwise.
const DEFAULT_FLOWS_DIR: &str = "flows";

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
    /// Where the cache and artifact blobs are shared, if anywhere (`remote-store`).
    pub(crate) remote_store: Option<RemoteUrl>,
    /// Where tasks run unless their `executor` option says otherwise.
    pub(crate) executor: ExecutorKind,
    /// What tasks start from before their own options (with `executor` set when the run's
    /// executor is not local, so each task's options say where it runs).
    pub(crate) task_defaults: TaskOptions,
    /// Pools from the configuration files.
    pub(crate) pools: BTreeMap<String, u32>,
    /// Each setting with where it came from, for `autowf config`.
    pub(crate) shown: Vec<Shown>,
}

/// Where a command-line value came from: the flag, its environment variable, or neither.
fn given<T>(
    value: Option<T>,
    matches: &clap::ArgMatches,
    id: &str,
    flag: &'static str,
    env: &'static str,
) -> Option<(T, Source)> {
    use clap::parser::ValueSource;
    let source = match matches.value_source(id)? {
        ValueSource::CommandLine => Source::Flag(flag),
        ValueSource::EnvVariable => Source::Env(env),
        _ => return None,
    };
    value.map(|v| (v, source))
}

impl RunConfig {
    /// Layers, lowest first: defaults, the user's config, the project's `autowf.toml`,
    /// `AUTOWF_*` variables, flags.
    pub(crate) fn from_cli(
        cli: &Cli,
        run: &crate::cli::RunArgs,
        matches: &clap::ArgMatches,
        layers: &Layers,
    ) -> Result<Self, Error> {
        let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let jobs = resolve(
            given(
                run.jobs.map(|j| j as usize),
                matches,
                "jobs",
                "--jobs",
                "AUTOWF_JOBS",
            ),
            layers,
            |f| &f.jobs,
            cpus,
        );
        let max_dynamic = resolve(
            given(
                Some(run.max_dynamic_tasks),
                matches,
                "max_dynamic_tasks",
                "--max-dynamic-tasks",
                "AUTOWF_MAX_DYNAMIC_TASKS",
            ),
            layers,
            |f| &f.max_dynamic_tasks,
            run.max_dynamic_tasks,
        );
        let on_failure_flag = run.on_failure.map(|o| match o {
            crate::cli::OnFailure::FailFast => FailurePolicy::FailFast,
            crate::cli::OnFailure::KeepGoing => FailurePolicy::KeepGoing,
        });
        let on_failure = given(
            on_failure_flag,
            matches,
            "on_failure",
            "--on-failure",
            "AUTOWF_ON_FAILURE",
        )
        .or_else(|| layers.pick(|f| &f.on_failure));
        let state_dir = local_state_dir(cli, matches).or_else(|| layers.pick(|f| &f.state_dir));
        let remote_store = remote_store_for(cli, matches, layers)?;
        let executor_flag = run.executor.map(|e| match e {
            crate::cli::ExecutorChoice::Local => ExecutorKind::Local,
            crate::cli::ExecutorChoice::Slurm => ExecutorKind::Slurm,
        });
        let executor = resolve(
            given(
                executor_flag,
                matches,
                "executor",
                "--executor",
                "AUTOWF_EXECUTOR",
            ),
            layers,
            |f| &f.executor,
            ExecutorKind::Local,
        );
        let mut task_defaults = layers.task_defaults();
        if executor.0 != ExecutorKind::Local {
            task_defaults.executor = Some(executor.0);
        }
        let mut shown = vec![
            Shown {
                key: "jobs",
                value: jobs.0.to_string(),
                source: jobs.1,
            },
            Shown {
                key: "max-dynamic-tasks",
                value: max_dynamic.0.to_string(),
                source: max_dynamic.1,
            },
        ];
        shown.push(Shown {
            key: "executor",
            value: executor_name(executor.0).to_owned(),
            source: executor.1,
        });
        shown.push(match &on_failure {
            Some((p, source)) => Shown {
                key: "on-failure",
                value: policy_name(*p).to_owned(),
                source: source.clone(),
            },
            None => Shown {
                key: "on-failure",
                value: "the flow's on_failure, else fail_fast".to_owned(),
                source: Source::Default,
            },
        });
        shown.push(match &state_dir {
            Some((dir, source)) => Shown {
                key: "state-dir",
                value: dir.display().to_string(),
                source: source.clone(),
            },
            None => Shown {
                key: "state-dir",
                value: ".autowf next to the flow file".to_owned(),
                source: Source::Default,
            },
        });
        shown.push(match &remote_store {
            Some((url, source)) => Shown {
                key: "remote-store",
                value: url.to_string(),
                source: source.clone(),
            },
            None => Shown {
                key: "remote-store",
                value: "none: cache and artifacts stay in the state directory".to_owned(),
                source: Source::Default,
            },
        });
        shown.push(match layers.pick(|f| &f.flows_dir) {
            Some((dir, source)) => Shown {
                key: "flows-dir",
                value: dir.display().to_string(),
                source,
            },
            None => Shown {
                key: "flows-dir",
                value: DEFAULT_FLOWS_DIR.to_owned(),
                source: Source::Default,
            },
        });
        shown.extend(log_lines(&cli.global, matches, layers));
        shown.extend(task_default_lines(layers));
        Ok(Self {
            jobs: jobs.0,
            max_dynamic_tasks: max_dynamic.0,
            timeout: run.timeout,
            on_failure: on_failure.map(|(p, _)| p),
            json: run.json,
            quiet: cli.global.quiet,
            verbose: cli.global.verbose,
            state_dir: state_dir.map(|(d, _)| d),
            remote_store: remote_store.map(|(u, _)| u),
            executor: executor.0,
            task_defaults,
            pools: layers.pools(),
            shown,
        })
    }
}

/// The `--state-dir` flag (or `AUTOWF_STATE_DIR`) when it is a local path.
fn local_state_dir(cli: &Cli, matches: &clap::ArgMatches) -> Option<(PathBuf, Source)> {
    state_dir_flag(cli, matches).filter(|(dir, _)| !is_url(dir))
}

/// The `--state-dir` flag (or `AUTOWF_STATE_DIR`), a path or an `s3://` URL.
fn state_dir_flag(cli: &Cli, matches: &clap::ArgMatches) -> Option<(PathBuf, Source)> {
    given(
        cli.global.state_dir.clone(),
        matches,
        "state_dir",
        "--state-dir",
        "AUTOWF_STATE_DIR",
    )
}

fn is_url(dir: &std::path::Path) -> bool {
    dir.to_str().is_some_and(crate::remote::looks_remote)
}

/// The remote store for the cache and artifact blobs: `--remote-store` (or
/// `AUTOWF_REMOTE_STORE`), else the configuration's `remote-store`. A URL given as the state
/// directory stands for `--remote-store`: runs, journals and locks need a local directory, so
/// they stay in the state directory the lower layers (or the default) give.
pub(crate) fn remote_store_for(
    cli: &Cli,
    matches: &clap::ArgMatches,
    layers: &Layers,
) -> Result<Option<(RemoteUrl, Source)>, Error> {
    let parse = |(text, source): (String, Source)| {
        RemoteUrl::parse(&text)
            .map(|url| (url, source))
            .map_err(|why| Error::invalid(Diagnostic::new(why)))
    };
    let flag = given(
        cli.global.remote_store.clone(),
        matches,
        "remote_store",
        "--remote-store",
        "AUTOWF_REMOTE_STORE",
    )
    .map(parse)
    .transpose()?;
    let as_state_dir = state_dir_flag(cli, matches)
        .filter(|(dir, _)| is_url(dir))
        .map(|(dir, source)| parse((dir.to_string_lossy().into_owned(), source)))
        .transpose()?;
    match (flag, as_state_dir) {
        (Some((a, _)), Some((b, _))) if a != b => {
            Err(Error::invalid(Diagnostic::new(two_stores(&a, &b))))
        }
        (Some(store), _) | (None, Some(store)) => Ok(Some(store)),
        (None, None) => Ok(layers.pick(|f| &f.remote_store)),
    }
}

/// Why a remote store and a state directory URL cannot both be given.
fn two_stores(a: &RemoteUrl, b: &RemoteUrl) -> String {
    format!(
        "the remote store is given twice, as `{a}` and as `{b}` (a state directory URL stands \
         for the remote store): give one"
    )
}

/// How much the console says, as the `log-level` key names it: each level is one of
/// `-q`, nothing, `-v` and `-vv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LogLevel {
    Warn,
    Info,
    Verbose,
    Debug,
}

impl LogLevel {
    fn name(self) -> &'static str {
        match self {
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Verbose => "verbose",
            Self::Debug => "debug",
        }
    }

    fn of(global: &GlobalArgs) -> Self {
        match (global.quiet, global.verbose) {
            (true, _) => Self::Warn,
            (false, 0) => Self::Info,
            (false, 1) => Self::Verbose,
            (false, _) => Self::Debug,
        }
    }
}

/// Whether `-q` or `-v` was given: either decides the level over the configuration.
fn level_flag(matches: &clap::ArgMatches) -> Option<&'static str> {
    let on_command_line =
        |id| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    if on_command_line("quiet") {
        Some("--quiet")
    } else if on_command_line("verbose") {
        Some("--verbose")
    } else {
        None
    }
}

/// Lets the configuration files set `log-format` and `log-level` where neither a flag nor
/// `AUTOWF_LOG_FORMAT` did.
pub(crate) fn apply_log_settings(
    global: &mut GlobalArgs,
    matches: &clap::ArgMatches,
    layers: &Layers,
) {
    let format_given = matches!(
        matches.value_source("log_format"),
        Some(clap::parser::ValueSource::CommandLine | clap::parser::ValueSource::EnvVariable)
    );
    if !format_given && let Some((format, _)) = layers.pick(|f| &f.log_format) {
        global.log_format = format;
    }
    if level_flag(matches).is_none()
        && let Some((level, _)) = layers.pick(|f| &f.log_level)
    {
        (global.quiet, global.verbose) = match level {
            LogLevel::Warn => (true, 0),
            LogLevel::Info => (false, 0),
            LogLevel::Verbose => (false, 1),
            LogLevel::Debug => (false, 2),
        };
    }
}

/// `log-format` and `log-level` as `autowf config` shows them (`global` already has the
/// configuration applied).
fn log_lines(global: &GlobalArgs, matches: &clap::ArgMatches, layers: &Layers) -> [Shown; 2] {
    let format_name = |f: LogFormat| match f {
        LogFormat::Text => "text",
        LogFormat::Json => "json",
    };
    let format = given(
        Some(global.log_format),
        matches,
        "log_format",
        "--log-format",
        "AUTOWF_LOG_FORMAT",
    )
    .or_else(|| layers.pick(|f| &f.log_format))
    .unwrap_or((LogFormat::Text, Source::Default));
    let level_source = match level_flag(matches) {
        Some(flag) => Source::Flag(flag),
        None => layers
            .pick(|f| &f.log_level)
            .map_or(Source::Default, |(_, source)| source),
    };
    [
        Shown {
            key: "log-format",
            value: format_name(format.0).to_owned(),
            source: format.1,
        },
        Shown {
            key: "log-level",
            value: LogLevel::of(global).name().to_owned(),
            source: level_source,
        },
    ]
}

fn executor_name(e: ExecutorKind) -> &'static str {
    match e {
        ExecutorKind::Local => "local",
        ExecutorKind::Slurm => "slurm",
    }
}

fn policy_name(p: FailurePolicy) -> &'static str {
    match p {
        FailurePolicy::FailFast => "fail_fast",
        FailurePolicy::KeepGoing => "keep_going",
    }
}

/// The file-only settings (task defaults and pools) as `autowf config` shows them.
fn task_default_lines(layers: &Layers) -> Vec<Shown> {
    let defaults = TaskOptions::default();
    let fmt = |d: Duration| crate::script::fmt_duration(d);
    let pick_or = |key, found: Option<(String, Source)>, default: String| match found {
        Some((value, source)) => Shown { key, value, source },
        None => Shown {
            key,
            value: default,
            source: Source::Default,
        },
    };
    vec![
        pick_or(
            "retries",
            layers.pick(|f| &f.retries).map(|(v, s)| (v.to_string(), s)),
            defaults.retries.to_string(),
        ),
        pick_or(
            "timeout",
            layers.pick(|f| &f.timeout).map(|(v, s)| (fmt(v), s)),
            "none".to_owned(),
        ),
        pick_or(
            "kill-grace",
            layers.pick(|f| &f.kill_grace).map(|(v, s)| (fmt(v), s)),
            fmt(defaults.kill_grace),
        ),
        pick_or(
            "default-executor",
            layers
                .pick(|f| &f.run_in)
                .map(|(v, s)| (format!("{v:?}").to_lowercase(), s)),
            "thread".to_owned(),
        ),
        pick_or(
            "secrets",
            layers.pick(|f| &f.secrets).map(|(p, s)| {
                (
                    p.iter()
                        .map(crate::secrets::Provider::describe)
                        .collect::<Vec<_>>()
                        .join(", "),
                    s,
                )
            }),
            "env".to_owned(),
        ),
        pick_or(
            "pools",
            layers.pick(|f| &f.pools).map(|(p, s)| {
                (
                    p.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    s,
                )
            }),
            "none".to_owned(),
        ),
    ]
}

impl RunConfig {
    /// The state directory: `--state-dir` (or `AUTOWF_STATE_DIR`), else `.autowf/` next to the
    /// flow file, so cron (which starts in the home directory) and a terminal agree.
    pub(crate) fn state_dir(&self, flow_dir: &std::path::Path) -> PathBuf {
        resolve_state_dir(self.state_dir.as_deref(), flow_dir)
    }
}

/// The state directory for commands other than `run` (`runs`, `cache`, `artifacts`), by the
/// same layers: the flag or its variable, then the configuration files, then the default.
pub(crate) fn state_dir_for(
    cli: &Cli,
    matches: &clap::ArgMatches,
    layers: &Layers,
    flow_dir: &std::path::Path,
) -> PathBuf {
    let setting = local_state_dir(cli, matches)
        .map(|(d, _)| d)
        .or_else(|| layers.pick(|f| &f.state_dir).map(|(d, _)| d));
    resolve_state_dir(setting.as_deref(), flow_dir)
}

fn resolve_state_dir(setting: Option<&std::path::Path>, flow_dir: &std::path::Path) -> PathBuf {
    match setting {
        Some(dir) if dir.is_absolute() => dir.to_path_buf(),
        Some(dir) => {
            std::env::current_dir().map_or_else(|_| dir.to_path_buf(), |cwd| cwd.join(dir))
        }
        None => flow_dir.join(".autowf"),
    }
}

/// Where an effective setting came from, for `autowf config`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    Default,
    File(SourceLoc),
    Env(&'static str),
    Flag(&'static str),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::File(at) => write!(f, "{}:{}", at.file, at.line),
            Self::Env(name) => write!(f, "environment {name}"),
            Self::Flag(name) => write!(f, "flag {name}"),
        }
    }
}

/// The configuration files that apply to a flow (the user's and the project's), and the
/// `AUTOWF_*` variables of keys that have no flag.
#[derive(Clone, Debug, Default)]
pub(crate) struct Layers {
    /// Lowest first: the user's `config.toml`, then the project's `autowf.toml`.
    files: Vec<FileValues>,
    /// Above the files: `AUTOWF_RETRIES`, `AUTOWF_LOG_LEVEL`, ... (see `file::ENV_KEYS`).
    env: FileValues,
}

/// The user's configuration file: `config.toml` in `autowf/` of the user's config directory.
fn user_config() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("autowf").join("config.toml"))
}

/// The nearest `autowf.toml` at or above `dir`, named relative to the working directory
/// when it is below it (that is how messages show it).
fn project_config(dir: &Path) -> Option<PathBuf> {
    let absolute = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let found = absolute
        .ancestors()
        .map(|d| d.join("autowf.toml"))
        .find(|p| p.is_file())?;
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|c| std::fs::canonicalize(c).ok());
    Some(
        cwd.and_then(|c| found.strip_prefix(c).ok().map(Path::to_path_buf))
            .unwrap_or(found),
    )
}

impl Layers {
    /// Reads the user's config and the project config nearest to `dir` (the flow file's
    /// directory). A file that exists but is invalid is an error; a missing one is fine.
    pub(crate) fn load(dir: &Path) -> Result<Self, Error> {
        let mut files = Vec::new();
        let candidates = [user_config().filter(|p| p.is_file()), project_config(dir)];
        for path in candidates.into_iter().flatten() {
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Error::invalid(Diagnostic::new(format!(
                    "cannot read configuration `{}`: {e}",
                    path.display()
                )))
            })?;
            files.push(file::parse(&path, &text).map_err(Error::Invalid)?);
        }
        let env = file::from_env(|name| std::env::var(name).ok()).map_err(Error::Invalid)?;
        Ok(Self { files, env })
    }

    /// The highest layer's value for a key: its `AUTOWF_*` variable, else the files.
    fn pick<T: Clone>(
        &self,
        get: impl Fn(&FileValues) -> &Option<(T, SourceLoc)>,
    ) -> Option<(T, Source)> {
        if let Some((v, at)) = get(&self.env).clone() {
            let var = file::ENV_KEYS
                .iter()
                .find(|(_, name)| **name == *at.file)
                .map_or("AUTOWF_*", |(_, name)| *name);
            return Some((v, Source::Env(var)));
        }
        self.files
            .iter()
            .rev()
            .find_map(|f| get(f).clone().map(|(v, at)| (v, Source::File(at))))
    }

    /// Task options that tasks start from before their own: `retries`, `timeout`,
    /// `kill-grace` and `default-executor`.
    pub(crate) fn task_defaults(&self) -> TaskOptions {
        let mut o = TaskOptions::default();
        if let Some((v, _)) = self.pick(|f| &f.retries) {
            o.retries = v;
        }
        if let Some((v, _)) = self.pick(|f| &f.timeout) {
            o.timeout = Some(v);
        }
        if let Some((v, _)) = self.pick(|f| &f.kill_grace) {
            o.kill_grace = v;
        }
        if let Some((v, _)) = self.pick(|f| &f.run_in) {
            o.run_in = v;
        }
        o
    }

    /// Where `list` and `describe` look when given no file: `flows-dir`, else `flows/`.
    pub(crate) fn flows_dir(&self) -> PathBuf {
        self.pick(|f| &f.flows_dir)
            .map_or_else(|| PathBuf::from(DEFAULT_FLOWS_DIR), |(d, _)| d)
    }

    /// Where `secret(...)` looks: the highest file's `[[secrets]]` (a project's list replaces
    /// the user's), else the environment.
    pub(crate) fn secret_providers(&self) -> Vec<crate::secrets::Provider> {
        self.pick(|f| &f.secrets)
            .map_or_else(crate::secrets::default_providers, |(p, _)| p)
    }

    /// Pools from the configuration, which a flow's own `pools` extend and override.
    pub(crate) fn pools(&self) -> BTreeMap<String, u32> {
        self.pick(|f| &f.pools).map(|(p, _)| p).unwrap_or_default()
    }
}

/// One effective setting as `autowf config` shows it.
#[derive(Clone, Debug)]
pub(crate) struct Shown {
    pub(crate) key: &'static str,
    pub(crate) value: String,
    pub(crate) source: Source,
}

/// A setting from the command line or environment if given there, else from the files, else
/// the default.
fn resolve<T: Clone>(
    given: Option<(T, Source)>,
    layers: &Layers,
    get: impl Fn(&FileValues) -> &Option<(T, SourceLoc)>,
    default: T,
) -> (T, Source) {
    given
        .or_else(|| layers.pick(get))
        .unwrap_or((default, Source::Default))
}
