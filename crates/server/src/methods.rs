//! The gRPC methods tanksim serves and calls, with their streaming types: what the telemetry
//! layers label calls with (`grpc_type`). Decoded once from the generated descriptor sets.

use std::sync::{Arc, OnceLock};

use tanksim_telemetry::grpc::Methods;

/// Every tanksim method (public and internal API) and the standard health service, decoded
/// on first use and shared. Clients pass it to [`tanksim_telemetry::grpc::traced_channel`].
pub fn grpc_methods() -> Arc<Methods> {
    static METHODS: OnceLock<Arc<Methods>> = OnceLock::new();
    Arc::clone(METHODS.get_or_init(|| {
        Arc::new(Methods::from_descriptor_sets(&[
            tanksim_proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ]))
    }))
}

#[cfg(test)]
mod tests {
    use tanksim_telemetry::grpc::GrpcType;

    use super::*;

    #[test]
    fn knows_the_streaming_methods_of_every_service() {
        let methods = grpc_methods();
        let kind = |path: &str| methods.classify(path).grpc_type;
        assert_eq!(kind("/tanksim.v1.JobService/WatchJob"), GrpcType::ServerStream);
        assert_eq!(kind("/tanksim.v1.JobService/ExportRuns"), GrpcType::ServerStream);
        assert_eq!(kind("/tanksim.v1.JobService/SubmitJob"), GrpcType::Unary);
        assert_eq!(kind("/tanksim.internal.v1.ResultsService/ReportChunk"), GrpcType::Unary);
        assert_eq!(kind("/grpc.health.v1.Health/Watch"), GrpcType::ServerStream);
        assert!(Arc::ptr_eq(&methods, &grpc_methods()), "decoded once");
    }
}
