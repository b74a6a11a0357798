//! tanksim's gRPC API, generated from `proto/` at build time.
//!
//! - [`v1`]: the public API (`tanksim.v1`): `JobService`, `SimulationService` and their
//!   messages; its proto3 JSON of `SubmitJobRequest` is the job-spec format.
//! - [`internal`]: services between tanksim's own components (`tanksim.internal.v1`):
//!   the dispatcher and the results service's chunk reports.
//! - [`FILE_DESCRIPTOR_SET`]: every file's descriptor, for gRPC server reflection.
//! - [`MAX_CHUNK_REPORT_BYTES`]: the size limit of a worker's chunk report.
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

/// The largest chunk report (`tanksim.internal.v1.ReportChunkRequest`): 64 MiB. The internal
/// contract between worker and results: the worker sends no larger report (and accepts no
/// larger reply), the results service decodes reports up to this size.
///
/// A Monte Carlo report is a few kilobytes (one summary); a sweep chunk's rows are ~150 bytes
/// per run; a dataset chunk carries each run's decimated trajectory, `4 * 8` bytes per kept
/// sample: 10,000 runs of 6,000 steps kept every 50th sample are ~40 MB. gRPC's 4 MiB default
/// would refuse that. A report larger than this is not sent: the chunk is dead-lettered with a
/// reason saying to use smaller chunks or a coarser `record_every`. The dispatcher's chunk
/// size for row-carrying jobs keeps a chunk's rows well under it.
pub const MAX_CHUNK_REPORT_BYTES: usize = 64 << 20;
