//! Raw bytes on the gRPC and admin ports (category 6): what the server must answer, and how an
//! exchange is judged.

use super::*;

/// What the server must do with a raw exchange, within [`WIRE_LIMIT`].
#[derive(Debug, Clone, Copy)]
pub(super) enum Answer {
    /// Close the connection (EOF or reset), whatever it sent before.
    Closed,
    /// Send an HTTP/2 SETTINGS frame (and wait for the rest of the preface).
    Settings,
    /// Answer with this HTTP/1.1 status.
    Status(u16),
    /// Answer with an HTTP/1.1 error status (4xx, 5xx), or close without answering.
    ErrorOrClosed,
}

/// One raw exchange: bytes to send, then EOF or silence.
#[derive(Debug)]
pub(super) struct WireCase {
    pub(super) name: &'static str,
    pub(super) payload: Vec<u8>,
    /// Close the write half after the payload (else keep the connection open, silent).
    pub(super) eof: bool,
    pub(super) answer: Answer,
}

pub(super) fn wire(name: &'static str, payload: impl Into<Vec<u8>>, eof: bool, answer: Answer) -> WireCase {
    WireCase { name, payload: payload.into(), eof, answer }
}

/// `len` pseudo-random bytes from `seed`; the first is 0, which starts neither an HTTP/2
/// preface nor an HTTP/1 method.
pub(super) fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = tanksim_e2e::bench::Rng::new(seed);
    let mut bytes: Vec<u8> = (0..len).map(|_| (rng.next_u64() >> 32) as u8).collect();
    if let Some(first) = bytes.first_mut() {
        *first = 0;
    }
    bytes
}

