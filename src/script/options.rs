//! The option tables for `task`, `shell_task` and `flow`: one row per option, with its parser
//! and how `describe` shows it. Adding an option is one row plus its field and its doc entry.

use std::collections::BTreeMap;
use std::time::Duration;

use rhai::{Dynamic, FnPtr, Map};

/// A script closure kept as an option value (`retry_on`, `cache_key`).
#[derive(Clone, Debug)]
pub(crate) struct ScriptFn(pub(crate) FnPtr);

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RetryStrategy {
    Exponential,
    Fixed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RunIn {
    Thread,
    Process,
}

/// Where an attempt runs: on this machine, or as a Slurm batch job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ExecutorKind {
    Local,
    Slurm,
}

/// What a task asks Slurm for; only the Slurm executor reads these.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SlurmResources {
    /// `--cpus-per-task`.
    pub(crate) cpus: Option<u32>,
    /// `--mem`, as written (e.g. "2G").
    pub(crate) mem: Option<String>,
    pub(crate) partition: Option<String>,
    /// `--time`, rounded up to whole minutes; without it the task's `timeout` decides.
    pub(crate) time_limit: Option<Duration>,
    /// Passed to `sbatch` as given, after the options autowf sets.
    pub(crate) sbatch_args: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Trigger {
    AllSuccess,
    AllDone,
    OneFailed,
    Always,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OutputFormat {
    Text,
    Json,
    Lines,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FailurePolicy {
    FailFast,
    KeepGoing,
}

/// When to retry: on some exit codes (shell tasks) or when a closure says so.
#[derive(Clone, Debug)]
pub(crate) enum RetryOn {
    ExitCodes(Vec<i64>),
    Closure(ScriptFn),
}

/// The value of one `env` entry: text, or a secret whose clear value only the child sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum EnvValue {
    Text(String),
    Secret(crate::secrets::Secret),
}

impl EnvValue {
    /// What the child process gets.
    pub(crate) fn reveal(&self) -> &str {
        match self {
            Self::Text(t) => t,
            Self::Secret(s) => s.reveal(),
        }
    }
}

/// How long a cached result stays valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CacheTtl {
    For(Duration),
    Forever,
}

/// The typed options of a task (or of one node, after `.options(...)` overrides).
#[derive(Clone, Debug)]
pub(crate) struct TaskOptions {
    pub(crate) retries: u32,
    pub(crate) retry_backoff: Duration,
    pub(crate) retry_strategy: RetryStrategy,
    pub(crate) retry_max_backoff: Option<Duration>,
    pub(crate) retry_jitter: f64,
    pub(crate) retry_on: Option<RetryOn>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) kill_grace: Duration,
    pub(crate) priority: i64,
    pub(crate) tags: Vec<String>,
    pub(crate) cache_ttl: Option<CacheTtl>,
    pub(crate) cache_key: Option<ScriptFn>,
    pub(crate) inputs: Vec<String>,
    pub(crate) persist: bool,
    pub(crate) run_in: RunIn,
    pub(crate) max_concurrency: Option<u32>,
    pub(crate) pool: Option<String>,
    pub(crate) pool_slots: u32,
    pub(crate) trigger: Trigger,
    pub(crate) env: BTreeMap<String, EnvValue>,
    pub(crate) cwd: Option<String>,
    pub(crate) output: OutputFormat,
    /// `None`: the run's executor (`--executor`, config `executor`).
    pub(crate) executor: Option<ExecutorKind>,
    pub(crate) slurm: SlurmResources,
}

impl Default for TaskOptions {
    fn default() -> Self {
        Self {
            retries: 0,
            retry_backoff: Duration::from_secs(1),
            retry_strategy: RetryStrategy::Exponential,
            retry_max_backoff: None,
            retry_jitter: 0.0,
            retry_on: None,
            timeout: None,
            kill_grace: Duration::from_secs(5),
            priority: 0,
            tags: Vec::new(),
            cache_ttl: None,
            cache_key: None,
            inputs: Vec::new(),
            persist: false,
            run_in: RunIn::Thread,
            max_concurrency: None,
            pool: None,
            pool_slots: 1,
            trigger: Trigger::AllSuccess,
            env: BTreeMap::new(),
            cwd: None,
            output: OutputFormat::Text,
            executor: None,
            slurm: SlurmResources::default(),
        }
    }
}

