//! The spans the collector keeps, flattened from OTLP (ids as lowercase hex, attributes as
//! typed values, the resource's `service.name` on each span), and [`Trace`]: one trace's
//! spans with the queries a structure test needs (by name, service, kind, attribute; parent,
//! ancestors, children).

use std::collections::BTreeSet;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1 as otlp;

/// An attribute value, as typed on the wire (a dashboard query `span.chunk.index > 3` needs
/// an integer, not the string "3").
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Str(String),
    Int(i64),
    Double(f64),
    Bool(bool),
    /// Arrays, maps, bytes: their debug form.
    Other(String),
}

/// OTLP span kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

/// A span event (e.g. one progress message sent by `watch_job`).
#[derive(Debug, Clone)]
pub struct Event {
    pub name: String,
    pub attributes: Vec<(String, AttrValue)>,
}

/// A link to another span (e.g. `watch_job` to the job's context).
#[derive(Debug, Clone)]
pub struct Link {
    pub trace_id: String,
    pub span_id: String,
    pub attributes: Vec<(String, AttrValue)>,
}

/// One span as received.
#[derive(Debug, Clone)]
pub struct Span {
    /// `service.name` of the resource it was exported with.
    pub service: String,
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// `None` for a root span.
    pub parent_span_id: Option<String>,
    pub name: String,
    pub kind: SpanKind,
    pub attributes: Vec<(String, AttrValue)>,
    pub events: Vec<Event>,
    pub links: Vec<Link>,
    /// OTLP status code: 0 unset, 1 ok, 2 error.
    pub status_code: i32,
    pub status_message: String,
    pub start_unix_nano: u64,
    pub end_unix_nano: u64,
}

