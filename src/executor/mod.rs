//! Where node attempts actually run: Rhai bodies on blocking threads, shell commands as child
//! processes in their own process groups.

mod caching;
mod local;
pub(crate) mod process;
mod resume;
pub(crate) mod tree;

pub(crate) use caching::{RunCache, Verdict};
pub(crate) use local::{LocalExecutor, timeout_message};
pub(crate) use resume::Resume;
