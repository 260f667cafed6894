use std::collections::HashSet;
use std::fs::File;

use super::blobs::BLOB_GRACE;
use super::*;
use crate::state::artifacts::{ArtifactName, RunArtifacts};
use crate::state::journal::JOURNAL_FILE;

const DAY: Duration = Duration::from_secs(86_400);

/// A fixed "now" for the rules, which never read the clock themselves.
fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// A run of `flow` (`None`: unknown) that started `age` before [`now`] (`None`: unknown).
fn facts(run_id: &str, flow: Option<&str>, age: Option<Duration>) -> RunFacts {
    RunFacts {
        run_id: run_id.to_owned(),
        flow: flow.map(str::to_owned),
        started: age.map(|a| now() - a),
        is_running: false,
        is_unseen: false,
    }
}

fn running(mut run: RunFacts) -> RunFacts {
    run.is_running = true;
    run
}

/// The ids `rules` removes from `runs`.
fn removed(runs: &[RunFacts], rules: Rules) -> Vec<&str> {
    runs.iter()
        .zip(select(runs, rules, now()))
        .filter(|(_, v)| *v == Verdict::Remove)
        .map(|(r, _)| r.run_id.as_str())
        .collect()
}

#[test]
fn rules_need_keep_or_older_than() {
    assert_eq!(Rules::new(None, None), None);
    assert_eq!(Rules::new(Some(2), None), Some(Rules::Keep(2)));
    assert_eq!(Rules::new(None, Some(DAY)), Some(Rules::OlderThan(DAY)));
    assert_eq!(
        Rules::new(Some(2), Some(DAY)),
        Some(Rules::KeepAndOlderThan(2, DAY))
    );
}

#[test]
fn keep_counts_the_newest_runs_of_each_flow_separately() {
    let runs = [
        facts("a3", Some("a"), Some(DAY)),
        facts("b2", Some("b"), Some(2 * DAY)),
        facts("a2", Some("a"), Some(3 * DAY)),
        facts("a1", Some("a"), Some(4 * DAY)),
        facts("b1", Some("b"), None),
    ];
    assert_eq!(removed(&runs, Rules::Keep(1)), ["a2", "a1", "b1"]);
    assert_eq!(removed(&runs, Rules::Keep(2)), ["a1"]);
    assert!(removed(&runs, Rules::Keep(3)).is_empty());
    assert_eq!(removed(&runs, Rules::Keep(0)).len(), 5);
    assert_eq!(
        select(&runs, Rules::Keep(1), now())[..2],
        [Verdict::Keep(Kept::Newest), Verdict::Keep(Kept::Newest)]
    );
}

#[test]
fn older_than_removes_runs_started_before_the_limit_and_never_an_unknown_age() {
    let runs = [
        facts("new", Some("a"), Some(DAY)),
        facts("limit", Some("a"), Some(30 * DAY)),
        facts("old", Some("a"), Some(31 * DAY)),
        facts("unknown", Some("a"), None),
        facts("older", Some("b"), Some(90 * DAY)),
    ];
    assert_eq!(removed(&runs, Rules::OlderThan(30 * DAY)), ["old", "older"]);
    assert_eq!(
        select(&runs, Rules::OlderThan(30 * DAY), now())[3],
        Verdict::Keep(Kept::Recent)
    );
    assert!(removed(&runs, Rules::OlderThan(365 * DAY)).is_empty());
}

#[test]
fn with_both_rules_a_run_goes_only_when_both_select_it() {
    let runs = [
        // The newest of its flow stays, however old.
        facts("b-newest-old", Some("b"), Some(90 * DAY)),
        facts("a-newest", Some("a"), Some(DAY)),
        facts("a-recent", Some("a"), Some(2 * DAY)),
        facts("a-old", Some("a"), Some(40 * DAY)),
        facts("b-old", Some("b"), Some(91 * DAY)),
    ];
    let both = Rules::KeepAndOlderThan(1, 30 * DAY);
    assert_eq!(removed(&runs, both), ["a-old", "b-old"]);
    assert_eq!(
        select(&runs, both, now())[..3],
        [
            Verdict::Keep(Kept::Newest),
            Verdict::Keep(Kept::Newest),
            Verdict::Keep(Kept::Recent)
        ]
    );
    // Each rule alone removes more.
    assert_eq!(
        removed(&runs, Rules::Keep(1)),
        ["a-recent", "a-old", "b-old"]
    );
    assert_eq!(
        removed(&runs, Rules::OlderThan(30 * DAY)),
        ["b-newest-old", "a-old", "b-old"]
    );
}

