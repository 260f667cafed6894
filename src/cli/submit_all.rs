//! `autowf run --submit-all`: check that the flow's graph can be submitted ahead of time,
//! submit it as chained Slurm jobs, record and print the job ids, and exit without waiting.

use std::io::Write as _;

use super::args::RunArgs;
use crate::config::RunConfig;
use crate::dag::Dag;
use crate::error::{Diagnostic, Error, Result, exit};
use crate::executor::{SubmittedJob, check_slurm_tools, submit_all, submit_all_refusals};
use crate::redact;
use crate::script::{ExecutorKind, FlowBuild, FlowSpec, Script};
use crate::state::journal::{JOURNAL_FILE, JournalWriter, RunFacts};
use crate::state::runs::JOBS_FILE;
use crate::state::write_atomically;

/// The version of the stdout document and `jobs.json`.
const SCHEMA: u32 = 1;

/// What a graph's checks and build have produced, for submitting it.
pub(super) struct Built<'a> {
    pub(super) script: &'a Script,
    pub(super) spec: &'a FlowSpec,
    pub(super) dag: &'a Dag,
    pub(super) built: &'a FlowBuild,
    pub(super) run_id: &'a str,
}

/// Refuses what cannot be submitted ahead (exit 2) before anything exists, then submits.
pub(super) fn run(config: &RunConfig, args: &RunArgs, b: &Built<'_>) -> Result<u8> {
    if config.executor != ExecutorKind::Slurm {
        return Err(Error::invalid(
            Diagnostic::new("--submit-all needs the slurm executor")
                .help("add `--executor slurm` (or set `executor = \"slurm\"` in autowf.toml)"),
        ));
    }
    let refused = submit_all_refusals(b.dag);
    if !refused.is_empty() {
        return Err(Error::Invalid(refused));
    }
    check_slurm_tools()?;
    let info = super::run::run_info(config, args, b.spec, b.built, b.run_id, true)?;
    let params = b.built.params.to_json();
    let file = std::path::absolute(&args.file).map_err(|source| Error::ReadFile {
        path: args.file.clone(),
        source,
    })?;
    let facts = RunFacts {
        run_id: b.run_id,
        flow: &b.spec.name,
        file: &file,
        params: &params,
    };
    // The journal gets its `run_started` line only: nothing of the run is seen from here.
    drop(JournalWriter::create(
        &info.run_dir.join(JOURNAL_FILE),
        &facts,
    )?);
    let run_dir = info.run_dir.clone();
    let runtime = b.script.runtime(info.clone());
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let jobs = tokio.block_on(submit_all(b.dag, &runtime, &info))?;
    let mut doc = jobs_document(b.run_id, &b.spec.name, &jobs);
    doc.push('\n');
    write_atomically(&run_dir.join(JOBS_FILE), doc.as_bytes())?;
    let mut stderr = std::io::stderr().lock();
    for job in &jobs {
        let _ = writeln!(stderr, "{}", redact::text(&job_line(job)));
    }
    let ids: Vec<String> = jobs.iter().map(|j| j.job_id.to_string()).collect();
    let _ = writeln!(
        stderr,
        "submitted {} job(s) of run {}; follow them with `squeue --jobs={}`",
        jobs.len(),
        b.run_id,
        ids.join(",")
    );
    drop(stderr);
    let _ = write!(std::io::stdout().lock(), "{}", redact::text(&doc));
    Ok(exit::OK)
}

/// The stdout document and `jobs.json`: the run, its flow and each node's job.
fn jobs_document(run_id: &str, flow: &str, jobs: &[SubmittedJob]) -> String {
    let doc = serde_json::json!({
        "schema": SCHEMA,
        "run_id": run_id,
        "flow": flow,
        "jobs": jobs,
    });
    super::pretty_json(&doc)
}

/// The human line for one job: `submitted `b` as Slurm job 42 (after `a`)`.
fn job_line(job: &SubmittedJob) -> String {
    let mut line = format!("submitted `{}` as Slurm job {}", job.node, job.job_id);
    if !job.depends_on.is_empty() {
        let deps: Vec<String> = job.depends_on.iter().map(|d| format!("`{d}`")).collect();
        line.push_str(&format!(" (after {})", deps.join(", ")));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_lists_each_job_with_its_dependencies() {
        let jobs = [
            SubmittedJob {
                node: "a".to_owned(),
                job_id: 7,
                depends_on: vec![],
            },
            SubmittedJob {
                node: "b".to_owned(),
                job_id: 8,
                depends_on: vec!["a".to_owned()],
            },
        ];
        let doc: serde_json::Value =
            serde_json::from_str(&jobs_document("r1", "main", &jobs)).unwrap();
        assert_eq!(
            doc,
            serde_json::json!({
                "schema": 1,
                "run_id": "r1",
                "flow": "main",
                "jobs": [
                    {"node": "a", "job_id": 7, "depends_on": []},
                    {"node": "b", "job_id": 8, "depends_on": ["a"]},
                ],
            })
        );
        assert_eq!(job_line(&jobs[0]), "submitted `a` as Slurm job 7");
        assert_eq!(
            job_line(&jobs[1]),
            "submitted `b` as Slurm job 8 (after `a`)"
        );
    }
}
