//! Submitting one attempt: the job script, the `sbatch` command line and its answer.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::script::SlurmResources;

/// Where one attempt's files live in the run directory: `slurm/<node>.<attempt>.*`.
pub(super) struct JobFiles {
    pub(super) script: PathBuf,
    pub(super) stdout: PathBuf,
    pub(super) stderr: PathBuf,
    /// A Rhai task's worker request and reply.
    pub(super) request: PathBuf,
    pub(super) reply: PathBuf,
}

impl JobFiles {
    pub(super) fn new(dir: &Path, node: &str, attempt: u32) -> Self {
        let base = format!("{}.{attempt}", crate::tasklog::safe_name(node));
        let file = |ext: &str| dir.join(format!("{base}.{ext}"));
        Self {
            script: file("sh"),
            stdout: file("out"),
            stderr: file("err"),
            request: file("request.json"),
            reply: file("reply.json"),
        }
    }
}

/// Everything `sbatch` is told about one job.
pub(super) struct Submission<'a> {
    pub(super) name: String,
    pub(super) files: &'a JobFiles,
    pub(super) cwd: &'a Path,
    pub(super) resources: &'a SlurmResources,
    /// `--time` in whole minutes.
    pub(super) minutes: Option<u64>,
    /// Jobs that must succeed before this one starts (`run --submit-all`); empty when autowf
    /// submits a node only once its dependencies have succeeded.
    pub(super) after: &'a [u64],
}

/// The `sbatch` arguments for a submission: autowf's own options first, then the task's
/// `sbatch_args` (so they can override them), then the script.
pub(super) fn sbatch_args(s: &Submission<'_>) -> Vec<String> {
    let mut args = vec![
        "--parsable".to_owned(),
        format!("--job-name={}", s.name),
        format!("--output={}", s.files.stdout.display()),
        format!("--error={}", s.files.stderr.display()),
        format!("--chdir={}", s.cwd.display()),
    ];
    let r = s.resources;
    if let Some(cpus) = r.cpus {
        args.push(format!("--cpus-per-task={cpus}"));
    }
    if let Some(mem) = &r.mem {
        args.push(format!("--mem={mem}"));
    }
    if let Some(partition) = &r.partition {
        args.push(format!("--partition={partition}"));
    }
    if let Some(minutes) = s.minutes {
        args.push(format!("--time={minutes}"));
    }
    args.extend(dependency_args(s.after));
    args.extend(r.sbatch_args.iter().cloned());
    args.push(s.files.script.display().to_string());
    args
}

/// `--dependency=afterok:<id>:<id>...` for the jobs a job waits for, with
/// `--kill-on-invalid-dep=yes` so that Slurm cancels it when one of them fails instead of
/// leaving it pending forever; nothing when it waits for none.
pub(super) fn dependency_args(after: &[u64]) -> Vec<String> {
    if after.is_empty() {
        return Vec::new();
    }
    let ids: Vec<String> = after.iter().map(u64::to_string).collect();
    vec![
        format!("--dependency=afterok:{}", ids.join(":")),
        "--kill-on-invalid-dep=yes".to_owned(),
    ]
}

/// Slurm's `--time` in minutes: `time_limit` rounded up, else the task's `timeout` plus its
/// kill grace rounded up with one minute to spare (a backstop: autowf enforces the timeout
/// itself, to the second). `None` leaves the partition's default.
pub(super) fn time_minutes(
    resources: &SlurmResources,
    timeout: Option<Duration>,
    kill_grace: Duration,
) -> Option<u64> {
    if let Some(limit) = resources.time_limit {
        return Some(minutes_up(limit).max(1));
    }
    timeout.map(|t| minutes_up(t + kill_grace) + 1)
}

fn minutes_up(d: Duration) -> u64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.div_ceil(60)
}

/// A shell node's command line in its job script.
pub(super) enum CommandLine<'a> {
    /// Known when the script is written.
    Known(&'a str),
    /// Built when the job starts by `autowf worker --command-line` from this request, which
    /// reads the results the command line takes from the files of the jobs it waited for
    /// (`run --submit-all`). The worker runs in `dir`, where autowf was started, as a Rhai
    /// task's job does: the request names the flow file as autowf was given it.
    BuiltFrom {
        exe: &'a Path,
        request: &'a Path,
        dir: &'a Path,
    },
}