#[test]
fn running_runs_stay_and_take_no_keep_place() {
    let runs = [
        running(facts("a-running", Some("a"), Some(90 * DAY))),
        facts("a-last", Some("a"), Some(91 * DAY)),
        facts("a-older", Some("a"), Some(92 * DAY)),
        running(facts("x-running", None, Some(90 * DAY))),
    ];
    assert_eq!(removed(&runs, Rules::Keep(1)), ["a-older"]);
    assert_eq!(
        removed(&runs, Rules::OlderThan(Duration::ZERO)),
        ["a-last", "a-older"]
    );
    assert_eq!(
        removed(&runs, Rules::KeepAndOlderThan(0, Duration::ZERO)),
        ["a-last", "a-older"]
    );
    assert_eq!(
        select(&runs, Rules::Keep(0), now())[0],
        Verdict::Keep(Kept::Running)
    );
}

#[test]
fn runs_whose_end_cannot_be_seen_go_only_by_age_and_take_no_keep_place() {
    // Submitted to Slurm, or run on another machine.
    let submitted = |run_id: &str, age: Duration| RunFacts {
        is_unseen: true,
        ..facts(run_id, Some("a"), Some(age))
    };
    let runs = [
        submitted("a-submitted", DAY),
        facts("a-last", Some("a"), Some(2 * DAY)),
        submitted("a-old-submission", 30 * DAY),
        facts("a-older", Some("a"), Some(40 * DAY)),
    ];
    // Its jobs may still need the run directory: `--keep` alone never removes it.
    assert_eq!(removed(&runs, Rules::Keep(0)), ["a-last", "a-older"]);
    assert_eq!(removed(&runs, Rules::Keep(1)), ["a-older"]);
    assert_eq!(
        removed(&runs, Rules::OlderThan(7 * DAY)),
        ["a-old-submission", "a-older"]
    );
    assert_eq!(
        select(&runs, Rules::KeepAndOlderThan(0, 7 * DAY), now())[0],
        Verdict::Keep(Kept::Unseen)
    );
}

#[test]
fn a_run_of_no_known_flow_goes_only_by_age_and_not_while_it_may_be_starting() {
    let runs = [
        facts("fresh", None, Some(Duration::from_secs(600))),
        facts("old", None, Some(40 * DAY)),
        facts("no-time", None, None),
    ];
    assert!(removed(&runs, Rules::Keep(0)).is_empty());
    assert_eq!(
        select(&runs, Rules::Keep(0), now()),
        [Verdict::Keep(Kept::NoFlow); 3]
    );
    assert_eq!(removed(&runs, Rules::OlderThan(30 * DAY)), ["old"]);
    // Younger than the starting grace: kept even by `--older-than 1m`.
    assert_eq!(
        removed(&runs, Rules::OlderThan(Duration::from_secs(60))),
        ["old"]
    );
    assert_eq!(
        removed(&runs, Rules::KeepAndOlderThan(5, 30 * DAY)),
        ["old"]
    );
}

/// A state directory in a temp dir, with helpers that make runs the way autowf does.
struct Fixture {
    _dir: tempfile::TempDir,
    state: StateDir,
}

/// A pid that cannot be alive: beyond the kernel's limit.
const DEAD: u32 = 2_147_483_647;

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::new(dir.path().join(".autowf"));
        Self { _dir: dir, state }
    }

    /// A run directory with a journal's first line for `flow` (none when `None`), started
    /// at the time in `run_id`, by process `pid`.
    fn run(&self, run_id: &str, flow: Option<&str>, pid: u32) {
        let dir = self.state.run(run_id);
        std::fs::create_dir_all(dir.join("logs")).unwrap();
        std::fs::write(dir.join("logs/n.log"), "some output\n").unwrap();
        if let Some(flow) = flow {
            let started = humantime::format_rfc3339_millis(runs::id_start_time(run_id).unwrap());
            let line = format!(
                r#"{{"schema":1,"event":"run_started","run_id":"{run_id}","flow":"{flow}","file":"/f.rhai","params":{{}},"pid":{pid},"started":"{started}","autowf_version":"0.1.0"}}"#
            );
            std::fs::write(dir.join(JOURNAL_FILE), line + "\n").unwrap();
        }
    }

    fn run_ids(&self) -> Vec<String> {
        runs::run_ids(&self.state).unwrap()
    }

    fn blob_exists(&self, digest: &str) -> bool {
        self.state.blobs().join(&digest[..2]).join(digest).is_file()
    }
}

