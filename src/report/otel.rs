//! OpenTelemetry traces (cargo feature `otel`): one trace per run, one span per task attempt,
//! exported over OTLP/HTTP to where the standard `OTEL_EXPORTER_OTLP_*` variables say.

use std::collections::HashMap;

use opentelemetry::trace::{
    Span as _, Status as SpanStatus, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::SpanExporter;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, Span};

use crate::events::{Observe, RunEvent, Status};

pub(crate) struct OtelReporter {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    run: Context,
    attempts: HashMap<String, Span>,
    flow: String,
    run_id: String,
}

/// A reporter when an OTLP endpoint is configured; `None` otherwise (or if the exporter cannot
/// be built, which is logged).
pub(crate) fn otel_reporter(flow: &str, run_id: &str) -> Option<OtelReporter> {
    let configured = [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
    if !configured {
        return None;
    }
    let exporter = match SpanExporter::builder().with_http().build() {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!("OpenTelemetry export is off: {e}");
            return None;
        }
    };
    let provider = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name("autowf").build())
        .with_batch_exporter(exporter)
        .build();
    let tracer = provider.tracer("autowf");
    Some(OtelReporter {
        provider,
        tracer,
        run: Context::new(),
        attempts: HashMap::new(),
        flow: flow.to_owned(),
        run_id: run_id.to_owned(),
    })
}

impl OtelReporter {
    fn end_attempt(&mut self, name: &str, status: Status, attempt: u32, error: Option<&str>) {
        let Some(mut span) = self.attempts.remove(name) else {
            return;
        };
        span.set_attribute(KeyValue::new("autowf.status", status.name()));
        span.set_attribute(KeyValue::new("autowf.attempt", i64::from(attempt)));
        span.set_attribute(KeyValue::new("autowf.cache_hit", status == Status::Cached));
        match error {
            Some(e) => span.set_status(SpanStatus::error(e.to_owned())),
            None if status.is_success() => span.set_status(SpanStatus::Ok),
            None => {}
        }
        span.end();
    }
}

impl Observe for OtelReporter {
    fn observe(&mut self, event: &RunEvent) {
        match event {
            RunEvent::RunStarted { nodes } => {
                let mut span = self.tracer.start(format!("run {}", self.flow));
                span.set_attribute(KeyValue::new("autowf.flow", self.flow.clone()));
                span.set_attribute(KeyValue::new("autowf.run_id", self.run_id.clone()));
                span.set_attribute(KeyValue::new(
                    "autowf.nodes",
                    i64::try_from(*nodes).unwrap_or(i64::MAX),
                ));
                self.run = Context::current_with_span(span);
            }
            RunEvent::NodeStarted { name, attempt } => {
                let mut span = self
                    .tracer
                    .start_with_context(format!("task {name}"), &self.run);
                span.set_attribute(KeyValue::new("autowf.node", name.clone()));
                span.set_attribute(KeyValue::new("autowf.attempt", i64::from(*attempt)));
                self.attempts.insert(name.clone(), span);
            }
            RunEvent::NodeRetrying {
                name,
                attempt,
                error,
                ..
            } => {
                self.end_attempt(name, Status::Failed, attempt - 1, Some(&error.message));
            }
            RunEvent::NodeFinished {
                name,
                status,
                attempts,
                error,
                ..
            } => {
                self.end_attempt(
                    name,
                    *status,
                    *attempts,
                    error.as_ref().map(|e| e.message.as_str()),
                );
            }
            RunEvent::NodeExpanded { .. } => {}
            RunEvent::RunFinished { is_success, .. } => {
                let span = self.run.span();
                span.set_attribute(KeyValue::new(
                    "autowf.status",
                    if *is_success { "succeeded" } else { "failed" },
                ));
                if !is_success {
                    span.set_status(SpanStatus::error("the run failed"));
                }
                span.end();
                // Flush now: the process ends soon after.
                if let Err(e) = self.provider.shutdown() {
                    tracing::warn!("OpenTelemetry export failed: {e}");
                }
            }
        }
    }
}
