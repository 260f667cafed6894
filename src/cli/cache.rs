//! `autowf cache ls | rm | gc | verify`: the result cache of a state directory.

use std::io::Write as _;
use std::time::{Duration, SystemTime};

use super::args::{CacheCommand, Cli};
use super::dispatch::state_dir_of;
use crate::cache::{self, CacheStore, EntryInfo};
use crate::config::Layers;
use crate::error::{Diagnostic, Error, Result, exit};

/// Shortest key prefix `cache rm` accepts: shorter ones match too much by accident.
const MIN_PREFIX: usize = 4;

pub(super) fn cache(
    cli: &Cli,
    command: &CacheCommand,
    matches: &clap::ArgMatches,
    layers: &Layers,
) -> Result<u8> {
    let state = state_dir_of(cli, matches, layers, command.state())?;
    let store = CacheStore::of_state(&state);
    let dir = store.location();
    let io = |source| Error::WriteFile {
        path: dir.clone(),
        source,
    };
    let read_error = |source| Error::ReadFile {
        path: dir.clone(),
        source,
    };
    let mut out = std::io::stdout().lock();
    match command {
        CacheCommand::Ls { json, .. } => {
            let (entries, problems) = store.scan().map_err(read_error)?;
            warn_damaged(&problems);
            if *json {
                let doc = serde_json::json!({
                    "schema": 1,
                    "dir": dir,
                    "entries": entries,
                });
                let _ = writeln!(out, "{}", super::pretty_json(&doc));
            } else {
                print_entries(&mut out, &entries);
            }
            Ok(exit::OK)
        }
        CacheCommand::Rm {
            keys, task, all, ..
        } => {
            let (entries, _) = store.scan().map_err(read_error)?;
            let chosen = choose(&entries, keys, task.as_deref(), *all)?;
            let mut removed = 0;
            for key in &chosen {
                if store.remove(key).map_err(io)? {
                    removed += 1;
                }
            }
            eprintln!("removed {removed} cache entr{}", plural_y(removed));
            Ok(exit::OK)
        }
        CacheCommand::Gc { older_than, .. } => {
            let removed = store.gc(*older_than).map_err(io)?;
            eprintln!("removed {removed} cache entr{}", plural_y(removed));
            Ok(exit::OK)
        }
        CacheCommand::Verify { json, .. } => {
            let (entries, problems) = store.scan().map_err(read_error)?;
            if *json {
                let doc = serde_json::json!({
                    "schema": 1,
                    "dir": dir,
                    "sound": entries.len(),
                    "damaged": problems,
                });
                let _ = writeln!(out, "{}", super::pretty_json(&doc));
            } else {
                for p in &problems {
                    let _ = writeln!(out, "damaged  {}: {}", p.path.display(), p.why);
                }
                let _ = writeln!(
                    out,
                    "{} entr{} sound, {} damaged",
                    entries.len(),
                    plural_y(entries.len()),
                    problems.len()
                );
            }
            if problems.is_empty() {
                Ok(exit::OK)
            } else {
                eprintln!(
                    "`autowf cache gc --older-than 30d` removes damaged entries (and old ones)"
                );
                Ok(exit::TASK_FAILED)
            }
        }
    }
}

/// The keys `cache rm` removes; an unknown or ambiguous key is a usage error.
fn choose(
    entries: &[EntryInfo],
    keys: &[String],
    task: Option<&str>,
    all: bool,
) -> Result<Vec<String>> {
    if all {
        return Ok(entries.iter().map(|e| e.key.clone()).collect());
    }
    let mut chosen: Vec<String> = match task {
        Some(t) => entries
            .iter()
            .filter(|e| e.task == t)
            .map(|e| e.key.clone())
            .collect(),
        None => Vec::new(),
    };
    for k in keys {
        if k.len() < MIN_PREFIX {
            return Err(usage(format!(
                "key prefix `{k}` is too short: give at least {MIN_PREFIX} characters"
            )));
        }
        let matching: Vec<&EntryInfo> = entries
            .iter()
            .filter(|e| e.key.starts_with(k.as_str()))
            .collect();
        match matching.as_slice() {
            [one] => chosen.push(one.key.clone()),
            [] => {
                return Err(usage(format!(
                    "no cache entry has a key starting with `{k}` (see `autowf cache ls`)"
                )));
            }
            many => {
                return Err(usage(format!(
                    "`{k}` matches {} entries; give more of the key",
                    many.len()
                )));
            }
        }
    }
    Ok(chosen)
}

fn usage(message: String) -> Error {
    Error::invalid(Diagnostic::new(message))
}

fn warn_damaged(problems: &[cache::Problem]) {
    for p in problems {
        tracing::warn!("damaged cache entry {}: {}", p.path.display(), p.why);
    }
}

fn print_entries(out: &mut impl std::io::Write, entries: &[EntryInfo]) {
    if entries.is_empty() {
        let _ = writeln!(out, "the cache is empty");
        return;
    }
    let now = SystemTime::now();
    let width = entries.iter().map(|e| e.node.len()).max().unwrap_or(0);
    for e in entries {
        let created = SystemTime::UNIX_EPOCH + Duration::from_secs(e.created);
        let age = cache::fmt_age(now.duration_since(created).unwrap_or(Duration::ZERO));
        let _ = writeln!(
            out,
            "{}  {:<width$}  {:>5} ago  {:>8}  {} ({})",
            e.key.get(..12).unwrap_or(&e.key),
            e.node,
            age,
            super::fmt_bytes(e.bytes),
            e.task,
            e.flow,
        );
    }
    let total: u64 = entries.iter().map(|e| e.bytes).sum();
    let _ = writeln!(
        out,
        "{} entr{}, {}",
        entries.len(),
        plural_y(entries.len()),
        super::fmt_bytes(total)
    );
}

fn plural_y(n: usize) -> &'static str {
    if n == 1 { "y" } else { "ies" }
}