/// Sets every blob's time back past the grace, as if written long ago.
fn age_blobs(state: &StateDir) {
    let past = SystemTime::now() - BLOB_GRACE - Duration::from_secs(60);
    for blob in crate::state::artifacts::stored_blobs(state).unwrap() {
        File::options()
            .append(true)
            .open(&blob.path)
            .unwrap()
            .set_modified(past)
            .unwrap();
    }
}

#[test]
fn plan_reads_the_runs_on_disk_and_removal_leaves_no_run_behind() {
    let fx = Fixture::new();
    fx.run("20240103T000000000-00001", Some("a"), DEAD);
    fx.run("20240102T000000000-00001", Some("a"), DEAD);
    fx.run("20240101T000000000-00001", Some("a"), std::process::id());
    fx.run("20230101T000000000-00001", None, DEAD);
    std::fs::create_dir_all(fx.state.runs().join(".gc-20200101T000000000-00001/logs")).unwrap();
    std::fs::create_dir_all(fx.state.runs().join(".tmp-other")).unwrap();

    let plan = plan(&fx.state, Rules::Keep(1), SystemTime::now()).unwrap();
    let ids: Vec<&str> = plan.runs.iter().map(|r| r.run_id.as_str()).collect();
    // The oldest run of `a` is running: it stays, and takes no `--keep` place.
    assert_eq!(ids, ["20240102T000000000-00001"]);
    assert_eq!(plan.runs[0].flow.as_deref(), Some("a"));
    assert_eq!(
        plan.runs[0].started.as_deref(),
        Some("2024-01-02T00:00:00.000Z")
    );
    assert!(plan.runs[0].bytes > 12, "{:?}", plan.runs[0]);
    assert_eq!(plan.without_flow, ["20230101T000000000-00001"]);
    assert_eq!(plan.leftovers.len(), 1);
    assert_eq!(plan.leftovers[0].name, ".gc-20200101T000000000-00001");

    for leftover in &plan.leftovers {
        remove_leftover(&fx.state, leftover).unwrap();
    }
    for run in &plan.runs {
        remove_run(&fx.state, &run.run_id).unwrap();
        // A second removal (another gc) finds nothing to do.
        remove_run(&fx.state, &run.run_id).unwrap();
    }
    assert_eq!(
        fx.run_ids(),
        [
            "20240103T000000000-00001",
            "20240101T000000000-00001",
            "20230101T000000000-00001"
        ]
    );
    let mut left: Vec<String> = std::fs::read_dir(fx.state.runs())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    left.sort();
    assert_eq!(left, [".tmp-other"], "only gc's own dot-names go");

    // `--older-than` covers the run of no known flow by the time in its id.
    let plan = super::plan(&fx.state, Rules::OlderThan(DAY), SystemTime::now()).unwrap();
    let ids: Vec<&str> = plan.runs.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(
        ids,
        ["20240103T000000000-00001", "20230101T000000000-00001"]
    );
}

#[test]
fn a_state_directory_without_runs_plans_nothing() {
    let fx = Fixture::new();
    let plan = plan(&fx.state, Rules::Keep(0), SystemTime::now()).unwrap();
    assert!(plan.runs.is_empty() && plan.leftovers.is_empty());
    assert!(digests(&sweep(&fx, &plan, SystemTime::now())).is_empty());
}

