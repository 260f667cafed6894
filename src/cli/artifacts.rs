//! `autowf artifacts ls` and `autowf artifacts get`: what past runs kept, read from the state
//! directory (see `state::artifacts`). Data goes to stdout, messages to stderr.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::args::{ArtifactsCommand, ArtifactsGetArgs, ArtifactsLsArgs, Cli};
use crate::config::Layers;
use crate::error::{Diagnostic, Error, Result, exit};
use crate::state::artifacts::{ArtifactError, ArtifactRecord, RunArtifacts};
use crate::state::{AtomicFile, StateDir};

/// How many hex digits of a digest `ls` shows.
const SHORT_DIGEST: usize = 12;

pub(super) fn artifacts(
    cli: &Cli,
    command: &ArtifactsCommand,
    matches: &clap::ArgMatches,
    layers: &Layers,
) -> Result<u8> {
    // The innermost matches hold `--state-dir` wherever it was given.
    let matches = matches.subcommand().map_or(matches, |(_, m)| m);
    let state = super::dispatch::state_dir_of(cli, matches, layers, command.state())?;
    match command {
        ArtifactsCommand::Ls(args) => ls(&state, args),
        ArtifactsCommand::Get(args) => get(&state, args),
    }
}

fn ls(state: &StateDir, args: &ArtifactsLsArgs) -> Result<u8> {
    let run_id = resolve_run(state, args.run.as_deref())?;
    let manifest = RunArtifacts::new(state, &run_id)
        .manifest()
        .map_err(store_error)?;
    if args.json {
        let doc = super::pretty_json(&manifest);
        print_stdout(format!("{doc}\n").as_bytes());
    } else if manifest.artifacts.is_empty() {
        tracing::info!("run `{run_id}` kept no artifacts");
    } else {
        print_stdout(table(&manifest.artifacts).as_bytes());
    }
    Ok(exit::OK)
}

/// One line per artifact: name, size in bytes, node, the digest's first digits.
fn table(records: &[ArtifactRecord]) -> String {
    let name_width = records.iter().map(|r| r.name.len()).max().unwrap_or(0);
    let size_width = records
        .iter()
        .map(|r| r.size.to_string().len())
        .max()
        .unwrap_or(0);
    let node_width = records.iter().map(|r| r.node.len()).max().unwrap_or(0);
    records
        .iter()
        .map(|r| {
            let digest = r.digest.get(..SHORT_DIGEST).unwrap_or(&r.digest);
            format!(
                "{:<name_width$}  {:>size_width$}  {:<node_width$}  {digest}\n",
                r.name, r.size, r.node
            )
        })
        .collect()
}

fn get(state: &StateDir, args: &ArtifactsGetArgs) -> Result<u8> {
    let run_id = resolve_run(state, Some(&args.run))?;
    let store = RunArtifacts::new(state, &run_id);
    let record = store.find(&args.name).map_err(store_error)?;
    match &args.output {
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let mut file = AtomicFile::create_in(dir).map_err(|source| Error::WriteFile {
                path: path.clone(),
                source,
            })?;
            // Checked before the rename, so a damaged blob never replaces the file.
            store
                .copy_to(&record, &mut file, path)
                .map_err(store_error)?;
            file.commit(path)?;
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            match store.copy_to(&record, &mut stdout, Path::new("<stdout>")) {
                // A closed pipe (`... | head`) is the reader's choice, not a failure.
                Err(ArtifactError::Io(Error::WriteFile { source, .. }))
                    if source.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => {
                    other.map_err(store_error)?;
                }
            }
        }
    }
    Ok(exit::OK)
}

/// The run id `wanted` names (`last` or none: the latest run; else an id or a unique prefix,
/// as `runs show` takes them), checked against the runs that exist, so a run id can never
/// lead outside `runs/`.
fn resolve_run(state: &StateDir, wanted: Option<&str>) -> Result<String> {
    match wanted {
        None | Some("last") => {
            let runs = crate::state::runs::run_ids(state)?;
            runs.first().cloned().ok_or_else(|| {
                Error::invalid(
                    Diagnostic::new(format!(
                        "no runs in state directory `{}`",
                        state.root().display()
                    ))
                    .help("run a flow first, or name its state directory with `--flow FILE` or `--state-dir DIR`"),
                )
            })
        }
        Some(query) => crate::state::runs::resolve_run(state, query),
    }
}

/// The store's errors as command errors: a missing artifact is a usage error (2), the rest
/// are I/O errors (3).
fn store_error(e: ArtifactError) -> Error {
    let invalid_data = |path: PathBuf, why: String| Error::ReadFile {
        path,
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, why),
    };
    match e {
        ArtifactError::NotFound {
            run_id,
            name,
            existing,
        } => {
            let d = Diagnostic::new(format!("run `{run_id}` has no artifact `{name}`"));
            Error::invalid(if existing.is_empty() {
                d.help("the run kept no artifacts")
            } else {
                let quoted: Vec<String> = existing.iter().map(|n| format!("`{n}`")).collect();
                d.help(format!("artifacts: {}", quoted.join(", ")))
            })
        }
        ArtifactError::Io(e) => e,
        ArtifactError::BadManifest { path, why } => invalid_data(path, why),
        ArtifactError::Damaged { ref blob, .. } => invalid_data(blob.clone(), e.to_string()),
        ArtifactError::NotAFile { ref path, .. } => invalid_data(path.clone(), e.to_string()),
        // Reading never checks a name; only writing does.
        ArtifactError::Name(name) => Error::invalid(Diagnostic::new(name.to_string())),
    }
}

fn print_stdout(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    // As for every listing: a closed pipe is not an error worth reporting.
    let _ = stdout.write_all(bytes);
    let _ = stdout.flush();
}
