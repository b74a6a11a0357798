//! Serving a tonic router on a bound listener, with health and reflection, every call traced
//! and metered.

use std::future::Future;

use tanksim_telemetry::grpc::GrpcServerLayer;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;
use tonic::transport::server::Router;
use tonic_health::server::HealthReporter;
use tower::layer::util::{Identity, Stack};

use crate::methods::grpc_methods;

/// The middleware every tanksim server runs its services in (see [`GrpcBasics::router`]).
pub type GrpcLayers = Stack<GrpcServerLayer, Identity>;

/// A tonic router with [`GrpcLayers`]: what [`GrpcBasics::router`] returns and [`serve`] takes.
pub type GrpcRouter = Router<GrpcLayers>;

/// The services every tanksim server carries besides its own: health and reflection.
#[derive(Debug, Clone)]
pub struct GrpcBasics {
    /// Sets per-service SERVING / NOT_SERVING (see [`crate::health`]).
    pub health: HealthReporter,
}

impl GrpcBasics {
    /// A server builder with health and reflection (v1 for grpcurl, v1alpha for clients
    /// that only speak it, e.g. Python's grpcio-reflection) already added, and the telemetry
    /// layer around every service.
    ///
    /// # Panics
    /// Never in practice: the descriptor sets are generated at build time and always parse.
    pub fn router() -> (GrpcBasics, GrpcRouter) {
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
            .add_service(health_service)
            .add_service(v1)
            .add_service(v1alpha);
        (GrpcBasics { health }, router)
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and lets
/// in-flight calls finish.
pub async fn serve(
    router: GrpcRouter,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    router.serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown).await
}
