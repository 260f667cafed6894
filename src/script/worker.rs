//! Process-mode tasks (`run_in: "process"`): the run hands one task call to `autowf worker`
//! as JSON on stdin and reads the outcome as JSON on stdout, so a crash or a memory blow-up in
//! that task ends the worker, not the run. The Slurm executor hands calls over the same way,
//! through files; for `run --submit-all`, whose jobs are all written before any has run, a
//! request may leave a node's result out and name the file its job will leave instead.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use rhai::Dynamic;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::Script;
use super::options::{EnvValue, OutputFormat};
use super::payload::{Payload, PayloadKind};
use super::runtime::{Attempt, CallResult, RunInfo, Runtime, Stopped, parse_output};
use super::value::{Handle, Quote, Value, check_data_with, json_to_dynamic, substitute, to_json};
use crate::dag::{Node, NodeId, NodeKind};
use crate::events::TaskError;
use crate::remote::RemoteUrl;
use crate::secrets::{self, Provider, Secret};

/// Version of the worker protocol; a worker refuses requests of another version.
const PROTOCOL: u32 = 3;

/// The key of the JSON object that carries a secret through a worker's stdin (a pipe, which
/// no other user can read, unlike a command line).
const SECRET_TAG: &str = "\u{1}autowf-secret";

/// The key of the JSON object that stands for a node's result the request leaves out: the
/// worker reads it from the file [`ResultFile`] names.
const HANDLE_TAG: &str = "\u{1}autowf-handle";

/// A secret on the wire: its name and clear value.
#[derive(Serialize, Deserialize)]
struct WireSecret {
    name: String,
    value: String,
}

/// An `env` entry on the wire.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum WireEnv {
    Text(String),
    Secret { secret: WireSecret },
}

/// What a worker prints: its response, and the secrets it resolved, so that the run hides
/// them too (in the worker's result, for one).
#[derive(Serialize, Deserialize)]
struct Reply {
    response: WorkerResponse,
    secrets: Vec<WireSecret>,
}

/// What the worker is asked to do.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
enum WireCall {
    /// Call a Rhai task; the reply carries its result.
    Task {
        task: String,
        args: Vec<serde_json::Value>,
    },
    /// Call a shell task's body; the reply carries the command line it returns.
    ShellTask {
        task: String,
        args: Vec<serde_json::Value>,
    },
    /// Fill in an `sh(...)` step's command line; the reply carries it.
    Sh { command: serde_json::Value },
}

/// Where a worker finds a node's result that its request left out: the file that node's
/// job wrote (`run --submit-all`, where every job is written before any has run).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ResultFile {
    id: u32,
    node: String,
    path: PathBuf,
    /// How a shell task's standard output reads as its result; `None` for a worker's reply.
    output: Option<OutputFormat>,
}

impl ResultFile {
    /// The result of `node` as the reply its worker writes to `path`.
    pub(crate) fn reply(node: &Node, path: PathBuf) -> Self {
        Self {
            id: node.id.0,
            node: node.name.clone(),
            path,
            output: None,
        }
    }

    /// The result of shell node `node` as its standard output, written to `path`.
    pub(crate) fn stdout(node: &Node, path: PathBuf) -> Self {
        Self {
            output: Some(node.options.output),
            ..Self::reply(node, path)
        }
    }

