//! The console reporter: one plain line per run event on stderr, for logs, cron mail and CI
//! (a terminal gets progress bars instead, see `progress`).

use std::io::Write;
use std::time::Duration;

use crate::events::{RunEvent, Status};
use crate::scheduler::Observe;

pub(crate) struct ConsoleReporter {
    out: Box<dyn Write + Send>,
    /// `-q`: no event lines, only failures in the closing summary.
    quiet: bool,
}

impl ConsoleReporter {
    pub(crate) fn new(out: Box<dyn Write + Send>, quiet: bool) -> Self {
        Self { out, quiet }
    }
}

pub(crate) fn fmt_duration(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{}µs", d.as_micros())
    } else if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.2}s", d.as_secs_f64())
    }
}

impl Observe for ConsoleReporter {
    fn observe(&mut self, event: &RunEvent) {
        if self.quiet {
            return;
        }
        let line = match event {
            RunEvent::RunStarted { nodes } => {
                format!("run     {nodes} node(s) to start with")
            }
            RunEvent::NodeStarted { name, attempt, .. } => {
                if *attempt > 1 {
                    format!("start   {name} (attempt {attempt})")
                } else {
                    format!("start   {name}")
                }
            }
            RunEvent::NodeRetrying {
                name,
                attempt,
                delay,
                error,
                ..
            } => format!(
                "retry   {name}: attempt {} failed: {}; attempt {attempt} in {}",
                attempt - 1,
                first_line(&error.message),
                fmt_duration(*delay)
            ),
            RunEvent::NodeExpanded { name, children, .. } => {
                format!("expand  {name}: {children} new node(s)")
            }
            RunEvent::NodeFinished {
                name,
                status,
                duration,
                error,
                attempts,
                cache_note,
                ..
            } => match status {
                Status::Failed | Status::TimedOut => {
                    let why = error
                        .as_ref()
                        .map_or(String::new(), |e| format!(": {}", first_line(&e.message)));
                    format!(
                        "{:<7} {name}{why}",
                        if *status == Status::Failed {
                            "FAILED"
                        } else {
                            "TIMEOUT"
                        }
                    )
                }
                // A node that never started has no duration worth printing.
                _ if *attempts == 0 => format!("{:<7} {name}", status_word(*status)),
                _ => {
                    let tries = if *attempts > 1 {
                        format!(", {attempts} attempts")
                    } else {
                        String::new()
                    };
                    let took = fmt_duration(*duration);
                    let note = cache_note.as_deref().map_or(String::new(), |n| {
                        format!("; {}", n.trim_start_matches("cached, "))
                    });
                    format!("{:<7} {name} ({took}{tries}{note})", status_word(*status))
                }
            },
            _ => return,
        };
        let _ = writeln!(self.out, "{line}");
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Succeeded => "ok",
        Status::Cached => "cached",
        Status::Failed => "FAILED",
        Status::TimedOut => "TIMEOUT",
        Status::Skipped => "skipped",
        Status::Cancelled => "cancel",
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}
