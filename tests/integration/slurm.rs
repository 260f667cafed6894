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
fn a_jobs_stderr_is_shown_while_it_runs_not_only_at_the_end() {
    if !cluster() {
        return;
    }
    let test = slurm_test()
        .flow(
            "main.rhai",
            r#"
            fn talk() { "echo first words >&2; sleep 4; echo last words >&2" }
            shell_task(talk);
            fn think() { print("thinking"); sleep(4); 1 }
            task(think);
            fn talking() { [talk(), think()] }
            flow(talking);
            "#,
        )
        .args(["run", "main.rhai", "--executor", "slurm", "-v", "-j", "2"]);
    let mut child = test
        .command()
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start autowf");
    let lines = std::io::BufRead::lines(std::io::BufReader::new(child.stderr.take().unwrap()));
    // Each line with when it arrived.
    let seen: Vec<(Instant, String)> = lines
        .map_while(Result::ok)
        .map(|l| (Instant::now(), l))
        .collect();
    assert!(child.wait().unwrap().success());
    let at = |text: &str| {
        seen.iter()
            .find(|(_, l)| l.contains(text))
            .unwrap_or_else(|| panic!("no `{text}` in {seen:#?}"))
            .0
    };
    for (first, done) in [
        ("talk | first words", "ok      talk"),
        ("think | thinking", "ok      think"),
    ] {
        let ahead = at(done) - at(first);
        assert!(
            ahead > Duration::from_secs(2),
            "`{first}` came only {ahead:?} before the job ended: {seen:#?}"
        );
    }
    at("talk | last words");
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

/// Cancels the jobs it holds when dropped, so that a failing test leaves none behind.
struct JobsGuard(Vec<u64>);

impl Drop for JobsGuard {
    fn drop(&mut self) {
        let ids: Vec<String> = self.0.iter().map(u64::to_string).collect();
        if !ids.is_empty() {
            let _ = Command::new("scancel")
                .args(&ids)
                .stdin(Stdio::null())
                .status();
        }
    }
}

/// Each job of a `run --submit-all` document: node name, job id, dependencies.
fn submitted(doc: &serde_json::Value) -> Vec<(String, u64, Vec<String>)> {
    doc["jobs"]
        .as_array()
        .expect("a list of jobs")
        .iter()
        .map(|j| {
            let deps = j["depends_on"].as_array().expect("a list of dependencies");
            (
                j["node"].as_str().unwrap().to_owned(),
                j["job_id"].as_u64().unwrap(),
                deps.iter()
                    .map(|d| d.as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect()
}

/// Waits (up to 60 s) until Slurm has settled every job in `ids`; each job's final state.
fn final_states(ids: &[u64]) -> std::collections::BTreeMap<u64, String> {
    let list: Vec<String> = ids.iter().map(u64::to_string).collect();
    let started = Instant::now();
    loop {
        let out = Command::new("squeue")
            .args(["--noheader", "--states=all", "--format=%i|%T"])
            .arg(format!("--jobs={}", list.join(",")))
            .output()
            .expect("run squeue");
        let states: std::collections::BTreeMap<u64, String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let (id, state) = l.trim().split_once('|')?;
                Some((id.parse().ok()?, state.to_owned()))
            })
            .collect();
        let settled = |s: &String| !matches!(s.as_str(), "PENDING" | "RUNNING" | "COMPLETING");
        if states.len() == ids.len() && states.values().all(settled) {
            return states;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the jobs did not settle: {states:?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// A `run --submit-all` that succeeded, once Slurm has settled all its jobs.
struct Settled {
    /// The document printed on stdout.
    doc: serde_json::Value,
    jobs: Vec<(String, u64, Vec<String>)>,
    states: std::collections::BTreeMap<u64, String>,
    _guard: JobsGuard,
}

impl Settled {
    /// The final Slurm state of `node`'s job.
    #[track_caller]
    fn state_of(&self, node: &str) -> &str {
        let job = self.jobs.iter().find(|j| j.0 == node);
        &self.states[&job.expect("a job for the node").1]
    }
}

/// Runs `autowf run FILE --executor slurm --submit-all` in `test`, which must exit 0, and
/// waits for Slurm to settle every job it submitted.
fn submit_and_settle(test: &Test, file: &str) -> Settled {
    let out = test
        .clone()
        .args(["run", file, "--executor", "slurm", "--submit-all"])
        .run();
    out.code(0);
    let doc = out.stdout_json();
    let jobs = submitted(&doc);
    let ids: Vec<u64> = jobs.iter().map(|j| j.1).collect();
    let guard = JobsGuard(ids.clone());
    let states = final_states(&ids);
    Settled {
        doc,
        jobs,
        states,
        _guard: guard,
    }
}

#[test]
fn submit_all_chains_three_jobs_that_run_in_order() {
    if !cluster() {
        return;
    }
    let test = slurm_test().flow(
        "main.rhai",
        r#"
        fn step(name) { `a=$(date +%s.%N); sleep 1; echo "$a $(date +%s.%N)" > span.${name}` }
        shell_task(step);
        fn chain() {
            let a = step("a");
            let b = step("b").after(a);
            step("c").after(b)
        }
        flow(chain);
        "#,
    );
    let out = test
        .clone()
        .args(["run", "main.rhai", "--executor", "slurm", "--submit-all"])
        .run();
    out.code(0);
    let doc = out.stdout_json();
    let jobs = submitted(&doc);
    let _guard = JobsGuard(jobs.iter().map(|j| j.1).collect());
    let names: Vec<&str> = jobs.iter().map(|j| j.0.as_str()).collect();
    assert_eq!(names, ["step", "step#2", "step#3"]);
    assert!(jobs[0].2.is_empty());
    assert_eq!(jobs[1].2, ["step"]);
    assert_eq!(jobs[2].2, ["step#2"]);
    out.stderr_contains(&format!(
        "submitted `step#2` as Slurm job {} (after `step`)",
        jobs[1].1
    ));
    // autowf did not wait: the last job cannot have ended yet.
    assert!(!test.path().join("span.c").exists());
    let states = final_states(&[jobs[0].1, jobs[1].1, jobs[2].1]);
    assert!(states.values().all(|s| s == "COMPLETED"), "{states:?}");
    let span = |name: &str| -> (f64, f64) {
        let text = std::fs::read_to_string(test.path().join(format!("span.{name}"))).unwrap();
        let (a, b) = text.trim().split_once(' ').unwrap();
        (a.parse().unwrap(), b.parse().unwrap())
    };
    let (a, b, c) = (span("a"), span("b"), span("c"));
    assert!(a.1 <= b.0 && b.1 <= c.0, "out of order: {a:?} {b:?} {c:?}");
    // The run directory keeps the same document and a journal naming the run.
    let run = test_run_dirs(&test.path()).pop().expect("a run directory");
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("jobs.json")).unwrap()).unwrap();
    assert_eq!(kept, doc);
    let journal = std::fs::read_to_string(run.join("journal.jsonl")).unwrap();
    assert!(journal.contains("\"run_started\""), "{journal}");
    // `autowf runs` tells it apart from a run that died, and gc's `--keep` leaves it alone.
    let runs = test.clone().args(["runs", "--json"]).run();
    runs.code(0);
    assert_eq!(runs.stdout_json()["runs"][0]["status"], "submitted");
    let show = test.clone().args(["runs", "show", "last", "--json"]).run();
    show.code(0);
    assert_eq!(show.stdout_json()["jobs"], doc["jobs"]);
    test.clone()
        .args(["runs", "gc", "--keep", "0"])
        .run()
        .code(0);
    assert!(run.join("jobs.json").exists());
}

#[test]
fn submit_all_jobs_read_the_results_of_the_jobs_they_wait_for() {
    if !cluster() {
        return;
    }
    let test = slurm_test().flow(
        "main.rhai",
        r#"
        fn numbers(n) { `seq 1 ${n} | paste -sd, | sed 's/^/[/; s/$/]/'` }
        shell_task(numbers, #{ output: "json" });
        fn total(xs) { let t = 0; for x in xs { t += x; } t }
        task(total);
        fn record(xs, t, shout) { `echo "${xs.len()} ${t} ${shout}" > result.txt` }
        shell_task(record);
        fn passing() {
            let xs = numbers(4);
            let t = total(xs);
            let shout = sh(`echo total is ${t} | tr a-z A-Z`);
            record(xs, t, shout)
        }
        flow(passing);
        "#,
    );
    let run = submit_and_settle(&test, "main.rhai");
    let deps: Vec<(&str, Vec<&str>)> = run
        .jobs
        .iter()
        .map(|j| (j.0.as_str(), j.2.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        deps,
        [
            ("numbers", vec![]),
            ("total", vec!["numbers"]),
            ("sh", vec!["total"]),
            ("record", vec!["numbers", "total", "sh"]),
        ]
    );
    let states = &run.states;
    assert!(states.values().all(|s| s == "COMPLETED"), "{states:?}");
    let result = std::fs::read_to_string(test.path().join("result.txt")).unwrap();
    assert_eq!(result, "4 10 TOTAL IS 10\n");
}

#[test]
fn the_cluster_example_gives_its_local_result_on_slurm_and_when_submitted() {
    if !cluster() {
        return;
    }
    let flows = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("flows");
    let test = slurm_test().copy_dir(&flows, "flows");
    let local = test.clone().args(["run", "flows/cluster.rhai"]).run();
    local.code(0);
    let expected = local.stdout_json();
    test.clone()
        .args(["run", "flows/cluster.rhai", "--executor", "slurm"])
        .run()
        .code(0)
        .stdout_is(local.stdout());
    let run = submit_and_settle(&test, "flows/cluster.rhai");
    let states = &run.states;
    assert!(states.values().all(|s| s == "COMPLETED"), "{states:?}");
    let run_id = run.doc["run_id"].as_str().expect("a run id");
    let ranking = test
        .path()
        .join("flows/.autowf/runs")
        .join(run_id)
        .join("ranking.json");
    let ranking: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ranking).unwrap()).unwrap();
    assert_eq!(ranking, expected["ranking"]);
}

#[test]
fn submit_all_a_result_that_cannot_be_read_fails_the_job_that_takes_it() {
    if !cluster() {
        return;
    }
    let test = slurm_test().flow(
        "main.rhai",
        r#"
        fn listing() { "echo not json" }
        shell_task(listing, #{ output: "json" });
        fn count(xs) { xs.len() }
        task(count);
        fn show(n) { `echo ${n} > count.txt` }
        shell_task(show);
        fn unreadable() { show(count(listing())) }
        flow(unreadable);
        "#,
    );
    let settled = submit_and_settle(&test, "main.rhai");
    let state: Vec<&str> = ["listing", "count", "show"]
        .iter()
        .map(|node| settled.state_of(node))
        .collect();
    // The command succeeded; the job that reads its output as JSON is the one that fails.
    assert_eq!(
        state,
        ["COMPLETED", "FAILED", "CANCELLED"],
        "{:?}",
        settled.states
    );
    let run = test_run_dirs(&test.path()).pop().expect("a run directory");
    let reply = std::fs::read_to_string(run.join("slurm/count.1.reply.json")).unwrap();
    assert!(
        reply.contains("cannot read the result of `listing`") && reply.contains("not valid JSON"),
        "{reply}"
    );
    assert!(!test.path().join("count.txt").exists());
}

#[test]
fn submit_all_a_failed_job_cancels_its_dependents_only() {
    if !cluster() {
        return;
    }
    let test = slurm_test().flow(
        "main.rhai",
        r#"
        fn broken() { "exit 3" }
        shell_task(broken);
        fn refuse() { throw "no, thanks" }
        task(refuse);
        fn mark(name) { `touch ran.${name}` }
        shell_task(mark);
        fn failing() {
            let shell_fails = broken();
            let rhai_fails = refuse();
            let fine = mark("fine");
            [
                mark("after_shell").after(shell_fails),
                mark("after_rhai").after(rhai_fails),
                mark("after_fine").after(fine),
            ]
        }
        flow(failing);
        "#,
    );
    let run = submit_and_settle(&test, "main.rhai");
    let states = &run.states;
    assert_eq!(run.state_of("broken"), "FAILED", "{states:?}");
    // The worker's --exit-code turns the task's error into a failed job.
    assert_eq!(run.state_of("refuse"), "FAILED", "{states:?}");
    assert_eq!(run.state_of("mark"), "COMPLETED", "{states:?}");
    for cancelled in ["mark#2", "mark#3"] {
        assert_eq!(run.state_of(cancelled), "CANCELLED", "{states:?}");
    }
    assert_eq!(run.state_of("mark#4"), "COMPLETED", "{states:?}");
    assert!(!test.path().join("ran.after_shell").exists());
    assert!(!test.path().join("ran.after_rhai").exists());
    assert!(test.path().join("ran.after_fine").exists());
}

/// Needs no cluster: flows that need autowf while they run are refused before anything is
/// submitted or created.
#[test]
fn submit_all_refuses_runtime_fan_out_and_caching_naming_the_node() {
    let fan_out = Test::new().flow(
        "main.rhai",
        r#"
        fn items() { "echo '[1, 2]'" }
        shell_task(items, #{ output: "json" });
        fn work(i) { `echo ${i}` }
        shell_task(work);
        fn fanned() { items().map(work) }
        flow(fanned);
        "#,
    );
    fan_out
        .clone()
        .args(["run", "main.rhai", "--executor", "slurm", "--submit-all"])
        .run()
        .code(2)
        .stderr_contains("--submit-all cannot submit `work`: a `.map` node")
        .stdout_is("");
    assert!(!fan_out.path().join(".autowf/runs").exists());
    let cached = Test::new().flow(
        "main.rhai",
        r#"
        fn slow() { "sleep 1" }
        shell_task(slow, #{ cache_ttl: "1h" });
        fn first() { "echo first" }
        shell_task(first);
        fn cached() { slow().after(first()) }
        flow(cached);
        "#,
    );
    cached
        .clone()
        .args(["run", "main.rhai", "--executor", "slurm", "--submit-all"])
        .run()
        .code(2)
        .stderr_contains("--submit-all cannot submit `slow`: it has `cache_ttl`")
        .stderr_lacks("`first`");
}

/// Needs no cluster: the flag is checked before anything is looked for.
#[test]
fn submit_all_without_the_slurm_executor_is_a_usage_error() {
    let test = Test::new().flow(
        "main.rhai",
        r#"
        fn mark() { "touch ran" }
        shell_task(mark);
        fn main() { mark() }
        flow(main);
        "#,
    );
    test.clone()
        .args(["run", "main.rhai", "--submit-all"])
        .run()
        .code(2)
        .stderr_contains("--submit-all needs the slurm executor");
    test.clone()
        .args(["run", "main.rhai", "--executor", "local", "--submit-all"])
        .run()
        .code(2);
    test.clone()
        .args([
            "run",
            "main.rhai",
            "--executor",
            "slurm",
            "--submit-all",
            "--dry-run",
        ])
        .run()
        .code(2);
    assert!(!test.path().join("ran").exists());
    assert!(!test.path().join(".autowf/runs").exists());
}

#[test]
fn submit_all_a_refused_submission_cancels_the_jobs_already_submitted() {
    if !cluster() {
        return;
    }
    let out = slurm_test()
        .flow(
            "main.rhai",
            r#"
            fn first() { "sleep 30" }
            shell_task(first);
            fn second() { "true" }
            shell_task(second, #{ sbatch_args: ["--partition=no-such-partition"] });
            fn refused() { second().after(first()) }
            flow(refused);
            "#,
        )
        .args(["run", "main.rhai", "--executor", "slurm", "--submit-all"])
        .run();
    out.code(3)
        .stderr_contains("error: cannot submit `second` to Slurm: sbatch refused the job")
        .stderr_contains("cancelled the 1 job(s) already submitted (")
        .stdout_is("");
    let id: u64 = out
        .stderr()
        .split("already submitted (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|id| id.parse().ok())
        .expect("the cancelled job's id");
    let _guard = JobsGuard(vec![id]);
    assert_eq!(final_states(&[id])[&id], "CANCELLED");
}

#[test]
fn submit_all_a_task_that_fails_while_preparing_submits_nothing() {
    if !cluster() {
        return;
    }
    slurm_test()
        .flow(
            "main.rhai",
            r#"
            fn first() { "true" }
            shell_task(first);
            fn broken() { throw "no command for you" }
            shell_task(broken);
            fn prep() { broken().after(first()) }
            flow(prep);
            "#,
        )
        .args(["run", "main.rhai", "--executor", "slurm", "--submit-all"])
        .run()
        .code(2)
        .stderr_contains("error: cannot prepare `broken` for Slurm: ")
        .stderr_contains("no command for you")
        .stdout_is("");
    // Not even the job before it was submitted: Slurm has never seen one of this flow.
    let out = Command::new("squeue")
        .args(["--noheader", "--states=all", "--format=%j"])
        .output()
        .expect("run squeue");
    let names = String::from_utf8_lossy(&out.stdout);
    assert!(!names.contains("autowf:prep:"), "{names}");
}
