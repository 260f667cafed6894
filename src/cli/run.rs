//! `autowf run`: build the flow's graph, run it, then publish what happened: the result or
//! summary on stdout, failures on stderr, and the report files asked for.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::args::{Cli, RunArgs};
use super::dispatch::{TASK_STACK_BYTES, absolute_dir, build_graph, new_run_id};
use crate::cache::{CacheMode, CacheStore};
use crate::config::{Layers, RunConfig};
use crate::dag::Dag;
use crate::error::Diagnostic;
use crate::error::{Error, Result, exit};
use crate::executor::{LocalExecutor, Resume, RunCache, Slurm, tree};
use crate::redact::{self, LineWriter};
use crate::report::{self, ConsoleReporter, EventLog, Observers, ProgressReporter, RunMeta};
use crate::runlock::{self, Acquired, LockMode, RunLock};
use crate::scheduler::{self, Interruption, Observe, RunLimits, RunReport};
use crate::script::{ExecutorKind, FlowBuild, FlowSpec, RunInfo, Script, Value};
use crate::state::artifacts::RunArtifacts;
use crate::state::journal::{JOURNAL_FILE, JournalSummary, JournalWriter, RunFacts, read_journal};
use crate::state::runs::{SUMMARY_FILE, last_run_of, resolve_run};
use crate::state::{StateDir, write_atomically};

/// How long the end-of-run sweep may take to stop what tasks left behind.
const SWEEP_LIMIT: Duration = Duration::from_secs(1);

pub(super) fn run(
    cli: &Cli,
    args: &RunArgs,
    matches: &clap::ArgMatches,
    layers: &Layers,
) -> Result<u8> {
    let config = RunConfig::from_cli(cli, args, matches, layers)?;
    let (script, spec, dag, built) =
        build_graph(&args.file, args.flow.as_deref(), &args.params, &config)?;
    let run_id = new_run_id();
    if args.submit_all {
        let built = super::submit_all::Built {
            script: &script,
            spec: &spec,
            dag: &dag,
            built: &built,
            run_id: &run_id,
        };
        return super::submit_all::run(&config, args, &built);
    }
    let mode = cache_mode(args);
    if args.dry_run {
        let info = run_info(&config, args, &spec, &built, &run_id, false)?;
        let cache = RunCache::new(CacheStore::of_state(&info.state()), mode, spec.name.clone());
        let runtime = script.runtime(info);
        return super::plan::dry_run(&runtime, &cache, &dag, config.json);
    }
    // Checked before anything exists or runs: a run that needs Slurm cannot start without it.
    let needs_slurm = needs_slurm(&config, &script, &dag);
    if needs_slurm {
        crate::executor::check_slurm_tools()?;
    }
    // Taken before the run directory exists, so a skipped run leaves nothing behind.
    let _lock = match take_lock(&config, args, &spec)? {
        Some(lock) => Some(lock),
        None if args.lock.is_some() => return Ok(exit::OK),
        None => None,
    };
    // Read before this run's directory exists, so that `last` means the run before it.
    let resume = match &args.resume {
        Some(query) => earlier_run(&config, args, &spec, query)?.map(Arc::new),
        None => None,
    };
    let info = run_info(&config, args, &spec, &built, &run_id, true)?;
    let cache = open_cache(&script, &dag, &info, mode, &spec.name)?;
    crate::tasklog::init(&info.run_dir.join("logs"));
    let run_dir = info.run_dir.clone();
    let params = built.params.to_json();
    let mut observer = observers(&config, args, &info, &params)?;
    if let Some(hooks) = script.hook_runner(&info) {
        observer.0.push(Box::new(hooks));
    }
    let started_unix = unix_now();
    // Always there (it starts nothing until a job is submitted), so that a node made while
    // the run goes, with `executor: "slurm"` in its options, finds it too.
    let slurm = Arc::new(Slurm::new(&info, config.executor));
    let executor = LocalExecutor::new(script.runtime(info), Some(cache.clone()), resume)
        .with_slurm(slurm.clone());
    let report = execute(
        &config,
        &spec,
        dag,
        built.output.clone(),
        executor,
        observer,
    );
    slurm.cancel_leftovers();
    let report = report?;
    let meta = RunMeta {
        run_id: &run_id,
        flow: &spec.name,
        file: &args.file.display().to_string(),
        params,
    };
    // Serialized once: summary.json always, then stdout (`--json`) and `--summary` as asked.
    let mut summary = super::pretty_json(&report::summary_json(&meta, &report));
    summary.push('\n');
    write_report(&run_dir.join(SUMMARY_FILE), &summary)?;
    publish(cli, &config, args, &summary, &report)?;
    write_report_files(args, &meta, &report, started_unix)?;
    match exit_code(&report) {
        exit::OK if cache.write_failed() => Ok(exit::ENVIRONMENT),
        code => Ok(code),
    }
}

