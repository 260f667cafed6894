//! Secrets: where `secret("NAME")` looks (the providers the configuration lists), resolving
//! each name once per process, and the [`Secret`] value that keeps its text out of sight.
//!
//! A resolved value is registered with the redactor before anyone can print it.

mod dotenv;

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Values shorter than this are refused: hiding them would hide ordinary text too.
pub(crate) const MIN_LEN: usize = 6;

/// How many trailing characters of a failed command's stderr its error keeps.
const STDERR_TAIL_CHARS: usize = 400;
/// How long a `command` provider may run unless its table says otherwise: long enough for a
/// vault round trip, short enough that a command waiting for a passphrase nobody will type
/// does not hold a cron run forever.
pub(crate) const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a timed-out command's process group has between SIGTERM and SIGKILL.
const COMMAND_KILL_GRACE: Duration = Duration::from_secs(1);

/// One place `secret(...)` looks, as `[[secrets]]` in a configuration file describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub(crate) enum Provider {
    /// The environment variable `prefix` + name.
    Env { prefix: String },
    /// A `KEY=value` file (absolute path; the configuration resolved it).
    File { path: PathBuf },
    /// A `/bin/sh -c` command line with `{name}` replaced; run in `dir`, stopped (with its
    /// whole process group) after `timeout`.
    Command {
        command: String,
        dir: PathBuf,
        #[serde(default = "default_command_timeout")]
        timeout: Duration,
    },
}

impl Provider {
    /// How the provider is named in messages and `autowf config`.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Env { prefix } if prefix.is_empty() => "env".to_owned(),
            Self::Env { prefix } => format!("env (prefix {prefix})"),
            Self::File { path } => format!("file {}", shown_path(path)),
            Self::Command { command, .. } => format!("command `{command}`"),
        }
    }
}

fn default_command_timeout() -> Duration {
    DEFAULT_COMMAND_TIMEOUT
}

/// A path relative to the working directory when it is below it.
fn shown_path(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(|p| Path::new(".").join(p)))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// A resolved secret: its name, and a value that only [`Secret::reveal`] gives out.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret {
    name: Arc<str>,
    value: Arc<str>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({}, ***)", self.name)
    }
}

impl Secret {
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The clear value: for a child's environment, a keyed hash, or a worker's stdin only.
    pub(crate) fn reveal(&self) -> &str {
        &self.value
    }

    /// Length in characters.
    pub(crate) fn len(&self) -> usize {
        self.value.chars().count()
    }
}

/// Why a secret could not be had.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SecretError {
    #[error("invalid secret name `{0}`: use letters, digits and `_`, `-`, `.`, `/` (not first)")]
    InvalidName(String),
    #[error("secret `{name}` not found; tried: {}", tried.join(", "))]
    NotFound { name: String, tried: Vec<String> },
    #[error(
        "secret `{name}` is too short ({len} characters): secrets need at least {MIN_LEN}, or hiding them would hide ordinary text"
    )]
    TooShort { name: String, len: usize },
    #[error(
        "secrets file `{path}` can be read by group or others (mode {mode:04o}); run `chmod 600 {path}`"
    )]
    FileTooOpen { path: String, mode: u32 },
    #[error("cannot read secrets file `{path}`: {why}")]
    FileUnreadable { path: String, why: String },
    #[error("secrets file `{path}`, line {line}: {why}")]
    FileSyntax {
        path: String,
        line: usize,
        why: String,
    },
    #[error("secret `{name}`: provider {provider} failed: {why}")]
    CommandFailed {
        name: String,
        provider: String,
        why: String,
    },
}

/// The providers of this process, in order; `[env]` until configured.
static PROVIDERS: RwLock<Option<Arc<Vec<Provider>>>> = RwLock::new(None);

type Memo = Arc<OnceLock<Result<Secret, SecretError>>>;
/// Each name resolved once per process (a run, or one worker's task call).
static RESOLVED: Mutex<Option<HashMap<String, Memo>>> = Mutex::new(None);

/// Set by the commands that only show a flow (`list`, `describe`, `export-dot`).
static ONLY_INSPECTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// From now on `secret("NAME")` names a secret without asking any provider: the commands
/// that only show a flow's shape work where its secrets are not available (a docs job, a
/// laptop), and never run a `command` provider. Nothing runs in such a process, so the stand-in
/// value is never used.
pub(crate) fn inspect_only() {
    ONLY_INSPECTING.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The providers `secret(...)` uses from now on; forgets what was resolved before.
pub(crate) fn configure(providers: Vec<Provider>) {
    *PROVIDERS.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(providers));
    *RESOLVED.lock().unwrap_or_else(PoisonError::into_inner) = None;
}

/// The providers in use: the configured ones, else `[env]`.
pub(crate) fn providers() -> Arc<Vec<Provider>> {
    PROVIDERS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
        .unwrap_or_else(|| Arc::new(default_providers()))
}

/// What applies with no `[[secrets]]`: the environment, without a prefix.
pub(crate) fn default_providers() -> Vec<Provider> {
    vec![Provider::Env {
        prefix: String::new(),
    }]
}

