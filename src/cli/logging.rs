//! Logging to stderr through tracing-subscriber: level from `-q`/`-v`, text or JSON lines.

use std::io::IsTerminal as _;

use tracing_subscriber::filter::LevelFilter;

use super::args::{ColorChoice, GlobalArgs, LogFormat};

pub(super) fn init(global: &GlobalArgs) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => LevelFilter::WARN,
        (false, 0 | 1) => LevelFilter::INFO,
        (false, _) => LevelFilter::DEBUG,
    };
    let builder = tracing_subscriber::fmt()
        .with_writer(|| crate::report::LogWriter)
        .with_max_level(level)
        .with_target(false);
    let _ = match global.log_format {
        LogFormat::Json => builder.json().with_current_span(false).try_init(),
        LogFormat::Text => builder
            .without_time()
            .with_level(level >= LevelFilter::DEBUG)
            .with_ansi(use_color(global.color))
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
