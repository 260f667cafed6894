//! Running a workload as a whole process: wall time with its output checked, peak RSS, and
//! `ninja` as a reference for shell tasks.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};

use super::suite::Workload;

/// The release binary under test, built by `cargo bench`.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_autowf");
const GNU_TIME: &str = "/usr/bin/time";
/// Argument that turns this binary into a child that reports its own child's peak RSS.
pub(crate) const RSS_PROBE: &str = "--rss-probe";

/// What one workload measured; `reference` holds the ninja runs that alternated with it.
pub(crate) struct Measured {
    pub(crate) wall: Vec<Duration>,
    pub(crate) reference: Vec<Duration>,
    pub(crate) rss_kb: Option<u64>,
}

pub(crate) fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// The command for a workload; `AUTOWF_*` settings of the caller are not inherited.
fn autowf_command(program: &Path, prefix: &[&OsStr], w: &Workload, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(prefix);
    for arg in &w.args {
        if arg.is_empty() {
            cmd.arg(dir.join(w.file));
        } else {
            cmd.arg(arg);
        }
    }
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AUTOWF_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("NO_COLOR", "1")
        .env("AUTOWF_STATE_DIR", dir.join("state"))
        .current_dir(dir);
    cmd
}

/// Runs the workload once, checks its exit code and output, and returns the wall time.
fn run_once(w: &Workload, dir: &Path) -> Duration {
    let mut cmd = autowf_command(Path::new(BIN), &[], w, dir);
    let start = Instant::now();
    let out = cmd.output().expect("cannot start the autowf binary");
    let wall = start.elapsed();
    assert!(
        out.status.success(),
        "{}: autowf failed ({}):\n{}",
        w.id,
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    if let Some(expect) = &w.expect {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(stdout.trim(), expect, "{}: wrong result", w.id);
    }
    wall
}

/// Peak RSS of one more run, in KiB: through GNU time if present, else through a probe child.
fn peak_rss_kb(w: &Workload, dir: &Path) -> Option<u64> {
    let report = dir.join("rss.txt");
    let _ = fs::remove_file(&report);
    let mut cmd = if Path::new(GNU_TIME).exists() {
        let prefix = [
            OsStr::new("-f"),
            OsStr::new("%M"),
            OsStr::new("-o"),
            report.as_os_str(),
            OsStr::new(BIN),
        ];
        autowf_command(Path::new(GNU_TIME), &prefix, w, dir)
    } else {
        let me = std::env::current_exe().ok()?;
        let prefix = [OsStr::new(RSS_PROBE), report.as_os_str(), OsStr::new(BIN)];
        autowf_command(&me, &prefix, w, dir)
    };
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    if !status.success() {
        return None;
    }
    fs::read_to_string(&report).ok()?.trim().parse().ok()
}

/// The probe: runs `program args...`, then writes its peak RSS (KiB) to `report`. It has no
/// other child, so `RUSAGE_CHILDREN` is exactly that process (and what it waited for).
pub(crate) fn rss_probe(report: &str, program: &str, args: &[String]) -> ExitCode {
    let status = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .status();
    let Ok(status) = status else {
        return ExitCode::FAILURE;
    };
    let Ok(usage) = getrusage(UsageWho::RUSAGE_CHILDREN) else {
        return ExitCode::FAILURE;
    };
    if fs::write(report, usage.max_rss().to_string()).is_err() || !status.success() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// `ninja -j2` on the same N `true` commands, as W3's reference.
pub(crate) struct Ninja {
    dir: PathBuf,
}

impl Ninja {
    /// Writes the build file, or `None` when `ninja` is not on PATH.
    pub(crate) fn prepare(n: u64, dir: &Path) -> Option<Self> {
        let found = Command::new("ninja")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            return None;
        }
        let dir = dir.join("ninja");
        fs::create_dir_all(&dir).ok()?;
        let mut text = String::from("rule t\n  command = true\n");
        for i in 0..n {
            let _ = writeln!(text, "build out{i}: t");
        }
        fs::write(dir.join("build.ninja"), text).ok()?;
        Some(Self { dir })
    }

    fn run_once(&self) -> Duration {
        // The commands write no outputs, so every run redoes all of them; the log goes anyway.
        let _ = fs::remove_file(self.dir.join(".ninja_log"));
        let start = Instant::now();
        let status = Command::new("ninja")
            .args(["-j2", "-C"])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .status()
            .expect("cannot start ninja");
        let wall = start.elapsed();
        assert!(status.success(), "ninja failed: {status}");
        wall
    }
}

/// Repetitions of `w`, alternating with the reference if there is one, so that a change in
/// machine load hits both alike.
pub(crate) fn measure(w: &Workload, dir: &Path, reps: usize, ninja: Option<&Ninja>) -> Measured {
    // The RSS run also warms the page cache; ninja gets a warm-up run too.
    let rss_kb = peak_rss_kb(w, dir);
    if let Some(ninja) = ninja {
        ninja.run_once();
    }
    let mut m = Measured {
        wall: Vec::with_capacity(reps),
        reference: Vec::new(),
        rss_kb,
    };
    for _ in 0..reps {
        m.wall.push(run_once(w, dir));
        if let Some(ninja) = ninja {
            m.reference.push(ninja.run_once());
        }
    }
    m
}
