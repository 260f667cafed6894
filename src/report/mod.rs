//! Everything printed for people and machines: errors, run progress and summaries, and the
//! static views (`describe`, `list`).

mod console;
mod describe;
mod diagnostic;
mod event_log;
mod junit;
mod metrics;
#[cfg(feature = "otel")]
mod otel;
mod progress;
mod summary;
#[cfg(test)]
mod test_reports;

pub(crate) use console::{ConsoleReporter, fmt_duration};
pub(crate) use describe::{
    DescribedFlow, describe_json, describe_mermaid, describe_text, list_json, list_text,
};
pub(crate) use event_log::{EventLog, Observers};
pub(crate) use junit::junit_xml;
pub(crate) use metrics::{carry_last_success, prometheus_text};
#[cfg(feature = "otel")]
pub(crate) use otel::otel_reporter;
pub(crate) use progress::{LogWriter, ProgressReporter, wants_bars};
pub(crate) use summary::{RunMeta, github_annotations, print_failures, summary_json};

use crate::error::Error;

/// Prints an error to stderr, with source snippets for script errors.
pub(crate) fn print_error(err: &Error, color: bool) {
    let mut sources = diagnostic::Sources::default();
    let text = match err {
        Error::Invalid(diagnostics) => diagnostics
            .iter()
            .map(|d| diagnostic::render(d, color, &mut sources))
            .collect::<Vec<_>>()
            .join("\n"),
        other => diagnostic::render(
            &crate::error::Diagnostic::new(other.to_string()),
            color,
            &mut sources,
        ),
    };
    eprint!("{}", crate::redact::text(&text));
}
