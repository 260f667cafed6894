//! The run's outside stops: SIGINT, SIGTERM and the `--timeout` deadline.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Message;
use crate::scheduler::Interruption;

/// Waits for the first stop (a signal or the deadline): cancels the run's work at once and
/// tells the dispatcher; then a further signal cuts every grace period short. The first cause
/// decides the exit code.
pub(super) async fn watch_stops(
    handle_signals: bool,
    timeout: Option<Duration>,
    cancel: CancellationToken,
    hurry: CancellationToken,
    tx: mpsc::UnboundedSender<Message>,
) {
    let mut signals = Signals::new(handle_signals);
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let first = tokio::select! {
        kind = signals.next() => kind,
        () = sleep_until(deadline) => Interruption::Timeout,
    };
    // Tell first, then cancel: whoever sees the cancellation finds the reason already queued.
    let _ = tx.send(Message::Interrupted(first));
    cancel.cancel();
    signals.next().await;
    hurry.cancel();
    let _ = tx.send(Message::Forced);
}

pub(super) async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// SIGINT and SIGTERM as a stream of interruptions.
struct Signals {
    int: Option<tokio::signal::unix::Signal>,
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new(enabled: bool) -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        if !enabled {
            return Self {
                int: None,
                term: None,
            };
        }
        Self {
            int: signal(SignalKind::interrupt()).ok(),
            term: signal(SignalKind::terminate()).ok(),
        }
    }

    async fn next(&mut self) -> Interruption {
        let int = async {
            match self.int.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        let term = async {
            match self.term.as_mut() {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = int => Interruption::Sigint,
            _ = term => Interruption::Sigterm,
        }
    }
}
