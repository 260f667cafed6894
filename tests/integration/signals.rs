//! Stopping a run from outside: SIGINT and SIGTERM stop every running task's process tree and
//! give 130 and 143; a second signal forces; the first cause decides the exit code.

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

use crate::support::{Test, dedent, wait_until_gone};

/// A shell task that ignores SIGTERM, starts a background sleeper, records its pid and waits.
const STUBBORN: &str = r#"
    fn long() { "trap '' TERM; sleep 300 & echo $! > child.pid; touch started; wait" }
    shell_task(long, #{ kill_grace: "300ms" });
    fn main() { long() }
    flow(main);
"#;

fn spawn(dir: &Path, extra: &[&str]) -> Child {
    // In a process group of its own, like a job a terminal starts, so a test can signal the
    // whole group the way Ctrl-C does.
    Command::new(env!("CARGO_BIN_EXE_autowf"))
        .process_group(0)
        .args(["run", "main.rhai"])
        .args(extra)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start autowf")
}

#[track_caller]
fn wait_for_file(path: &Path) {
    let started = Instant::now();
    while !path.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits (bounded) for the run to exit and returns its exit code and stderr.
#[track_caller]
fn finish(mut child: Child) -> (Option<i32>, String) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for autowf") {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            return (status.code(), stderr);
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("autowf did not stop after the signal");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn signal(child: &Child, sig: Signal) {
    kill(Pid::from_raw(i32::try_from(child.id()).unwrap()), sig).expect("send a signal");
}

fn sleeper_pid(dir: &Path) -> u32 {
    std::fs::read_to_string(dir.join("child.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn sigint_stops_the_whole_process_tree_and_exits_130() {
    let test = Test::new().flow("main.rhai", STUBBORN);
    let dir = test.path();
    let child = spawn(&dir, &[]);
    wait_for_file(&dir.join("started"));
    signal(&child, Signal::SIGINT);
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted: stopping 1 running task(s): long"),
        "{stderr}"
    );
    assert!(stderr.contains("run interrupted in"), "{stderr}");
    assert!(
        wait_until_gone(sleeper_pid(&dir), Duration::from_secs(2)),
        "the background sleep survived"
    );
}

#[test]
fn sigterm_exits_143() {
    let test = Test::new().flow("main.rhai", STUBBORN);
    let dir = test.path();
    let child = spawn(&dir, &[]);
    wait_for_file(&dir.join("started"));
    signal(&child, Signal::SIGTERM);
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(143), "{stderr}");
    assert!(wait_until_gone(sleeper_pid(&dir), Duration::from_secs(2)));
}

#[test]
fn a_second_signal_forces_the_stop() {
    // A grace period far longer than the test may wait: only forcing ends the run early.
    let flow = dedent(STUBBORN).replace("300ms", "60s");
    let test = Test::new().file("main.rhai", &flow);
    let dir = test.path();
    let child = spawn(&dir, &[]);
    wait_for_file(&dir.join("started"));
    signal(&child, Signal::SIGINT);
    std::thread::sleep(Duration::from_millis(200));
    signal(&child, Signal::SIGINT);
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        stderr.contains("stopping now: killing every running task"),
        "{stderr}"
    );
    assert!(wait_until_gone(sleeper_pid(&dir), Duration::from_secs(2)));
}

#[test]
fn the_first_cause_decides_the_exit_code() {
    let test = Test::new().flow("main.rhai", STUBBORN);
    let dir = test.path();
    let child = spawn(&dir, &["--timeout", "200ms"]);
    wait_for_file(&dir.join("started"));
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, Signal::SIGINT);
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(124), "{stderr}");
}

#[test]
fn a_signal_stops_a_task_body_running_in_place() {
    // After a few fast calls, the chain runs on the dispatcher's own thread; one call sleeps.
    let test = Test::new().flow(
        "main.rhai",
        r#"
        fn step(i) { if i == 20 { sh("touch started"); sleep(60); } i + 1 }
        task(step);
        fn main() { let h = step(0); for i in 0..30 { h = step(h); } h }
        flow(main);
        "#,
    );
    let dir = test.path();
    let child = spawn(&dir, &[]);
    wait_for_file(&dir.join("started"));
    let sent = Instant::now();
    signal(&child, Signal::SIGINT);
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "the sleeping body was not interrupted"
    );
}

#[test]
fn ctrl_c_to_the_terminal_group_stops_escaped_descendants_too() {
    let test = Test::new().flow(
        "main.rhai",
        r#"
        fn long() { "setsid sleep 300 & echo $! > esc.pid; (trap '' TERM; sleep 300) & echo $! > child.pid; sleep 0.2; touch started; wait" }
        shell_task(long, #{ kill_grace: "300ms" });
        fn main() { long() }
        flow(main);
        "#,
    );
    let dir = test.path();
    let child = spawn(&dir, &[]);
    wait_for_file(&dir.join("started"));
    // What a terminal does on Ctrl-C: SIGINT to the foreground process group.
    let group = Pid::from_raw(i32::try_from(child.id()).unwrap());
    killpg(group, Signal::SIGINT).expect("signal the group");
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(130), "{stderr}");
    for file in ["esc.pid", "child.pid"] {
        let pid: u32 = std::fs::read_to_string(dir.join(file))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(
            wait_until_gone(pid, Duration::from_secs(2)),
            "{file}: pid {pid} survived Ctrl-C"
        );
    }
}
