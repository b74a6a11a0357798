//! Tracing and metering every gRPC call, as tower layers: [`GrpcServerLayer`] on servers
//! (`Server::builder().layer(..)`), [`GrpcClientLayer`] around client channels
//! ([`traced_channel`]). Handlers and call sites do nothing by hand.
//!
//! - Server: the W3C context in the request metadata becomes the parent of a `grpc.server`
//!   span named `<service>/<method>` (OpenTelemetry RPC conventions: `rpc.system`,
//!   `rpc.service`, `rpc.method`, `rpc.grpc.status_code`), entered while the handler runs and
//!   closed when the response stream ends; health and reflection calls are metered but not
//!   traced (probes would drown the traces).
//! - Client: a `grpc.client` span, child of the caller's span, whose context is injected into
//!   the request metadata.
//! - Both: `grpc_{server,client}_started_total`, `..._handled_total` (with `grpc_code`, read
//!   from the response headers or trailers) and `..._handling_seconds`, labelled like
//!   grpc-ecosystem's interceptors so community dashboards work unchanged.

mod body;
mod client;
mod future;
mod method;
mod server;

pub use body::Observed;
pub use client::{GrpcClientLayer, GrpcClientService, TracedChannel, traced_channel};
pub use future::ResponseFuture;
pub use method::{GrpcType, Methods, code_name};
pub use server::{GrpcServerLayer, GrpcServerService};