/// Which registrations accept an option.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    AnyTask,
    ShellOnly,
}

type Parse = fn(&mut TaskOptions, &Dynamic) -> Result<(), String>;
type Show = fn(&TaskOptions) -> Option<String>;

struct OptionDef {
    name: &'static str,
    scope: Scope,
    parse: Parse,
    show: Show,
}

macro_rules! opt {
    ($name:literal, $scope:ident, $parse:expr, $show:expr) => {
        OptionDef {
            name: $name,
            scope: Scope::$scope,
            parse: $parse,
            show: $show,
        }
    };
}

/// Every task option, in the order `describe` shows them.
const TASK_OPTIONS: &[OptionDef] = &[
    opt!(
        "retries",
        AnyTask,
        |o, v| {
            o.retries = count(v, 0)?;
            Ok(())
        },
        |o| nonzero(o.retries)
    ),
    opt!(
        "retry_backoff",
        AnyTask,
        |o, v| {
            o.retry_backoff = duration(v)?;
            Ok(())
        },
        |o| { (o.retries > 0).then(|| fmt_duration(o.retry_backoff)) }
    ),
    opt!(
        "retry_strategy",
        AnyTask,
        |o, v| {
            o.retry_strategy = choice(
                v,
                &[
                    ("exponential", RetryStrategy::Exponential),
                    ("fixed", RetryStrategy::Fixed),
                ],
            )?;
            Ok(())
        },
        |o| (o.retries > 0).then(|| enum_name(&o.retry_strategy))
    ),
    opt!(
        "retry_max_backoff",
        AnyTask,
        |o, v| {
            o.retry_max_backoff = Some(duration(v)?);
            Ok(())
        },
        |o| { o.retry_max_backoff.map(fmt_duration) }
    ),
    opt!(
        "retry_jitter",
        AnyTask,
        |o, v| {
            o.retry_jitter = fraction(v)?;
            Ok(())
        },
        |o| { (o.retry_jitter > 0.0).then(|| o.retry_jitter.to_string()) }
    ),
    opt!(
        "retry_on",
        AnyTask,
        |o, v| {
            o.retry_on = Some(retry_on(v)?);
            Ok(())
        },
        |o| {
            o.retry_on.as_ref().map(|r| match r {
                RetryOn::ExitCodes(codes) => format!("{codes:?}"),
                RetryOn::Closure(_) => "<closure>".to_owned(),
            })
        }
    ),
    opt!(
        "timeout",
        AnyTask,
        |o, v| {
            let d = duration(v)?;
            if d.is_zero() {
                return Err("a timeout must be longer than zero".to_owned());
            }
            o.timeout = Some(d);
            Ok(())
        },
        |o| o.timeout.map(fmt_duration)
    ),
    opt!(
        "kill_grace",
        AnyTask,
        |o, v| {
            o.kill_grace = duration(v)?;
            Ok(())
        },
        |o| {
            (o.kill_grace != TaskOptions::default().kill_grace).then(|| fmt_duration(o.kill_grace))
        }
    ),
    opt!(
        "priority",
        AnyTask,
        |o, v| {
            o.priority = int(v)?;
            Ok(())
        },
        |o| { nonzero(o.priority) }
    ),
    opt!(
        "tags",
        AnyTask,
        |o, v| {
            o.tags = strings(v)?;
            Ok(())
        },
        |o| { (!o.tags.is_empty()).then(|| o.tags.join(",")) }
    ),
    opt!(
        "cache_ttl",
        AnyTask,
        |o, v| {
            o.cache_ttl = Some(cache_ttl(v)?);
            Ok(())
        },
        |o| {
            o.cache_ttl.map(|t| match t {
                CacheTtl::Forever => "forever".to_owned(),
                CacheTtl::For(d) => fmt_duration(d),
            })
        }
    ),
    opt!(
        "cache_key",
        AnyTask,
        |o, v| {
            o.cache_key = Some(closure(v)?);
            Ok(())
        },
        |o| { o.cache_key.as_ref().map(|_| "<closure>".to_owned()) }
    ),
    opt!(
        "inputs",
        AnyTask,
        |o, v| {
            o.inputs = strings(v)?;
            Ok(())
        },
        |o| { (!o.inputs.is_empty()).then(|| o.inputs.join(",")) }
    ),
    opt!(
        "persist",
        AnyTask,
        |o, v| {
            o.persist = boolean(v)?;
            Ok(())
        },
        |o| o.persist.then(|| "true".to_owned())
    ),
    opt!(
        "run_in",
        AnyTask,
        |o, v| {
            o.run_in = choice(v, &[("thread", RunIn::Thread), ("process", RunIn::Process)])?;
            Ok(())
        },
        |o| (o.run_in != RunIn::Thread).then(|| enum_name(&o.run_in))
    ),
    opt!(
        "max_concurrency",
        AnyTask,
        |o, v| {
            o.max_concurrency = Some(count(v, 1)?);
            Ok(())
        },
        |o| { o.max_concurrency.map(|n| n.to_string()) }
    ),
    opt!(
        "pool",
        AnyTask,
        |o, v| {
            o.pool = Some(string(v)?);
            Ok(())
        },
        |o| o.pool.clone()
    ),
    opt!(
        "pool_slots",
        AnyTask,
        |o, v| {
            o.pool_slots = count(v, 1)?;
            Ok(())
        },
        |o| { (o.pool_slots != 1).then(|| o.pool_slots.to_string()) }
    ),
    opt!(
        "trigger",
        AnyTask,
        |o, v| {
            o.trigger = choice(
                v,
                &[
                    ("all_success", Trigger::AllSuccess),
                    ("all_done", Trigger::AllDone),
                    ("one_failed", Trigger::OneFailed),
                    ("always", Trigger::Always),
                ],
            )?;
            Ok(())
        },
        |o| (o.trigger != Trigger::AllSuccess).then(|| enum_name(&o.trigger))
    ),
    opt!(
        "env",
        AnyTask,
        |o, v| {
            o.env = env_map(v)?;
            Ok(())
        },
        |o| { (!o.env.is_empty()).then(|| o.env.keys().cloned().collect::<Vec<_>>().join(",")) }
    ),
    opt!(
        "cwd",
        AnyTask,
        |o, v| {
            o.cwd = Some(string(v)?);
            Ok(())
        },
        |o| o.cwd.clone()
    ),
    opt!(
        "executor",
        AnyTask,
        |o, v| {
            let choices = [
                ("local", ExecutorKind::Local),
                ("slurm", ExecutorKind::Slurm),
            ];
            o.executor = Some(choice(v, &choices)?);
            Ok(())
        },
        |o| o.executor.map(|e| enum_name(&e))
    ),
    opt!(
        "cpus",
        AnyTask,
        |o, v| {
            o.slurm.cpus = Some(count(v, 1)?);
            Ok(())
        },
        |o| o.slurm.cpus.map(|n| n.to_string())
    ),
    opt!(
        "mem",
        AnyTask,
        |o, v| {
            o.slurm.mem = Some(memory(v)?);
            Ok(())
        },
        |o| o.slurm.mem.clone()
    ),
    opt!(
        "partition",
        AnyTask,
        |o, v| {
            let name = string(v)?;
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(format!("expected a partition name, got \"{name}\""));
            }
            o.slurm.partition = Some(name);
            Ok(())
        },
        |o| o.slurm.partition.clone()
    ),
    opt!(
        "time_limit",
        AnyTask,
        |o, v| {
            let d = duration(v)?;
            if d.is_zero() {
                return Err("a time limit must be longer than zero".to_owned());
            }
            o.slurm.time_limit = Some(d);
            Ok(())
        },
        |o| o.slurm.time_limit.map(fmt_duration)
    ),
    opt!(
        "sbatch_args",
        AnyTask,
        |o, v| {
            o.slurm.sbatch_args = strings(v)?;
            Ok(())
        },
        |o| (!o.slurm.sbatch_args.is_empty()).then(|| o.slurm.sbatch_args.join(" "))
    ),
    opt!(
        "output",
        ShellOnly,
        |o, v| {
            o.output = choice(
                v,
                &[
                    ("text", OutputFormat::Text),
                    ("json", OutputFormat::Json),
                    ("lines", OutputFormat::Lines),
                ],
            )?;
            Ok(())
        },
        |o| (o.output != OutputFormat::Text).then(|| enum_name(&o.output))
    ),
];

