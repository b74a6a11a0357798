//! Trace context in carriers other than gRPC metadata (which [`crate::grpc`] handles): the
//! task stream entry (a list of key/value pairs) and the job record (a `traceparent`).
//! W3C trace context, through the global propagator.

use opentelemetry::propagation::{Extractor, Injector};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C fields (`traceparent`, and `tracestate` if any) of `span`; empty when the span is
/// disabled or not sampled-and-valid.
pub fn inject(span: &tracing::Span) -> Vec<(String, String)> {
    let cx = span.context();
    let mut fields = Fields(Vec::new());
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut fields));
    fields.0
}

/// [`inject`] of the current span.
pub fn inject_current() -> Vec<(String, String)> {
    inject(&tracing::Span::current())
}

/// The context carried in `fields` (an empty context when there is none or it is malformed).
pub fn extract(fields: &[(String, String)]) -> opentelemetry::Context {
    let fields = FieldsRef(fields);
    opentelemetry::global::get_text_map_propagator(|p| p.extract(&fields))
}

/// Makes `span` a child of the context carried in `fields`; does nothing when there is none
/// (the span stays where it is: a new trace, or the current one).
pub fn set_parent(span: &tracing::Span, fields: &[(String, String)]) {
    use opentelemetry::trace::TraceContextExt;
    let cx = extract(fields);
    if cx.span().span_context().is_valid() {
        let _ = span.set_parent(cx);
    }
}

/// Adds a link from `span` to the context carried in `fields`, if any.
pub fn add_link(span: &tracing::Span, fields: &[(String, String)]) {
    use opentelemetry::trace::TraceContextExt;
    let cx = extract(fields);
    let sc = cx.span().span_context().clone();
    if sc.is_valid() {
        span.add_link(sc);
    }
}

/// The trace id (32 hex digits) of `span`, if it has a valid context.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    let cx = span.context();
    let sc = cx.span().span_context().clone();
    sc.is_valid().then(|| sc.trace_id().to_string())
}

struct Fields(Vec<(String, String)>);

impl Injector for Fields {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_owned(), value));
    }
}

struct FieldsRef<'a>(&'a [(String, String)]);

impl Extractor for FieldsRef<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }
}
