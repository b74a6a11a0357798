//! Compiles `proto/` with protox (no system `protoc` needed) into tonic clients and servers,
//! and writes the file descriptor set that gRPC reflection serves.

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
    std::fs::write(out.join("tanksim_descriptor.bin"), prost::Message::encode_to_vec(&fds))?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
