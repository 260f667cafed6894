//! `run --submit-all`: every node of the static graph submitted at once, in topological
//! order, as a Slurm job that waits for its dependencies' jobs (`--dependency=afterok:`), so
//! that autowf can exit while Slurm runs the flow. Only graphs that need nothing autowf
//! decides while a run goes qualify; [`refusals`] says which nodes do not and why.
//!
//! A node that takes another node's result gets it when its job starts: its worker reads the
//! reply file (a Rhai task) or the standard output file (a shell node) that the producer's
//! job left in the shared run directory. A shell node's command line is then built in the job
//! too, by `autowf worker --command-line`.

use std::path::{Path, PathBuf};

use super::submit::{self, CommandLine, JobFiles, Submission};
use super::{started_in, worker_executable, write_private};
use crate::dag::{Dag, Dep, Node, NodeId, NodeKind};
use crate::error::{Diagnostic, Error};
use crate::script::{Attempt, ExecutorKind, ResultFile, RunInfo, Runtime, Trigger, Value};

/// The attempt number of every submitted job: there are no retries.
const ATTEMPT: u32 = 1;

/// One submitted node.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub(crate) struct SubmittedJob {
    pub(crate) node: String,
    pub(crate) job_id: u64,
    /// The nodes whose jobs must succeed before this one starts.
    pub(crate) depends_on: Vec<String>,
}

/// Every node that cannot be submitted ahead of time, each with why; empty when the whole
/// graph can.
pub(crate) fn refusals(dag: &Dag) -> Vec<Diagnostic> {
    dag.nodes()
        .iter()
        .filter_map(|node| refusal(node))
        .collect()
}

/// Why `node` needs autowf while the run goes, if it does: the first reason found.
fn refusal(node: &Node) -> Option<Diagnostic> {
    let name = &node.name;
    let refuse = |why: String, help: &str| {
        Some(
            Diagnostic::new(format!("--submit-all cannot submit `{name}`: {why}"))
                .at(Some(node.loc.clone()))
                .help(help.to_owned()),
        )
    };
    if node.kind.is_expansion() {
        return refuse(
            format!(
                "a `.{}` node adds nodes to the graph only once its input is known",
                node.kind.label()
            ),
            "runtime fan-out needs autowf running: run without --submit-all",
        );
    }
    let options = &node.options;
    if options.cache_ttl.is_some() {
        return refuse(
            "it has `cache_ttl`: whether it runs or reuses a cached result is decided as the run \
             goes"
                .to_owned(),
            "remove `cache_ttl` from the task, or run without --submit-all",
        );
    }
    if options.persist {
        return refuse(
            "it has `persist: true`, but nothing of autowf stays to store its result".to_owned(),
            "remove `persist`, or run without --submit-all",
        );
    }
    if options.retries > 0 {
        return refuse(
            format!(
                "it has `retries: {}`: autowf retries failed attempts itself, and Slurm's requeue \
                 is not the same",
                options.retries
            ),
            "set `retries: 0` for the task, or run without --submit-all",
        );
    }
    if options.trigger != Trigger::AllSuccess {
        return refuse(
            format!(
                "its trigger rule `{}` cannot be expressed with `afterok` dependencies",
                trigger_name(options.trigger)
            ),
            "only `all_success` (the default) works with --submit-all",
        );
    }
    if options.executor == Some(ExecutorKind::Local) {
        return refuse(
            "it has `executor: \"local\"`, but nothing of autowf stays to run it".to_owned(),
            "remove the `executor` option, or run without --submit-all",
        );
    }
    None
}

fn trigger_name(trigger: Trigger) -> &'static str {
    match trigger {
        Trigger::AllSuccess => "all_success",
        Trigger::AllDone => "all_done",
        Trigger::OneFailed => "one_failed",
        Trigger::Always => "always",
    }
}

/// Submits every node of `dag`, which [`refusals`] accepted, in topological order, each
/// waiting for its dependencies' jobs. Every job's files are written before the first job is
/// submitted, so a task that fails to give its command line or request stops the run with
/// nothing submitted (exit 2). When a submission fails, the jobs already submitted are
/// cancelled and the error says so (exit 3).
pub(crate) async fn submit_all(
    dag: &Dag,
    runtime: &Runtime,
    info: &RunInfo,
) -> Result<Vec<SubmittedJob>, Error> {
    let dir = info.run_dir.join("slurm");
    let order = dag.topo_order();
    let mut prepared = Vec::with_capacity(order.len());
    for &id in &order {
        prepared.push(prepare(dag, dag.node(id), runtime, &dir).await?);
    }
    let mut ids: Vec<Option<u64>> = vec![None; dag.len()];
    let mut jobs: Vec<SubmittedJob> = Vec::with_capacity(dag.len());
    for (id, job) in order.into_iter().zip(&prepared) {
        let node = dag.node(id);
        let deps: Vec<NodeId> = dag.deps(id).collect();
        let after: Vec<u64> = deps
            .iter()
            .map(|d| {
                ids[d.index()].expect("invariant: dependencies come first in topological order")
            })
            .collect();
        let resources = &node.options.slurm;
        let args = submit::sbatch_args(&Submission {
            name: format!("autowf:{}:{}", info.flow, node.name),
            files: &job.files,
            cwd: &job.cwd,
            resources,
            minutes: submit::time_minutes(resources, node.options.timeout, node.options.kill_grace),
            after: &after,
        });
        match submit::sbatch(&args).await {
            Ok(job_id) => {
                ids[id.index()] = Some(job_id);
                jobs.push(SubmittedJob {
                    node: node.name.clone(),
                    job_id,
                    depends_on: deps.iter().map(|&d| dag.node(d).name.clone()).collect(),
                });
            }
            Err(why) => {
                return Err(Error::SubmitAllFailed {
                    node: node.name.clone(),
                    why,
                    cancelled: cancel(&jobs),
                });
            }
        }
    }
    Ok(jobs)
}

