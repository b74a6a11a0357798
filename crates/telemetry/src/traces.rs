//! OpenTelemetry tracing: a tracer provider with the service's resource, exporting over
//! OTLP/gRPC when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set.
//!
//! Without an endpoint the provider still samples and assigns ids, so log lines carry trace
//! ids and a service in the middle of a call chain passes the caller's context on; the spans
//! are simply not exported. `OTEL_SDK_DISABLED=true` turns export off even with an endpoint.

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::{Error, TelemetryConfig};

/// W3C `traceparent` / `tracestate` as the process-wide propagator.
pub(crate) fn install_propagator() {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
}

/// Whether the environment asks for span export.
pub fn export_configured() -> bool {
    let set = |key: &str| std::env::var(key).is_ok_and(|v| !v.trim().is_empty());
    let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"));
    !disabled && (set("OTEL_EXPORTER_OTLP_ENDPOINT") || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
}

/// The resource: `service.name`, `service.version`, then what `OTEL_RESOURCE_ATTRIBUTES` and
/// `OTEL_SERVICE_NAME` add or override (e.g. `k8s.pod.name`).
pub fn resource(service: &'static str, version: &'static str) -> Resource {
    let ours = Resource::builder_empty()
        .with_service_name(service)
        .with_attribute(KeyValue::new("service.version", version))
        .build();
    // The default detectors read the environment; their `service.name` falls back to
    // "unknown_service" unless OTEL_SERVICE_NAME is set, which then wins.
    let detected = Resource::builder().build();
    let mut builder = Resource::builder_empty();
    for (key, value) in ours.iter() {
        builder = builder.with_attribute(KeyValue::new(key.clone(), value.clone()));
    }
    let explicit_name = std::env::var("OTEL_SERVICE_NAME").is_ok_and(|v| !v.is_empty());
    for (key, value) in detected.iter() {
        if key.as_str() == "service.name" && !explicit_name {
            continue;
        }
        builder = builder.with_attribute(KeyValue::new(key.clone(), value.clone()));
    }
    builder.build()
}

/// The tracer provider (also installed as the global one). Call inside a Tokio runtime.
pub(crate) fn provider(config: &TelemetryConfig) -> Result<SdkTracerProvider, Error> {
    // The default builder reads OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG.
    let mut builder = SdkTracerProvider::builder().with_resource(resource(config.service, config.version));
    if export_configured() {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()
            .map_err(|e| Error::Exporter(e.to_string()))?;
        builder = builder.with_batch_exporter(exporter);
    }
    let provider = builder.build();
    opentelemetry::global::set_tracer_provider(provider.clone());
    Ok(provider)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resource_names_the_service_and_its_version() {
        let r = resource("tanksim-test", "1.2.3");
        let get = |k: &'static str| r.get(&opentelemetry::Key::from_static_str(k)).map(|v| v.to_string());
        assert_eq!(get("service.version").as_deref(), Some("1.2.3"));
        if std::env::var("OTEL_SERVICE_NAME").is_err() {
            assert_eq!(get("service.name").as_deref(), Some("tanksim-test"));
        }
        assert!(get("telemetry.sdk.name").is_some(), "SDK attributes are detected");
    }
}
