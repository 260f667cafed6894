//! One configuration file (`autowf.toml` of a project, `config.toml` of the user): its keys,
//! each validated and kept with the line it came from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use toml::Spanned;

use super::{LogLevel, secrets};
use crate::cli::LogFormat;
use crate::error::{Diagnostic, SourceLoc};
use crate::remote::RemoteUrl;
use crate::script::{ExecutorKind, FailurePolicy, RunIn, suggest};
use crate::secrets::Provider;

/// Every key a configuration file may set.
pub(crate) const KEYS: &[&str] = &[
    "default-executor",
    "executor",
    "flows-dir",
    "jobs",
    "kill-grace",
    "log-format",
    "log-level",
    "max-dynamic-tasks",
    "on-failure",
    "pools",
    "remote-store",
    "retries",
    "secrets",
    "state-dir",
    "timeout",
];

/// The values one file sets; each remembers where.
#[derive(Clone, Debug, Default)]
pub(crate) struct FileValues {
    pub(crate) jobs: Option<(usize, SourceLoc)>,
    pub(crate) max_dynamic_tasks: Option<(usize, SourceLoc)>,
    pub(crate) state_dir: Option<(PathBuf, SourceLoc)>,
    pub(crate) remote_store: Option<(RemoteUrl, SourceLoc)>,
    pub(crate) flows_dir: Option<(PathBuf, SourceLoc)>,
    pub(crate) on_failure: Option<(FailurePolicy, SourceLoc)>,
    pub(crate) retries: Option<(u32, SourceLoc)>,
    pub(crate) timeout: Option<(Duration, SourceLoc)>,
    pub(crate) kill_grace: Option<(Duration, SourceLoc)>,
    pub(crate) run_in: Option<(RunIn, SourceLoc)>,
    pub(crate) executor: Option<(ExecutorKind, SourceLoc)>,
    pub(crate) pools: Option<(BTreeMap<String, u32>, SourceLoc)>,
    pub(crate) log_format: Option<(LogFormat, SourceLoc)>,
    pub(crate) log_level: Option<(LogLevel, SourceLoc)>,
    pub(crate) secrets: Option<(Vec<Provider>, SourceLoc)>,
}