/// Whether the run uses Slurm as far as can be told before it starts: its executor, or a
/// task or node whose options choose it.
fn needs_slurm(config: &RunConfig, script: &Script, dag: &Dag) -> bool {
    let is_slurm = |e: Option<ExecutorKind>| e == Some(ExecutorKind::Slurm);
    config.executor == ExecutorKind::Slurm
        || dag.nodes().iter().any(|n| is_slurm(n.options.executor))
        || script
            .registry
            .tasks
            .iter()
            .any(|t| is_slurm(t.options.executor))
}

fn cache_mode(args: &RunArgs) -> CacheMode {
    if args.no_cache {
        CacheMode::Off
    } else if args.refresh {
        CacheMode::Refresh
    } else {
        CacheMode::Use
    }
}

/// The run's cache. When a task may use it, its directory must be writable before anything
/// runs (exit 3 otherwise), and what crashed writers left there is cleaned up.
fn open_cache(
    script: &Script,
    dag: &Dag,
    info: &RunInfo,
    mode: CacheMode,
    flow: &str,
) -> Result<Arc<RunCache>> {
    let store = CacheStore::of_state(&info.state());
    let may_cache = dag.nodes().iter().any(|n| n.options.cache_ttl.is_some())
        || script
            .registry
            .tasks
            .iter()
            .any(|t| t.options.cache_ttl.is_some());
    if may_cache && mode != CacheMode::Off {
        store.prepare().map_err(|source| Error::WriteFile {
            path: store.location(),
            source,
        })?;
    }
    Ok(Arc::new(RunCache::new(store, mode, flow.to_owned())))
}

