//! `autowf runs gc`: prunes old runs and the artifact blobs nothing names any more, printing
//! what went (the rules and the removal itself are `state::gc`'s).

use std::io::Write as _;
use std::time::SystemTime;

use serde_json::{Value as J, json};

use crate::cli::args::RunsGcArgs;
use crate::error::{Diagnostic, Error, Result, exit};
use crate::state::StateDir;
use crate::state::gc::{self, PrunedRun, Sweep};

/// `runs gc`: what an interrupted gc left, then the runs the rules select, then the blobs
/// nothing names any more.
pub(super) fn gc_runs(state: &StateDir, args: &RunsGcArgs) -> Result<u8> {
    let rules = gc::Rules::new(args.keep, args.older_than).ok_or_else(|| {
        Error::invalid(Diagnostic::new(
            "`runs gc` needs `--keep N`, `--older-than DURATION` or both",
        ))
    })?;
    state.check_layout()?;
    let now = SystemTime::now();
    let plan = gc::plan(state, rules, now)?;
    for run_id in &plan.without_flow {
        tracing::warn!(
            "run `{run_id}` was kept: its journal names no flow, so `--keep` cannot count it \
             (`--older-than` removes such runs by the time in their id)"
        );
    }
    prune_runs(state, &plan, args)?;
    let outcome = sweep_blobs(state, plan, args.dry_run, now)?;
    if args.json {
        let doc = outcome.json(state, args.dry_run);
        let _ = writeln!(
            std::io::stdout().lock(),
            "{}",
            crate::cli::pretty_json(&doc)
        );
    } else {
        eprint!("{}", outcome.text(state, args.dry_run));
    }
    Ok(exit::OK)
}

fn gc_verb(dry_run: bool) -> &'static str {
    if dry_run { "would remove" } else { "removed" }
}

/// Removes the plan's leftovers and runs (not with `--dry-run`). Without `--json`, one line
/// each goes to stderr as it goes, so that an error part way still shows what was done.
fn prune_runs(state: &StateDir, plan: &gc::Plan, args: &RunsGcArgs) -> Result<()> {
    let say = |what: String| {
        if !args.json {
            eprintln!("{} {what}", gc_verb(args.dry_run));
        }
    };
    for leftover in &plan.leftovers {
        if !args.dry_run {
            gc::remove_leftover(state, leftover)?;
        }
        say(format!("`{}` (left by an interrupted gc)", leftover.name));
    }
    for run in &plan.runs {
        if !args.dry_run {
            gc::remove_run(state, &run.run_id)?;
        }
        say(pruned_run_text(run));
    }
    Ok(())
}

/// Removes the blobs nothing names once `plan`'s runs are gone (not with `dry_run`).
fn sweep_blobs(
    state: &StateDir,
    plan: gc::Plan,
    dry_run: bool,
    now: SystemTime,
) -> Result<GcOutcome> {
    let sweep = gc::unused_blobs(state, &plan, crate::cache::local_blob_refs(state), now)?;
    let (blobs, skipped) = match sweep {
        Sweep::Unused(blobs) => (blobs, None),
        Sweep::Skipped { why } => {
            tracing::warn!("no artifact blob was removed: {why}");
            (Vec::new(), Some(why))
        }
    };
    if !dry_run {
        for blob in &blobs {
            gc::remove_blob(blob)?;
        }
    }
    Ok(GcOutcome {
        plan,
        blobs,
        skipped,
    })
}

/// What `runs gc` removed (or would).
struct GcOutcome {
    plan: gc::Plan,
    blobs: Vec<gc::UnusedBlob>,
    /// Why no blob was removed, when the sweep was skipped.
    skipped: Option<String>,
}

impl GcOutcome {
    fn run_bytes(&self) -> u64 {
        let runs: u64 = self.plan.runs.iter().map(|r| r.bytes).sum();
        runs + self.plan.leftovers.iter().map(|l| l.bytes).sum::<u64>()
    }

    fn blob_bytes(&self) -> u64 {
        self.blobs.iter().map(|b| b.bytes).sum()
    }

    fn json(&self, state: &StateDir, dry_run: bool) -> J {
        let (runs, blobs) = (self.run_bytes(), self.blob_bytes());
        json!({
            "schema": 1,
            "state_dir": state.root(),
            "dry_run": dry_run,
            "runs": self.plan.runs,
            "leftovers": self.plan.leftovers,
            "blobs": self.blobs,
            "blobs_skipped": self.skipped,
            "remote_store": state.remote().map(ToString::to_string),
            "bytes": { "runs": runs, "blobs": blobs, "total": runs + blobs },
        })
    }

    /// The closing lines: a note on the remote store, then the totals.
    fn text(&self, state: &StateDir, dry_run: bool) -> String {
        let mut out = String::new();
        if let Some(url) = state.remote() {
            out.push_str(&format!(
                "note: only local files were pruned; blobs in the remote store `{url}` are not \
                 collected\n"
            ));
        }
        out.push_str(&format!(
            "{} {} and {}, {} {}\n",
            gc_verb(dry_run),
            counted(self.plan.runs.len(), "run"),
            counted(self.blobs.len(), "blob"),
            if dry_run { "freeing" } else { "freed" },
            crate::cli::fmt_bytes(self.run_bytes() + self.blob_bytes())
        ));
        out
    }
}

/// `run `20261126T174609040-05098` (nightly, 3d old)`.
fn pruned_run_text(run: &PrunedRun) -> String {
    let flow = run.flow.as_deref().unwrap_or("no flow");
    let age = run.age.map_or_else(
        || "age unknown".to_owned(),
        |a| format!("{} old", crate::cache::fmt_age(a)),
    );
    format!("run `{}` ({flow}, {age})", run.run_id)
}

/// `1 run`, `3 runs`.
fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn pruned(flow: Option<&str>, age: Option<Duration>) -> PrunedRun {
        PrunedRun {
            run_id: "20260101T000000000-00001".to_owned(),
            flow: flow.map(str::to_owned),
            started: None,
            age,
            bytes: 2048,
        }
    }

    #[test]
    fn each_removed_run_is_one_line_with_its_flow_and_age() {
        let day = Duration::from_secs(86_400);
        assert_eq!(
            pruned_run_text(&pruned(Some("nightly"), Some(3 * day))),
            "run `20260101T000000000-00001` (nightly, 3d old)"
        );
        assert_eq!(
            pruned_run_text(&pruned(None, None)),
            "run `20260101T000000000-00001` (no flow, age unknown)"
        );
    }

    #[test]
    fn the_total_line_counts_runs_and_blobs_and_their_bytes() {
        let outcome = GcOutcome {
            plan: gc::Plan {
                runs: vec![pruned(Some("a"), None)],
                ..gc::Plan::default()
            },
            blobs: Vec::new(),
            skipped: None,
        };
        let state = StateDir::new("/nowhere".into());
        assert_eq!(
            outcome.text(&state, false),
            "removed 1 run and 0 blobs, freed 2.0 KiB\n"
        );
        assert_eq!(
            outcome.text(&state, true),
            "would remove 1 run and 0 blobs, freeing 2.0 KiB\n"
        );
        let doc = outcome.json(&state, true);
        assert_eq!(
            doc["bytes"],
            json!({ "runs": 2048, "blobs": 0, "total": 2048 })
        );
        assert_eq!(doc["runs"][0]["flow"], "a");
        assert_eq!(doc["dry_run"], true);
    }
}