/// The job script of a shell task: its command under `/bin/sh -c` with the task's
/// environment, and, with a timeout, under coreutils' `timeout`, which signals the command's
/// whole process group with TERM, then KILL after the kill grace, and exits with 124.
pub(super) fn shell_script(
    command: &CommandLine<'_>,
    env: &BTreeMap<String, String>,
    timeout: Option<Duration>,
    kill_grace: Duration,
) -> String {
    let mut s = String::from("#!/bin/sh\n# Written by autowf: one attempt of a shell task.\n");
    let line = match command {
        CommandLine::Known(line) => quote(line),
        CommandLine::BuiltFrom { exe, request, dir } => {
            // A failure to build it is the job's failure; the worker said why on stderr.
            let _ = writeln!(
                s,
                "line=$(cd {} && {} worker --command-line <{}) || exit 1",
                quote(&dir.display().to_string()),
                quote(&exe.display().to_string()),
                quote(&request.display().to_string()),
            );
            "\"$line\"".to_owned()
        }
    };
    s.push_str("exec env");
    for (key, value) in env {
        let _ = write!(s, " \\\n  {}", quote(&format!("{key}={value}")));
    }
    if let Some(t) = timeout {
        let _ = write!(
            s,
            " \\\n  timeout --signal=TERM --kill-after={} {}",
            seconds(kill_grace),
            seconds(t)
        );
    }
    let _ = writeln!(s, " \\\n  /bin/sh -c {line}");
    s
}

/// The job script of a Rhai task: `autowf worker` reading the request file and writing the
/// reply file (the same protocol as `run_in: "process"`). With `exit_code` (no autowf waits
/// to read the reply) a failed task also fails the job, so that Slurm sees it.
pub(super) fn worker_script(exe: &Path, files: &JobFiles, exit_code: bool) -> String {
    format!(
        "#!/bin/sh\n# Written by autowf: one attempt of a Rhai task, run by `autowf worker`.\n\
         exec {} worker{} <{} >{}\n",
        quote(&exe.display().to_string()),
        if exit_code { " --exit-code" } else { "" },
        quote(&files.request.display().to_string()),
        quote(&files.reply.display().to_string()),
    )
}

/// The job id `sbatch --parsable` printed (`42`, or `42;cluster` on a federation).
pub(super) fn parse_job_id(stdout: &str) -> Option<u64> {
    stdout.trim().split(';').next()?.trim().parse().ok()
}

/// Submits `args` with `sbatch`; the job id, or why there is none.
pub(super) async fn sbatch(args: &[String]) -> Result<u64, String> {
    let output = tokio::process::Command::new("sbatch")
        .args(args)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run sbatch: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("sbatch refused the job: {}", stderr.trim()));
    }
    parse_job_id(&stdout).ok_or_else(|| format!("sbatch printed no job id: {:?}", stdout.trim()))
}