/// Names of the options a flow accepts.
pub(crate) const FLOW_OPTIONS: &[&str] = &["on_failure", "params", "pools"];

/// An option that failed to parse: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OptionError {
    Unknown {
        name: String,
        valid: Vec<&'static str>,
        suggestion: Option<&'static str>,
    },
    BadValue {
        name: String,
        reason: String,
    },
}

impl OptionError {
    pub(crate) fn message(&self) -> String {
        match self {
            Self::Unknown { name, .. } => format!("unknown option `{name}`"),
            Self::BadValue { name, reason } => {
                format!("invalid value for option `{name}`: {reason}")
            }
        }
    }

    pub(crate) fn help(&self) -> Option<String> {
        match self {
            Self::Unknown {
                valid, suggestion, ..
            } => Some(match suggestion {
                Some(s) => format!("did you mean `{s}`? valid options: {}", valid.join(", ")),
                None => format!("valid options: {}", valid.join(", ")),
            }),
            Self::BadValue { .. } => None,
        }
    }
}

impl TaskOptions {
    /// Applies an options map on top of `self`. `is_shell` admits shell-only options.
    pub(crate) fn apply(&mut self, map: &Map, is_shell: bool) -> Result<(), OptionError> {
        for (key, value) in map {
            let def = TASK_OPTIONS
                .iter()
                .find(|d| d.name == key.as_str() && (is_shell || d.scope == Scope::AnyTask))
                .ok_or_else(|| unknown_option(key, is_shell))?;
            (def.parse)(self, value).map_err(|reason| OptionError::BadValue {
                name: key.to_string(),
                reason,
            })?;
        }
        Ok(())
    }

