//! Where node attempts actually run: Rhai bodies on blocking threads, shell commands as child
//! processes in their own process groups, or batch jobs on Slurm.

mod caching;
mod local;
pub(crate) mod process;
mod resume;
mod slurm;
pub(crate) mod tree;

pub(crate) use caching::{RunCache, Verdict};
pub(crate) use local::{LocalExecutor, timeout_message};
pub(crate) use resume::Resume;
pub(crate) use slurm::{
    Slurm, SubmittedJob, check_tools as check_slurm_tools, submit_all, submit_all_refusals,
};
