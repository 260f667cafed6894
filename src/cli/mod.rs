//! The command line: argument definitions and one handler per subcommand.

mod args;
mod dispatch;
mod logging;
mod run;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser as _;

pub(crate) use args::{Cli, OnFailure, RunArgs};
pub(crate) use logging::use_color;

use crate::error::exit;

pub(crate) fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                exit::INVALID
            } else {
                exit::OK
            });
        }
    };
    logging::init(&cli.global);
    let color = use_color(cli.global.color);
    match dispatch::execute(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            crate::report::print_error(&err, color);
            ExitCode::from(err.exit_code())
        }
    }
}
