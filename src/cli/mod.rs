//! The command line: argument definitions and one handler per subcommand.

mod args;
mod artifacts;
mod cache;
mod dispatch;
mod logging;
mod plan;
mod run;
mod runs;
mod submit_all;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

pub(crate) use args::{Cli, ExecutorChoice, GlobalArgs, LogFormat, OnFailure, RunArgs};
pub(crate) use logging::use_color;

use crate::config::Layers;
use crate::error::exit;

/// A JSON document as the commands print it: pretty, without a final newline.
fn pretty_json(doc: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(doc).expect("invariant: JSON documents serialize")
}

/// A size as people read it: `512 B`, `1.5 KiB`, `3.2 MiB`, `1.1 GiB`.
fn fmt_bytes(n: u64) -> String {
    match n {
        0..1024 => format!("{n} B"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.1} MiB", n as f64 / 1_048_576.0),
        _ => format!("{:.1} GiB", n as f64 / 1_073_741_824.0),
    }
}

pub(crate) fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    // Kept besides the parsed `Cli`: it tells whether a value came from a flag or from the
    // environment, which `autowf config` reports.
    let parsed = Cli::command()
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (mut cli, matches) = match parsed {
        Ok(both) => both,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                exit::INVALID
            } else {
                exit::OK
            });
        }
    };
    // Read once, before logging starts, so the configuration's log settings apply from the
    // first line; commands that handle one flow file use these layers as they are.
    let layers = match cli.command.flow_file() {
        Some(file) => match Layers::load(dispatch::config_dir_of(&file)) {
            Ok(layers) => layers,
            Err(err) => {
                crate::report::print_error(&err, use_color(cli.global.color));
                return ExitCode::from(err.exit_code());
            }
        },
        None => Layers::default(),
    };
    crate::config::apply_log_settings(&mut cli.global, &matches, &layers);
    crate::secrets::configure(layers.secret_providers());
    // A worker relays its task's output to the run, which decides what to show.
    logging::init(&cli.global, matches!(cli.command, args::Command::Worker(_)));
    let color = use_color(cli.global.color);
    match dispatch::execute(cli, &matches, &layers) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            crate::report::print_error(&err, color);
            ExitCode::from(err.exit_code())
        }
    }
}
