//! Process-mode tasks (`run_in: "process"`): the run hands one task call to `autowf worker`
//! as JSON on stdin and reads the outcome as JSON on stdout, so a crash or a memory blow-up in
//! that task ends the worker, not the run.

use std::path::PathBuf;
use std::time::Duration;

use rhai::Dynamic;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::Script;
use super::payload::{Payload, PayloadKind};
use super::runtime::{Attempt, CallResult, RunInfo, Runtime, Stopped};
use super::value::{Quote, Value, check_data, json_to_dynamic, substitute, to_json};
use crate::dag::{Node, NodeId};
use crate::events::TaskError;

/// Version of the worker protocol; a worker refuses requests of another version.
const PROTOCOL: u32 = 1;

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
    flow_dir: PathBuf,
    node: String,
    attempt: u32,
    timeout_ms: Option<u64>,
    kill_grace_ms: u64,
    env: std::collections::BTreeMap<String, String>,
    cwd: Option<String>,
    upstream: Vec<crate::events::Upstream>,
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
            check_data(&value, &mut path).map_err(|why| {
                TaskError::new(format!(
                    "cannot pass `{task}`'s arguments to a worker process: {why}"
                ))
            })?;
            json_args.push(to_json(&value));
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
            flow_dir: self.info.flow_dir.clone(),
            node: attempt.node.clone(),
            attempt: attempt.number,
            timeout_ms: attempt
                .timeout
                .map(|t| u64::try_from(t.as_millis()).unwrap_or(u64::MAX)),
            kill_grace_ms: u64::try_from(attempt.kill_grace.as_millis()).unwrap_or(u64::MAX),
            env: attempt.env.clone(),
            cwd: attempt.cwd.clone(),
            upstream: attempt.upstream.clone(),
        };
        Ok(serde_json::to_vec(&request).expect("invariant: requests serialize"))
    }
}

/// Reads a worker's reply; anything else than a reply means the worker died.
pub(crate) fn parse_response(stdout: &[u8]) -> Result<WorkerResponse, TaskError> {
    serde_json::from_slice(stdout)
        .map_err(|_| TaskError::new("the worker process ended without a reply"))
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
    let response = match serde_json::from_slice::<WorkerRequest>(input) {
        Ok(req) if req.schema == PROTOCOL => call(req, cancel),
        Ok(req) => WorkerResponse::Error(TaskError::new(format!(
            "worker protocol {} is not supported (expected {PROTOCOL})",
            req.schema
        ))),
        Err(e) => WorkerResponse::Error(TaskError::new(format!("invalid worker request: {e}"))),
    };
    serde_json::to_vec(&response).expect("invariant: responses serialize")
}

fn call(req: WorkerRequest, cancel: &CancellationToken) -> WorkerResponse {
    let script = match Script::load(&req.file) {
        Ok(s) => s,
        Err(e) => {
            return WorkerResponse::Error(TaskError::new(format!(
                "the worker cannot load `{}`: {e}",
                req.file.display()
            )));
        }
    };
    let info = RunInfo {
        run_id: req.run_id,
        flow: req.flow,
        params: Value::from_json(&req.params),
        run_dir: req.run_dir,
        state_dir: req.state_dir,
        flow_dir: req.flow_dir,
    };
    let runtime = script.runtime(info);
    let args: Vec<Dynamic> = req.args.iter().map(json_to_dynamic).collect();
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
        env: req.env,
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