/// `NAME`'s secret, resolved by the first provider that has it; the same answer for the rest
/// of the process. Threads asking for the same name at once wait for one resolution.
pub(crate) fn resolve(name: &str) -> Result<Secret, SecretError> {
    if !is_valid_name(name) {
        return Err(SecretError::InvalidName(name.to_owned()));
    }
    if ONLY_INSPECTING.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(Secret {
            name: name.into(),
            value: "(not looked up)".into(),
        });
    }
    let memo = {
        let mut all = RESOLVED.lock().unwrap_or_else(PoisonError::into_inner);
        all.get_or_insert_with(HashMap::new)
            .entry(name.to_owned())
            .or_default()
            .clone()
    };
    memo.get_or_init(|| {
        let value = look_up(name, &providers())?;
        let len = value.chars().count();
        if len < MIN_LEN {
            return Err(SecretError::TooShort {
                name: name.to_owned(),
                len,
            });
        }
        crate::redact::register(&value);
        Ok(Secret {
            name: name.into(),
            value: value.into(),
        })
    })
    .clone()
}

/// A secret that arrived resolved (in a worker's request or reply): hidden here too, and
/// remembered so that `secret(name)` gives the same value without asking again.
pub(crate) fn adopt(name: &str, value: &str) -> Secret {
    crate::redact::register(value);
    let secret = Secret {
        name: name.into(),
        value: value.into(),
    };
    let mut all = RESOLVED.lock().unwrap_or_else(PoisonError::into_inner);
    let memo = all
        .get_or_insert_with(HashMap::new)
        .entry(name.to_owned())
        .or_default();
    let _ = memo.set(Ok(secret.clone()));
    secret
}

/// Every secret resolved or adopted so far in this process.
pub(crate) fn resolved() -> Vec<Secret> {
    let all = RESOLVED.lock().unwrap_or_else(PoisonError::into_inner);
    all.iter()
        .flat_map(HashMap::values)
        .filter_map(|memo| memo.get().and_then(|r| r.as_ref().ok()).cloned())
        .collect()
}

/// Names are safe to put in a command line and a file lookup as they are.
fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c))
        && !name.split('/').any(|part| part == "..")
}

fn look_up(name: &str, providers: &[Provider]) -> Result<String, SecretError> {
    let mut tried = Vec::new();
    for p in providers {
        let found = match p {
            Provider::Env { prefix } => {
                let var = format!("{prefix}{name}");
                let value = std::env::var(&var).ok();
                tried.push(format!("env ({var})"));
                value
            }
            Provider::File { path } => {
                let value = from_file(path, name)?;
                tried.push(match path.exists() {
                    true => format!("file {}", shown_path(path)),
                    false => format!("file {} (does not exist)", shown_path(path)),
                });
                value
            }
            Provider::Command {
                command,
                dir,
                timeout,
            } => Some(from_command(name, command, dir, *timeout)?),
        };
        if let Some(value) = found {
            return Ok(value);
        }
    }
    Err(SecretError::NotFound {
        name: name.to_owned(),
        tried,
    })
}

/// The value of `name` in a dotenv file; a missing file has nothing, an open one is refused.
fn from_file(path: &Path, name: &str) -> Result<Option<String>, SecretError> {
    let shown = shown_path(path);
    let unreadable = |e: std::io::Error| SecretError::FileUnreadable {
        path: shown.clone(),
        why: e.to_string(),
    };
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unreadable(e)),
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(SecretError::FileTooOpen { path: shown, mode });
    }
    let text = std::fs::read_to_string(path).map_err(unreadable)?;
    dotenv::find(&text, name).map_err(|(line, why)| SecretError::FileSyntax {
        path: shown,
        line,
        why,
    })
}

