//! One short function per subcommand; each returns the process exit code.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::CommandFactory as _;

use super::args::{
    Cli, Command, CompletionsArgs, ConfigArgs, DescribeArgs, DescribeFormat, ExportDotArgs,
    ListArgs, ParamArgs, RunArgs, WorkerArgs,
};
use crate::config::Layers;
use crate::dag::{Dag, to_dot};
use crate::error::{Diagnostic, Error, Result, exit};
use crate::report::{self};
use crate::scheduler::{self};
use crate::script::{FlowSpec, Script};

/// Runs the command; `layers` is the configuration of its flow file (of the working directory
/// when it names none).
pub(super) fn execute(cli: Cli, matches: &clap::ArgMatches, layers: &Layers) -> Result<u8> {
    let sub = |name| matches.subcommand_matches(name).unwrap_or(matches);
    match &cli.command {
        Command::Run(args) => super::run::run(&cli, args, sub("run"), layers),
        Command::Config(args) => config(&cli, args, sub("config"), layers),
        Command::Describe(args) => {
            crate::secrets::inspect_only();
            describe(args, layers)
        }
        Command::List(args) => {
            crate::secrets::inspect_only();
            list(args, layers)
        }
        Command::ExportDot(args) => {
            crate::secrets::inspect_only();
            export_dot(args, layers)
        }
        Command::Artifacts(args) => {
            super::artifacts::artifacts(&cli, args, sub("artifacts"), layers)
        }
        Command::Cache(args) => super::cache::cache(&cli, &args.command, sub("cache"), layers),
        Command::Runs(args) => super::runs::runs(&cli, args, sub("runs"), layers),
        Command::Completions(args) => completions(args),
        Command::Worker(args) => worker(args),
    }
}

/// The state directory a command reads: `--state-dir` (or `AUTOWF_STATE_DIR`), else the
/// configuration's `state-dir`, else `.autowf/` beside the flow file (`--flow`) or in the
/// working directory, the same rule `run` follows.
pub(super) fn state_dir_of(
    cli: &Cli,
    matches: &clap::ArgMatches,
    layers: &Layers,
    state: &super::args::StateArgs,
) -> Result<crate::state::StateDir> {
    let dir = match &state.flow {
        Some(file) => absolute_dir(file)?,
        None => std::env::current_dir().map_err(|source| Error::ReadFile {
            path: PathBuf::from("."),
            source,
        })?,
    };
    let root = crate::config::state_dir_for(cli, matches, layers, &dir);
    let remote = crate::config::remote_store_for(cli, matches, layers)?.map(|(url, _)| url);
    Ok(crate::state::StateDir::new(root).with_remote(remote))
}

/// Stack of the threads that run task bodies: deep Rhai recursion (up to the call-level
/// limit) needs more than the 2 MiB default.
pub(super) const TASK_STACK_BYTES: usize = 8 * 1024 * 1024;

fn read_params_file(
    path: Option<&Path>,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::invalid(Diagnostic::new(format!(
            "cannot read params file `{}`: {e}",
            path.display()
        )))
    })?;
    let is_toml = path.extension().is_some_and(|e| e == "toml");
    let parsed: std::result::Result<serde_json::Value, String> = if is_toml {
        toml::from_str::<toml::Table>(&text)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::to_value(t).map_err(|e| e.to_string()))
    } else {
        serde_json::from_str(&text).map_err(|e| e.to_string())
    };
    match parsed {
        Ok(serde_json::Value::Object(map)) => Ok(Some(map)),
        Ok(_) => Err(Error::invalid(Diagnostic::new(format!(
            "params file `{}` must hold a table of parameters",
            path.display()
        )))),
        Err(e) => Err(Error::invalid(Diagnostic::new(format!(
            "params file `{}` is invalid: {}",
            path.display(),
            e.trim()
        )))),
    }
}

