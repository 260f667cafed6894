//! Builds the two Rhai engines: one evaluates the top level and flow bodies (and gets a native
//! per task once the top level has registered them), the other runs task bodies. Both share
//! the same limits and functions, set explicitly so debug and release builds behave alike.

use std::path::{Component, Path, PathBuf};

use rhai::module_resolvers::FileModuleResolver;
use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Shared};

use super::{api, artifacts, handles, hooks, running, secret};

/// Limits that hold in every build profile (see docs/script-api.md, "Limits").
pub(crate) mod limits {
    pub(crate) const MAX_CALL_LEVELS: usize = 64;
    pub(crate) const MAX_EXPR_DEPTH: usize = 64;
    pub(crate) const MAX_FN_EXPR_DEPTH: usize = 32;
    pub(crate) const MAX_MODULES: usize = 64;
    /// Operations allowed for the top level and each flow body: building a graph is quick,
    /// so a runaway loop there is a bug, reported instead of hanging `describe`.
    pub(crate) const MAX_BUILD_OPERATIONS: u64 = 20_000_000;
    /// Largest script accepted, in bytes.
    pub(crate) const MAX_SCRIPT_BYTES: u64 = 8 * 1024 * 1024;
}

/// Which of the two engines to build.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Evaluates the top level and flow bodies.
    Build,
    /// Runs task bodies; operations are unlimited, timeouts stop them instead.
    Run,
}

pub(crate) fn new_engine(mode: Mode, flow_dir: &Path) -> Engine {
    let mut engine = Engine::new();
    engine
        .set_max_call_levels(limits::MAX_CALL_LEVELS)
        .set_max_expr_depths(limits::MAX_EXPR_DEPTH, limits::MAX_FN_EXPR_DEPTH)
        // No string, array or map size limits (0), on purpose: with any of them set, Rhai
        // re-measures a whole array after each change, so a loop of `push` turns quadratic
        // (measured: 100,000 pushes in a task took 13 s; 10,000 in a flow body 10 s). Flow
        // bodies are bounded by operations, task bodies by their timeout and `run_in`.
        .set_max_string_size(0)
        .set_max_array_size(0)
        .set_max_map_size(0)
        .set_max_modules(limits::MAX_MODULES)
        .set_module_resolver(ConfinedResolver::new(flow_dir));
    engine.disable_symbol("eval");
    match mode {
        Mode::Build => {
            engine.set_max_operations(limits::MAX_BUILD_OPERATIONS);
        }
        Mode::Run => {
            engine.set_max_operations(0);
            engine.on_progress(running::check_cancelled);
        }
    }
    engine.on_print(running::log_print);
    engine.on_debug(running::log_debug);
    handles::register(&mut engine);
    if mode == Mode::Build {
        handles::register_build_only(&mut engine);
    }
    api::register(&mut engine);
    hooks::register(&mut engine);
    running::register(&mut engine);
    artifacts::register(&mut engine);
    secret::register(&mut engine);
    engine
}

/// Resolves `import "x"` only to files below the flow file's directory.
struct ConfinedResolver {
    inner: FileModuleResolver,
}

impl ConfinedResolver {
    fn new(base: &Path) -> Self {
        Self {
            inner: FileModuleResolver::new_with_path(PathBuf::from(base)),
        }
    }
}

impl ModuleResolver for ConfinedResolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let confined = Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if !confined {
            // Reported at the `import` itself, not inside the refused file.
            let message = format!(
                "cannot import `{path}`: modules may only be imported from below the flow file's directory"
            );
            return Err(EvalAltResult::ErrorRuntime(message.into(), pos).into());
        }
        self.inner.resolve(engine, source, path, pos)
    }
}

/// Fixes Rhai's hashing seed for this process. Rhai hashes function signatures and `switch`
/// case values with a seed that is random per process by default; parsed scripts print those
/// hashes, and cache keys are made from what they print. A fixed seed makes the same script
/// print the same in every run. (The hashes key Rhai's function lookup, not data maps, so a
/// known seed exposes nothing.) Call before any script is compiled.
pub(crate) fn fix_hashing_seed() {
    const SEED: [u64; 4] = [
        0x6175_746f_7766,
        0x6361_6368_6531,
        0x7368_6130_0001,
        0x7268_6169_0127,
    ];
    // Already set (a test harness calling twice): the seed is fixed either way.
    let _ = rhai::config::hashing::set_hashing_seed(Some(SEED));
}
