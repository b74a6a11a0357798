//! What every tanksim gRPC service shares.
//!
//! - [`shell`]: the [`Shell`] each service runs in: a router with health, reflection (v1 and
//!   v1alpha) and the telemetry layer ([`serve`]), served on an already-bound listener (tests
//!   bind `127.0.0.1:0`, binaries their configured address) until a shutdown future resolves,
//!   then a drain bounded by a grace period ([`ShutdownArgs`]).
//! - [`drain`]: open server streams end with UNAVAILABLE when the drain begins.
//! - [`deadline`]: every call answers within its client's deadline, at most 60 s
//!   (DEADLINE_EXCEEDED; a layer of [`serve`]'s router).
//! - [`methods`]: the gRPC methods tanksim serves and calls, for the telemetry layers
//!   ([`grpc_methods`]; clients wrap their channels with it).
//! - [`health`]: SERVING only while the service's dependencies answer.
//! - [`signals`]: SIGTERM / SIGINT as a future.
//! - [`args`]: settings parsing that exits 64 on invalid configuration; the shutdown option.
//! - [`limits`]: the limits every service enforces ([`LimitsArgs`]), one set of options.
//! - [`status_rewrite`]: status codes rewritten on the wire; a message over the size limit
//!   answers RESOURCE_EXHAUSTED (a layer of [`serve`]'s router).
//! - [`status`]: the one mapping of broker errors to gRPC status codes.
//! - [`job`]: a stored job's status in API form.
//! - [`tenant`]: the tenant a call acts for, from the gateway to the internal services.
//! - [`quotas`]: per-tenant quotas and rate limits ([`QuotasArgs`]), one set of options for
//!   the gateway and the dispatcher, with a quotas file re-read when it changes.
//! - [`reload`]: values read from files (keys, certificates) and swapped in when they change.
//! - [`tls`]: TLS on the public port, mTLS between the services with each peer's role checked.

pub mod args;
pub mod deadline;
pub mod drain;
pub mod health;
pub mod job;
pub mod limits;
pub mod methods;
pub mod quotas;
pub mod reload;
pub mod serve;
pub mod shell;
pub mod signals;
pub mod status;
pub mod status_rewrite;
pub mod tenant;
pub mod tls;

pub use args::{DEFAULT_SHUTDOWN_GRACE, EXIT_CONFIG, ShutdownArgs, parse_or_exit};
pub use drain::{SHUTTING_DOWN, Stopping, stopped};
pub use limits::LimitsArgs;
pub use methods::grpc_methods;
pub use quotas::{QuotaBook, QuotasArgs};
pub use serve::{GrpcLayers, GrpcRouter};
pub use shell::{Listener, Shell};
pub use signals::shutdown_signal;
pub use status::broker_status;