/// The directory whose configuration applies to a flow file: the file's own.
pub(super) fn config_dir_of(file: &Path) -> &Path {
    file.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Loads one of several scripts, each with the task defaults of its own configuration.
fn load_script(file: &Path) -> Result<Script> {
    let layers = Layers::load(config_dir_of(file))?;
    Script::load_with(file, &layers.task_defaults())
}

/// Loads `file`, picks the flow, binds params and builds the validated graph.
pub(super) fn build_graph(
    file: &Path,
    flow: Option<&str>,
    params: &ParamArgs,
    config: &crate::config::RunConfig,
) -> Result<(Script, FlowSpec, Dag, crate::script::FlowBuild)> {
    let script = Script::load_with(file, &config.task_defaults)?;
    let mut spec = script.select_flow(flow)?.clone();
    // The flow's own pools override same-named ones from the configuration.
    let flow_pools = std::mem::replace(&mut spec.pools, config.pools.clone());
    spec.pools.extend(flow_pools);
    let params_file = read_params_file(params.params_file.as_deref())?;
    let mut built = script.build(&spec, params_file.as_ref(), &params.params)?;
    let dag = Dag::build(std::mem::take(&mut built.nodes)).map_err(Error::Invalid)?;
    check_pools(&dag, &spec)?;
    Ok((script, spec, dag, built))
}

/// Every node's pool must be one the flow declares, with room for its slots.
fn check_pools(dag: &Dag, spec: &FlowSpec) -> Result<()> {
    let errors: Vec<Diagnostic> = dag
        .nodes()
        .iter()
        .filter_map(|n| {
            scheduler::pool_limit(n, &spec.pools)
                .err()
                .map(|m| Diagnostic::new(m).at(Some(n.loc.clone())))
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}

pub(super) fn absolute_dir(file: &Path) -> Result<PathBuf> {
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::canonicalize(dir).map_err(|source| Error::ReadFile {
        path: dir.to_path_buf(),
        source,
    })
}

/// A sortable, unique-enough run id: UTC time plus the process id.
pub(super) fn new_run_id() -> String {
    let now = std::time::SystemTime::now();
    let stamp = humantime::format_rfc3339_millis(now).to_string();
    let compact: String = stamp.chars().filter(char::is_ascii_alphanumeric).collect();
    format!(
        "{}-{:05}",
        compact.trim_end_matches('Z'),
        std::process::id() % 100_000
    )
}

/// Every `.rhai` file under `paths` (files as given, directories searched), sorted.
fn find_scripts(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(Error::invalid(Diagnostic::new(format!(
                "`{}` does not exist",
                p.display()
            ))));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::ReadFile {
        path: dir.to_path_buf(),
        source,
    })?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rhai") {
            out.push(path);
        }
    }
    Ok(())
}

fn describe(args: &DescribeArgs, layers: &Layers) -> Result<u8> {
    let scripts = match &args.file {
        Some(file) => vec![Script::load_with(file, &layers.task_defaults())?],
        None => find_scripts(&[layers.flows_dir()])?
            .iter()
            .map(|f| load_script(f))
            .collect::<Result<Vec<_>>>()?,
    };
    let params_file = read_params_file(args.params.params_file.as_deref())?;
    let mut described = Vec::new();
    for script in &scripts {
        let specs: Vec<&FlowSpec> = match &args.flow {
            Some(name) => vec![script.select_flow(Some(name))?],
            None => script.registry.flows.iter().collect(),
        };
        let mut flows = Vec::new();
        for spec in specs {
            let built =
                script.build_for_describe(spec, params_file.as_ref(), &args.params.params)?;
            let dag = Dag::build(built.nodes).map_err(Error::Invalid)?;
            flows.push(report::DescribedFlow { spec, dag });
        }
        described.push((script, flows));
    }
    let text = match args.format {
        DescribeFormat::Text => described
            .iter()
            .map(|(s, f)| report::describe_text(s, f))
            .collect::<Vec<_>>()
            .join("\n"),
        DescribeFormat::Json => report::describe_json(&described),
        DescribeFormat::Mermaid => described
            .iter()
            .map(|(_, f)| report::describe_mermaid(f))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    print_stdout(&text);
    Ok(exit::OK)
}

fn list(args: &ListArgs, layers: &Layers) -> Result<u8> {
    let paths = if args.paths.is_empty() {
        vec![layers.flows_dir()]
    } else {
        args.paths.clone()
    };
    let files = find_scripts(&paths)?;
    let scripts = files
        .iter()
        .map(|f| load_script(f))
        .collect::<Result<Vec<_>>>()?;
    print_stdout(&if args.json {
        report::list_json(&scripts)
    } else {
        report::list_text(&scripts)
    });
    Ok(exit::OK)
}

fn export_dot(args: &ExportDotArgs, layers: &Layers) -> Result<u8> {
    let script = Script::load_with(&args.file, &layers.task_defaults())?;
    let spec = script.select_flow(args.flow.as_deref())?;
    let params_file = read_params_file(args.params.params_file.as_deref())?;
    // Like `describe`, the graph's shape needs no required parameter.
    let built = script.build_for_describe(spec, params_file.as_ref(), &args.params.params)?;
    let dag = Dag::build(built.nodes).map_err(Error::Invalid)?;
    let dot = to_dot(&dag, &spec.name);
    match &args.output {
        Some(path) => crate::state::write_atomically(path, dot.as_bytes())?,
        None => print_stdout(&dot),
    }
    Ok(exit::OK)
}

fn completions(args: &CompletionsArgs) -> Result<u8> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "autowf", &mut out);
    print_stdout(&String::from_utf8_lossy(&out));
    Ok(exit::OK)
}