/// `--resume`: what the earlier run `query` (`last`, an id or a prefix) of this flow left —
/// the key and result of each node its journal records as succeeded.
fn earlier_run(
    config: &RunConfig,
    args: &RunArgs,
    spec: &FlowSpec,
    query: &str,
) -> Result<Option<Resume>> {
    let state = StateDir::new(config.state_dir(&absolute_dir(&args.file)?))
        .with_remote(config.remote_store.clone());
    let id = if query == "last" {
        // A retry job's command line: before the flow's first run there is nothing to resume.
        let Some(id) = last_run_of(&state, &spec.name)? else {
            tracing::warn!(
                "no earlier run of flow `{}` in `{}` to resume: every node runs",
                spec.name,
                state.runs().display()
            );
            return Ok(None);
        };
        id
    } else {
        resolve_run(&state, query)?
    };
    let path = state.run(&id).join(JOURNAL_FILE);
    // A run killed before it wrote anything recorded nothing to reuse: everything runs.
    let journal = match read_journal(&path) {
        Ok((journal, warnings)) => {
            for w in warnings {
                tracing::warn!("{w}");
            }
            journal
        }
        Err(Error::ReadFile { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!("run `{id}` has no journal: nothing to reuse, every node runs");
            JournalSummary::default()
        }
        Err(e) => return Err(e),
    };
    if let Some(flow) = journal.started.as_ref().map(|s| s.flow.as_str()) {
        if flow != spec.name {
            return Err(Error::invalid(Diagnostic::new(format!(
                "cannot resume run `{id}` as flow `{}`: it is a run of flow `{flow}`",
                spec.name
            ))));
        }
    }
    let succeeded = journal
        .nodes
        .into_iter()
        .filter_map(|n| {
            let f = n.finished?;
            let ok = f.status.is_success();
            match (ok, f.key, f.result) {
                (true, Some(key), Some(result)) => Some((n.name, (Arc::from(key), result))),
                _ => None,
            }
        })
        .collect();
    let earlier = RunArtifacts::new(&state, &id);
    Ok(Some(Resume::new(id, succeeded, &earlier)))
}

/// Where the run keeps its files (created unless `create` is false, for `--dry-run`), and
/// what tasks see of it.
pub(super) fn run_info(
    config: &RunConfig,
    args: &RunArgs,
    spec: &FlowSpec,
    built: &FlowBuild,
    run_id: &str,
    create: bool,
) -> Result<RunInfo> {
    let flow_dir = absolute_dir(&args.file)?;
    let state_dir = config.state_dir(&flow_dir);
    let state = StateDir::new(state_dir.clone());
    let run_dir = state.run(run_id);
    if create {
        state.ensure_layout()?;
        std::fs::create_dir_all(&run_dir).map_err(|source| Error::WriteFile {
            path: run_dir.clone(),
            source,
        })?;
    }
    Ok(RunInfo {
        run_id: run_id.to_owned(),
        flow: spec.name.clone(),
        params: built.params.clone(),
        run_dir,
        state_dir,
        remote_store: config.remote_store.clone(),
        flow_dir,
    })
}

/// `--lock`: the held lock, `None` without `--lock`; with `skip`, `None` too when busy (the
/// caller then exits 0).
fn take_lock(config: &RunConfig, args: &RunArgs, spec: &FlowSpec) -> Result<Option<RunLock>> {
    let Some(mode) = args.lock else {
        return Ok(None);
    };
    let state_dir = config.state_dir(&absolute_dir(&args.file)?);
    let path = runlock::lock_path(&state_dir, &spec.name);
    let started = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    match runlock::acquire(&path, mode, &started)? {
        Acquired::Held(lock) => Ok(Some(lock)),
        Acquired::Busy { holder } if mode == LockMode::Skip => {
            eprintln!(
                "another run of flow `{}` holds its lock ({holder}); skipping this run",
                spec.name
            );
            Ok(None)
        }
        Acquired::Busy { holder } => Err(Error::Locked {
            flow: spec.name.clone(),
            holder,
            path,
        }),
    }
}

/// The console and the run's journal, plus the event log when `--events` asks for one.
fn observers(
    config: &RunConfig,
    args: &RunArgs,
    info: &RunInfo,
    params: &serde_json::Value,
) -> Result<Observers> {
    let console: Box<dyn Observe> = if report::wants_bars(config.quiet, config.verbose) {
        Box::new(ProgressReporter::new())
    } else {
        Box::new(ConsoleReporter::new(
            Box::new(LineWriter::new(std::io::stderr())),
            config.quiet,
        ))
    };
    let file = std::path::absolute(&args.file).map_err(|source| Error::ReadFile {
        path: args.file.clone(),
        source,
    })?;
    let facts = RunFacts {
        run_id: &info.run_id,
        flow: &info.flow,
        file: &file,
        params,
    };
    let journal = JournalWriter::create(&info.run_dir.join(JOURNAL_FILE), &facts)?;
    let mut all = vec![console, Box::new(journal)];
    if let Some(path) = &args.events {
        all.push(Box::new(EventLog::create(path, &info.run_id, &info.flow)?));
    }
    #[cfg(feature = "otel")]
    if let Some(otel) = report::otel_reporter(&info.flow, &info.run_id) {
        all.push(Box::new(otel));
    }
    Ok(Observers(all))
}

fn execute(
    config: &RunConfig,
    spec: &FlowSpec,
    dag: Dag,
    output: Value,
    executor: LocalExecutor,
    observer: Observers,
) -> Result<RunReport> {
    let executor = Arc::new(executor);
    let limits = RunLimits {
        jobs: config.jobs,
        max_dynamic_tasks: config.max_dynamic_tasks,
        timeout: config.timeout,
        on_failure: config.on_failure.unwrap_or(spec.on_failure),
        handle_signals: true,
        pools: spec.pools.clone(),
        in_place_budget: scheduler::BATCH_BUDGET,
    };
    // Orphans of tasks are re-parented to autowf, which stops them when the run ends.
    tree::become_subreaper();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(config.jobs.max(1))
        .thread_stack_size(TASK_STACK_BYTES)
        .build()
        .map_err(Error::Runtime)?;
    // The dispatcher runs on a runtime worker, not on this thread: a worker waking it then
    // often runs it next on the same thread instead of waking another one.
    let dispatcher = runtime.spawn(scheduler::run(dag, output, limits, executor, observer));
    let report = runtime
        .block_on(dispatcher)
        .map_err(|e| Error::SchedulerStopped(e.to_string()))?;
    runtime.shutdown_timeout(Duration::from_millis(200));
    let left_behind = tree::sweep_orphans(SWEEP_LIMIT);
    if left_behind > 0 {
        tracing::warn!("stopped {left_behind} process(es) that tasks left running");
    }
    Ok(report)
}

/// Failures on stderr (and as GitHub annotations there), the result or `summary` (the
/// `--json` document, as text ending in a newline) on stdout, and `--summary`.
fn publish(
    cli: &Cli,
    config: &RunConfig,
    args: &RunArgs,
    summary: &str,
    report: &RunReport,
) -> Result<()> {
    if !config.quiet || !report.is_success() {
        let color = super::use_color(cli.global.color);
        report::print_failures(&mut LineWriter::new(std::io::stderr()), report, color);
    }
    if std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
        eprint!("{}", redact::text(&report::github_annotations(report)));
    }
    let mut stdout = std::io::stdout().lock();
    if config.json {
        let _ = write!(stdout, "{}", redact::text(summary));
    } else if let Some(result) = &report.output {
        let _ = writeln!(
            stdout,
            "{}",
            redact::text(&super::pretty_json(&result.to_json()))
        );
    }
    drop(stdout);
    if let Some(path) = &args.summary {
        write_report(path, summary)?;
    }
    Ok(())
}