type Table = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// Parses and checks the file at `path`; every problem is reported, with its position.
pub(crate) fn parse(path: &Path, text: &str) -> Result<FileValues, Vec<Diagnostic>> {
    let file: Arc<str> = path.display().to_string().into();
    let loc = |offset: usize| position(&file, text, offset);
    let table: Table = toml::from_str(text).map_err(|e| {
        let at = e.span().map(|s| loc(s.start));
        vec![Diagnostic::new(format!("invalid configuration: {}", e.message())).at(at)]
    })?;
    let mut values = FileValues::default();
    let mut errors = Vec::new();
    for (key, value) in &table {
        let at = loc(key.span().start);
        let dir = path.parent().unwrap_or(Path::new("."));
        if key.get_ref() == "secrets" {
            match secrets::parse(text, &loc, dir) {
                Ok(list) => values.secrets = Some((list, at)),
                Err(mut found) => errors.append(&mut found),
            }
            continue;
        }
        if let Err(message) = set(&mut values, key.get_ref(), value.get_ref(), at.clone(), dir) {
            let at = if KEYS.contains(&key.get_ref().as_str()) {
                loc(value.span().start)
            } else {
                at
            };
            let mut d = Diagnostic::new(message).at(Some(at));
            if !KEYS.contains(&key.get_ref().as_str()) {
                d = d.help(match suggest(key.get_ref(), KEYS) {
                    Some(s) => format!("did you mean `{s}`? keys: {}", KEYS.join(", ")),
                    None => format!("keys: {}", KEYS.join(", ")),
                });
            }
            errors.push(d);
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// The keys without a flag that `AUTOWF_*` variables can also set (the others have flags,
/// whose variables clap reads), with their variables.
pub(super) const ENV_KEYS: [(&str, &str); 6] = [
    ("flows-dir", "AUTOWF_FLOWS_DIR"),
    ("log-level", "AUTOWF_LOG_LEVEL"),
    ("retries", "AUTOWF_RETRIES"),
    ("timeout", "AUTOWF_TIMEOUT"),
    ("kill-grace", "AUTOWF_KILL_GRACE"),
    ("default-executor", "AUTOWF_DEFAULT_EXECUTOR"),
];

/// The environment's layer: the [`ENV_KEYS`] variables that are set, checked like the same
/// keys in a file. A value's "position" is its variable's name.
pub(super) fn from_env(
    var: impl Fn(&str) -> Option<String>,
) -> Result<FileValues, Vec<Diagnostic>> {
    let mut values = FileValues::default();
    let mut errors = Vec::new();
    for (key, name) in ENV_KEYS {
        let Some(text) = var(name) else { continue };
        // Integers arrive as text: give `retries` its number so the file's check applies.
        let value = match text.trim().parse::<i64>() {
            Ok(n) if key == "retries" => toml::Value::Integer(n),
            _ => toml::Value::String(text.clone()),
        };
        let at = SourceLoc {
            file: name.into(),
            line: 0,
            column: 0,
        };
        let cwd = Path::new("");
        if let Err(message) = set(&mut values, key, &value, at, cwd) {
            errors.push(Diagnostic::new(format!(
                "invalid {name}={text:?}: {message}"
            )));
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// One of a few names; a wrong one gets the list, and a wrong string is quoted back.
pub(super) fn one_of<T: Copy>(
    key: &str,
    value: &toml::Value,
    choices: &[(&str, T)],
) -> Result<T, String> {
    let text = value.as_str();
    if let Some(&(_, chosen)) = choices.iter().find(|(name, _)| Some(*name) == text) {
        return Ok(chosen);
    }
    let names: Vec<String> = choices.iter().map(|(n, _)| format!("\"{n}\"")).collect();
    let list = match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    };
    let got = text.map_or_else(|| value.type_str().to_owned(), |t| format!("\"{t}\""));
    Err(format!("`{key}` expects {list}, got {got}"))
}

fn position(file: &Arc<str>, text: &str, offset: usize) -> SourceLoc {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    SourceLoc {
        file: file.clone(),
        line: u32::try_from(line).unwrap_or(u32::MAX),
        column: u32::try_from(column).unwrap_or(u32::MAX),
    }
}

fn set(
    v: &mut FileValues,
    key: &str,
    value: &toml::Value,
    at: SourceLoc,
    dir: &Path,
) -> Result<(), String> {
    let bad = |what: &str| format!("`{key}` expects {what}, got {}", value.type_str());
    match key {
        "jobs" => {
            v.jobs = Some((
                int_at_least(value, 1).ok_or_else(|| bad("an integer of at least 1"))?,
                at,
            ))
        }
        "max-dynamic-tasks" => {
            v.max_dynamic_tasks = Some((
                int_at_least(value, 0).ok_or_else(|| bad("an integer of at least 0"))?,
                at,
            ));
        }
        "retries" => {
            let n = int_at_least(value, 0).ok_or_else(|| bad("an integer of at least 0"))?;
            v.retries = Some((u32::try_from(n).map_err(|_| bad("a smaller integer"))?, at));
        }
        "state-dir" => {
            let text = value.as_str().ok_or_else(|| bad("a path"))?;
            if crate::remote::looks_remote(text) {
                // Stands for `remote-store`: runs, journals and locks stay local.
                set_remote_store(v, RemoteUrl::parse(text)?, at)?;
            } else {
                v.state_dir = Some((dir.join(text), at));
            }
        }
        "remote-store" => {
            let text = value
                .as_str()
                .ok_or_else(|| bad("an `s3://bucket/prefix` URL"))?;
            set_remote_store(v, RemoteUrl::parse(text)?, at)?;
        }
        "flows-dir" => {
            v.flows_dir = Some((dir.join(value.as_str().ok_or_else(|| bad("a path"))?), at))
        }
        "timeout" => v.timeout = Some((duration(key, value)?, at)),
        "kill-grace" => v.kill_grace = Some((duration(key, value)?, at)),
        "on-failure" => {
            let choices = [
                ("fail_fast", FailurePolicy::FailFast),
                ("keep_going", FailurePolicy::KeepGoing),
            ];
            v.on_failure = Some((one_of(key, value, &choices)?, at));
        }
        "log-format" => {
            let choices = [("text", LogFormat::Text), ("json", LogFormat::Json)];
            v.log_format = Some((one_of(key, value, &choices)?, at));
        }
        "log-level" => {
            let choices = [
                ("warn", LogLevel::Warn),
                ("info", LogLevel::Info),
                ("verbose", LogLevel::Verbose),
                ("debug", LogLevel::Debug),
            ];
            v.log_level = Some((one_of(key, value, &choices)?, at));
        }
        "default-executor" => {
            let choices = [("thread", RunIn::Thread), ("process", RunIn::Process)];
            v.run_in = Some((one_of(key, value, &choices)?, at));
        }
        "executor" => {
            let choices = [
                ("local", ExecutorKind::Local),
                ("slurm", ExecutorKind::Slurm),
            ];
            v.executor = Some((one_of(key, value, &choices)?, at));
        }
        "pools" => {
            let table = value
                .as_table()
                .ok_or_else(|| bad("a table of pool sizes"))?;
            let mut pools = BTreeMap::new();
            for (name, size) in table {
                let n = int_at_least(size, 1)
                    .ok_or_else(|| format!("pool `{name}` expects a size of at least 1"))?;
                pools.insert(name.clone(), u32::try_from(n).unwrap_or(u32::MAX));
            }
            v.pools = Some((pools, at));
        }
        other => return Err(format!("unknown configuration key `{other}`")),
    }
    Ok(())
}

/// Sets the file's remote store, from `remote-store` or a URL given as `state-dir`; the two
/// may not name different stores.
fn set_remote_store(v: &mut FileValues, url: RemoteUrl, at: SourceLoc) -> Result<(), String> {
    match &v.remote_store {
        Some((earlier, _)) if *earlier != url => Err(super::two_stores(earlier, &url)),
        _ => {
            v.remote_store = Some((url, at));
            Ok(())
        }
    }
}

fn int_at_least(value: &toml::Value, min: i64) -> Option<usize> {
    value
        .as_integer()
        .filter(|n| *n >= min)
        .and_then(|n| usize::try_from(n).ok())
}

pub(super) fn duration(key: &str, value: &toml::Value) -> Result<Duration, String> {
    let text = value.as_str().ok_or_else(|| {
        format!(
            "`{key}` expects a duration such as \"30s\", got {}",
            value.type_str()
        )
    })?;
    humantime::parse_duration(text)
        .map_err(|e| format!("`{key}`: `{text}` is not a duration ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_lines() {
        let v = parse(
            Path::new("/p/autowf.toml"),
            "jobs = 3\n\ntimeout = \"2m\"\nstate-dir = \"state\"\n[pools]\ndb = 2\n",
        )
        .unwrap();
        assert_eq!(v.jobs.as_ref().map(|(n, at)| (*n, at.line)), Some((3, 1)));
        assert_eq!(
            v.timeout.as_ref().map(|(d, at)| (*d, at.line)),
            Some((Duration::from_secs(120), 3))
        );
        assert_eq!(v.state_dir.map(|(p, _)| p), Some(PathBuf::from("/p/state")));
        assert_eq!(
            v.pools.map(|(p, _)| p),
            Some(BTreeMap::from([("db".to_owned(), 2)]))
        );
    }

    #[test]
    fn executor_is_one_of_two() {
        let v = parse(Path::new("autowf.toml"), "executor = \"slurm\"\n").unwrap();
        assert_eq!(v.executor.map(|(e, _)| e), Some(ExecutorKind::Slurm));
        let errors = parse(Path::new("autowf.toml"), "executor = \"k8s\"\n").unwrap_err();
        assert_eq!(
            errors[0].message,
            "`executor` expects \"local\" or \"slurm\", got \"k8s\""
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_reported_with_positions() {
        let errors = parse(Path::new("autowf.toml"), "jobz = 3\ntimeout = \"soon\"\n").unwrap_err();
        let shown: Vec<(String, u32, u32)> = errors
            .iter()
            .map(|d| {
                (
                    d.message.clone(),
                    d.loc.as_ref().unwrap().line,
                    d.loc.as_ref().unwrap().column,
                )
            })
            .collect();
        assert_eq!(
            shown[0],
            ("unknown configuration key `jobz`".to_owned(), 1, 1)
        );
        assert_eq!(
            errors[0]
                .help
                .as_deref()
                .map(|h| h.starts_with("did you mean `jobs`?")),
            Some(true)
        );
        assert!(
            shown[1]
                .0
                .starts_with("`timeout`: `soon` is not a duration"),
            "{shown:?}"
        );
        assert_eq!((shown[1].1, shown[1].2), (2, 11));
    }
}
