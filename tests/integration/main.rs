//! Integration tests: each module runs the real `autowf` binary on real flow files.

mod artifacts;
mod cache;
mod completions;
mod config;
mod console;
mod describe;
mod errors;
mod examples;
mod export_dot;
mod hooks;
mod list;
mod lock;
#[cfg(feature = "otel")]
mod otel;
mod params;
mod process;
mod reports;
mod resume;
mod retries_timeouts;
mod run;
mod runs;
#[cfg(feature = "s3")]
mod s3;
mod scheduling;
mod secrets;
mod shell;
mod signals;
mod slurm;
mod support;
mod triggers;