/// A node's job, written and ready to submit.
struct Prepared {
    files: JobFiles,
    /// The job's working directory.
    cwd: PathBuf,
}

/// Writes one node's job files: a shell node's command line (its body runs here, now, unless
/// it takes results) in a job script, or a Rhai task's worker request and the script that
/// runs it.
async fn prepare(dag: &Dag, node: &Node, runtime: &Runtime, dir: &Path) -> Result<Prepared, Error> {
    let attempt = attempt_for(node);
    let files = JobFiles::new(dir, &node.name, ATTEMPT);
    let results = result_files(dag, node, dir);
    let invalid = |e: crate::events::TaskError| {
        Error::invalid(
            Diagnostic::new(format!(
                "cannot prepare `{}` for Slurm: {}",
                node.name, e.message
            ))
            .at(Some(node.loc.clone())),
        )
    };
    let unwritten = |why: String| Error::SubmitAllFailed {
        node: node.name.clone(),
        why,
        cancelled: "no job had been submitted".to_owned(),
    };
    let exe = || worker_executable().map_err(|e| unwritten(e.message));
    let write = |path: &Path, bytes: Vec<u8>| {
        let path = path.to_path_buf();
        async move {
            write_private(&path, &bytes)
                .await
                .map_err(|e| unwritten(e.message))
        }
    };
    let cwd = match node.kind {
        NodeKind::Shell | NodeKind::Sh => {
            // Where and with what environment it runs does not depend on the command line.
            let spec = runtime.shell_spec(String::new(), &attempt);
            let script = if results.is_empty() {
                // Nothing to wait for: a body that fails stops the run before any submission.
                let no_inputs = |_: NodeId| Value::unit();
                let command = runtime
                    .shell_command(&node.payload, &no_inputs, &attempt)
                    .map_err(invalid)?;
                submit::shell_script(
                    &CommandLine::Known(&command),
                    &spec.env,
                    attempt.timeout,
                    attempt.kill_grace,
                )
            } else {
                let request = runtime
                    .deferred_request(node, results, &attempt)
                    .map_err(invalid)?;
                write(&files.request, request).await?;
                let (exe, dir) = (exe()?, started_in());
                let built = CommandLine::BuiltFrom {
                    exe: &exe,
                    request: &files.request,
                    dir: &dir,
                };
                submit::shell_script(&built, &spec.env, attempt.timeout, attempt.kill_grace)
            };
            write(&files.script, script.into_bytes()).await?;
            spec.cwd
        }
        _ => {
            let request = runtime
                .deferred_request(node, results, &attempt)
                .map_err(invalid)?;
            write(&files.request, request).await?;
            let script = submit::worker_script(&exe()?, &files, true);
            write(&files.script, script.into_bytes()).await?;
            started_in()
        }
    };
    Ok(Prepared { files, cwd })
}

/// Where the jobs of the nodes whose results `node` takes leave them: a Rhai task's reply
/// file, a shell node's standard output.
fn result_files(dag: &Dag, node: &Node, dir: &Path) -> Vec<ResultFile> {
    let mut producers: Vec<NodeId> = node
        .deps
        .iter()
        .filter(|d| !d.is_control)
        .filter_map(Dep::node)
        .collect();
    producers.sort_unstable();
    producers.dedup();
    producers
        .into_iter()
        .map(|id| {
            let producer = dag.node(id);
            let files = JobFiles::new(dir, &producer.name, ATTEMPT);
            match producer.kind {
                NodeKind::Shell | NodeKind::Sh => ResultFile::stdout(producer, files.stdout),
                NodeKind::Task | NodeKind::Map | NodeKind::Then => {
                    ResultFile::reply(producer, files.reply)
                }
            }
        })
        .collect()
}

