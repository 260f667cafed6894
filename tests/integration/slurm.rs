//! The Slurm executor against a real cluster (`.ci/slurm-up.sh` starts one; run these inside
//! its network namespace with `SLURM_CONF` set). Without a reachable cluster each test says
//! why and skips, unless `AUTOWF_SLURM_TESTS=require`, which CI sets so that they must run.

use std::os::unix::process::CommandExt as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::{Test, dedent};

/// Whether a cluster answers; panics instead of skipping when CI requires one.
#[track_caller]
fn cluster() -> bool {
    let answers = Command::new("sinfo")
        .arg("--noheader")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if !answers {
        assert!(
            std::env::var("AUTOWF_SLURM_TESTS").as_deref() != Ok("require"),
            "AUTOWF_SLURM_TESTS=require, but `sinfo` cannot reach a Slurm cluster"
        );
        eprintln!("skipping: no Slurm cluster (see .ci/slurm-up.sh)");
    }
    answers
}

/// A test that passes the cluster's configuration on to `autowf`.
fn slurm_test() -> Test {
    match std::env::var("SLURM_CONF") {
        Ok(conf) => Test::new().env("SLURM_CONF", &conf),
        Err(_) => Test::new(),
    }
}

/// Names of the queued or running jobs whose name starts with `prefix`.
fn queued(prefix: &str) -> Vec<String> {
    let out = Command::new("squeue")
        .args(["--noheader", "--format=%j"])
        .output()
        .expect("run squeue");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|name| name.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

const MIXED: &str = r#"
    fn numbers(n) { `seq 1 ${n} | paste -sd, | sed 's/^/[/; s/$/]/'` }
    shell_task(numbers, #{ output: "json" });
    fn total(xs) { let t = 0; for x in xs { t += x; } t }
    task(total);
    fn mixed() {
        let xs = numbers(4);
        let t = total(xs);
        let shout = sh(`echo total is ${t} | tr a-z A-Z`);
        #{ xs: xs, total: t, shout: shout }
    }
    flow(mixed);
"#;

#[test]
fn shell_and_rhai_tasks_on_slurm_give_the_local_result() {
    if !cluster() {
        return;
    }
    let test = slurm_test().flow("main.rhai", MIXED);
    let local = test.clone().args(["run", "main.rhai"]).run();
    local.code(0);
    let slurm = test
        .clone()
        .args(["run", "main.rhai", "--executor", "slurm"])
        .run();
    slurm.code(0).stdout_is(local.stdout());
    assert!(
        local.stdout().contains("\"TOTAL IS 10\""),
        "{}",
        local.stdout()
    );
    // Each node ran as a job: its script and output are in the run directory.
    let runs = test_run_dirs(&test.path());
    assert!(
        runs.iter()
            .any(|r| r.join("slurm/total.1.reply.json").is_file()),
        "no worker reply kept in {runs:?}"
    );
}

fn test_run_dirs(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir.join(".autowf/runs"))
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

#[test]
fn a_failing_job_fails_the_run_with_its_exit_code() {
    if !cluster() {
        return;
    }
    slurm_test()
        .flow(
            "main.rhai",
            r#"
            fn broken() { "echo about to fail >&2; exit 3" }
            shell_task(broken);
            fn fails() { broken() }
            flow(fails);
            "#,
        )
        .args(["run", "main.rhai", "--executor", "slurm"])
        .run()
        .code(1)
        .stderr_contains("command exited with code 3")
        .stderr_contains("about to fail")
        .stderr_contains("(Slurm job ");
}

#[test]
fn a_failed_attempt_is_retried_as_a_new_job() {
    if !cluster() {
        return;
    }
    let out = slurm_test()
        .flow(
            "main.rhai",
            r#"
            fn flaky() { "test -f marker || { touch marker; exit 1; }; echo done" }
            shell_task(flaky, #{ retries: 2, retry_backoff: "10ms" });
            fn retried() { flaky() }
            flow(retried);
            "#,
        )
        .args(["run", "main.rhai", "--executor", "slurm", "--json"])
        .run();
    out.code(0);
    assert_eq!(out.summary().attempts("flaky"), 2);
}

#[test]
fn a_sub_minute_timeout_stops_the_job_in_seconds() {
    if !cluster() {
        return;
    }
    let started = Instant::now();
    let out = slurm_test()
        .flow(
            "main.rhai",
            r#"
            fn slow() { "sleep 60" }
            shell_task(slow, #{ timeout: "3s", kill_grace: "1s" });
            fn timed() { slow() }
            flow(timed);
            "#,
        )
        .args(["run", "main.rhai", "--executor", "slurm", "--json"])
        .run();
    out.code(1);
    assert_eq!(out.summary().status("slow"), "timed_out");
    // Slurm's own limit works in minutes; this one must not have been what stopped it.
    assert!(
        started.elapsed() < Duration::from_secs(40),
        "{:?}",
        started.elapsed()
    );
    assert!(queued("autowf:timed:").is_empty());
}

#[test]
fn ctrl_c_cancels_every_job_of_the_run() {
    if !cluster() {
        return;
    }
    let test = slurm_test().flow(
        "main.rhai",
        r#"
        fn nap(i) { `touch started.${i}; sleep 120` }
        shell_task(nap);
        fn napping() { [nap(1), nap(2), nap(3)] }
        flow(napping);
        "#,
    );
    let dir = test.path();
    let mut child = Command::new(env!("CARGO_BIN_EXE_autowf"))
        .process_group(0)
        .args(["run", "main.rhai", "--executor", "slurm", "-j", "3"])
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(std::env::var_os("SLURM_CONF").map(|c| ("SLURM_CONF", c)))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start autowf");
    let started = Instant::now();
    while !(1..=3).all(|i| dir.join(format!("started.{i}")).exists()) {
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "the jobs never started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(queued("autowf:napping:").len(), 3);
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
    kill(pid, Signal::SIGINT).expect("send SIGINT");
    let stopping = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for autowf") {
            break status;
        }
        if stopping.elapsed() > Duration::from_secs(40) {
            let _ = child.kill();
            panic!("autowf did not stop after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert_eq!(queued("autowf:napping:"), Vec::<String>::new(), "{stderr}");
}

#[test]
fn a_runtime_fan_out_of_20_runs_as_parallel_jobs() {
    if !cluster() {
        return;
    }
    let out = slurm_test()
        .flow(
            "main.rhai",
            r#"
            fn items() { "seq 1 20 | paste -sd, | sed 's/^/[/; s/$/]/'" }
            shell_task(items, #{ output: "json" });
            fn work(i) { `a=$(date +%s.%N); sleep 2; b=$(date +%s.%N); echo "[$a, $b]"` }
            shell_task(work, #{ output: "json" });
            fn fanned() { items().map(work) }
            flow(fanned);
            "#,
        )
        .args(["run", "main.rhai", "--executor", "slurm", "-j", "20"])
        .run();
    out.code(0);
    let spans: Vec<(f64, f64)> = out
        .stdout_json()
        .as_array()
        .expect("a list of spans")
        .iter()
        .map(|s| (s[0].as_f64().unwrap(), s[1].as_f64().unwrap()))
        .collect();
    assert_eq!(spans.len(), 20);
    // The most jobs running at one moment: one after another this would be 1.
    let most = spans
        .iter()
        .map(|(start, _)| {
            spans
                .iter()
                .filter(|(a, b)| a <= start && start < b)
                .count()
        })
        .max()
        .unwrap_or(0);
    assert!(most >= 4, "at most {most} jobs ran at once: {spans:?}");
}

#[test]
fn a_task_with_executor_local_runs_here() {
    if !cluster() {
        return;
    }
    let out = slurm_test()
        .flow(
            "main.rhai",
            r#"
            fn where_am_i() { "echo \"job=${SLURM_JOB_ID:-none}\"" }
            shell_task(where_am_i);
            fn here() { "echo \"job=${SLURM_JOB_ID:-none}\"" }
            shell_task(here, #{ executor: "local" });
            fn placed() { #{ slurm: where_am_i(), local: here() } }
            flow(placed);
            "#,
        )
        .args(["run", "main.rhai", "--executor", "slurm"])
        .run();
    out.code(0);
    let doc = out.stdout_json();
    assert_eq!(doc["local"], "job=none");
    let on_slurm = doc["slurm"].as_str().unwrap();
    assert!(
        on_slurm.starts_with("job=") && on_slurm != "job=none",
        "{on_slurm}"
    );
}

/// Needs no cluster: the tools are looked for before anything runs.
#[test]
fn the_slurm_executor_without_sbatch_exits_3_before_running_anything() {
    let test = Test::new().flow(
        "main.rhai",
        &dedent(
            r#"
            fn mark() { "touch ran" }
            shell_task(mark);
            fn main() { mark() }
            flow(main);
            "#,
        ),
    );
    test.clone()
        .env("PATH", "/nonexistent")
        .args(["run", "main.rhai", "--executor", "slurm"])
        .run()
        .code(3)
        .stderr_contains("Slurm's tools were not found on PATH (missing: sbatch, squeue, scancel)");
    assert!(!test.path().join("ran").exists());
    assert!(!test.path().join(".autowf/runs").exists());
}