    /// The options that differ from their defaults, as `(name, shown value)`.
    pub(crate) fn shown(&self) -> Vec<(&'static str, String)> {
        TASK_OPTIONS
            .iter()
            .filter_map(|d| (d.show)(self).map(|v| (d.name, v)))
            .collect()
    }
}

fn unknown_option(key: &str, is_shell: bool) -> OptionError {
    let valid: Vec<&'static str> = TASK_OPTIONS
        .iter()
        .filter(|d| is_shell || d.scope == Scope::AnyTask)
        .map(|d| d.name)
        .collect();
    let suggestion = suggest(key, &valid);
    OptionError::Unknown {
        name: key.to_owned(),
        valid,
        suggestion,
    }
}

pub(crate) fn unknown_flow_option(key: &str) -> OptionError {
    OptionError::Unknown {
        name: key.to_owned(),
        valid: FLOW_OPTIONS.to_vec(),
        suggestion: suggest(key, FLOW_OPTIONS),
    }
}

/// The closest candidate by edit distance, if it is close enough to be a likely typo.
pub(crate) fn suggest<'a>(wrong: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(wrong, c), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn nonzero<T: PartialEq + Default + ToString>(v: T) -> Option<String> {
    (v != T::default()).then(|| v.to_string())
}

fn enum_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|j| j.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub(crate) fn fmt_duration(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn type_of(v: &Dynamic) -> &'static str {
    super::value::type_name(v)
}

fn int(v: &Dynamic) -> Result<i64, String> {
    v.as_int()
        .map_err(|_| format!("expected an integer, got {}", type_of(v)))
}

