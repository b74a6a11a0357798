//! The router every tanksim service serves: health and reflection besides its own services,
//! every call traced and metered, every stream ended at shutdown. [`crate::Shell`] builds it
//! and serves it.

use tanksim_telemetry::grpc::GrpcServerLayer;
use tonic::transport::Server;
use tonic::transport::server::Router;
use tonic_health::server::HealthReporter;
use tower::layer::util::{Identity, Stack};

use crate::drain::{DrainLayer, Stopping};
use crate::methods::grpc_methods;
use crate::oversized::OversizedLayer;

/// The middleware every tanksim server runs its services in, outermost last.
pub type GrpcLayers = Stack<OversizedLayer, Stack<DrainLayer, Stack<GrpcServerLayer, Identity>>>;

/// A tonic router with [`GrpcLayers`].
pub type GrpcRouter = Router<GrpcLayers>;

/// A router with health and reflection (v1 for grpcurl, v1alpha for clients that only speak
/// it, e.g. Python's grpcio-reflection) already added, and the layers around every service;
/// the reporter sets per-service SERVING / NOT_SERVING (see [`crate::health`]).
///
/// # Panics
/// Never in practice: the descriptor sets are generated at build time and always parse.
pub(crate) fn router(stopping: Stopping) -> (HealthReporter, GrpcRouter) {
    let (health, health_service) = tonic_health::server::health_reporter();
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(tanksim_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    #[allow(clippy::expect_used)]
    let (v1, v1alpha) = (
        reflection().build_v1().expect("tanksim descriptors parse"),
        reflection().build_v1alpha().expect("tanksim descriptors parse"),
    );
    let router = Server::builder()
        // Around every service, so each call is seen as the client sees it: the caller's
        // trace context in the metadata becomes the parent of the call's span (which the
        // handler runs in), and the status code is read from the response the client
        // gets. Health and reflection are metered but not traced (probes would drown the
        // traces).
        .layer(GrpcServerLayer::new(grpc_methods().as_ref().clone()))
        // Inside the telemetry layer, so a stream ended by the shutdown is counted and traced
        // with the UNAVAILABLE its client gets.
        .layer(DrainLayer::new(stopping, grpc_methods()))
        // Inside the telemetry layer, so metrics and spans record the code the client gets:
        // RESOURCE_EXHAUSTED, not the codec's OUT_OF_RANGE, for an oversized message.
        .layer(OversizedLayer)
        .add_service(health_service)
        .add_service(v1)
        .add_service(v1alpha);
    (health, router)
}
