//! Process-mode tasks (`run_in: "process"`): the run hands one task call to `autowf worker`
//! as JSON on stdin and reads the outcome as JSON on stdout, so a crash or a memory blow-up in
//! that task ends the worker, not the run.

use std::path::PathBuf;
use std::time::Duration;

use rhai::Dynamic;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::Script;
use super::options::EnvValue;
use super::payload::{Payload, PayloadKind};
use super::runtime::{Attempt, CallResult, RunInfo, Runtime, Stopped};
use super::value::{Quote, Value, check_data_with, json_to_dynamic, substitute, to_json};
use crate::dag::{Node, NodeId};
use crate::events::TaskError;
use crate::remote::RemoteUrl;
use crate::secrets::{self, Provider, Secret};

/// Version of the worker protocol; a worker refuses requests of another version.
const PROTOCOL: u32 = 2;

/// The key of the JSON object that carries a secret through a worker's stdin (a pipe, which
/// no other user can read, unlike a command line).
const SECRET_TAG: &str = "\u{1}autowf-secret";

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

#[derive(Serialize, Deserialize)]
pub(crate) struct WorkerRequest {
    schema: u32,
    file: PathBuf,
    task: String,
    args: Vec<serde_json::Value>,
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
        let mut json_args = Vec::with_capacity(args.len());
        for (i, arg) in args.iter().enumerate() {
            let value = substitute(arg, inputs, Quote::None);
            let mut path = format!("argument {}", i + 1);
            check_data_with(&value, &mut path, true).map_err(|why| {
                TaskError::new(format!(
                    "cannot pass `{task}`'s arguments to a worker process: {why}"
                ))
            })?;
            json_args.push(to_wire(&value));
        }
        let request = WorkerRequest {
            schema: PROTOCOL,
            file: self.script_path.clone(),
            task: task.to_string(),
            args: json_args,
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
        Ok(serde_json::to_vec(&request).expect("invariant: requests serialize"))
    }
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

/// The inverse of [`to_wire`]: tagged objects become secrets again.
fn from_wire(json: &serde_json::Value) -> Dynamic {
    use serde_json::Value as J;
    match json {
        J::Object(o) => {
            if let (2, Some(J::String(name)), Some(J::String(value))) =
                (o.len(), o.get(SECRET_TAG), o.get("value"))
            {
                return Dynamic::from(secrets::adopt(name, value));
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
    let args: Vec<Dynamic> = req.args.iter().map(from_wire).collect();
    let payload = Payload::new(PayloadKind::Call {
        task: req.task.as_str().into(),
        args,
    });
    let attempt = Attempt {
        node: req.node,
        task: Some(req.task),
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
    match runtime.call_task(&payload, &|_| Value::unit(), &attempt) {
        CallResult::Done(v) => WorkerResponse::Ok(v.to_json()),
        CallResult::Failed(e) => WorkerResponse::Error(e),
        CallResult::Stopped(Stopped::TimedOut) => WorkerResponse::TimedOut,
        CallResult::Stopped(Stopped::Cancelled) => WorkerResponse::Cancelled,
    }
}
