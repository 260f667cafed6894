//! The only module that knows Rhai: loading a flow script, building a flow's graph from its
//! body, and running task bodies. Everything else sees plain specs, [`Value`] and [`Payload`].

mod api;
mod artifacts;
mod build;
mod cache_key;
mod diagnostics;
mod engine;
mod fingerprint;
mod handles;
mod hooks;
mod misuse;
mod options;
mod params;
mod payload;
mod running;
mod runtime;
mod secret;
mod value;
mod worker;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rhai::{AST, Engine};

pub(crate) use api::{FlowSpec, Registry, TaskKind};
pub(crate) use engine::fix_hashing_seed;
pub(crate) use options::{
    CacheTtl, EnvValue, ExecutorKind, FailurePolicy, OutputFormat, RetryOn, RetryStrategy, RunIn,
    SlurmResources, TaskOptions, Trigger,
};
pub(crate) use options::{fmt_duration, suggest};
pub(crate) use payload::Payload;
pub(crate) use runtime::{Attempt, CallResult, Expansion, RunInfo, Runtime, Stopped, parse_output};
pub(crate) use value::Value;
pub(crate) use worker::{ResultFile, WorkerResponse, parse_response, serve as serve_worker};

use crate::dag::Node;
use crate::error::{Diagnostic, Error};

/// A loaded script: its registrations, ready to build any of its flows.
pub(crate) struct Script {
    pub(crate) path: PathBuf,
    pub(crate) registry: Registry,
    ast: AST,
    build_engine: Engine,
    cx: Arc<build::BuildContext>,
}

/// The nodes a flow body created and its result (which holds handles to them).
pub(crate) struct FlowBuild {
    pub(crate) nodes: Vec<Node>,
    pub(crate) output: Value,
    pub(crate) params: Value,
}

impl Script {
    /// Reads, compiles and runs the top level of the script at `path`.
    pub(crate) fn load(path: &Path) -> Result<Self, Error> {
        Self::load_with(path, &TaskOptions::default())
    }

    /// Like [`Script::load`], with tasks starting from `defaults` (the configuration's).
    pub(crate) fn load_with(path: &Path, defaults: &TaskOptions) -> Result<Self, Error> {
        let display: Arc<str> = path.display().to_string().into();
        let text = read_script(path)?;
        let dir = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let mut build_engine = engine::new_engine(engine::Mode::Build, &dir);
        let mut ast = build_engine
            .compile(&text)
            .map_err(|e| Error::invalid(diagnostics::parse_error(&e, &display)))?;
        ast.set_source(display.to_string());
        let functions: BTreeMap<String, Vec<String>> = ast
            .iter_functions()
            .map(|f| {
                (
                    f.name.to_owned(),
                    f.params.iter().map(|p| (*p).to_owned()).collect(),
                )
            })
            .collect();
        api::LOADING.set(Some(api::Loading {
            registry: Registry::default(),
            functions,
            file: display.clone(),
            defaults: defaults.clone(),
        }));
        let result = build_engine.run_ast(&ast);
        let registry = api::LOADING.take().map(|l| l.registry).unwrap_or_default();
        result.map_err(|e| Error::invalid(diagnostics::eval_diagnostic(&e, &display)))?;
        build::register_task_natives(&mut build_engine, &registry);
        let cx = build::BuildContext::new(&build_engine, &ast, registry.clone(), display)
            .map_err(Error::invalid)?;
        Ok(Self {
            path: path.to_path_buf(),
            registry,
            ast,
            build_engine,
            cx: Arc::new(cx),
        })
    }

    /// The flow to use: the one named, or the only one.
    pub(crate) fn select_flow(&self, name: Option<&str>) -> Result<&FlowSpec, Error> {
        let names: Vec<&str> = self
            .registry
            .flows
            .iter()
            .map(|f| f.name.as_str())
            .collect();
        let file = self.path.display();
        match name {
            Some(n) => self.registry.flow(n).ok_or_else(|| {
                let d = Diagnostic::new(format!("`{file}` has no flow `{n}`"));
                Error::invalid(match suggest(n, &names) {
                    Some(s) => d.help(format!("did you mean `{s}`? flows: {}", names.join(", "))),
                    None if names.is_empty() => d.help("register one with `flow(my_flow)`"),
                    None => d.help(format!("flows: {}", names.join(", "))),
                })
            }),
            None => match self.registry.flows.as_slice() {
                [only] => Ok(only),
                [] => Err(Error::invalid(
                    Diagnostic::new(format!("`{file}` registers no flow"))
                        .help("register one with `flow(my_flow)`"),
                )),
                _ => Err(Error::invalid(
                    Diagnostic::new(format!("`{file}` has several flows; name the one to use"))
                        .help(format!("flows: {}", names.join(", "))),
                )),
            },
        }
    }