fn count(v: &Dynamic, min: i64) -> Result<u32, String> {
    let n = int(v)?;
    if n < min {
        return Err(format!("expected an integer of at least {min}, got {n}"));
    }
    u32::try_from(n).map_err(|_| format!("{n} is too large"))
}

fn fraction(v: &Dynamic) -> Result<f64, String> {
    let x = v
        .as_float()
        .or_else(|_| v.as_int().map(|i| i as f64))
        .map_err(|_| format!("expected a number between 0 and 1, got {}", type_of(v)))?;
    if (0.0..=1.0).contains(&x) {
        Ok(x)
    } else {
        Err(format!("expected a number between 0 and 1, got {x}"))
    }
}

fn boolean(v: &Dynamic) -> Result<bool, String> {
    v.as_bool()
        .map_err(|_| format!("expected true or false, got {}", type_of(v)))
}

fn string(v: &Dynamic) -> Result<String, String> {
    v.clone()
        .into_string()
        .map_err(|_| format!("expected a string, got {}", type_of(v)))
}

fn strings(v: &Dynamic) -> Result<Vec<String>, String> {
    if v.is_string() {
        return Ok(vec![string(v)?]);
    }
    let arr = v
        .as_array_ref()
        .map_err(|_| format!("expected a string or a list of strings, got {}", type_of(v)))?;
    arr.iter().map(string).collect()
}

fn env_map(v: &Dynamic) -> Result<BTreeMap<String, EnvValue>, String> {
    let map = v
        .as_map_ref()
        .map_err(|_| format!("expected a map, got {}", type_of(v)))?;
    map.iter()
        .map(|(k, v)| {
            let value = if let Some(secret) = v.read_lock::<crate::secrets::Secret>() {
                EnvValue::Secret(secret.clone())
            } else if v.is_string() {
                let text = string(v)?;
                super::secret::check_command(&text).map_err(|_| {
                    format!("`{k}`: a secret joined into text cannot be revealed; pass the secret itself")
                })?;
                EnvValue::Text(text)
            } else if v.is_int() || v.is_float() || v.is_bool() {
                EnvValue::Text(v.to_string())
            } else {
                return Err(format!(
                    "`{k}`: expected a string, number, bool or secret, got {}",
                    type_of(v)
                ));
            };
            Ok((k.to_string(), value))
        })
        .collect()
}

