//! tanksim's gRPC API, generated from `proto/` at build time.
//!
//! - [`v1`]: the public API (`tanksim.v1`): `JobService`, `SimulationService` and their
//!   messages; its proto3 JSON of `SubmitJobRequest` is the job-spec format.
//! - [`internal`]: services between tanksim's own components (`tanksim.internal.v1`):
//!   the dispatcher and the results service's chunk reports.
//! - [`FILE_DESCRIPTOR_SET`]: every file's descriptor, for gRPC server reflection.

/// `tanksim.v1`.
#[allow(clippy::all, missing_docs, unreachable_pub, missing_debug_implementations)]
pub mod v1 {
    tonic::include_proto!("tanksim.v1");
}

/// `tanksim.internal.v1`.
pub mod internal {
    /// `tanksim.internal.v1`.
    #[allow(clippy::all, missing_docs, unreachable_pub, missing_debug_implementations)]
    pub mod v1 {
        tonic::include_proto!("tanksim.internal.v1");
    }
}

/// The encoded `FileDescriptorSet` of every tanksim proto (for reflection services).
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("tanksim_descriptor");