/// The one attempt a submitted node gets.
fn attempt_for(node: &Node) -> Attempt {
    Attempt {
        timeout: node.options.timeout,
        kill_grace: node.options.kill_grace,
        env: node.options.env.clone(),
        cwd: node.options.cwd.clone(),
        number: ATTEMPT,
        ..Attempt::planning(&node.name, node.task.clone())
    }
}

/// Cancels the jobs submitted so far; what happened, for the error message.
fn cancel(jobs: &[SubmittedJob]) -> String {
    if jobs.is_empty() {
        return "no job had been submitted".to_owned();
    }
    let ids: Vec<String> = jobs.iter().map(|j| j.job_id.to_string()).collect();
    let status = std::process::Command::new("scancel")
        .args(&ids)
        .stdin(std::process::Stdio::null())
        .status();
    match status {
        Ok(s) if s.success() => format!(
            "cancelled the {} job(s) already submitted ({})",
            ids.len(),
            ids.join(", ")
        ),
        Ok(s) => format!(
            "`scancel {}` failed ({s}): cancel those jobs by hand",
            ids.join(" ")
        ),
        Err(e) => format!(
            "cannot run scancel ({e}): cancel jobs {} by hand",
            ids.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::dag::{Dep, DepTarget};
    use crate::error::SourceLoc;
    use crate::script::{CacheTtl, Payload};

    fn node(id: u32, name: &str, kind: NodeKind) -> Node {
        Node {
            id: NodeId(id),
            name: name.to_owned(),
            task: Some(name.to_owned()),
            kind,
            options: Default::default(),
            deps: Vec::new(),
            loc: SourceLoc {
                file: "f.rhai".into(),
                line: id + 1,
                column: 5,
            },
            payload: Payload::fake(),
            limits: Vec::new(),
        }
    }

    fn on(id: u32, is_control: bool) -> Dep {
        Dep {
            target: DepTarget::Node(NodeId(id)),
            loc: SourceLoc {
                file: "f.rhai".into(),
                line: 9,
                column: 1,
            },
            is_control,
        }
    }

    /// The refusal messages for a graph of `a` (a shell task) and `b`, changed by `change`.
    fn refused(change: impl FnOnce(&mut Node)) -> Vec<String> {
        let a = node(0, "a", NodeKind::Shell);
        let mut b = node(1, "b", NodeKind::Task);
        b.deps.push(on(0, true));
        change(&mut b);
        let dag = Dag::build(vec![a, b]).expect("a valid graph");
        refusals(&dag).into_iter().map(|d| d.message).collect()
    }

    #[test]
    fn ordering_only_edges_and_plain_tasks_are_accepted() {
        assert!(refused(|_| {}).is_empty());
        assert!(
            refused(
                |b| Arc::make_mut(&mut b.options).timeout = Some(std::time::Duration::from_secs(3))
            )
            .is_empty()
        );
        assert!(
            refused(|b| Arc::make_mut(&mut b.options).executor = Some(ExecutorKind::Slurm))
                .is_empty()
        );
    }

    #[test]
    fn a_node_taking_a_result_is_accepted() {
        assert!(refused(|b| b.deps = vec![on(0, false)]).is_empty());
    }

    #[test]
    fn run_time_features_are_refused() {
        let first = |change: fn(&mut Node)| refused(change).remove(0);
        assert_eq!(
            first(|b| b.kind = NodeKind::Map),
            "--submit-all cannot submit `b`: a `.map` node adds nodes to the graph only once its \
             input is known"
        );
        assert!(first(|b| b.kind = NodeKind::Then).contains("a `.then` node"));
        assert!(
            first(|b| Arc::make_mut(&mut b.options).cache_ttl = Some(CacheTtl::Forever))
                .contains("it has `cache_ttl`")
        );
        assert!(
            first(|b| Arc::make_mut(&mut b.options).persist = true).contains("`persist: true`")
        );
        assert!(
            first(|b| Arc::make_mut(&mut b.options).retries = 2).contains("it has `retries: 2`")
        );
        assert!(
            first(|b| Arc::make_mut(&mut b.options).trigger = Trigger::AllDone)
                .contains("its trigger rule `all_done` cannot be expressed")
        );
        assert!(
            first(|b| Arc::make_mut(&mut b.options).executor = Some(ExecutorKind::Local))
                .contains("`executor: \"local\"`")
        );
    }

    #[test]
    fn every_refused_node_is_reported_at_its_call() {
        let mut a = node(0, "a", NodeKind::Map);
        Arc::make_mut(&mut a.options).retries = 1;
        let mut b = node(1, "b", NodeKind::Shell);
        Arc::make_mut(&mut b.options).persist = true;
        let dag = Dag::build(vec![a, b]).expect("a valid graph");
        let all = refusals(&dag);
        assert_eq!(all.len(), 2);
        // One reason per node: the first that applies.
        assert!(all[0].message.contains("`.map`"), "{}", all[0].message);
        assert_eq!(all[1].loc.as_ref().map(|l| l.line), Some(2));
        assert!(all[1].help.is_some());
    }
}
