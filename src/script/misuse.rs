//! Catches a handle used as a plain value while a flow is built (`if total > 10`,
//! `total + 1`, `nums.len()`), which Rhai would otherwise answer silently or vaguely.

use rhai::{Dynamic, Engine, EvalAltResult, ImmutableString, NativeCallContext};

use super::value::Handle;

/// The help text shown whenever a handle is used as a value.
pub(crate) const HANDLE_HELP: &str = "a task's result is not known while the flow is being built: \
use `.then(|value| ...)` to act on it when it is, or `.map(task)` to fan out over a list";

fn misuse(ctx: &NativeCallContext, what: &str) -> Box<EvalAltResult> {
    refuse(
        ctx,
        format!("cannot use a task result with `{what}` while building the flow"),
    )
}

fn refuse(ctx: &NativeCallContext, message: String) -> Box<EvalAltResult> {
    let d = crate::error::Diagnostic::new(message).help(HANDLE_HELP);
    super::api::script_error(ctx, d)
}

macro_rules! forbid_ops {
    ($engine:ident, $($op:literal),*) => {$(
        $engine.register_fn($op, |ctx: NativeCallContext, _: Handle, _: Dynamic| -> Result<Dynamic, Box<EvalAltResult>> { Err(misuse(&ctx, $op)) });
        $engine.register_fn($op, |ctx: NativeCallContext, _: Dynamic, _: Handle| -> Result<Dynamic, Box<EvalAltResult>> { Err(misuse(&ctx, $op)) });
        $engine.register_fn($op, |ctx: NativeCallContext, _: Handle, _: Handle| -> Result<Dynamic, Box<EvalAltResult>> { Err(misuse(&ctx, $op)) });
    )*};
}

pub(crate) fn register(engine: &mut Engine) {
    // Joining text with a handle is fine: it interpolates like `${handle}`.
    engine.register_fn("+", |s: ImmutableString, h: Handle| {
        format!("{s}{}", h.sentinel())
    });
    engine.register_fn("+", |h: Handle, s: ImmutableString| {
        format!("{}{s}", h.sentinel())
    });
    forbid_ops!(
        engine, "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%"
    );
    for method in ["len", "is_empty", "keys", "values", "sum"] {
        engine.register_fn(
            method,
            move |ctx: NativeCallContext, _: Handle| -> Result<Dynamic, Box<EvalAltResult>> {
                Err(misuse(&ctx, method))
            },
        );
    }
    for method in ["contains", "filter", "reduce", "index_of", "get", "split"] {
        engine.register_fn(
            method,
            move |ctx: NativeCallContext,
                  _: Handle,
                  _: Dynamic|
                  -> Result<Dynamic, Box<EvalAltResult>> { Err(misuse(&ctx, method)) },
        );
        engine.register_fn(
            method,
            move |ctx: NativeCallContext,
                  _: Handle,
                  _: Dynamic,
                  _: Dynamic|
                  -> Result<Dynamic, Box<EvalAltResult>> { Err(misuse(&ctx, method)) },
        );
    }
    engine.register_indexer_get(
        |ctx: NativeCallContext,
         _: &mut Handle,
         _: Dynamic|
         -> Result<Dynamic, Box<EvalAltResult>> {
            Err(refuse(
                &ctx,
                "cannot read a field or an index of a task result while building the flow"
                    .to_owned(),
            ))
        },
    );
}
