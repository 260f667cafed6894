//! `secret("NAME")` and the `Secret` value scripts hold: it prints as `***`, has a length and
//! a name, refuses to be joined into a string, and turns into clear text only in a child
//! process's environment (the `env` option) or a worker's stdin.

use rhai::{Dynamic, Engine, EvalAltResult, ImmutableString, NativeCallContext};

use super::api::script_error;
use crate::error::Diagnostic;
use crate::secrets::{self, Secret};

/// What `to_string` gives for a secret: `***` between two U+0001 marks. The marks let a
/// command line that interpolates a secret (`` `deploy --token ${token}` ``, which Rhai builds
/// with `to_string` and no way to intercept) be refused instead of running with `***`; sinks
/// show the text as plain `***` (see [`unmark`]).
pub(crate) const MARKED: &str = "\u{1}***\u{1}";

/// The advice every refusal gives.
pub(crate) const ENV_HELP: &str = "give a secret to a command through its environment: \
`env: #{ NAME: secret(\"NAME\") }` in the task's options (or `.options(...)`), then use `$NAME`";

pub(super) fn register(engine: &mut Engine) {
    engine
        .register_type_with_name::<Secret>("Secret")
        .register_fn("secret", resolve)
        .register_fn("to_string", |_: &mut Secret| MARKED)
        .register_fn("to_debug", |_: &mut Secret| MARKED)
        .register_fn("len", |s: &mut Secret| {
            i64::try_from(s.len()).unwrap_or(i64::MAX)
        })
        .register_get("name", |s: &mut Secret| s.name().to_owned());
    engine.register_fn(
        "+",
        |ctx: NativeCallContext, _: ImmutableString, _: Secret| -> Result<Dynamic, _> {
            Err(joined(&ctx))
        },
    );
    engine.register_fn(
        "+",
        |ctx: NativeCallContext, _: Secret, _: ImmutableString| -> Result<Dynamic, _> {
            Err(joined(&ctx))
        },
    );
    engine.register_fn(
        "+=",
        |ctx: NativeCallContext, _: &mut ImmutableString, _: Secret| -> Result<(), _> {
            Err(joined(&ctx))
        },
    );
    engine.register_fn(
        "sh",
        |ctx: NativeCallContext, _: Secret| -> Result<Dynamic, _> {
            Err(script_error(
                &ctx,
                Diagnostic::new("a secret cannot be a command line").help(ENV_HELP),
            ))
        },
    );
}

/// `secret("NAME")`: in a flow body an error stops the run before it starts; in a task, it
/// fails the task.
fn resolve(ctx: NativeCallContext, name: &str) -> Result<Secret, Box<EvalAltResult>> {
    secrets::resolve(name).map_err(|e| {
        let mut d = Diagnostic::new(e.to_string());
        if let secrets::SecretError::NotFound { .. } = e {
            d = d.help("set it in one of those places, or list providers under `[[secrets]]` in autowf.toml (see docs/secrets.md)");
        }
        script_error(&ctx, d)
    })
}

fn joined(ctx: &NativeCallContext) -> Box<EvalAltResult> {
    script_error(
        ctx,
        Diagnostic::new("a secret cannot be joined into a string (it would not reveal its value)")
            .help(ENV_HELP),
    )
}

/// Whether `command` interpolates a secret; a command line is visible to every local user.
pub(crate) fn check_command(command: &str) -> Result<(), String> {
    if command.contains(MARKED) {
        Err(format!(
            "a secret may not be part of a command line (any local user can read command lines); {ENV_HELP}"
        ))
    } else {
        Ok(())
    }
}

/// `text` with each marked `***` shown plainly.
pub(crate) fn unmark(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains(MARKED) {
        text.replace(MARKED, crate::redact::MASK).into()
    } else {
        text.into()
    }
}
