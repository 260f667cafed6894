//! The `s3` feature: the result cache and artifact blobs in an S3-compatible store, here a
//! `moto` server started on loopback for each test. The tests find the server through
//! `AUTOWF_MOTO_SERVER` (the path of its `moto_server` script) and skip, saying so, when it
//! is not set, unless `AUTOWF_S3_TESTS=require`, as in CI.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::Test;

/// How long a moto server may take to answer.
const STARTUP: Duration = Duration::from_secs(30);
/// moto takes any signature by default, but needs one to treat a request as authenticated.
const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, \
     SignedHeaders=host, Signature=0000";
const BUCKET: &str = "autowf-tests";
const STORE: &str = "s3://autowf-tests/team";

/// A moto server on a free loopback port, stopped when dropped.
struct Moto {
    child: Child,
    address: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    /// Starts the server and creates the test bucket; `None` (after saying why) when the
    /// server is not configured and the tests are not required.
    fn start() -> Option<Self> {
        let required = std::env::var("AUTOWF_S3_TESTS").is_ok_and(|v| v == "require");
        let Some(server) = std::env::var_os("AUTOWF_MOTO_SERVER") else {
            assert!(
                !required,
                "AUTOWF_S3_TESTS=require, but AUTOWF_MOTO_SERVER (the path of moto_server) is not set"
            );
            eprintln!(
                "skipped: set AUTOWF_MOTO_SERVER to the path of moto_server \
                 (pip install 'moto[server]') to run the s3 tests"
            );
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("find a free loopback port")
            .port();
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", server.to_string_lossy()));
        let moto = Self {
            child,
            address: format!("127.0.0.1:{port}"),
        };
        let started = Instant::now();
        while TcpStream::connect(&moto.address).is_err() {
            assert!(started.elapsed() < STARTUP, "moto did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
        let (status, body) = moto.http("PUT", &format!("/{BUCKET}"), b"");
        assert_eq!(status, 200, "cannot create the bucket: {body}");
        Some(moto)
    }

    /// One HTTP request to the server: its status and body.
    fn http(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        let (status, _, body) = self.exchange(method, path, body);
        (status, body)
    }

    /// The size and ETag of object `path`, from a HEAD request; `None` when there is none.
    fn object_meta(&self, path: &str) -> Option<(u64, String)> {
        let (status, head, _) = self.exchange("HEAD", path, b"");
        let header = |name: &str| {
            head.lines().find_map(|l| {
                let (key, value) = l.split_once(':')?;
                key.eq_ignore_ascii_case(name)
                    .then(|| value.trim().trim_matches('"').to_owned())
            })
        };
        let size = header("content-length")?.parse().ok()?;
        (status == 200).then(|| (size, header("etag").unwrap_or_default()))
    }

    /// One HTTP request to the server: its status, response head and body.
    fn exchange(&self, method: &str, path: &str, body: &[u8]) -> (u16, String, String) {
        let mut stream = TcpStream::connect(&self.address).expect("connect to moto");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: {AUTHORIZATION}\r\n\
             Content-Type: application/octet-stream\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            self.address,
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        (status, head.to_owned(), body.to_owned())
    }

    /// A test directory (one "host") whose runs use this server's bucket as their store.
    fn host(&self) -> Test {
        self.client().env("AUTOWF_REMOTE_STORE", STORE)
    }

    /// A test directory that can reach this server, with no store chosen.
    fn client(&self) -> Test {
        Test::new()
            .env("AWS_ENDPOINT_URL", &format!("http://{}", self.address))
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ALLOW_HTTP", "true")
    }
}

const FLOW: &str = r#"
    fn square(x) { x * x }
    task(square, #{ cache_ttl: "forever" });
    fn report(x) { artifact_write("report.txt", `square is ${x}`); x }
    task(report, #{ cache_ttl: "forever" });
    fn main() { report(square(7)) }
    flow(main);
"#;

/// The keys `cache ls --json` lists.
fn cached_keys(host: &Test) -> Vec<String> {
    let out = host.clone().args(["cache", "ls", "--json"]).run();
    out.code(0);
    let json = out.stdout_json();
    assert_eq!(json["dir"], format!("{STORE}/cache/v1"), "{json}");
    json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_second_host_takes_cached_results_from_the_remote_store() {
    let Some(moto) = Moto::start() else { return };
    let first = moto.host().flow("main.rhai", FLOW);
    let out = first.clone().args(["run", "main.rhai"]).run();
    out.code(0).stdout_is("49\n");
    out.stderr_contains("no previous entry");
    // Nothing of the cache or the blobs is kept locally; the run itself is.
    out.no_file(".autowf/cache");
    out.no_file(".autowf/artifacts");
    assert_eq!(cached_keys(&first).len(), 2);

    let second = moto.host().flow("main.rhai", FLOW);
    let out = second.clone().args(["run", "main.rhai"]).run();
    out.code(0).stdout_is("49\n");
    out.stderr_line(&["cached", "square", "computed"]);
    out.stderr_line(&["cached", "report", "computed"]);
    out.stderr_contains("2 cached");
    // The hit's artifact is readable on the second host, from the store.
    second
        .clone()
        .args(["artifacts", "get", "last", "report.txt"])
        .run()
        .code(0)
        .stdout_is("square is 49");
}

#[test]
fn a_url_as_the_state_directory_shares_the_cache_and_keeps_runs_local() {
    let Some(moto) = Moto::start() else { return };
    let first = moto.client().flow("main.rhai", FLOW);
    let out = first
        .clone()
        .args(["run", "main.rhai", "--state-dir", STORE])
        .run();
    out.code(0).stdout_is("49\n");
    out.no_file(".autowf/cache");
    out.no_file("s3:");
    // The run's own records stay in the local state directory, next to the flow.
    assert_eq!(
        std::fs::read_dir(first.path().join(".autowf/runs"))
            .map(Iterator::count)
            .unwrap_or(0),
        1
    );
    let second = moto
        .client()
        .flow("main.rhai", FLOW)
        .file("autowf.toml", &format!("state-dir = \"{STORE}\"\n"));
    let out = second.clone().args(["run", "main.rhai"]).run();
    out.code(0).stdout_is("49\n");
    out.stderr_contains("2 cached");
    assert_eq!(cached_keys(&second).len(), 2);
    let config = second.clone().args(["config", "main.rhai"]).run();
    config.code(0);
    let store_line = config
        .stdout()
        .lines()
        .find(|l| l.starts_with("remote-store"));
    let words: Vec<&str> = store_line.unwrap_or_default().split_whitespace().collect();
    assert_eq!(words, ["remote-store", STORE, "(autowf.toml:1)"]);
}

#[test]
fn artifacts_round_trip_through_the_remote_store() {
    let Some(moto) = Moto::start() else { return };
    let host = moto.host().flow(
        "main.rhai",
        r#"
        fn produce() { artifact_write("data/rows.csv", "a,b\n1,2\n"); 1 }
        task(produce);
        fn elsewhere(x) { artifact_write("worker.txt", "from a worker process"); x }
        task(elsewhere, #{ run_in: "process" });
        fn main() { elsewhere(produce()) }
        flow(main);
        "#,
    );
    host.clone().args(["run", "main.rhai"]).run().code(0);
    // A worker process stores its blobs in the run's remote store too.
    host.clone()
        .args(["artifacts", "get", "last", "worker.txt"])
        .run()
        .code(0)
        .stdout_is("from a worker process");
    host.clone()
        .args(["artifacts", "get", "last", "data/rows.csv"])
        .run()
        .code(0)
        .stdout_is("a,b\n1,2\n");
    let ls = host.clone().args(["artifacts", "ls", "--json"]).run();
    ls.code(0).no_file(".autowf/artifacts");
    let digest = ls.stdout_json()["artifacts"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let blob = format!("/{BUCKET}/team/artifacts/blobs/{}/{digest}", &digest[..2]);
    assert_eq!(moto.http("GET", &blob, b""), (200, "a,b\n1,2\n".to_owned()));

    // A damaged blob is refused, not returned.
    assert_eq!(moto.http("PUT", &blob, b"tampered").0, 200);
    host.clone()
        .args(["artifacts", "get", "last", "data/rows.csv"])
        .run()
        .code(3)
        .stderr_contains("no longer matches its digest");
}

/// `seq 1 3000000`: 22,888,896 bytes, above the single-PUT limit and the 16 MiB part size,
/// and no two parts alike.
const BIG_FLOW: &str = r#"
    fn big() {
        let out = artifact_path("model.bin");
        let copy = artifact_path("copy/model.bin");
        `seq 1 3000000 > ${shell_quote(out)} && cp ${shell_quote(out)} ${shell_quote(copy)}`
    }
    shell_task(big, #{ cache_ttl: "forever" });
    fn main() { big() }
    flow(main);
"#;

/// The names in the run directory of `host`'s only run that look like temporary files.
fn leftover_temporaries(host: &Test) -> Vec<String> {
    let runs = host.path().join(".autowf/runs");
    let run = std::fs::read_dir(&runs).unwrap().next().unwrap().unwrap();
    std::fs::read_dir(run.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp"))
        .collect()
}

#[test]
fn a_blob_above_the_single_put_limit_goes_up_in_parts_and_comes_back_whole() {
    let Some(moto) = Moto::start() else { return };
    let expected: String = (1..=3_000_000).map(|i| format!("{i}\n")).collect();
    let digest = blake3::hash(expected.as_bytes()).to_hex().to_string();
    let first = moto.host().flow("main.rhai", BIG_FLOW);
    first.clone().args(["run", "main.rhai"]).run().code(0);
    let ls = first.clone().args(["artifacts", "ls", "--json"]).run();
    let records = ls.code(0).stdout_json()["artifacts"].clone();
    assert_eq!(records.as_array().map(Vec::len), Some(2), "{records}");
    for record in records.as_array().unwrap() {
        assert_eq!(record["digest"], digest.as_str(), "{record}");
        assert_eq!(record["size"], expected.len(), "{record}");
    }
    let blob = format!("/{BUCKET}/team/artifacts/blobs/{}/{digest}", &digest[..2]);
    let (size, etag) = moto.object_meta(&blob).expect("the blob is in the bucket");
    assert_eq!(size, expected.len() as u64);
    // A multipart object's ETag ends with its number of parts.
    assert!(etag.ends_with("-2"), "not a two-part upload: {etag}");
    let (status, uploads) = moto.http("GET", &format!("/{BUCKET}?uploads"), b"");
    assert_eq!(status, 200);
    assert!(
        !uploads.contains("<Upload>"),
        "unfinished uploads: {uploads}"
    );

    // A second host takes the cached result, and with it the artifact, from the store.
    let second = moto.host().flow("main.rhai", BIG_FLOW);
    let out = second.clone().args(["run", "main.rhai"]).run();
    out.code(0).stderr_contains("1 cached");
    second
        .clone()
        .args(["artifacts", "get", "last", "model.bin", "-o", "got.bin"])
        .run()
        .code(0);
    let got = std::fs::read(second.path().join("got.bin")).unwrap();
    assert_eq!(got.len(), expected.len());
    assert_eq!(blake3::hash(&got).to_hex().as_str(), digest);
    // The blobs went through temporary files in the run directories, and none is left.
    for host in [&first, &second] {
        assert_eq!(leftover_temporaries(host), Vec::<String>::new());
        assert!(!host.path().join(".autowf/artifacts").exists());
    }
}

#[test]
fn concurrent_writers_of_the_same_keys_leave_a_sound_store() {
    let Some(moto) = Moto::start() else { return };
    let flow = r#"
        fn part(i) { artifact_write(`part-${i}.txt`, `part ${i}`); i * 10 }
        task(part, #{ cache_ttl: "forever" });
        fn main() { let all = []; for i in 0..12 { all.push(part(i)); } all }
        flow(main);
    "#;
    let hosts: Vec<Test> = (0..4)
        .map(|_| {
            moto.host()
                .flow("main.rhai", flow)
                .args(["run", "main.rhai", "-q"])
        })
        .collect();
    let children: Vec<Child> = hosts.iter().map(Test::spawn).collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a concurrent run failed");
    }
    let verify = moto.host().args(["cache", "verify"]).run();
    verify.code(0).stdout_is("12 entries sound, 0 damaged\n");
    // Every host can take every entry, artifacts included.
    let out = moto
        .host()
        .flow("main.rhai", flow)
        .args(["run", "main.rhai"])
        .run();
    out.code(0).stderr_contains("12 cached");
}

#[test]
fn a_corrupted_remote_entry_is_reported_removed_and_recomputed() {
    let Some(moto) = Moto::start() else { return };
    let host = moto.host().flow("main.rhai", FLOW);
    host.clone().args(["run", "main.rhai"]).run().code(0);
    let keys = cached_keys(&host);
    let key = &keys[0];
    let entry = format!("/{BUCKET}/team/cache/v1/entries/{}/{key}", &key[..2]);
    let (status, original) = moto.http("GET", &entry, b"");
    assert_eq!(status, 200);
    let damaged = original.replacen("49", "50", 1);
    assert_ne!(damaged, original, "the entry should hold the result 49");
    assert_eq!(moto.http("PUT", &entry, damaged.as_bytes()).0, 200);

    let verify = host.clone().args(["cache", "verify"]).run();
    verify
        .code(1)
        .stdout_contains("its checksum does not match its content")
        .stdout_contains("1 entry sound, 1 damaged");
    let out = host.clone().args(["run", "main.rhai"]).run();
    out.code(0).stdout_is("49\n");
    out.stderr_contains(
        "is corrupt (its checksum does not match its content); removed it, recomputing",
    );
    out.stderr_contains("1 cached");
    host.clone()
        .args(["cache", "verify"])
        .run()
        .code(0)
        .stdout_is("2 entries sound, 0 damaged\n");
    let out = host.clone().args(["run", "main.rhai"]).run();
    out.code(0).stderr_contains("2 cached");
}

#[test]
fn refresh_replaces_remote_entries_that_plain_runs_keep() {
    let Some(moto) = Moto::start() else { return };
    // The file is not part of the key, so only `--refresh` can change the cached result.
    let flow = r#"
        fn read() { "cat value.txt" }
        shell_task(read, #{ cache_ttl: "forever" });
        fn main() { read() }
        flow(main);
    "#;
    let first = moto
        .host()
        .flow("main.rhai", flow)
        .file("value.txt", "one\n");
    let run = |t: &Test, extra: &[&str]| {
        let out = t.clone().args(["run", "main.rhai"]).args(extra).run();
        out.code(0);
        out.stdout().to_owned()
    };
    assert_eq!(run(&first, &[]), "\"one\"\n");
    let first = first.file("value.txt", "two\n");
    assert_eq!(run(&first, &[]), "\"one\"\n");
    assert_eq!(run(&first, &["--refresh"]), "\"two\"\n");
    let second = moto
        .host()
        .flow("main.rhai", flow)
        .file("value.txt", "three\n");
    assert_eq!(run(&second, &[]), "\"two\"\n");
}

#[test]
fn cache_rm_and_gc_act_on_the_remote_store() {
    let Some(moto) = Moto::start() else { return };
    let host = moto.host().flow("main.rhai", FLOW);
    host.clone().args(["run", "main.rhai"]).run().code(0);
    let keys = cached_keys(&host);
    host.clone()
        .args(["cache", "rm", &keys[0][..8]])
        .run()
        .code(0)
        .stderr_contains("removed 1 cache entry");
    assert_eq!(cached_keys(&host).len(), 1);
    host.clone()
        .args(["cache", "gc", "--older-than", "0s"])
        .run()
        .code(0)
        .stderr_contains("removed 1 cache entry");
    assert!(cached_keys(&host).is_empty());
}

#[test]
fn runs_gc_prunes_local_runs_and_leaves_the_remote_blobs_alone() {
    let Some(moto) = Moto::start() else { return };
    let host = moto.host().flow(
        "main.rhai",
        r#"
        fn report() { artifact_write("run.txt", ctx().run_id); 1 }
        task(report);
        fn main() { report() }
        flow(main);
        "#,
    );
    let mut blobs = Vec::new();
    for _ in 0..2 {
        host.clone().args(["run", "main.rhai"]).run().code(0);
        let ls = host
            .clone()
            .args(["artifacts", "ls", "last", "--json"])
            .run();
        let digest = ls.code(0).stdout_json()["artifacts"][0]["digest"]
            .as_str()
            .unwrap()
            .to_owned();
        blobs.push(format!(
            "/{BUCKET}/team/artifacts/blobs/{}/{digest}",
            &digest[..2]
        ));
    }
    let out = host.clone().args(["runs", "gc", "--keep", "1"]).run();
    out.code(0)
        .stderr_contains(&format!(
            "note: only local files were pruned; blobs in the remote store `{STORE}` are not collected"
        ))
        .stderr_line(&["removed 1 run and 0 blobs, freed "]);
    let runs = std::fs::read_dir(host.path().join(".autowf/runs")).unwrap();
    assert_eq!(runs.count(), 1);
    // The removed run's blob is still in the store, and the kept run's artifact readable.
    for blob in &blobs {
        assert_eq!(moto.http("GET", blob, b"").0, 200, "{blob}");
    }
    host.clone()
        .args(["artifacts", "get", "last", "run.txt"])
        .run()
        .code(0);
    let doc = host
        .clone()
        .args(["runs", "gc", "--keep", "1", "--json"])
        .run()
        .code(0)
        .stdout_json();
    assert_eq!(doc["remote_store"], STORE);
}

#[test]
fn an_unreachable_store_stops_the_run_before_anything_runs() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    Test::new()
        .flow("main.rhai", FLOW)
        .env("AWS_ENDPOINT_URL", &format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ALLOW_HTTP", "true")
        .args(["run", "main.rhai", "--remote-store", STORE])
        .run()
        .code(3)
        .stderr_contains("s3://autowf-tests/team/cache/v1");
}
