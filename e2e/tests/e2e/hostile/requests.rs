//! Hostile arguments of the calls that read jobs (categories 4-5): ids, GetJobResults bounds,
//! forged page tokens.

use super::*;

/// Ids no job can have (`validation` covers "", `*`, `?`, `[a-z]*`, `/`, `..`, 65 letters).
pub(super) fn hostile_ids() -> Vec<(&'static str, String)> {
    vec![
        ("a percent sign", "%".into()),
        ("URL-encoded ../", "%2e%2e%2f".into()),
        ("a NUL", "\0".into()),
        ("a NUL inside", "0199b8a2\0.json".into()),
        ("non-ASCII letters", "caf\u{e9}-\u{65e5}\u{672c}".into()),
        ("an emoji", "\u{1f680}".into()),
        ("10 KiB", "x".repeat(10 << 10)),
        ("SQL", "' OR 1=1 --".into()),
        ("a space", "job id".into()),
        ("CRLF and a header", "job\r\nx-tenant: other".into()),
        ("shell", "$(id)".into()),
        ("a Redis key pattern", "tanksim:job:*".into()),
        ("a dot", "job.json".into()),
        ("a Windows path", "..\\..\\windows".into()),
    ]
}

/// Each call taking a job id, with `id`: its name and how it ended.
pub(super) async fn id_calls(client: &mut api::Client, id: &str) -> Vec<(&'static str, Result<(), Status>)> {
    let id = || id.to_owned();
    vec![
        ("GetJob", timed(client.get_job(GetJobRequest { id: id() })).await.map(|_| ())),
        ("WatchJob", timed(client.watch_job(WatchJobRequest { id: id() })).await.map(|_| ())),
        ("CancelJob", timed(client.cancel_job(CancelJobRequest { id: id() })).await.map(|_| ())),
        (
            "GetJobResults",
            timed(client.get_job_results(GetJobResultsRequest { id: id(), ..Default::default() }))
                .await
                .map(|_| ()),
        ),
        ("ExportRuns", timed(client.export_runs(ExportRunsRequest { id: id() })).await.map(|_| ())),
    ]
}

/// GetJobResults' histogram bins (at most 200) and sweep points (at most 100,000): beyond is
/// refused, not clamped; at the maxima an unknown job is just not found.
pub(super) fn results_bounds() -> Vec<(&'static str, GetJobResultsRequest, Expect)> {
    let request = |histogram_bins, max_points| GetJobResultsRequest {
        id: UNKNOWN_ID.to_owned(),
        histogram_bins,
        max_points,
    };
    vec![
        ("histogram_bins u32::MAX", request(u32::MAX, 0), Expect::Invalid(&["histogram_bins"])),
        ("histogram_bins 201", request(201, 0), Expect::Invalid(&["histogram_bins"])),
        ("max_points u32::MAX", request(0, u32::MAX), Expect::Invalid(&["max_points"])),
        ("both at their maximum", request(200, 100_000), Expect::Code(Code::NotFound)),
    ]
}

/// `text` as lowercase hex, the encoding of ListJobs' page tokens.
pub(super) fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Page tokens ListJobs never made: garbage, and real tokens (hex of `<ms>:<id>`) tampered
/// with (`validation` covers one 400 bytes long).
pub(super) fn forged_tokens() -> Vec<(&'static str, String)> {
    vec![
        ("random base64", "SGVsbG8sIHdvcmxkIQ==".into()),
        ("an odd length", "abc".into()),
        ("non-ASCII", "\u{e9}".repeat(64)),
        ("256 bytes decoding to invalid UTF-8", "fe".repeat(128)),
        ("256 bytes decoding to NULs", "00".repeat(128)),
        ("a glob for the id", hex("1700000000000:a*")),
        ("a path for the id", hex("1700000000000:../../etc/passwd")),
        ("an empty id", hex("1700000000000:")),
        ("no separator", hex("1700000000000")),
        ("a time that is not a number", hex("soon:0199b8a2")),
        ("a time past u64", hex("99999999999999999999999:0199b8a2")),
        ("258 bytes", hex(&format!("1:{}", "x".repeat(127)))),
    ]
}
