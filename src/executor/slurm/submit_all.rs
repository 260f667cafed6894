//! `run --submit-all`: every node of the static graph submitted at once, in topological
//! order, as a Slurm job that waits for its dependencies' jobs (`--dependency=afterok:`), so
//! that autowf can exit while Slurm runs the flow. Only graphs that need nothing autowf
//! decides while a run goes qualify; [`refusals`] says which nodes do not and why.

use std::path::{Path, PathBuf};

use super::submit::{self, JobFiles, Submission};
use super::write_private;
use crate::dag::{Dag, Node, NodeId, NodeKind};
use crate::error::{Diagnostic, Error};
use crate::script::{Attempt, ExecutorKind, RunInfo, Runtime, Trigger, Value};

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
        .filter_map(|node| refusal(dag, node))
        .collect()
}

/// Why `node` needs autowf while the run goes, if it does: the first reason found.
fn refusal(dag: &Dag, node: &Node) -> Option<Diagnostic> {
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
    let value_dep = node.deps.iter().find(|d| !d.is_control);
    if let Some(from) = value_dep
        .and_then(|d| d.node())
        .map(|id| &dag.node(id).name)
    {
        return refuse(
            format!("it takes the result of `{from}`, which does not exist until that job has run"),
            "order the nodes with `.after(...)` and pass data through files, or run without \
             --submit-all",
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
        prepared.push(prepare(dag.node(id), runtime, &dir).await?);
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

/// Writes one node's job files: a shell task's command line (its body runs here, now) in a
/// job script, or a Rhai task's worker request and the script that runs it.
async fn prepare(node: &Node, runtime: &Runtime, dir: &Path) -> Result<Prepared, Error> {
    let attempt = attempt_for(node);
    let files = JobFiles::new(dir, &node.name, attempt.number);
    // Refused nodes aside, no node takes a result, so no input is ever asked for.
    let no_inputs = |_: NodeId| Value::unit();
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
    let cwd = match node.kind {
        NodeKind::Shell | NodeKind::Sh => {
            let command = runtime
                .shell_command(&node.payload, &no_inputs, &attempt)
                .map_err(invalid)?;
            let spec = runtime.shell_spec(command.clone(), &attempt);
            let script =
                submit::shell_script(&command, &spec.env, attempt.timeout, attempt.kill_grace);
            write_private(&files.script, script.as_bytes())
                .await
                .map_err(|e| unwritten(e.message))?;
            spec.cwd
        }
        _ => {
            let request = runtime
                .worker_request(node, &no_inputs, &attempt)
                .map_err(invalid)?;
            let exe = std::env::current_exe().map_err(|e| {
                unwritten(format!(
                    "cannot find the autowf executable for a worker: {e}"
                ))
            })?;
            write_private(&files.request, &request)
                .await
                .map_err(|e| unwritten(e.message))?;
            let script = submit::worker_script(&exe, &files, true);
            write_private(&files.script, script.as_bytes())
                .await
                .map_err(|e| unwritten(e.message))?;
            std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
        }
    };
    Ok(Prepared { files, cwd })
}

/// The one attempt a submitted node gets.
fn attempt_for(node: &Node) -> Attempt {
    Attempt {
        timeout: node.options.timeout,
        kill_grace: node.options.kill_grace,
        env: node.options.env.clone(),
        cwd: node.options.cwd.clone(),
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
    use crate::dag::{Dep, DepTarget};
    use crate::error::SourceLoc;
    use crate::script::{CacheTtl, Payload, TaskOptions};

    fn node(id: u32, name: &str, kind: NodeKind) -> Node {
        Node {
            id: NodeId(id),
            name: name.to_owned(),
            task: Some(name.to_owned()),
            kind,
            options: TaskOptions::default(),
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
            refused(|b| b.options.timeout = Some(std::time::Duration::from_secs(3))).is_empty()
        );
        assert!(refused(|b| b.options.executor = Some(ExecutorKind::Slurm)).is_empty());
    }

    #[test]
    fn a_node_taking_a_result_is_refused_naming_the_producer() {
        assert_eq!(
            refused(|b| b.deps = vec![on(0, false)]),
            [
                "--submit-all cannot submit `b`: it takes the result of `a`, which does not exist \
              until that job has run"
            ]
        );
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
            first(|b| b.options.cache_ttl = Some(CacheTtl::Forever)).contains("it has `cache_ttl`")
        );
        assert!(first(|b| b.options.persist = true).contains("`persist: true`"));
        assert!(first(|b| b.options.retries = 2).contains("it has `retries: 2`"));
        assert!(
            first(|b| b.options.trigger = Trigger::AllDone)
                .contains("its trigger rule `all_done` cannot be expressed")
        );
        assert!(
            first(|b| b.options.executor = Some(ExecutorKind::Local))
                .contains("`executor: \"local\"`")
        );
    }

    #[test]
    fn every_refused_node_is_reported_at_its_call() {
        let mut a = node(0, "a", NodeKind::Map);
        a.options.retries = 1;
        let mut b = node(1, "b", NodeKind::Shell);
        b.options.persist = true;
        let dag = Dag::build(vec![a, b]).expect("a valid graph");
        let all = refusals(&dag);
        assert_eq!(all.len(), 2);
        // One reason per node: the first that applies.
        assert!(all[0].message.contains("`.map`"), "{}", all[0].message);
        assert_eq!(all[1].loc.as_ref().map(|l| l.line), Some(2));
        assert!(all[1].help.is_some());
    }
}