    /// The result the file holds.
    fn read(&self) -> Result<Value, TaskError> {
        let fail = |why: String| {
            TaskError::new(format!(
                "cannot read the result of `{}` from {}: {why}",
                self.node,
                self.path.display()
            ))
        };
        let bytes = std::fs::read(&self.path).map_err(|e| fail(e.to_string()))?;
        match self.output {
            Some(format) => parse_output(&bytes, format).map_err(|e| fail(e.message)),
            None => match parse_response(&bytes).map_err(|e| fail(e.message))? {
                WorkerResponse::Ok(json) => Ok(Value::from_json(&json)),
                _ => Err(fail("its task did not succeed".to_owned())),
            },
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct WorkerRequest {
    schema: u32,
    file: PathBuf,
    call: WireCall,
    /// The results `call` takes that are read from files, by node id.
    #[serde(default)]
    results: Vec<ResultFile>,
    run_id: String,
    flow: String,
    params: serde_json::Value,
    run_dir: PathBuf,
    state_dir: PathBuf,
    /// The run's `remote-store` URL, if any.
    #[serde(default)]
    remote_store: Option<String>,
    flow_dir: PathBuf,
    node: String,
    attempt: u32,
    timeout_ms: Option<u64>,
    kill_grace_ms: u64,
    env: std::collections::BTreeMap<String, WireEnv>,
    cwd: Option<String>,
    upstream: Vec<crate::events::Upstream>,
    /// The run's secret providers, for `secret(...)` in the task.
    secrets: Vec<Provider>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum WorkerResponse {
    Ok(serde_json::Value),
    Error(TaskError),
    TimedOut,
    Cancelled,
}

impl Runtime {
    /// The request that runs `node`'s task in a worker: its arguments must be plain data.
    pub(crate) fn worker_request(
        &self,
        node: &Node,
        inputs: &dyn Fn(NodeId) -> Value,
        attempt: &Attempt,
    ) -> Result<Vec<u8>, TaskError> {
        let PayloadKind::Call { task, args } = &*node.payload.0 else {
            return Err(TaskError::new(
                "internal error: only task calls run in a worker process",
            ));
        };
        let call = WireCall::Task {
            task: task.to_string(),
            args: wire_args(task, args, Some(inputs))?,
        };
        Ok(self.request(call, Vec::new(), attempt))
    }

    /// The request for `node` when the results it takes are not known yet: each is read by
    /// the worker from its file in `results`. A Rhai task's worker replies with its result; a
    /// shell node's replies with its command line.
    pub(crate) fn deferred_request(
        &self,
        node: &Node,
        results: Vec<ResultFile>,
        attempt: &Attempt,
    ) -> Result<Vec<u8>, TaskError> {
        let call = match (&*node.payload.0, node.kind) {
            (PayloadKind::Call { task, args }, NodeKind::Task) => WireCall::Task {
                task: task.to_string(),
                args: wire_args(task, args, None)?,
            },
            (PayloadKind::Call { task, args }, NodeKind::Shell) => WireCall::ShellTask {
                task: task.to_string(),
                args: wire_args(task, args, None)?,
            },
            (PayloadKind::Sh { command }, _) => WireCall::Sh {
                command: to_wire(command),
            },
            _ => {
                return Err(TaskError::new(
                    "internal error: only task calls and shell steps run in a worker process",
                ));
            }
        };
        Ok(self.request(call, results, attempt))
    }

    fn request(&self, call: WireCall, results: Vec<ResultFile>, attempt: &Attempt) -> Vec<u8> {
        let request = WorkerRequest {
            schema: PROTOCOL,
            file: self.script_path.clone(),
            call,
            results,
            run_id: self.info.run_id.clone(),
            flow: self.info.flow.clone(),
            params: self.info.params.to_json(),
            run_dir: self.info.run_dir.clone(),
            state_dir: self.info.state_dir.clone(),
            remote_store: self.info.remote_store.as_ref().map(ToString::to_string),
            flow_dir: self.info.flow_dir.clone(),
            node: attempt.node.clone(),
            attempt: attempt.number,
            timeout_ms: attempt
                .timeout
                .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
            kill_grace_ms: u64::try_from(attempt.kill_grace.as_millis()).unwrap_or(u64::MAX),
            env: attempt
                .env
                .iter()
                .map(|(k, v)| {
                    let wire = match v {
                        EnvValue::Text(t) => WireEnv::Text(t.clone()),
                        EnvValue::Secret(s) => WireEnv::Secret {
                            secret: WireSecret {
                                name: s.name().to_owned(),
                                value: s.reveal().to_owned(),
                            },
                        },
                    };
                    (k.clone(), wire)
                })
                .collect(),
            cwd: attempt.cwd.clone(),
            upstream: attempt.upstream.clone(),
            secrets: secrets::providers().to_vec(),
        };
        serde_json::to_vec(&request).expect("invariant: requests serialize")
    }
}

/// A task call's arguments on the wire. With `inputs`, each handle is replaced by the result
/// it stands for; without, handles stay in, for the worker to fill in. Everything else must
/// be plain data (or secrets).
fn wire_args(
    task: &str,
    args: &[Dynamic],
    inputs: Option<&dyn Fn(NodeId) -> Value>,
) -> Result<Vec<serde_json::Value>, TaskError> {
    let mut json_args = Vec::with_capacity(args.len());
    for (i, arg) in args.iter().enumerate() {
        let resolved = substitute(arg, inputs.unwrap_or(&|_| Value::unit()), Quote::None);
        let mut path = format!("argument {}", i + 1);
        check_data_with(&resolved, &mut path, true).map_err(|why| {
            TaskError::new(format!(
                "cannot pass `{task}`'s arguments to a worker process: {why}"
            ))
        })?;
        json_args.push(to_wire(if inputs.is_some() { &resolved } else { arg }));
    }
    Ok(json_args)
}

/// Reads a worker's reply; anything else than a reply means the worker died. The secrets the
/// worker resolved are hidden in this process from now on.
pub(crate) fn parse_response(stdout: &[u8]) -> Result<WorkerResponse, TaskError> {
    let reply: Reply = serde_json::from_slice(stdout)
        .map_err(|_| TaskError::new("the worker process ended without a reply"))?;
    for s in &reply.secrets {
        secrets::adopt(&s.name, &s.value);
    }
    Ok(reply.response)
}

/// A value as JSON, with each secret as a tagged object.
fn to_wire(v: &Dynamic) -> serde_json::Value {
    if let Some(s) = v.read_lock::<Secret>() {
        return serde_json::json!({ SECRET_TAG: s.name(), "value": s.reveal() });
    }
    if let Some(h) = v.read_lock::<Handle>() {
        return serde_json::json!({ HANDLE_TAG: h.id.0 });
    }
    if let Ok(arr) = v.as_array_ref() {
        return serde_json::Value::Array(arr.iter().map(to_wire).collect());
    }
    if let Ok(map) = v.as_map_ref() {
        return serde_json::Value::Object(
            map.iter()
                .map(|(k, x)| (k.to_string(), to_wire(x)))
                .collect(),
        );
    }
    to_json(v)
}

/// The inverse of [`to_wire`]: tagged objects become secrets and handles again.
fn from_wire(json: &serde_json::Value) -> Dynamic {
    use serde_json::Value as J;
    match json {
        J::Object(o) => {
            if let (2, Some(J::String(name)), Some(J::String(value))) =
                (o.len(), o.get(SECRET_TAG), o.get("value"))
            {
                return Dynamic::from(secrets::adopt(name, value));
            }
            if let (1, Some(id)) = (o.len(), o.get(HANDLE_TAG).and_then(J::as_u64)) {
                if let Ok(id) = u32::try_from(id) {
                    return Dynamic::from(Handle { id: NodeId(id) });
                }
            }
            Dynamic::from_map(
                o.iter()
                    .map(|(k, v)| (k.as_str().into(), from_wire(v)))
                    .collect(),
            )
        }
        J::Array(a) => Dynamic::from_array(a.iter().map(from_wire).collect()),
        other => json_to_dynamic(other),
    }
}

impl WorkerResponse {
    /// The task's result as a value, when it succeeded.
    pub(crate) fn into_value(self) -> Result<Value, WorkerResponse> {
        match self {
            Self::Ok(json) => Ok(Value::from_json(&json)),
            other => Err(other),
        }
    }
}

/// Serves one request (the body of `autowf worker`); `cancel` fires on SIGTERM.
pub(crate) fn serve(input: &[u8], cancel: &CancellationToken) -> Vec<u8> {
    let mut response = match serde_json::from_slice::<WorkerRequest>(input) {
        Ok(req) if req.schema == PROTOCOL => call(req, cancel),
        Ok(req) => WorkerResponse::Error(TaskError::new(format!(
            "worker protocol {} is not supported (expected {PROTOCOL})",
            req.schema
        ))),
        Err(e) => WorkerResponse::Error(TaskError::new(format!("invalid worker request: {e}"))),
    };
    if let WorkerResponse::Error(e) = &mut response {
        e.redact();
    }
    let reply = Reply {
        response,
        secrets: secrets::resolved()
            .into_iter()
            .map(|s| WireSecret {
                name: s.name().to_owned(),
                value: s.reveal().to_owned(),
            })
            .collect(),
    };
    serde_json::to_vec(&reply).expect("invariant: responses serialize")
}

fn call(req: WorkerRequest, cancel: &CancellationToken) -> WorkerResponse {
    secrets::configure(req.secrets);
    let script = match Script::load(&req.file) {
        Ok(s) => s,
        Err(e) => {
            return WorkerResponse::Error(TaskError::new(format!(
                "the worker cannot load `{}`: {e}",
                req.file.display()
            )));
        }
    };
    let remote_store = match req
        .remote_store
        .as_deref()
        .map(RemoteUrl::parse)
        .transpose()
    {
        Ok(url) => url,
        Err(why) => return WorkerResponse::Error(TaskError::new(why)),
    };
    let info = RunInfo {
        run_id: req.run_id,
        flow: req.flow,
        params: Value::from_json(&req.params),
        run_dir: req.run_dir,
        state_dir: req.state_dir,
        remote_store,
        flow_dir: req.flow_dir,
    };
    let runtime = script.runtime(info);
    let mut results = HashMap::with_capacity(req.results.len());
    for file in &req.results {
        match file.read() {
            Ok(value) => results.insert(NodeId(file.id), value),
            Err(e) => return WorkerResponse::Error(e),
        };
    }
    let inputs = |id: NodeId| results.get(&id).cloned().unwrap_or_else(Value::unit);
    let call = |task: &str, args: &[serde_json::Value]| {
        Payload::new(PayloadKind::Call {
            task: task.into(),
            args: args.iter().map(from_wire).collect(),
        })
    };
    let (payload, task, wants_command) = match &req.call {
        WireCall::Task { task, args } => (call(task, args), Some(task.clone()), false),
        WireCall::ShellTask { task, args } => (call(task, args), Some(task.clone()), true),
        WireCall::Sh { command } => {
            let command = from_wire(command);
            (Payload::new(PayloadKind::Sh { command }), None, true)
        }
    };
    let attempt = Attempt {
        node: req.node,
        task,
        number: req.attempt,
        timeout: req.timeout_ms.map(Duration::from_millis),
        kill_grace: Duration::from_millis(req.kill_grace_ms),
        stop: std::sync::Arc::new(crate::stop::Stop {
            cancel: cancel.clone(),
            hurry: CancellationToken::new(),
        }),
        env: req
            .env
            .into_iter()
            .map(|(k, v)| {
                let value = match v {
                    WireEnv::Text(t) => EnvValue::Text(t),
                    WireEnv::Secret { secret } => {
                        EnvValue::Secret(secrets::adopt(&secret.name, &secret.value))
                    }
                };
                (k, value)
            })
            .collect(),
        cwd: req.cwd,
        upstream: req.upstream,
    };
    if wants_command {
        return match runtime.shell_command(&payload, &inputs, &attempt) {
            Ok(line) => WorkerResponse::Ok(serde_json::Value::String(line)),
            Err(e) => WorkerResponse::Error(e),
        };
    }
    match runtime.call_task(&payload, &inputs, &attempt) {
        CallResult::Done(v) => WorkerResponse::Ok(v.to_json()),
        CallResult::Failed(e) => WorkerResponse::Error(e),
        CallResult::Stopped(Stopped::TimedOut) => WorkerResponse::TimedOut,
        CallResult::Stopped(Stopped::Cancelled) => WorkerResponse::Cancelled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The nodes of the only flow of `source`, and a runtime for them, in a fresh directory.
    fn built(source: &str) -> (tempfile::TempDir, Vec<Node>, Runtime) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join("main.rhai");
        std::fs::write(&file, source).expect("write the flow");
        let script = Script::load(&file).expect("a valid script");
        let flow = script.select_flow(None).expect("one flow").clone();
        let nodes = script.build(&flow, None, &[]).expect("a flow").nodes;
        let info = RunInfo {
            run_id: "r1".to_owned(),
            flow: flow.name.clone(),
            params: Value::unit(),
            run_dir: dir.path().join("run"),
            state_dir: dir.path().join("state"),
            remote_store: None,
            flow_dir: dir.path().to_path_buf(),
        };
        let runtime = script.runtime(info);
        (dir, nodes, runtime)
    }

    fn node<'a>(nodes: &'a [Node], name: &str) -> &'a Node {
        nodes.iter().find(|n| n.name == name).expect("a node")
    }

    /// Serves `request`; the result or command line it replies with.
    fn served(request: &[u8]) -> Result<serde_json::Value, String> {
        let cancel = CancellationToken::new();
        match parse_response(&serve(request, &cancel)) {
            Ok(WorkerResponse::Ok(json)) => Ok(json),
            Ok(WorkerResponse::Error(e)) => Err(e.message),
            Ok(_) => Err("stopped".to_owned()),
            Err(e) => Err(e.message),
        }
    }

    const PASSING: &str = r#"
        fn numbers() { "echo '[1, 2, 3]'" }
        shell_task(numbers, #{ output: "json" });
        fn total(xs, label) { `${label}: ${xs.len()} numbers, ${xs[0] + xs[1] + xs[2]}` }
        task(total);
        fn shout(line) { `echo ${line} | tr a-z A-Z` }
        shell_task(shout);
        fn passing() {
            let xs = numbers();
            let t = total(xs, "sum");
            [shout(t), sh(`printf '%s|' ${t} ${xs}`)]
        }
        flow(passing);
    "#;

    #[test]
    fn deferred_requests_read_results_from_the_producers_files() {
        let (dir, nodes, runtime) = built(PASSING);
        let attempt = |node: &Node| Attempt::planning(&node.name, node.task.clone());
        let (numbers, total) = (node(&nodes, "numbers"), node(&nodes, "total"));
        // The shell producer's job leaves its standard output, read as its `output` says.
        let stdout = dir.path().join("numbers.out");
        std::fs::write(&stdout, "[1, 2, 3]\n").unwrap();
        let from_numbers = ResultFile::stdout(numbers, stdout);
        let request = runtime
            .deferred_request(total, vec![from_numbers.clone()], &attempt(total))
            .unwrap();
        // The handle travels as a tag, not as a value.
        let text = String::from_utf8_lossy(&request).into_owned();
        assert!(text.contains("autowf-handle"), "{text}");
        assert_eq!(served(&request), Ok(serde_json::json!("sum: 3 numbers, 6")));
        // A Rhai producer's job leaves its worker's reply.
        let reply = dir.path().join("total.reply.json");
        std::fs::write(&reply, serve(&request, &CancellationToken::new())).unwrap();
        let from_total = ResultFile::reply(total, reply);
        let shout = node(&nodes, "shout");
        let request = runtime
            .deferred_request(shout, vec![from_total.clone()], &attempt(shout))
            .unwrap();
        assert_eq!(
            served(&request),
            Ok(serde_json::json!("echo sum: 3 numbers, 6 | tr a-z A-Z")),
            "a shell task's body gives its command line"
        );
        let sh = nodes
            .iter()
            .find(|n| n.kind == NodeKind::Sh)
            .expect("an sh step");
        let request = runtime
            .deferred_request(sh, vec![from_total, from_numbers], &attempt(sh))
            .unwrap();
        assert_eq!(
            served(&request),
            Ok(serde_json::json!(
                "printf '%s|' 'sum: 3 numbers, 6' '[1,2,3]'"
            ))
        );
    }

    #[test]
    fn a_missing_or_failed_result_fails_the_call_naming_the_producer() {
        let (dir, nodes, runtime) = built(PASSING);
        let (numbers, total) = (node(&nodes, "numbers"), node(&nodes, "total"));
        let attempt = Attempt::planning(&total.name, total.task.clone());
        let missing = ResultFile::stdout(numbers, dir.path().join("nowhere.out"));
        let request = runtime
            .deferred_request(total, vec![missing], &attempt)
            .unwrap();
        let why = served(&request).unwrap_err();
        assert!(
            why.starts_with("cannot read the result of `numbers` from "),
            "{why}"
        );
        let not_json = dir.path().join("numbers.out");
        std::fs::write(&not_json, "three numbers\n").unwrap();
        let request = runtime
            .deferred_request(total, vec![ResultFile::stdout(numbers, not_json)], &attempt)
            .unwrap();
        let why = served(&request).unwrap_err();
        assert!(why.contains("output is not valid JSON"), "{why}");
        let failed = dir.path().join("failed.reply.json");
        let reply = Reply {
            response: WorkerResponse::Error(TaskError::new("boom")),
            secrets: Vec::new(),
        };
        std::fs::write(&failed, serde_json::to_vec(&reply).unwrap()).unwrap();
        let shout = node(&nodes, "shout");
        let request = runtime
            .deferred_request(shout, vec![ResultFile::reply(total, failed)], &attempt)
            .unwrap();
        let why = served(&request).unwrap_err();
        assert!(why.ends_with("its task did not succeed"), "{why}");
    }
}
