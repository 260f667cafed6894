//! The two tokens that stop a run's work: `cancel` (stop: a failure under fail-fast, the first
//! signal, `--timeout`) and `hurry` (cut grace periods short: a second signal). Shared behind
//! one `Arc` so handing them to each attempt costs a reference count, not two token clones.

use tokio_util::sync::CancellationToken;

#[derive(Debug, Default)]
pub(crate) struct Stop {
    pub(crate) cancel: CancellationToken,
    pub(crate) hurry: CancellationToken,
}

impl Stop {
    /// Tokens for work that only forcing stops (`always` nodes): both are `hurry`.
    pub(crate) fn finally(hurry: &CancellationToken) -> Self {
        Self {
            cancel: hurry.clone(),
            hurry: hurry.clone(),
        }
    }
}