/// Writes a report file (`--summary`, `--junit`, `--metrics-textfile`) with secrets hidden.
fn write_report(path: &Path, text: &str) -> Result<()> {
    let text = redact::text(text);
    if text.ends_with('\n') {
        return write_atomically(path, text.as_bytes());
    }
    let mut bytes = text.as_bytes().to_vec();
    if !text.ends_with('\n') {
        bytes.push(b'\n');
    }
    write_atomically(path, &bytes)
}

/// `--junit` and `--metrics-textfile`, each written atomically.
fn write_report_files(
    args: &RunArgs,
    meta: &RunMeta<'_>,
    report: &RunReport,
    started_unix: f64,
) -> Result<()> {
    if let Some(path) = &args.junit {
        write_report(path, &report::junit_xml(meta, report))?;
    }
    if let Some(path) = &args.metrics_textfile {
        let mut text = report::prometheus_text(meta, report, started_unix);
        if let Ok(previous) = std::fs::read_to_string(path) {
            report::carry_last_success(&mut text, &previous);
        }
        write_report(path, &text)?;
    }
    Ok(())
}

/// Seconds since the Unix epoch, for reports that want wall-clock times.
fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn exit_code(report: &RunReport) -> u8 {
    match report.interruption {
        Some(Interruption::Timeout) => exit::TIMEOUT,
        Some(Interruption::Sigint) => exit::SIGINT,
        Some(Interruption::Sigterm) => exit::SIGTERM,
        None if report.is_success() => exit::OK,
        None => exit::TASK_FAILED,
    }
}
