//! `artifact_write`, `artifact_read` and `artifact_path`: what a running task body can do with
//! the run's artifact store (`state::artifacts`). They act on the task running on this thread,
//! so they work in worker processes too, and fail anywhere else.

use rhai::{Blob, Dynamic, Engine, EvalAltResult, NativeCallContext};

use super::api::script_error;
use super::runtime::{Attempt, RunInfo};
use super::{build, running, value};
use crate::error::Diagnostic;
use crate::state::artifacts::{ArtifactName, RunArtifacts};

type NativeResult<T> = Result<T, Box<EvalAltResult>>;

pub(super) fn register(engine: &mut Engine) {
    engine
        .register_fn("artifact_write", artifact_write)
        .register_fn("artifact_read", artifact_read)
        .register_fn("artifact_path", artifact_path);
}

/// `artifact_write(name, value)`: stores a string's UTF-8 bytes or a blob's bytes; returns
/// the content's digest.
fn artifact_write(ctx: NativeCallContext, name: &str, content: Dynamic) -> NativeResult<String> {
    let (store, node, _) = running_task(&ctx, "artifact_write")?;
    let name = parse_name(&ctx, name)?;
    let bytes = if content.is_string() {
        content
            .into_immutable_string()
            .expect("invariant: checked to be a string")
            .as_bytes()
            .to_vec()
    } else if content.is_blob() {
        content.cast::<Blob>()
    } else {
        let kind = value::type_name(&content);
        return Err(script_error(
            &ctx,
            Diagnostic::new(format!(
                "`artifact_write` stores a string or a blob, got {kind}"
            ))
            .help("convert the value first, e.g. `artifact_write(name, value.to_json())` for a map, or `value.to_string()`"),
        ));
    };
    if crate::redact::contains_secret(&bytes) {
        return Err(script_error(
            &ctx,
            Diagnostic::new(format!(
                "`artifact_write`: the content of `{name}` holds the value of a secret; artifacts are kept in clear, so it is not stored"
            )),
        ));
    }
    store
        .write(&name, &node, &bytes)
        .map(|record| record.digest)
        .map_err(|e| script_error(&ctx, Diagnostic::new(e.to_string())))
}

/// `artifact_read(name)`: the content as a string when it is UTF-8, else as a blob.
fn artifact_read(ctx: NativeCallContext, name: &str) -> NativeResult<Dynamic> {
    let (store, _, _) = running_task(&ctx, "artifact_read")?;
    let bytes = store
        .read(name)
        .map_err(|e| script_error(&ctx, Diagnostic::new(e.to_string())))?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text.into(),
        Err(not_text) => Dynamic::from_blob(not_text.into_bytes()),
    })
}

/// `artifact_path(name)`: a path where the task may write a file that becomes artifact
/// `name` once the attempt succeeds.
fn artifact_path(ctx: NativeCallContext, name: &str) -> NativeResult<String> {
    let (store, node, attempt) = running_task(&ctx, "artifact_path")?;
    let name = parse_name(&ctx, name)?;
    let path = store
        .staging_path(&node, attempt, &name)
        .map_err(|e| script_error(&ctx, Diagnostic::new(e.to_string())))?;
    path.into_os_string().into_string().map_err(|p| {
        script_error(
            &ctx,
            Diagnostic::new(format!(
                "the staging path `{}` is not valid UTF-8",
                p.to_string_lossy()
            )),
        )
    })
}

fn parse_name(ctx: &NativeCallContext, name: &str) -> NativeResult<ArtifactName> {
    ArtifactName::parse(name).map_err(|e| script_error(ctx, Diagnostic::new(e.to_string())))
}

/// The store of the running task's run, the node's name and the attempt number; an error
/// when no task body is running on this thread (a flow body, a `.then` closure, the top
/// level).
fn running_task(
    ctx: &NativeCallContext,
    function: &str,
) -> NativeResult<(RunArtifacts, String, u32)> {
    let found = (!build::is_building())
        .then(|| {
            running::with_current(|info: &RunInfo, attempt: &Attempt| {
                (
                    RunArtifacts::new(&info.state(), &info.run_id),
                    attempt.node.clone(),
                    attempt.number,
                )
            })
        })
        .flatten();
    found.ok_or_else(|| {
        script_error(
            ctx,
            Diagnostic::new(format!(
                "`{function}` is only available inside a running task"
            ))
            .help("call it in the body of a task; a flow body only builds the graph"),
        )
    })
}