/// Runs the provider's command for `name`; its stdout without the final newline is the value.
fn from_command(
    name: &str,
    template: &str,
    dir: &Path,
    timeout: Duration,
) -> Result<String, SecretError> {
    let provider = format!("command `{template}`");
    let failed = |why: String| SecretError::CommandFailed {
        name: name.to_owned(),
        provider: provider.clone(),
        why,
    };
    // Names hold only shell-safe characters (see `is_valid_name`), so no quoting is needed.
    let line = template.replace("{name}", name);
    let out = run_bounded(&line, dir, timeout)
        .map_err(|e| failed(format!("cannot start it: {e}")))?
        .ok_or_else(|| {
            failed(format!(
                "timed out after {} (its process group was stopped; raise `timeout` in its \
                 `[[secrets]]` table if it is just slow)",
                crate::script::fmt_duration(timeout)
            ))
        })?;
    if !out.status.success() {
        use std::os::unix::process::ExitStatusExt as _;
        let code = out.status.code().map_or_else(
            || format!("signal {}", out.status.signal().unwrap_or(0)),
            |c| format!("exit code {c}"),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stderr = stderr.trim_end();
        let tail_start = stderr
            .char_indices()
            .rev()
            .nth(STDERR_TAIL_CHARS)
            .map_or(0, |(i, _)| i);
        let tail = &stderr[tail_start..];
        return Err(failed(if tail.is_empty() {
            code
        } else {
            format!("{code}: {tail}")
        }));
    }
    let mut value =
        String::from_utf8(out.stdout).map_err(|_| failed("its output is not UTF-8".to_owned()))?;
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    Ok(value)
}

/// Runs `line` with `/bin/sh -c` in `dir`, in a process group of its own with stdin closed;
/// its output, or `None` when it ran past `timeout` (the group is then sent SIGTERM, and
/// SIGKILL after a grace, so nothing it started lingers).
fn run_bounded(
    line: &str,
    dir: &Path,
    timeout: Duration,
) -> std::io::Result<Option<std::process::Output>> {
    use std::io::Read as _;
    use std::os::unix::process::CommandExt as _;
    let mut child = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(line)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .spawn()?;
    // Both pipes are drained while the command runs, so a chatty one cannot block on a full pipe.
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let group = i32::try_from(child.id())
        .map(nix::unistd::Pid::from_raw)
        .ok();
    let signal_group = |signal| {
        if let Some(group) = group {
            let _ = nix::sys::signal::killpg(group, signal);
        }
    };
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let Some(status) = status else {
        signal_group(nix::sys::signal::Signal::SIGTERM);
        let grace_over = Instant::now() + COMMAND_KILL_GRACE;
        while child.try_wait()?.is_none() && Instant::now() < grace_over {
            std::thread::sleep(Duration::from_millis(5));
        }
        // Whatever is left of the group, the shell included.
        signal_group(nix::sys::signal::Signal::SIGKILL);
        let _ = child.wait();
        let _ = (stdout.join(), stderr.join());
        return Ok(None);
    };
    // The command is done; anything it left in the background must not hold its pipes open.
    signal_group(nix::sys::signal::Signal::SIGKILL);
    Ok(Some(std::process::Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }))
}

/// Whether any secret was resolved or adopted in this process (then values may hold one).
pub(crate) fn any_resolved() -> bool {
    crate::redact::is_active()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(is_valid_name("DB_PASSWORD"));
        assert!(is_valid_name("db/password.prod"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("-x"));
        assert!(!is_valid_name("a b"));
        assert!(!is_valid_name("x;rm"));
        assert!(!is_valid_name("a/../b"));
    }

    #[test]
    fn providers_are_tried_in_order_and_named_when_nothing_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.env");
        std::fs::write(&file, "# comment\nFROM_FILE=\"file value\"\n").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let providers = vec![
            Provider::Env {
                prefix: "AUTOWF_UNIT_TEST_NOPE_".to_owned(),
            },
            Provider::File { path: file.clone() },
        ];
        assert_eq!(look_up("FROM_FILE", &providers).unwrap(), "file value");
        let err = look_up("MISSING", &providers).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "secret `MISSING` not found; tried: env (AUTOWF_UNIT_TEST_NOPE_MISSING), file "
            ),
            "{err}"
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = look_up("FROM_FILE", &providers).unwrap_err().to_string();
        assert!(err.contains("(mode 0644); run `chmod 600 "), "{err}");
    }

    #[test]
    fn a_command_gives_its_stdout_or_fails_with_its_exit_code() {
        let dir = std::env::temp_dir();
        let ok = from_command("abc", "printf 'value-of-%s\\n' {name}", &dir, LONG).unwrap();
        assert_eq!(ok, "value-of-abc");
        let err = from_command("abc", "echo nope >&2; exit 3", &dir, LONG)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "secret `abc`: provider command `echo nope >&2; exit 3` failed: exit code 3: nope"
        );
    }

    const LONG: Duration = Duration::from_secs(30);

    #[test]
    fn a_command_past_its_timeout_is_stopped_with_everything_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        // A command that waits for input that never comes, with a child of its own.
        let template = format!(
            "sleep 30 & echo $! > {}; wait # {{name}}",
            pid_file.display()
        );
        let started = Instant::now();
        let err = from_command("abc", &template, dir.path(), Duration::from_millis(300))
            .unwrap_err()
            .to_string();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(
            err.contains("failed: timed out after 300ms (its process group was stopped"),
            "{err}"
        );
        let pid: i32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The background `sleep` is gone too (a zombie at most, until it is reaped). A
        // signal is delivered when the process next runs, so give a loaded machine a moment.
        let state = || {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            stat.rsplit(") ").next().and_then(|s| s.chars().next())
        };
        let gone = Instant::now() + Duration::from_secs(5);
        while !matches!(state(), None | Some('Z')) && Instant::now() < gone {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            matches!(state(), None | Some('Z')),
            "sleep is still {:?}",
            state()
        );
    }

    #[test]
    fn a_command_that_leaves_a_background_child_still_gives_its_value() {
        let dir = std::env::temp_dir();
        // The background child keeps the pipes open; the value must not wait for it.
        let started = Instant::now();
        let value = from_command("abc", "sleep 30 & echo quick-{name}", &dir, LONG).unwrap();
        assert_eq!(value, "quick-abc");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }
}
