//! Compiles `proto/` with protox (no system `protoc` needed) into tonic clients and servers,
//! generates proto3-JSON serde implementations (pbjson: the job-spec format is the JSON of
//! `SubmitJobRequest`), and writes the file descriptor set that gRPC reflection serves.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        "tanksim/v1/config.proto",
        "tanksim/v1/job.proto",
        "tanksim/v1/job_service.proto",
        "tanksim/v1/simulation_service.proto",
        "tanksim/internal/v1/summary.proto",
        "tanksim/internal/v1/dispatcher_service.proto",
        "tanksim/internal/v1/results_service.proto",
    ];
    for f in &files {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }
    let fds = protox::compile(files, [&root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let descriptor = prost::Message::encode_to_vec(&fds);
    std::fs::write(out.join("tanksim_descriptor.bin"), &descriptor)?;
    // Well-known types from pbjson-types: prost-compatible and serde-enabled (Timestamp).
    tonic_prost_build::configure()
        .extern_path(".google.protobuf.Timestamp", "::pbjson_types::Timestamp")
        .compile_fds(fds)?;
    pbjson_build::Builder::new().register_descriptors(&descriptor)?.build(&[".tanksim"])?;
    Ok(())
}
