//! What a request path names: `/<package.Service>/<Method>` with its streaming type, from the
//! services' descriptor sets; and gRPC status codes by their conventional names.

use std::collections::HashMap;

use prost::Message;

/// The `grpc_type` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrpcType {
    Unary,
    ServerStream,
    ClientStream,
    BidiStream,
}

impl GrpcType {
    pub fn as_str(self) -> &'static str {
        match self {
            GrpcType::Unary => "unary",
            GrpcType::ServerStream => "server_stream",
            GrpcType::ClientStream => "client_stream",
            GrpcType::BidiStream => "bidi_stream",
        }
    }

    fn of(client_streaming: bool, server_streaming: bool) -> Self {
        match (client_streaming, server_streaming) {
            (false, false) => GrpcType::Unary,
            (false, true) => GrpcType::ServerStream,
            (true, false) => GrpcType::ClientStream,
            (true, true) => GrpcType::BidiStream,
        }
    }
}

/// Streaming types of the methods a process serves or calls, by path.
#[derive(Debug, Clone, Default)]
pub struct Methods {
    types: HashMap<String, GrpcType>,
}

/// A request path split into its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Method {
    /// `tanksim.v1.JobService`
    pub service: String,
    /// `SubmitJob`
    pub method: String,
    pub grpc_type: GrpcType,
}

impl Methods {
    /// The methods of every service in `sets` (encoded `FileDescriptorSet`s, as tonic's build
    /// emits them). Sets that do not decode are skipped (their methods count as unary).
    pub fn from_descriptor_sets(sets: &[&[u8]]) -> Self {
        let mut types = HashMap::new();
        for set in sets {
            let Ok(set) = prost_types::FileDescriptorSet::decode(*set) else { continue };
            for file in &set.file {
                let package = file.package();
                for service in &file.service {
                    let full = if package.is_empty() {
                        service.name().to_owned()
                    } else {
                        format!("{package}.{}", service.name())
                    };
                    for m in &service.method {
                        types.insert(
                            format!("/{full}/{}", m.name()),
                            GrpcType::of(m.client_streaming(), m.server_streaming()),
                        );
                    }
                }
            }
        }
        Methods { types }
    }

    /// The labels of a request path. Unknown methods count as unary, except the standard
    /// health `Watch` (server stream) and reflection (bidirectional stream).
    pub fn classify(&self, path: &str) -> Method {
        let trimmed = path.trim_start_matches('/');
        let (service, method) = trimmed.split_once('/').unwrap_or(("unknown", trimmed));
        let grpc_type = self.types.get(path).copied().unwrap_or(match (service, method) {
            ("grpc.health.v1.Health", "Watch") => GrpcType::ServerStream,
            (s, _) if s.starts_with("grpc.reflection.") => GrpcType::BidiStream,
            _ => GrpcType::Unary,
        });
        Method { service: service.to_owned(), method: method.to_owned(), grpc_type }
    }
}

/// The status code's name as grpc-go prints it (the `grpc_code` label values of community
/// dashboards): `OK`, `Canceled`, `InvalidArgument`, ...
pub fn code_name(code: i32) -> &'static str {
    match code {
        0 => "OK",
        1 => "Canceled",
        2 => "Unknown",
        3 => "InvalidArgument",
        4 => "DeadlineExceeded",
        5 => "NotFound",
        6 => "AlreadyExists",
        7 => "PermissionDenied",
        8 => "ResourceExhausted",
        9 => "FailedPrecondition",
        10 => "Aborted",
        11 => "OutOfRange",
        12 => "Unimplemented",
        13 => "Internal",
        14 => "Unavailable",
        15 => "DataLoss",
        16 => "Unauthenticated",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> Vec<u8> {
        use prost_types::{
            FileDescriptorProto, FileDescriptorSet, MethodDescriptorProto, ServiceDescriptorProto,
        };
        let method = |name: &str, server_streaming| MethodDescriptorProto {
            name: Some(name.into()),
            server_streaming: Some(server_streaming),
            ..Default::default()
        };
        FileDescriptorSet {
            file: vec![FileDescriptorProto {
                package: Some("tanksim.v1".into()),
                service: vec![ServiceDescriptorProto {
                    name: Some("JobService".into()),
                    method: vec![method("SubmitJob", false), method("WatchJob", true)],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec()
    }

    #[test]
    fn paths_split_into_service_method_and_type() {
        let bytes = set();
        let methods = Methods::from_descriptor_sets(&[&bytes, b"not a descriptor set \xff"]);
        let m = methods.classify("/tanksim.v1.JobService/WatchJob");
        assert_eq!(
            (m.service.as_str(), m.method.as_str(), m.grpc_type),
            ("tanksim.v1.JobService", "WatchJob", GrpcType::ServerStream)
        );
        assert_eq!(methods.classify("/tanksim.v1.JobService/SubmitJob").grpc_type, GrpcType::Unary);
        assert_eq!(methods.classify("/grpc.health.v1.Health/Watch").grpc_type, GrpcType::ServerStream);
        assert_eq!(methods.classify("/grpc.health.v1.Health/Check").grpc_type, GrpcType::Unary);
        assert_eq!(
            methods.classify("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo").grpc_type,
            GrpcType::BidiStream
        );
        assert_eq!(methods.classify("nonsense").service, "unknown");
    }

    #[test]
    fn codes_have_grpc_go_names() {
        assert_eq!(code_name(0), "OK");
        assert_eq!(code_name(3), "InvalidArgument");
        assert_eq!(code_name(14), "Unavailable");
        assert_eq!(code_name(99), "Unknown");
    }
}
