//! Progress bars on a terminal: a bar of finished nodes (its length grows as fan-outs
//! expand) and a line naming what runs. Lines that would tear the bars (log lines, failures)
//! are printed above them.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::events::{RunEvent, Status};
use crate::scheduler::Observe;

use super::console::fmt_duration;

/// The bars while a run shows them; log lines go through it so they do not tear the bars.
static ACTIVE: Mutex<Option<MultiProgress>> = Mutex::new(None);

/// How many running nodes the status line names.
const NAMED_RUNNING: usize = 3;

pub(crate) struct ProgressReporter {
    bars: MultiProgress,
    done: ProgressBar,
    running_line: ProgressBar,
    running: BTreeMap<String, Instant>,
}

impl ProgressReporter {
    /// Bars drawn on stderr; they stay active until the run finishes.
    pub(crate) fn new() -> Self {
        let bars = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let done = bars.add(ProgressBar::new(0));
        done.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} nodes {msg}")
                .expect("invariant: a valid template")
                .progress_chars("=> "),
        );
        let running_line = bars.add(ProgressBar::new_spinner());
        running_line.set_style(
            ProgressStyle::with_template("{spinner} {msg}").expect("invariant: a valid template"),
        );
        running_line.enable_steady_tick(Duration::from_millis(120));
        *ACTIVE.lock().unwrap_or_else(PoisonError::into_inner) = Some(bars.clone());
        Self {
            bars,
            done,
            running_line,
            running: BTreeMap::new(),
        }
    }

    fn show_running(&self) {
        let mut names: Vec<String> = self
            .running
            .iter()
            .take(NAMED_RUNNING)
            .map(|(name, since)| format!("{name} ({})", fmt_duration(since.elapsed())))
            .collect();
        if self.running.len() > NAMED_RUNNING {
            names.push(format!("and {} more", self.running.len() - NAMED_RUNNING));
        }
        self.running_line.set_message(if names.is_empty() {
            String::new()
        } else {
            format!("running: {}", names.join(", "))
        });
    }

    fn println(&self, line: &str) {
        let _ = self.bars.println(line);
    }
}

impl Observe for ProgressReporter {
    fn observe(&mut self, event: &RunEvent) {
        match event {
            RunEvent::RunStarted { nodes } => self.done.set_length(*nodes as u64),
            RunEvent::NodeExpanded { name, children } => {
                // The fan-out node now only waits for its children, which show instead.
                self.running.remove(name);
                self.done.inc_length(*children as u64);
            }
            RunEvent::NodeStarted { name, .. } => {
                self.running.insert(name.clone(), Instant::now());
                self.show_running();
            }
            RunEvent::NodeRetrying {
                name,
                attempt,
                delay,
                error,
            } => {
                self.running.remove(name);
                self.println(&format!(
                    "retry   {name}: attempt {} failed: {}; attempt {attempt} in {}",
                    attempt - 1,
                    first_line(&error.message),
                    fmt_duration(*delay)
                ));
                self.show_running();
            }
            RunEvent::NodeFinished {
                name,
                status,
                error,
                ..
            } => {
                self.running.remove(name);
                self.done.inc(1);
                if matches!(status, Status::Failed | Status::TimedOut) {
                    let why = error
                        .as_ref()
                        .map_or(String::new(), |e| format!(": {}", first_line(&e.message)));
                    let word = if *status == Status::TimedOut {
                        "TIMEOUT"
                    } else {
                        "FAILED "
                    };
                    self.println(&format!("{word} {name}{why}"));
                    self.done.set_message("(some failed)");
                }
                self.show_running();
            }
            RunEvent::RunFinished { .. } => {
                // A clean screen for the summary: the bars go, and logs print plainly again.
                *ACTIVE.lock().unwrap_or_else(PoisonError::into_inner) = None;
                self.running_line.finish_and_clear();
                self.done.finish_and_clear();
                let _ = self.bars.clear();
            }
        }
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// Stderr for log lines: printed above the bars while they show, plainly otherwise.
pub(crate) struct LogWriter;

impl Write for LogWriter {
    /// Tracing writes one whole event per call, so each call is redacted on its own.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let redacted = crate::redact::bytes(buf);
        let buf_len = buf.len();
        let buf: &[u8] = &redacted;
        let active = ACTIVE
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match active {
            Some(bars) => {
                let text = String::from_utf8_lossy(buf);
                bars.println(text.trim_end_matches('\n'))?;
                Ok(buf_len)
            }
            None => std::io::stderr().write_all(buf).map(|()| buf_len),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Whether a run should draw bars: stderr is a terminal, `CI` is not set, and the console is
/// in its default mode (neither `-q` nor `-v`).
pub(crate) fn wants_bars(quiet: bool, verbose: u8) -> bool {
    use std::io::IsTerminal as _;
    !quiet && verbose == 0 && std::env::var_os("CI").is_none() && std::io::stderr().is_terminal()
}