impl Span {
    pub fn attr(&self, key: &str) -> Option<&AttrValue> {
        self.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The attribute `key` if it is a string.
    pub fn str_attr(&self, key: &str) -> Option<&str> {
        match self.attr(key) {
            Some(AttrValue::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The attribute `key` if it is an integer (strictly: a string of digits is not).
    pub fn int_attr(&self, key: &str) -> Option<i64> {
        match self.attr(key) {
            Some(AttrValue::Int(i)) => Some(*i),
            _ => None,
        }
    }

    /// The attribute `key` as a number, whether exported as an integer or as a decimal
    /// string (what `tracing-opentelemetry` makes of an unsigned field).
    pub fn num_attr(&self, key: &str) -> Option<i64> {
        match self.attr(key) {
            Some(AttrValue::Int(i)) => Some(*i),
            Some(AttrValue::Str(s)) => s.parse().ok(),
            _ => None,
        }
    }

    /// `name [service] key=value ...`: for failure messages.
    pub fn describe(&self) -> String {
        let attrs: Vec<String> = self.attributes.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        format!(
            "{} [{} {:?} {} parent {:?}] {}",
            self.name,
            self.service,
            self.kind,
            self.span_id,
            self.parent_span_id,
            attrs.join(" ")
        )
    }
}

/// The spans of one trace.
#[derive(Debug, Clone)]
pub struct Trace {
    pub spans: Vec<Span>,
}

impl Trace {
    pub fn new(spans: Vec<Span>) -> Trace {
        Trace { spans }
    }

    /// The services that exported spans of this trace.
    pub fn services(&self) -> BTreeSet<String> {
        self.spans.iter().map(|s| s.service.clone()).collect()
    }

    /// Spans named `name` (the exported name: `otel.name` when a span sets it).
    pub fn named(&self, name: &str) -> Vec<&Span> {
        self.spans.iter().filter(|s| s.name == name).collect()
    }

    /// Spans named `name` exported by `service`, of kind `kind` if given.
    pub fn find(&self, service: &str, name: &str, kind: Option<SpanKind>) -> Vec<&Span> {
        self.spans
            .iter()
            .filter(|s| s.service == service && s.name == name && kind.is_none_or(|k| s.kind == k))
            .collect()
    }

    /// The one span [`Trace::find`] finds; panics (listing the trace) if there is none or
    /// several.
    pub fn one(&self, service: &str, name: &str, kind: Option<SpanKind>) -> &Span {
        match self.find(service, name, kind).as_slice() {
            [one] => one,
            found => panic!(
                "expected exactly one span {name:?} ({kind:?}) from {service}, found {}:\n{}",
                found.len(),
                self.describe()
            ),
        }
    }

    /// Spans with string attribute `key` = `value`.
    pub fn with_attr(&self, key: &str, value: &str) -> Vec<&Span> {
        self.spans.iter().filter(|s| s.str_attr(key) == Some(value)).collect()
    }

    pub fn by_id(&self, span_id: &str) -> Option<&Span> {
        self.spans.iter().find(|s| s.span_id == span_id)
    }

    /// `span`'s parent, if it is in this trace (and was received).
    pub fn parent(&self, span: &Span) -> Option<&Span> {
        span.parent_span_id.as_deref().and_then(|id| self.by_id(id))
    }

    /// `span`'s ancestors, nearest first, as far as they were received.
    pub fn ancestors(&self, span: &Span) -> Vec<&Span> {
        let mut out: Vec<&Span> = Vec::new();
        let mut current = self.parent(span);
        while let Some(p) = current {
            if out.iter().any(|a| a.span_id == p.span_id) {
                break; // a cycle would be a bug in the exporter; do not loop
            }
            out.push(p);
            current = self.parent(p);
        }
        out
    }

    /// The nearest ancestor of `span` for which `pred` holds.
    pub fn ancestor_where(&self, span: &Span, pred: impl Fn(&Span) -> bool) -> Option<&Span> {
        self.ancestors(span).into_iter().find(|a| pred(a))
    }

    /// `span`'s children.
    pub fn children(&self, span: &Span) -> Vec<&Span> {
        self.spans.iter().filter(|s| s.parent_span_id.as_deref() == Some(span.span_id.as_str())).collect()
    }

    /// One line per span: for failure messages.
    pub fn describe(&self) -> String {
        self.spans.iter().map(|s| format!("  {}", s.describe())).collect::<Vec<_>>().join("\n")
    }
}

/// Every span of an export request, with its resource's `service.name`.
pub(super) fn from_request(request: ExportTraceServiceRequest) -> Vec<Span> {
    let mut out = Vec::new();
    for resource_spans in request.resource_spans {
        let service = resource_spans
            .resource
            .iter()
            .flat_map(|r| r.attributes.iter())
            .find(|kv| kv.key == "service.name")
            .map(|kv| value_of(kv.value.as_ref()))
            .map(|v| match v {
                AttrValue::Str(s) => s,
                other => format!("{other:?}"),
            })
            .unwrap_or_default();
        for scope in resource_spans.scope_spans {
            out.extend(scope.spans.into_iter().map(|s| convert(&service, s)));
        }
    }
    out
}

fn convert(service: &str, s: otlp::Span) -> Span {
    let kind = match otlp::span::SpanKind::try_from(s.kind) {
        Ok(otlp::span::SpanKind::Internal) => SpanKind::Internal,
        Ok(otlp::span::SpanKind::Server) => SpanKind::Server,
        Ok(otlp::span::SpanKind::Client) => SpanKind::Client,
        Ok(otlp::span::SpanKind::Producer) => SpanKind::Producer,
        Ok(otlp::span::SpanKind::Consumer) => SpanKind::Consumer,
        _ => SpanKind::Unspecified,
    };
    let (status_code, status_message) = s.status.map(|st| (st.code, st.message)).unwrap_or_default();
    Span {
        service: service.to_owned(),
        trace_id: hex(&s.trace_id),
        span_id: hex(&s.span_id),
        parent_span_id: (!s.parent_span_id.is_empty() && s.parent_span_id.iter().any(|b| *b != 0))
            .then(|| hex(&s.parent_span_id)),
        name: s.name,
        kind,
        attributes: attributes(&s.attributes),
        events: s
            .events
            .into_iter()
            .map(|e| Event { name: e.name, attributes: attributes(&e.attributes) })
            .collect(),
        links: s
            .links
            .into_iter()
            .map(|l| Link {
                trace_id: hex(&l.trace_id),
                span_id: hex(&l.span_id),
                attributes: attributes(&l.attributes),
            })
            .collect(),
        status_code,
        status_message,
        start_unix_nano: s.start_time_unix_nano,
        end_unix_nano: s.end_time_unix_nano,
    }
}

fn attributes(kvs: &[KeyValue]) -> Vec<(String, AttrValue)> {
    kvs.iter().map(|kv| (kv.key.clone(), value_of(kv.value.as_ref()))).collect()
}

fn value_of(value: Option<&AnyValue>) -> AttrValue {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => AttrValue::Str(s.clone()),
        Some(any_value::Value::IntValue(i)) => AttrValue::Int(*i),
        Some(any_value::Value::DoubleValue(d)) => AttrValue::Double(*d),
        Some(any_value::Value::BoolValue(b)) => AttrValue::Bool(*b),
        Some(other) => AttrValue::Other(format!("{other:?}")),
        None => AttrValue::Other(String::new()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How many spans arrived, by service and name: what a timed-out wait prints.
pub(super) fn summary(spans: &[Span]) -> String {
    let mut counts = std::collections::BTreeMap::<(&str, &str), usize>::new();
    for s in spans {
        *counts.entry((s.service.as_str(), s.name.as_str())).or_default() += 1;
    }
    let lines: Vec<String> = counts.iter().map(|((svc, name), n)| format!("{svc} {name} x{n}")).collect();
    format!("{} spans: {}", spans.len(), lines.join(", "))
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::resource::v1::Resource;

    use super::*;

    fn kv(key: &str, value: any_value::Value) -> KeyValue {
        KeyValue { key: key.into(), value: Some(AnyValue { value: Some(value) }), ..Default::default() }
    }

    #[test]
    fn spans_carry_their_resource_service_and_hex_ids() {
        let span = otlp::Span {
            trace_id: vec![0xab; 16],
            span_id: vec![1, 2, 3, 4, 5, 6, 7, 8],
            parent_span_id: vec![],
            name: "chunk".into(),
            kind: otlp::span::SpanKind::Internal as i32,
            attributes: vec![
                kv("chunk.index", any_value::Value::IntValue(3)),
                kv("job.id", any_value::Value::StringValue("j".into())),
            ],
            ..Default::default()
        };
        let request = ExportTraceServiceRequest {
            resource_spans: vec![otlp::ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![kv("service.name", any_value::Value::StringValue("svc".into()))],
                    ..Default::default()
                }),
                scope_spans: vec![otlp::ScopeSpans { spans: vec![span], ..Default::default() }],
                schema_url: String::new(),
            }],
        };
        let spans = from_request(request);
        assert_eq!(spans.len(), 1);
        let s = &spans[0];
        assert_eq!(s.service, "svc");
        assert_eq!(s.trace_id, "ab".repeat(16));
        assert_eq!(s.span_id, "0102030405060708");
        assert_eq!(s.parent_span_id, None);
        assert_eq!(s.kind, SpanKind::Internal);
        assert_eq!(s.int_attr("chunk.index"), Some(3));
        assert_eq!(s.str_attr("chunk.index"), None);
        assert_eq!(s.num_attr("chunk.index"), Some(3));
        assert_eq!(s.str_attr("job.id"), Some("j"));
    }
}