    /// Binds parameters, then evaluates the flow body in building mode.
    pub(crate) fn build(
        &self,
        flow: &FlowSpec,
        params_file: Option<&serde_json::Map<String, serde_json::Value>>,
        params: &[(String, String)],
    ) -> Result<FlowBuild, Error> {
        self.build_with(flow, params_file, params, true)
    }

    /// Like [`Script::build`], but a missing required parameter is left as `()`: `describe`
    /// shows a flow's shape without needing its inputs.
    pub(crate) fn build_for_describe(
        &self,
        flow: &FlowSpec,
        params_file: Option<&serde_json::Map<String, serde_json::Value>>,
        params: &[(String, String)],
    ) -> Result<FlowBuild, Error> {
        self.build_with(flow, params_file, params, false)
    }

    fn build_with(
        &self,
        flow: &FlowSpec,
        params_file: Option<&serde_json::Map<String, serde_json::Value>>,
        params: &[(String, String)],
        require: bool,
    ) -> Result<FlowBuild, Error> {
        let bound = params::bind(flow, params_file, params, require).map_err(Error::Invalid)?;
        let built = build::build_flow(&self.cx, &self.build_engine, &flow.name, &bound)
            .map_err(|e| Error::invalid(diagnostics::eval_diagnostic(&e, &self.cx.file)))?;
        Ok(FlowBuild {
            nodes: built.nodes,
            output: built.output,
            params: Value(bound.into()),
        })
    }

    /// What runs the script's `on(...)` hooks during a run; `None` when it has none.
    pub(crate) fn hook_runner(
        &self,
        info: &RunInfo,
    ) -> Option<impl crate::events::Observe + use<>> {
        if self.registry.hooks.is_empty() {
            return None;
        }
        let dir = info.flow_dir.clone();
        Some(hooks::HookRunner {
            engine: engine::new_engine(engine::Mode::Run, &dir),
            ast: self.ast.clone(),
            hooks: self.registry.hooks.clone(),
            info: Arc::new(info.clone()),
            file: self.cx.file.clone(),
        })
    }

    /// The run-time side of this script, for executing nodes of `flow`.
    pub(crate) fn runtime(&self, info: RunInfo) -> Runtime {
        let dir = info.flow_dir.clone();
        let mut build_engine = engine::new_engine(engine::Mode::Build, &dir);
        build::register_task_natives(&mut build_engine, &self.registry);
        Runtime {
            run_engine: engine::new_engine(engine::Mode::Run, &dir),
            build_engine,
            ast: self.ast.clone(),
            script_path: self.path.clone(),
            cx: self.cx.clone(),
            info: Arc::new(info),
            prints: std::sync::OnceLock::new(),
            task_parts: std::sync::RwLock::default(),
            secret_key: std::sync::OnceLock::new(),
        }
    }
}

fn read_script(path: &Path) -> Result<String, Error> {
    let unreadable = |e: &std::io::Error| {
        Error::invalid(Diagnostic::new(format!(
            "cannot read flow file `{}`: {e}",
            path.display()
        )))
    };
    let file = std::fs::File::open(path).map_err(|e| unreadable(&e))?;
    let mut text = String::new();
    file.take(engine::limits::MAX_SCRIPT_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| unreadable(&e))?;
    if text.len() as u64 > engine::limits::MAX_SCRIPT_BYTES {
        return Err(Error::invalid(Diagnostic::new(format!(
            "flow file `{}` is larger than {} MiB",
            path.display(),
            engine::limits::MAX_SCRIPT_BYTES / 1024 / 1024
        ))));
    }
    Ok(text)
}
