//! Looking at what a service reports, inside a test: spans collected in memory with W3C
//! propagation (what `tanksim_telemetry::init` sets up, minus the export), and series read out
//! of a Prometheus exposition.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::trace::{SpanKind, TracerProvider as _};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanProcessor};
use tracing_subscriber::layer::SubscriberExt;

/// Keeps every span that ends.
#[derive(Debug, Clone, Default)]
pub struct Spans(Arc<Mutex<Vec<SpanData>>>);

impl SpanProcessor for Spans {
    fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}
    fn on_end(&self, span: SpanData) {
        self.0.lock().expect("not poisoned").push(span);
    }
    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
}

impl Spans {
    /// The ended spans named `name`.
    pub fn named(&self, name: &str) -> Vec<SpanData> {
        self.0.lock().expect("not poisoned").iter().filter(|s| s.name == name).cloned().collect()
    }

    /// The ended spans named `name` of kind `kind`.
    pub fn find(&self, name: &str, kind: SpanKind) -> Vec<SpanData> {
        self.named(name).into_iter().filter(|s| s.span_kind == kind).collect()
    }

    /// Every ended span.
    pub fn all(&self) -> Vec<SpanData> {
        self.0.lock().expect("not poisoned").clone()
    }

    /// Installs the process-wide subscriber sending spans here, and the W3C propagator.
    ///
    /// # Panics
    /// If the test binary already has a global subscriber.
    pub fn install(&self) {
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
        let provider = SdkTracerProvider::builder().with_span_processor(self.clone()).build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::new("info"))
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber of this test binary");
    }
}

/// A span's attributes as strings.
pub fn attributes(span: &SpanData) -> HashMap<String, String> {
    span.attributes.iter().map(|kv| (kv.key.to_string(), kv.value.to_string())).collect()
}

/// The value of the series `name{labels...}` in a Prometheus exposition (labels in any order,
/// others ignored).
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        // `name{labels}`, or `name` alone for a series without labels.
        let rest = match series.strip_prefix(name)? {
            "" => "",
            rest => rest.strip_prefix('{')?,
        };
        labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))).then(|| value.parse().ok())?
    })
}
