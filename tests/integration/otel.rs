//! OpenTelemetry export (cargo feature `otel`): a run sends one trace, with a span per task
//! attempt, to an OTLP/HTTP receiver; here a stub on loopback that records what it gets.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::support::Test;

/// Accepts OTLP/HTTP requests on loopback and keeps each request's path and body.
fn start_receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let address = format!("http://{}", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let (mut path, mut length) = (String::new(), 0);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                if line.starts_with("POST ") {
                    path = line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_owned();
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            store
                .lock()
                .unwrap()
                .push(format!("{path} {}", String::from_utf8_lossy(&body)));
            let _ = reader.get_mut().write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}",
            );
        }
    });
    (address, received)
}

#[test]
fn a_run_exports_a_trace_with_a_span_per_attempt() {
    let (endpoint, received) = start_receiver();
    Test::new()
        .flow(
            "main.rhai",
            r#"
            fn flaky() { if ctx().attempt == 1 { throw "first try"; } 1 }
            task(flaky, #{ retries: 1, retry_backoff: "10ms" });
            fn main() { flaky() }
            flow(main);
            "#,
        )
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")
        .args(["run", "main.rhai"])
        .run()
        .code(0);
    let requests = received.lock().unwrap().clone();
    let all = requests.join("\n");
    assert!(
        requests.iter().all(|r| r.starts_with("/v1/traces ")),
        "{all}"
    );
    assert_eq!(
        all.matches("\"task flaky\"").count(),
        2,
        "one span per attempt:\n{all}"
    );
    assert!(all.contains("\"run main\""), "{all}");
    assert!(
        all.contains("autowf.cache_hit") && all.contains("first try"),
        "{all}"
    );
}
