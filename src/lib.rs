//! autowf: a fast, dependable workflow runner. Flows are Rhai scripts; the core builds their
//! graph, validates it, and runs it with bounded concurrency, retries and timeouts.
//!
//! The pipeline: `cli` parses arguments into a `config::Config`; `script` loads a flow file
//! and builds a flow's nodes; `dag` validates them into a graph; `scheduler` runs it through an
//! `executor`; `report` renders events, results and errors.

mod cache;
mod cli;
mod config;
mod dag;
mod error;
mod events;
mod executor;
mod redact;
mod remote;
mod report;
mod runlock;
mod scheduler;
mod script;
mod secrets;
mod state;
mod stop;
mod tasklog;

use std::ffi::OsString;
use std::process::ExitCode;

/// Runs autowf with the given command line (the first item is the program name).
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    script::fix_hashing_seed();
    cli::main(args)
}
