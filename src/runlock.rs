//! `run --lock`: one run at a time per flow and state directory. The lock is an `flock` on
//! `<state dir>/locks/<flow>.lock`, so the kernel releases it if autowf dies; the file records
//! the holder's pid and start time for the message another run prints.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::error::Error;

/// What to do when another run holds the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LockMode {
    /// Exit with code 4.
    Fail,
    /// Say so and exit 0: for cron lines that fire often.
    Skip,
    /// Wait up to this long (forever when `None`), then run or exit 4.
    Wait(Option<Duration>),
}

/// The lock, held until dropped.
pub(crate) struct RunLock {
    _lock: Flock<File>,
}

/// Whether the lock was taken, or who holds it.
pub(crate) enum Acquired {
    Held(RunLock),
    Busy { holder: String },
}

/// How often `wait` retries.
const WAIT_POLL: Duration = Duration::from_millis(50);

pub(crate) fn lock_path(state_dir: &Path, flow: &str) -> PathBuf {
    state_dir.join("locks").join(format!("{flow}.lock"))
}

/// Takes the lock at `path`, waiting as `mode` says.
pub(crate) fn acquire(path: &Path, mode: LockMode, started: &str) -> Result<Acquired, Error> {
    let io_err = |source| Error::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io_err)?;
    }
    let deadline = match mode {
        LockMode::Wait(Some(limit)) => Some(Instant::now() + limit),
        LockMode::Wait(None) => None,
        LockMode::Fail | LockMode::Skip => Some(Instant::now()),
    };
    loop {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_err)?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(mut lock) => {
                record_holder(&mut lock, started).map_err(io_err)?;
                return Ok(Acquired::Held(RunLock { _lock: lock }));
            }
            Err((mut file, Errno::EWOULDBLOCK)) => {
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    return Ok(Acquired::Busy {
                        holder: read_holder(&mut file),
                    });
                }
                std::thread::sleep(WAIT_POLL);
            }
            Err((_, errno)) => return Err(io_err(std::io::Error::from(errno))),
        }
    }
}

fn record_holder(file: &mut File, started: &str) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    writeln!(file, "pid {} started {started}", std::process::id())?;
    file.sync_all()
}

fn read_holder(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let text = text.trim();
    if text.is_empty() {
        "another autowf run".to_owned()
    } else {
        text.to_owned()
    }
}

/// Parses `fail`, `skip`, `wait` or `wait=DURATION`.
pub(crate) fn parse_mode(s: &str) -> Result<LockMode, String> {
    match s {
        "fail" => Ok(LockMode::Fail),
        "skip" => Ok(LockMode::Skip),
        "wait" => Ok(LockMode::Wait(None)),
        other => {
            let limit = other.strip_prefix("wait=").ok_or_else(|| {
                format!("expected fail, skip, wait or wait=DURATION, got `{other}`")
            })?;
            humantime::parse_duration(limit)
                .map(|d| LockMode::Wait(Some(d)))
                .map_err(|e| format!("`{limit}` is not a duration ({e})"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse() {
        assert_eq!(parse_mode("fail"), Ok(LockMode::Fail));
        assert_eq!(
            parse_mode("wait=2s"),
            Ok(LockMode::Wait(Some(Duration::from_secs(2))))
        );
        assert!(
            parse_mode("sometimes")
                .unwrap_err()
                .contains("expected fail, skip, wait")
        );
    }

    #[test]
    fn a_second_lock_is_busy_and_names_the_holder_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = lock_path(dir.path(), "nightly");
        let Ok(Acquired::Held(first)) = acquire(&path, LockMode::Fail, "t0") else {
            panic!("first lock")
        };
        match acquire(&path, LockMode::Fail, "t1").unwrap() {
            Acquired::Busy { holder } => {
                assert_eq!(holder, format!("pid {} started t0", std::process::id()))
            }
            Acquired::Held(_) => panic!("the lock is held"),
        }
        drop(first);
        assert!(matches!(
            acquire(&path, LockMode::Fail, "t2").unwrap(),
            Acquired::Held(_)
        ));
    }
}
