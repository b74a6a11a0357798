//! SubmitJob bodies that are not a SubmitJobRequest's protobuf (category 8), sent as they are
//! through a raw codec.

use super::*;

/// Sends its bytes as the request message unchanged, whatever they encode, and decodes the
/// answer as a `SubmitJobResponse`: a client that can put anything in the body.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct RawCodec;

#[derive(Debug)]
pub(super) struct RawEncoder;

#[derive(Debug)]
pub(super) struct ResponseDecoder;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = SubmitJobResponse;
    type Encoder = RawEncoder;
    type Decoder = ResponseDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> ResponseDecoder {
        ResponseDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for ResponseDecoder {
    type Item = SubmitJobResponse;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<SubmitJobResponse>, Status> {
        SubmitJobResponse::decode(src).map(Some).map_err(|e| Status::internal(format!("the answer: {e}")))
    }
}

/// `body` as the message of a `JobService/SubmitJob` call on `channel`.
pub(super) async fn submit_raw(channel: &Channel, body: Vec<u8>) -> Result<SubmitJobResponse, Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    timed(async move {
        if let Err(e) = grpc.ready().await {
            return Err(Status::unavailable(format!("the gateway is not reachable: {e}")));
        }
        let path = PathAndQuery::from_static("/tanksim.v1.JobService/SubmitJob");
        grpc.unary(tonic::Request::new(body), path, RawCodec).await
    })
    .await
}

pub(super) fn varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A protobuf field key: `field` with wire type `wire`.
pub(super) fn key(field: u64, wire: u64) -> Vec<u8> {
    let mut out = Vec::new();
    varint((field << 3) | wire, &mut out);
    out
}

/// A length-delimited field.
pub(super) fn ld(field: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = key(field, 2);
    varint(payload.len() as u64, &mut out);
    out.extend_from_slice(payload);
    out
}

/// Bodies tonic cannot decode as a `SubmitJobRequest` (tonic answers INTERNAL, "failed to
/// decode Protobuf message", as gRPC's status-code guide says for parse errors), and two that
/// decode to an empty request.
pub(super) fn malformed_bodies() -> Vec<(&'static str, Vec<u8>, Expect)> {
    let undecodable = Expect::Code(Code::Internal);
    // Field 100 is unknown to SubmitJobRequest: groups of it are skipped, recursively.
    let (start_group, end_group) = (key(100, 3), key(100, 4));
    // monte_carlo.params[0].choice.values, packed doubles, 3 bytes long.
    let choice = ld(1, &[0, 0, 0]);
    let entry = [ld(1, b"plant.tau"), ld(8, &choice)].concat();
    let short_doubles = ld(3, &ld(3, &entry));
    let mut stray_byte = mc_tau(1).encode_to_vec();
    stray_byte.push(0xff);
    let unknown_fields = [key(100, 0), vec![1], ld(101, b"junk")].concat();
    vec![
        // `config` (field 2, a message) sent as a varint.
        ("a message field sent as a varint", [key(2, 0), vec![1]].concat(), undecodable),
        ("a truncated varint", vec![0xff], undecodable),
        ("a 100-byte name of which 2 are sent", [key(1, 2), vec![100], b"ab".to_vec()].concat(), undecodable),
        ("a 4 GiB length prefix", [key(1, 2), vec![0xff, 0xff, 0xff, 0xff, 0x0f]].concat(), undecodable),
        ("a name that is not UTF-8", ld(1, &[0xff, 0xfe, 0xfd]), undecodable),
        ("field number 0", vec![0x00, 0x00], undecodable),
        ("200 nested groups (a stack bomb)", start_group.repeat(200), undecodable),
        ("an end-group tag without its group", end_group, undecodable),
        ("3 bytes of packed doubles", short_doubles, undecodable),
        ("a valid job then a stray byte", stray_byte, undecodable),
        // Unknown fields are skipped: an empty request, refused for what it lacks.
        ("unknown fields only", unknown_fields, Expect::Invalid(&["config", "job"])),
        ("an empty message", Vec::new(), Expect::Invalid(&["config", "job"])),
    ]
}