/// Serves one process-mode task call; SIGTERM cancels it so it can stop what it started.
/// `autowf worker`: one task call from stdin, its reply on stdout. With `exit_code`, a reply
/// other than `ok` also exits 1; with `command_line`, the command line the reply carries is
/// printed instead.
fn worker(args: &WorkerArgs) -> Result<u8> {
    let mut input = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin(), &mut input).map_err(|source| {
        Error::ReadFile {
            path: PathBuf::from("<stdin>"),
            source,
        }
    })?;
    let cancel = tokio_util::sync::CancellationToken::new();
    let on_term = cancel.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_stack_size(TASK_STACK_BYTES)
        .build()
        .map_err(Error::Runtime)?;
    let response = runtime.block_on(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(Error::Runtime)?;
        let mut work =
            tokio::task::spawn_blocking(move || crate::script::serve_worker(&input, &cancel));
        tokio::select! {
            out = &mut work => return Ok::<_, Error>(out.unwrap_or_default()),
            _ = term.recv() => on_term.cancel(),
        }
        // Cancelled: the task stops what it started and replies `cancelled`.
        Ok(work.await.unwrap_or_default())
    })?;
    if args.command_line {
        return Ok(print_command_line(&response));
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(&response);
    let _ = stdout.flush();
    let is_ok = || {
        matches!(
            crate::script::parse_response(&response),
            Ok(crate::script::WorkerResponse::Ok(_))
        )
    };
    if args.exit_code && !is_ok() {
        return Ok(exit::TASK_FAILED);
    }
    Ok(exit::OK)
}

/// Prints the command line of a worker's reply to a shell node's request; the exit code.
/// A reply without one is told on stderr, where the job's error file keeps it.
fn print_command_line(response: &[u8]) -> u8 {
    use crate::script::WorkerResponse;
    let why = match crate::script::parse_response(response) {
        Ok(WorkerResponse::Ok(serde_json::Value::String(line))) => {
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(line.as_bytes());
            let _ = stdout.flush();
            return exit::OK;
        }
        Ok(WorkerResponse::Ok(other)) => format!("the reply is not a command line: {other}"),
        Ok(WorkerResponse::Error(e)) => e.message,
        Ok(WorkerResponse::TimedOut) => "timed out while building the command line".to_owned(),
        Ok(WorkerResponse::Cancelled) => "cancelled while building the command line".to_owned(),
        Err(e) => e.message,
    };
    let _ = writeln!(
        std::io::stderr().lock(),
        "error: {}",
        crate::redact::text(&why)
    );
    exit::TASK_FAILED
}

/// `autowf config`: the settings a run of FILE (or of a flow in this directory) would use,
/// and where each comes from.
fn config(cli: &Cli, args: &ConfigArgs, matches: &clap::ArgMatches, layers: &Layers) -> Result<u8> {
    let run = RunArgs::for_config(&args.run);
    let settings = crate::config::RunConfig::from_cli(cli, &run, matches, layers)?;
    if args.json {
        let items: Vec<serde_json::Value> = settings
            .shown
            .iter()
            .map(|s| serde_json::json!({ "key": s.key, "value": s.value, "source": s.source.to_string() }))
            .collect();
        let doc = serde_json::json!({ "schema": 1, "settings": items });
        print_stdout(&(super::pretty_json(&doc) + "\n"));
    } else {
        let width = settings
            .shown
            .iter()
            .map(|s| s.key.len())
            .max()
            .unwrap_or(0);
        let text: String = settings
            .shown
            .iter()
            .map(|s| format!("{:<width$}  {}  ({})\n", s.key, s.value, s.source))
            .collect();
        print_stdout(&text);
    }
    Ok(exit::OK)
}

fn print_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`autowf list | head`) is not an error worth reporting.
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}
