//! Logging to stderr through tracing-subscriber: level from `-q`/`-v`, text or JSON lines.

use std::io::IsTerminal as _;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use super::args::{ColorChoice, GlobalArgs, LogFormat};

/// Task output (a command's stderr, `print` in a body) is logged at info level under this
/// target: shown from `-v` on, always kept in the run's log files.
const TASK_OUTPUT: &str = "autowf::task";

/// `-q`: warnings and errors; default: also autowf's own info lines; `-v`: also task output;
/// `-vv`: debug. `with_task_output` forces task output on (a worker process relays it).
pub(super) fn init(global: &GlobalArgs, with_task_output: bool) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => LevelFilter::WARN,
        (false, 0 | 1) => LevelFilter::INFO,
        (false, _) => LevelFilter::DEBUG,
    };
    let task_level = if with_task_output || (!global.quiet && global.verbose > 0) {
        level.max(LevelFilter::INFO)
    } else {
        LevelFilter::WARN
    };
    let filter = Targets::new()
        .with_default(level)
        .with_target(TASK_OUTPUT, task_level);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(|| crate::report::LogWriter)
        .with_target(false);
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match global.log_format {
        LogFormat::Json => registry
            .with(layer.json().with_current_span(false))
            .try_init(),
        LogFormat::Text => registry
            .with(
                layer
                    .without_time()
                    .with_level(level >= LevelFilter::DEBUG)
                    .with_ansi(use_color(global.color)),
            )
            .try_init(),
    };
}

/// Whether stderr gets colours: `--color`, then `NO_COLOR`, then whether it is a terminal.
pub(crate) fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    }
}
