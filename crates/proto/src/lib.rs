//! tanksim's gRPC API, generated from `proto/` at build time.
//!
//! - [`v1`]: the public API (`tanksim.v1`): `JobService`, `SimulationService` and their
//!   messages; its proto3 JSON of `SubmitJobRequest` is the job-spec format.
//! - [`internal`]: services between tanksim's own components (`tanksim.internal.v1`):
//!   the dispatcher and the results service's chunk reports.
//! - [`FILE_DESCRIPTOR_SET`]: every file's descriptor, for gRPC server reflection.
//!
//! Every message implements serde's traits with the proto3 JSON mapping (pbjson), so a
//! `SubmitJobRequest` reads from the same JSON `grpcurl -d @` sends.

pub mod convert;

/// `tanksim.v1`.
#[allow(clippy::all, missing_docs, unreachable_pub, missing_debug_implementations)]
pub mod v1 {
    tonic::include_proto!("tanksim.v1");
    include!(concat!(env!("OUT_DIR"), "/tanksim.v1.serde.rs"));
}

/// `tanksim.internal.v1`.
pub mod internal {
    /// `tanksim.internal.v1`.
    #[allow(clippy::all, missing_docs, unreachable_pub, missing_debug_implementations)]
    pub mod v1 {
        tonic::include_proto!("tanksim.internal.v1");
        include!(concat!(env!("OUT_DIR"), "/tanksim.internal.v1.serde.rs"));
    }
}

/// The encoded `FileDescriptorSet` of every tanksim proto (for reflection services).
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("tanksim_descriptor");