/// A Slurm memory size: digits with an optional K, M, G or T suffix ("512M", "2G").
fn memory(v: &Dynamic) -> Result<String, String> {
    let text = string(v)
        .map_err(|_| format!("expected a memory size such as \"2G\", got {}", type_of(v)))?;
    let digits = text.trim_end_matches(['K', 'M', 'G', 'T', 'k', 'm', 'g', 't']);
    let suffix_len = text.len() - digits.len();
    if digits.is_empty() || suffix_len > 1 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{text}` is not a memory size; use e.g. \"512M\" or \"2G\""
        ));
    }
    Ok(text)
}

fn duration(v: &Dynamic) -> Result<Duration, String> {
    let text = string(v).map_err(|_| {
        format!(
            "expected a duration such as \"500ms\" or \"2m\", got {}",
            type_of(v)
        )
    })?;
    humantime::parse_duration(text.trim()).map_err(|e| {
        format!("`{text}` is not a duration ({e}); use e.g. \"500ms\", \"30s\", \"2m\"")
    })
}

fn cache_ttl(v: &Dynamic) -> Result<CacheTtl, String> {
    if v.is_string() && string(v)? == "forever" {
        return Ok(CacheTtl::Forever);
    }
    duration(v)
        .map(CacheTtl::For)
        .map_err(|e| format!("{e}, or \"forever\""))
}

fn closure(v: &Dynamic) -> Result<ScriptFn, String> {
    v.clone()
        .try_cast::<FnPtr>()
        .map(ScriptFn)
        .ok_or_else(|| format!("expected a closure or function name, got {}", type_of(v)))
}

fn retry_on(v: &Dynamic) -> Result<RetryOn, String> {
    if let Ok(arr) = v.as_array_ref() {
        let codes = arr.iter().map(int).collect::<Result<Vec<_>, _>>()?;
        return Ok(RetryOn::ExitCodes(codes));
    }
    closure(v).map(RetryOn::Closure).map_err(|_| {
        format!(
            "expected a list of exit codes or a closure, got {}",
            type_of(v)
        )
    })
}

pub(crate) fn choice<T: Copy>(v: &Dynamic, choices: &[(&str, T)]) -> Result<T, String> {
    let names = || {
        choices
            .iter()
            .map(|(n, _)| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let s = string(v).map_err(|_| format!("expected one of {}, got {}", names(), type_of(v)))?;
    choices
        .iter()
        .find(|(n, _)| *n == s)
        .map(|(_, t)| *t)
        .ok_or_else(|| format!("expected one of {}, got \"{s}\"", names()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str, is_shell: bool) -> Result<TaskOptions, OptionError> {
        let engine = rhai::Engine::new();
        let map: Map = engine.eval(src).unwrap();
        let mut o = TaskOptions::default();
        o.apply(&map, is_shell).map(|()| o)
    }

    #[test]
    fn parses_typed_values() {
        let o = parse(
            r#"#{ retries: 2, timeout: "5s", priority: 10, tags: ["a"], output: "json" }"#,
            true,
        )
        .unwrap();
        assert_eq!(o.retries, 2);
        assert_eq!(o.timeout, Some(Duration::from_secs(5)));
        assert_eq!(o.output, OutputFormat::Json);
        assert_eq!(o.shown()[0], ("retries", "2".to_owned()));
    }

    #[test]
    fn unknown_option_suggests_nearest() {
        let err = parse("#{ retires: 2 }", false).unwrap_err();
        assert_eq!(err.message(), "unknown option `retires`");
        assert!(
            err.help()
                .unwrap()
                .starts_with("did you mean `retries`? valid options: retries,")
        );
    }

    #[test]
    fn shell_only_options_are_rejected_on_rhai_tasks() {
        assert!(matches!(
            parse(r#"#{ output: "json" }"#, false),
            Err(OptionError::Unknown { .. })
        ));
    }

    #[test]
    fn slurm_options_are_typed_and_checked() {
        let o = parse(
            r#"#{ executor: "slurm", cpus: 2, mem: "2G", partition: "debug", time_limit: "90s", sbatch_args: ["--qos=low"] }"#,
            false,
        )
        .unwrap();
        assert_eq!(o.executor, Some(ExecutorKind::Slurm));
        assert_eq!(o.slurm.cpus, Some(2));
        assert_eq!(o.slurm.mem.as_deref(), Some("2G"));
        assert_eq!(o.slurm.time_limit, Some(Duration::from_secs(90)));
        assert_eq!(o.slurm.sbatch_args, ["--qos=low"]);
        assert!(o.shown().contains(&("executor", "slurm".to_owned())));
        let err = parse(r#"#{ mem: "lots" }"#, false).unwrap_err();
        assert_eq!(
            err.message(),
            "invalid value for option `mem`: `lots` is not a memory size; use e.g. \"512M\" or \"2G\""
        );
        let err = parse(r#"#{ executor: "cloud" }"#, false).unwrap_err();
        assert_eq!(
            err.message(),
            "invalid value for option `executor`: expected one of \"local\", \"slurm\", got \"cloud\""
        );
        assert!(parse("#{ cpus: 0 }", false).is_err());
    }

    #[test]
    fn bad_values_say_why() {
        let err = parse(r#"#{ timeout: "soon" }"#, false).unwrap_err();
        assert!(
            err.message().contains("`soon` is not a duration"),
            "{}",
            err.message()
        );
        let err = parse("#{ retries: -1 }", false).unwrap_err();
        assert_eq!(
            err.message(),
            "invalid value for option `retries`: expected an integer of at least 0, got -1"
        );
    }
}