/// A kept run and a removed run, each with an artifact of its own and one they share, and
/// a blob no run names; every blob past the grace. Returns the digests: kept, removed,
/// shared, orphan.
fn runs_with_blobs(fx: &Fixture) -> (Plan, [String; 4]) {
    let (kept, gone) = ("20240102T000000000-00001", "20240101T000000000-00001");
    fx.run(kept, Some("a"), DEAD);
    fx.run(gone, Some("a"), DEAD);
    let write = |run_id: &str, name: &str, bytes: &[u8]| {
        let name = ArtifactName::parse(name).unwrap();
        RunArtifacts::new(&fx.state, run_id)
            .write(&name, "n", bytes)
            .unwrap()
            .digest
    };
    let kept_digest = write(kept, "own.txt", b"kept");
    let gone_digest = write(gone, "own.txt", b"gone");
    let shared = write(kept, "shared.txt", b"shared");
    write(gone, "shared.txt", b"shared");
    let orphan = write("20200101T000000000-00001", "x", b"orphan");
    std::fs::remove_dir_all(fx.state.run("20200101T000000000-00001")).unwrap();
    age_blobs(&fx.state);
    let plan = plan(&fx.state, Rules::Keep(1), SystemTime::now()).unwrap();
    assert_eq!(plan.runs.len(), 1);
    (plan, [kept_digest, gone_digest, shared, orphan])
}

/// The sweep with no cache entry naming anything.
fn sweep(fx: &Fixture, plan: &Plan, now: SystemTime) -> Sweep {
    unused_blobs(&fx.state, plan, CacheRefs::Known(HashSet::new()), now).unwrap()
}

fn digests(sweep: &Sweep) -> Vec<&str> {
    match sweep {
        Sweep::Unused(blobs) => blobs.iter().map(|b| b.digest.as_str()).collect(),
        Sweep::Skipped { why } => panic!("the sweep was skipped: {why}"),
    }
}

#[test]
fn blobs_named_by_no_remaining_run_nor_the_cache_go_once_past_the_grace() {
    let fx = Fixture::new();
    let (plan, [kept, gone, shared, orphan]) = runs_with_blobs(&fx);
    let now = SystemTime::now();

    let mut expected = vec![gone.as_str(), orphan.as_str()];
    expected.sort_unstable();
    assert_eq!(digests(&sweep(&fx, &plan, now)), expected);

    // A blob a cache entry names stays.
    let cache = CacheRefs::Known(HashSet::from([orphan.clone()]));
    let swept = unused_blobs(&fx.state, &plan, cache, now).unwrap();
    assert_eq!(digests(&swept), [gone.as_str()]);

    // Within the grace, nothing goes.
    let early = now - BLOB_GRACE;
    assert!(digests(&sweep(&fx, &plan, early)).is_empty());

    let Sweep::Unused(blobs) = swept else {
        unreachable!()
    };
    for blob in &blobs {
        remove_blob(blob).unwrap();
        remove_blob(blob).unwrap();
    }
    assert!(!fx.blob_exists(&gone));
    for digest in [&kept, &shared, &orphan] {
        assert!(fx.blob_exists(digest), "{digest}");
    }
}

#[test]
fn storing_a_blob_again_restarts_its_grace() {
    let fx = Fixture::new();
    let (plan, [_, gone, ..]) = runs_with_blobs(&fx);
    // A new run stores the same content: the blob is about to be named again.
    RunArtifacts::new(&fx.state, "20250101T000000000-00001")
        .write(&ArtifactName::parse("again").unwrap(), "n", b"gone")
        .unwrap();
    std::fs::remove_dir_all(fx.state.run("20250101T000000000-00001")).unwrap();
    let swept = sweep(&fx, &plan, SystemTime::now());
    assert!(!digests(&swept).contains(&gone.as_str()));
}

#[test]
fn what_cannot_be_read_stops_the_sweep() {
    let fx = Fixture::new();
    let (plan, _) = runs_with_blobs(&fx);
    let now = SystemTime::now();
    let swept = unused_blobs(&fx.state, &plan, CacheRefs::Unknown("damaged".into()), now);
    assert!(matches!(swept.unwrap(), Sweep::Skipped { why } if why == "damaged"));

    // A damaged manifest of a run that stays: any blob may be one of its.
    let manifest = fx
        .state
        .run("20240102T000000000-00001")
        .join("artifacts.json");
    std::fs::write(&manifest, "{ torn").unwrap();
    let Sweep::Skipped { why } = sweep(&fx, &plan, now) else {
        panic!("the sweep went on")
    };
    assert!(why.contains("20240102T000000000-00001"), "{why}");

    // The manifest of a run being removed does not matter.
    std::fs::write(&manifest, "{}").unwrap();
    let removed = fx
        .state
        .run("20240101T000000000-00001")
        .join("artifacts.json");
    std::fs::rename(&manifest, &removed).unwrap();
    assert!(matches!(sweep(&fx, &plan, now), Sweep::Unused(_)));
}
