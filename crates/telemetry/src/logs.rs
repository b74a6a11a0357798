//! JSON log lines: one object per line with `timestamp` (RFC 3339, UTC), `level`, `service`,
//! `target`, `message`, the event's fields, `span` (the innermost span's name) with the
//! fields of the spans it sits in (`spans`), and `trace_id` / `span_id` when the event is
//! inside a sampled span, so Grafana links a Loki line to its trace.

use std::fmt;
use std::sync::{Arc, OnceLock};

use opentelemetry::trace::TraceContextExt;
use serde_json::{Map, Value};
use tracing::dispatcher::WeakDispatch;
use tracing::field::{Field, Visit};
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// The JSON log layer of service `service`: the [`JsonLines`] format writing to stdout.
pub fn json_layer<S>(service: &'static str) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    json_layer_to(service, std::io::stdout)
}

/// [`json_layer`] writing to `writer` (tests).
pub fn json_layer_to<S, W>(service: &'static str, writer: W) -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let dispatch = Arc::new(OnceLock::new());
    tracing_subscriber::fmt::layer()
        .event_format(JsonLines { service, dispatch: Arc::clone(&dispatch) })
        .with_ansi(false)
        .with_writer(writer)
        .and_then(DispatchSlot(dispatch))
}

/// The JSON event format (see the module documentation).
#[derive(Debug, Clone)]
pub struct JsonLines {
    service: &'static str,
    /// The subscriber this format runs in, to look up a span's OpenTelemetry context (the
    /// thread's default dispatcher is not reachable while it is formatting an event).
    dispatch: Arc<OnceLock<WeakDispatch>>,
}

/// Captures the subscriber when it is registered, for [`JsonLines`].
struct DispatchSlot(Arc<OnceLock<WeakDispatch>>);

impl<S: Subscriber> Layer<S> for DispatchSlot {
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.0.set(subscriber.downgrade());
    }
}

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Map::new();
        let mut timestamp = String::new();
        SystemTime.format_time(&mut Writer::new(&mut timestamp))?;
        line.insert("timestamp".into(), Value::String(timestamp));
        line.insert("level".into(), Value::String(event.metadata().level().to_string()));
        line.insert("service".into(), Value::String(self.service.into()));
        line.insert("target".into(), Value::String(event.metadata().target().into()));
        let mut fields = JsonVisitor(Map::new());
        event.record(&mut fields);
        let message = fields.0.remove("message").unwrap_or(Value::String(String::new()));
        line.insert("message".into(), message);
        if !fields.0.is_empty() {
            line.insert("fields".into(), Value::Object(fields.0));
        }
        let span = event.parent().and_then(|id| ctx.span(id)).or_else(|| ctx.lookup_current());
        if let Some(span) = span {
            line.insert("span".into(), Value::String(span.name().into()));
            let mut spans = Map::new();
            for s in span.scope().from_root() {
                let ext = s.extensions();
                if let Some(f) = ext.get::<FormattedFields<N>>()
                    && !f.fields.is_empty()
                {
                    spans.insert(s.name().into(), Value::String(f.fields.clone()));
                }
            }
            if !spans.is_empty() {
                line.insert("spans".into(), Value::Object(spans));
            }
            let id = span.id();
            drop(span);
            // Note: this starts the OpenTelemetry span if it was not yet; set a span's parent
            // before logging inside it.
            let cx = self
                .dispatch
                .get()
                .and_then(WeakDispatch::upgrade)
                .and_then(|d| tracing_opentelemetry::get_otel_context(&id, &d));
            if let Some(cx) = cx {
                let sc = cx.span().span_context().clone();
                if sc.is_valid() {
                    line.insert("trace_id".into(), Value::String(sc.trace_id().to_string()));
                    line.insert("span_id".into(), Value::String(sc.span_id().to_string()));
                }
            }
        }
        let text = serde_json::to_string(&line).map_err(|_| fmt::Error)?;
        writeln!(writer, "{text}")
    }
}

/// Collects an event's fields as JSON values.
struct JsonVisitor(Map<String, Value>);

impl Visit for JsonVisitor {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let v = serde_json::Number::from_f64(value)
            .map_or_else(|| Value::String(value.to_string()), Value::Number);
        self.0.insert(field.name().into(), v);
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), Value::String(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().into(), Value::String(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use opentelemetry::trace::TracerProvider as _;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("not poisoned").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_json_and_carry_the_trace_inside_spans() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
            .with(json_layer_to("tanksim-test", move || writer.clone()));
        let trace_id = tracing::subscriber::with_default(subscriber, || {
            tracing::info!(runs = 3u64, "outside");
            let span = tracing::info_span!("chunk", job_id = "j1", chunk = 4u32);
            let _entered = span.enter();
            tracing::warn!(ratio = 0.5, ok = true, "inside \"quoted\"");
            crate::propagation::trace_id(&span).expect("a sampled span")
        });
        let text = String::from_utf8(buffer.0.lock().expect("not poisoned").clone()).expect("utf-8");
        let lines: Vec<Value> =
            text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["message"], "outside");
        assert_eq!(lines[0]["fields"]["runs"], 3);
        assert_eq!(lines[0]["service"], "tanksim-test");
        assert!(lines[0].get("trace_id").is_none());
        assert_eq!(lines[1]["level"], "WARN");
        assert_eq!(lines[1]["message"], "inside \"quoted\"");
        assert_eq!(lines[1]["fields"]["ok"], true);
        assert_eq!(lines[1]["span"], "chunk");
        assert_eq!(lines[1]["trace_id"], Value::String(trace_id));
        assert_eq!(lines[1]["span_id"].as_str().map(str::len), Some(16));
        assert!(lines[1]["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    }
}