/// The HTTP/2 client preface followed by one frame: 24-bit length, type, flags, stream id
/// (`length` as given, whatever the payload's).
pub(super) fn after_preface(length: u32, kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = PREFACE.to_vec();
    out.extend_from_slice(&length.to_be_bytes()[1..]);
    out.extend_from_slice(&[kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The gRPC port serves HTTP/2 only: the server writes its SETTINGS first, then reads the
/// client's preface, and closes the connection on anything that is not HTTP/2.
pub(super) fn grpc_wire_cases() -> Vec<WireCase> {
    use Answer::{Closed, Settings};
    let grpc_post = "POST /tanksim.v1.JobService/SubmitJob HTTP/1.1\r\nHost: x\r\n\
        Content-Type: application/grpc\r\nTE: trailers\r\nContent-Length: 5\r\n\r\n\0\0\0\0\0";
    vec![
        wire("64 KiB of random bytes", noise(64 << 10, 1), false, Closed),
        wire("an HTTP/1.1 GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false, Closed),
        wire("a gRPC call over HTTP/1.1", grpc_post, false, Closed),
        wire("a truncated preface, then silence", &PREFACE[..16], false, Settings),
        wire("a truncated preface, then EOF", &PREFACE[..16], true, Closed),
        // Past the 16 KiB maximum frame size: FRAME_SIZE_ERROR for the connection.
        wire(
            "the preface and a 16 MiB DATA frame header",
            after_preface(0xff_ffff, 0x0, 0, 1, &[]),
            false,
            Closed,
        ),
        // SETTINGS payloads are 6-byte entries: PROTOCOL_ERROR for the connection.
        wire("the preface and a 5-byte SETTINGS frame", after_preface(5, 0x4, 0, 0, &[0; 5]), false, Closed),
        // HPACK state is per connection: a decoding error is a connection error
        // (COMPRESSION_ERROR). 0xff... is an indexed field whose index never ends.
        wire(
            "the preface and a HEADERS frame of corrupt HPACK",
            after_preface(16, 0x1, 0x5, 1, &[0xff; 16]),
            false,
            Closed,
        ),
    ]
}

/// The admin port serves HTTP/1.1 `GET /metrics` only.
pub(super) fn admin_wire_cases() -> Vec<WireCase> {
    use Answer::{ErrorOrClosed, Status};
    let request = |head: String| head.into_bytes();
    let many_headers: String = (0..1_000).map(|i| format!("X-H{i}: v\r\n")).collect();
    vec![
        wire("64 KiB of random bytes", noise(64 << 10, 2), false, ErrorOrClosed),
        wire(
            "POST /metrics",
            "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
            false,
            Status(405),
        ),
        wire("DELETE /metrics", "DELETE /metrics HTTP/1.1\r\nHost: x\r\n\r\n", false, Status(405)),
        wire(
            "GET /../../etc/passwd",
            "GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
            false,
            Status(404),
        ),
        wire(
            "a 100 KB header line without a colon",
            request(format!("GET /metrics HTTP/1.1\r\nHost: x\r\n{}\r\n\r\n", "a".repeat(100_000))),
            false,
            ErrorOrClosed,
        ),
        wire(
            "a 1 MiB header value",
            request(format!("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "b".repeat(1 << 20))),
            false,
            ErrorOrClosed,
        ),
        wire(
            "1,000 headers",
            request(format!("GET /metrics HTTP/1.1\r\nHost: x\r\n{many_headers}\r\n")),
            false,
            ErrorOrClosed,
        ),
        wire(
            "a 100 KB path",
            request(format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100_000))),
            false,
            ErrorOrClosed,
        ),
        wire("a NUL in the request line", "GET /metrics\0 HTTP/1.1\r\nHost: x\r\n\r\n", false, ErrorOrClosed),
        wire("the HTTP/2 preface", PREFACE, false, ErrorOrClosed),
        wire("a request line cut short, then EOF", "GET /metr", true, ErrorOrClosed),
    ]
}

/// What a raw exchange saw: the bytes the server sent, and whether it closed the connection.
#[derive(Debug)]
pub(super) struct Seen {
    pub(super) bytes: Vec<u8>,
    pub(super) closed: bool,
}

/// `host:port` of an `http://host:port` URL.
pub(super) fn authority(url: &str) -> &str {
    url.strip_prefix("http://").unwrap_or(url).trim_end_matches('/')
}

/// Whether `bytes` already settle `answer` (no need to wait for the close).
pub(super) fn enough(bytes: &[u8], answer: Answer) -> bool {
    match answer {
        Answer::Closed => false,
        Answer::Settings => bytes.len() >= 9,
        Answer::Status(_) | Answer::ErrorOrClosed => bytes.windows(2).any(|w| w == b"\r\n"),
    }
}

/// Sends `payload` to `addr` (then EOF if `eof`) while reading what comes back, until the
/// server closes the connection, its bytes settle `answer`, or [`WIRE_LIMIT`] passes. The
/// writer runs beside the reader, so a server that stops reading and answers (or closes)
/// cannot deadlock the exchange.
pub(super) async fn exchange(
    addr: &str,
    payload: Vec<u8>,
    eof: bool,
    answer: Answer,
) -> Result<Seen, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| format!("connecting to {addr}: {e}"))?;
    let (mut reader, mut writer) = stream.into_split();
    let write = tokio::spawn(async move {
        // A failed write (the server closed first) is fine: the reader sees the close.
        if writer.write_all(&payload).await.is_ok() && eof {
            let _ = writer.shutdown().await;
        }
        // Kept until the exchange is over: dropping it would end the stream (an EOF).
        writer
    });
    let deadline = Instant::now() + WIRE_LIMIT;
    let (mut bytes, mut buf) = (Vec::new(), vec![0; 16 << 10]);
    let result = loop {
        if enough(&bytes, answer) {
            break Ok(Seen { bytes, closed: false });
        }
        match tokio::time::timeout_at(deadline, reader.read(&mut buf)).await {
            Err(_) => {
                let got = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
                break Err(format!("neither answered nor closed within {WIRE_LIMIT:?} (got {got:?})"));
            }
            Ok(Ok(0) | Err(_)) => break Ok(Seen { bytes, closed: true }),
            // Enough to judge; the rest (a /metrics body) does not matter.
            Ok(Ok(n)) if bytes.len() < 64 << 10 => bytes.extend_from_slice(&buf[..n]),
            Ok(Ok(_)) => {}
        }
    };
    write.abort();
    result
}

/// The status of an HTTP/1.x status line at the start of `bytes`.
pub(super) fn http_status(bytes: &[u8]) -> Option<u16> {
    let line = bytes.split(|&b| b == b'\n').next()?;
    let mut words = std::str::from_utf8(line).ok()?.split_whitespace();
    words.next().filter(|v| v.starts_with("HTTP/1."))?;
    words.next()?.parse().ok()
}

/// Why `seen` is not `answer`; `None` if it is.
pub(super) fn judge_wire(what: &str, seen: Result<Seen, String>, answer: Answer) -> Option<String> {
    let seen = match seen {
        Ok(seen) => seen,
        Err(e) => return Some(format!("{what}: {e}")),
    };
    let start = String::from_utf8_lossy(&seen.bytes[..seen.bytes.len().min(80)]).into_owned();
    let ok = match answer {
        Answer::Closed => seen.closed,
        // A frame header: 24-bit length, then the type, 0x4 for SETTINGS.
        Answer::Settings => seen.bytes.get(3) == Some(&0x4),
        Answer::Status(code) => http_status(&seen.bytes) == Some(code),
        Answer::ErrorOrClosed => match http_status(&seen.bytes) {
            Some(code) => code >= 400,
            None => seen.closed,
        },
    };
    let how = if seen.closed { "then closed" } else { "connection open" };
    (!ok).then(|| format!("{what}: expected {answer:?}; got {} bytes, {how} ({start:?})", seen.bytes.len()))
}
