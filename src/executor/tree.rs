//! The process tree a task started, read from `/proc`: to stop descendants that left the
//! task's process group (`setsid`, daemons), and to sweep up orphans autowf adopted as a
//! child subreaper.

use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;

/// One line of `/proc/PID/stat`, the parts that matter here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Proc {
    pid: i32,
    ppid: i32,
    pgrp: i32,
    is_zombie: bool,
}

/// Parses `pid (comm) state ppid pgrp ...`; `comm` may itself hold spaces and parentheses.
fn parse_stat(stat: &str) -> Option<Proc> {
    let (head, rest) = stat.rsplit_once(')')?;
    let pid = head.split_whitespace().next()?.parse().ok()?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some(Proc {
        pid,
        ppid,
        pgrp,
        is_zombie: matches!(state, "Z" | "X"),
    })
}

fn processes() -> Vec<Proc> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter_map(|stat| parse_stat(&stat))
        .collect()
}

/// Every live process below `root`, whatever its group or session.
pub(crate) fn descendants(root: Pid) -> Vec<Pid> {
    let all = processes();
    let mut found = vec![root.as_raw()];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            all.iter()
                .filter(|p| p.ppid == parent && !p.is_zombie)
                .map(|p| p.pid),
        );
        i += 1;
    }
    found.into_iter().skip(1).map(Pid::from_raw).collect()
}

/// Whether any process of the group, or any of `others`, is still running. Zombies do not
/// count: a killed grandchild waits for whoever adopted it to reap it, which a container's
/// PID 1 may do late or never.
pub(crate) fn any_alive(pgid: Pid, others: &[Pid]) -> bool {
    let group_exists = killpg(pgid, None).is_ok();
    let others_exist = others.iter().any(|p| kill(*p, None).is_ok());
    if !group_exists && !others_exist {
        return false;
    }
    processes().iter().any(|p| {
        !p.is_zombie && (p.pgrp == pgid.as_raw() || others.contains(&Pid::from_raw(p.pid)))
    })
}

/// Sends `signal` to the group and to each of `others`.
pub(crate) fn signal_tree(pgid: Pid, others: &[Pid], signal: Signal) -> bool {
    let reached_group = killpg(pgid, signal).is_ok();
    let mut reached_any = reached_group;
    for p in others {
        reached_any |= kill(*p, signal).is_ok();
    }
    reached_any
}

/// Makes autowf the reaper of orphans below it, so a task's escaped descendants are
/// re-parented to autowf (where [`sweep_orphans`] finds them) instead of to PID 1.
pub(crate) fn become_subreaper() {
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        tracing::debug!("cannot become a child subreaper: {e}");
    }
}

/// Kills and reaps every process autowf adopted (its children once no task runs), and what
/// they started, for up to `limit`. Returns how many were stopped.
pub(crate) fn sweep_orphans(limit: Duration) -> usize {
    let me = nix::unistd::getpid().as_raw();
    let until = Instant::now() + limit;
    let mut stopped = 0;
    loop {
        let orphans: Vec<Proc> = processes().into_iter().filter(|p| p.ppid == me).collect();
        if orphans.is_empty() || Instant::now() >= until {
            return stopped;
        }
        for orphan in orphans {
            let pid = Pid::from_raw(orphan.pid);
            // A zombie only needs reaping; a live orphan is stopped with what it started.
            if !orphan.is_zombie {
                for d in descendants(pid) {
                    let _ = kill(d, Signal::SIGKILL);
                }
                if kill(pid, Signal::SIGKILL).is_ok() {
                    stopped += 1;
                }
            }
            let _ = waitpid(pid, Some(WaitPidFlag::WNOHANG));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_with_odd_command_names_parse() {
        let p = parse_stat("7 (a b) c) S 1 42 42 0").unwrap();
        assert_eq!(
            p,
            Proc {
                pid: 7,
                ppid: 1,
                pgrp: 42,
                is_zombie: false
            }
        );
        assert!(parse_stat("8 (sleep) Z 1 42 42 0").unwrap().is_zombie);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn this_process_has_no_descendants_of_a_fresh_child_until_it_starts_one() {
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", "sleep 5 & wait"])
            .spawn()
            .unwrap();
        let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
        let started = Instant::now();
        while descendants(pid).is_empty() && started.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let below = descendants(pid);
        assert_eq!(below.len(), 1, "the sleep under the shell");
        for p in below {
            let _ = kill(p, Signal::SIGKILL);
        }
        let _ = child.wait();
    }
}