/// `text` quoted for `/bin/sh`.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A duration as `timeout` takes it: seconds with milliseconds.
fn seconds(d: Duration) -> String {
    format!("{}.{:03}", d.as_secs(), d.subsec_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbatch_args_carry_names_files_and_resources() {
        let files = JobFiles::new(Path::new("/runs/r1/slurm"), "sub/square[3]", 2);
        let resources = SlurmResources {
            cpus: Some(4),
            mem: Some("2G".to_owned()),
            partition: Some("debug".to_owned()),
            time_limit: None,
            sbatch_args: vec!["--qos=low".to_owned()],
        };
        let args = sbatch_args(&Submission {
            name: "autowf:main:sub/square[3]".to_owned(),
            files: &files,
            cwd: Path::new("/work"),
            resources: &resources,
            minutes: Some(3),
            after: &[],
        });
        assert_eq!(
            args,
            [
                "--parsable",
                "--job-name=autowf:main:sub/square[3]",
                "--output=/runs/r1/slurm/sub__square[3].2.out",
                "--error=/runs/r1/slurm/sub__square[3].2.err",
                "--chdir=/work",
                "--cpus-per-task=4",
                "--mem=2G",
                "--partition=debug",
                "--time=3",
                "--qos=low",
                "/runs/r1/slurm/sub__square[3].2.sh",
            ]
        );
    }

    #[test]
    fn dependencies_chain_with_afterok_and_come_before_the_tasks_own_args() {
        assert!(dependency_args(&[]).is_empty());
        assert_eq!(
            dependency_args(&[41, 7]),
            ["--dependency=afterok:41:7", "--kill-on-invalid-dep=yes"]
        );
        let files = JobFiles::new(Path::new("/runs/r1/slurm"), "c", 1);
        let resources = SlurmResources {
            sbatch_args: vec!["--kill-on-invalid-dep=no".to_owned()],
            ..SlurmResources::default()
        };
        let args = sbatch_args(&Submission {
            name: "autowf:main:c".to_owned(),
            files: &files,
            cwd: Path::new("/work"),
            resources: &resources,
            minutes: None,
            after: &[12],
        });
        assert_eq!(
            args[5..],
            [
                "--dependency=afterok:12",
                "--kill-on-invalid-dep=yes",
                "--kill-on-invalid-dep=no",
                "/runs/r1/slurm/c.1.sh",
            ]
        );
    }

    #[test]
    fn minutes_round_up_with_a_margin_for_timeouts() {
        let none = SlurmResources::default();
        let grace = Duration::from_secs(5);
        assert_eq!(time_minutes(&none, None, grace), None);
        // 3 s + 5 s grace is under a minute: one minute, plus one to spare.
        assert_eq!(
            time_minutes(&none, Some(Duration::from_secs(3)), grace),
            Some(2)
        );
        assert_eq!(
            time_minutes(&none, Some(Duration::from_secs(55)), grace),
            Some(2)
        );
        assert_eq!(
            time_minutes(&none, Some(Duration::from_secs(56)), grace),
            Some(3)
        );
        let limit = |d| SlurmResources {
            time_limit: Some(d),
            ..SlurmResources::default()
        };
        assert_eq!(
            time_minutes(&limit(Duration::from_secs(90)), None, grace),
            Some(2)
        );
        assert_eq!(
            time_minutes(&limit(Duration::from_secs(120)), None, grace),
            Some(2)
        );
        assert_eq!(
            time_minutes(&limit(Duration::from_millis(120_001)), None, grace),
            Some(3)
        );
        assert_eq!(
            time_minutes(&limit(Duration::from_millis(1)), None, grace),
            Some(1)
        );
    }

    #[test]
    fn shell_scripts_quote_and_wrap_the_command() {
        let env = BTreeMap::from([("GREETING".to_owned(), "it's".to_owned())]);
        let script = shell_script(
            &CommandLine::Known("echo \"$GREETING\" 'x'"),
            &env,
            Some(Duration::from_millis(2500)),
            Duration::from_secs(5),
        );
        assert_eq!(
            script,
            "#!/bin/sh\n# Written by autowf: one attempt of a shell task.\nexec env \\\n  \
             'GREETING=it'\\''s' \\\n  timeout --signal=TERM --kill-after=5.000 2.500 \\\n  \
             /bin/sh -c 'echo \"$GREETING\" '\\''x'\\'''\n"
        );
    }

    #[test]
    fn a_command_line_built_at_job_time_comes_from_the_worker() {
        let script = shell_script(
            &CommandLine::BuiltFrom {
                exe: Path::new("/opt/auto wf"),
                request: Path::new("/runs/r1/slurm/b.1.request.json"),
                dir: Path::new("/home/me/flows"),
            },
            &BTreeMap::new(),
            None,
            Duration::from_secs(5),
        );
        assert_eq!(
            script,
            "#!/bin/sh\n# Written by autowf: one attempt of a shell task.\n\
             line=$(cd '/home/me/flows' && '/opt/auto wf' worker --command-line \
             <'/runs/r1/slurm/b.1.request.json') || exit 1\nexec env \\\n  /bin/sh -c \"$line\"\n"
        );
    }

    #[test]
    fn job_ids_are_read_from_parsable_output() {
        assert_eq!(parse_job_id("42\n"), Some(42));
        assert_eq!(parse_job_id("42;cluster\n"), Some(42));
        assert_eq!(parse_job_id("Submitted batch job 42"), None);
    }
}
