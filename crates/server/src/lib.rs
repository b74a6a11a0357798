//! What every tanksim gRPC service shares.
//!
//! - [`serve`]: run a tonic router on an already-bound listener until a shutdown future
//!   resolves, with the standard health service and server reflection (v1 and v1alpha)
//!   added, so tests bind `127.0.0.1:0` and binaries bind their configured address; every
//!   call traced and metered by the telemetry layer.
//! - [`methods`]: the gRPC methods tanksim serves and calls, for the telemetry layers
//!   ([`grpc_methods`]; clients wrap their channels with it).
//! - [`health`]: SERVING only while the service's dependencies answer.
//! - [`signals`]: SIGTERM / SIGINT as a future.
//! - [`args`]: settings parsing that exits 64 on invalid configuration.
//! - [`job`]: a stored job's status in API form.

pub mod args;
pub mod health;
pub mod job;
pub mod methods;
pub mod serve;
pub mod signals;

pub use args::{EXIT_CONFIG, parse_or_exit};
pub use methods::grpc_methods;
pub use serve::{GrpcBasics, GrpcLayers, GrpcRouter, serve};
pub use signals::shutdown_signal;
