//! What a node carries into execution: its task and arguments, command or closure.

use std::sync::Arc;

use rhai::{Dynamic, FnPtr, ImmutableString};

use super::value::Handle;

/// The script side of a node, opaque outside `script/`; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Payload(pub(crate) Arc<PayloadKind>);

#[derive(Debug)]
pub(crate) enum PayloadKind {
    /// Call task `task` with `args` (which may hold handles).
    Call {
        task: ImmutableString,
        args: Vec<Dynamic>,
    },
    /// Run `command` (a string that may hold interpolated handles) in a shell.
    Sh { command: Dynamic },
    /// Call `func` on each element of the list behind `source`.
    Map {
        source: Handle,
        func: FnPtr,
        task: Option<String>,
    },
    /// Call `closure` with the value behind `source`, in building mode.
    Then { source: Handle, closure: FnPtr },
    /// A node made by a test; executing it is up to the test's executor.
    #[cfg(test)]
    Fake,
}

impl Payload {
    pub(crate) fn new(kind: PayloadKind) -> Self {
        Self(Arc::new(kind))
    }

    /// A payload for scheduler tests, whose fake executor ignores it.
    #[cfg(test)]
    pub(crate) fn fake() -> Self {
        Self::new(PayloadKind::Fake)
    }
}
