//! `ListJobs`: jobs newest first, a page at a time. The page token is the hex of
//! `"<submitted_at_ms>:<id>"` of the last job on the previous page: opaque to clients, stable
//! across replicas and restarts (it names a position, not a server-side cursor).

use tanksim_broker::JobStore;
use tanksim_proto::v1::{ListJobsRequest, ListJobsResponse};
use tanksim_server::job::job_to_proto;

use crate::error::Error;
use crate::shared::Shared;

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 1000;

pub(crate) async fn list_jobs<S: JobStore>(
    shared: &Shared<S>,
    req: ListJobsRequest,
) -> Result<ListJobsResponse, Error> {
    let size = match usize::try_from(req.page_size).unwrap_or(MAX_PAGE) {
        0 => DEFAULT_PAGE,
        // Larger requests are served the largest page (AIP-158), not refused.
        n => n.min(MAX_PAGE),
    };
    let before = if req.page_token.is_empty() { None } else { Some(decode_token(&req.page_token)?) };
    // One extra tells whether another page follows.
    let mut jobs = shared.store.list_jobs(before, size + 1).await?;
    let more = jobs.len() > size;
    jobs.truncate(size);
    let next_page_token = match jobs.last() {
        Some(last) if more => encode_token(last.submitted_at_ms, &last.id),
        _ => String::new(),
    };
    Ok(ListJobsResponse { jobs: jobs.iter().map(job_to_proto).collect(), next_page_token })
}

fn encode_token(ms: u64, id: &str) -> String {
    format!("{ms}:{id}").bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_token(token: &str) -> Result<(u64, String), Error> {
    let bad = || Error::invalid("page_token", "not a token from a previous ListJobs response");
    if !token.len().is_multiple_of(2) || token.len() > 256 {
        return Err(bad());
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| token.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(bad)?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (ms, id) = text.split_once(':').ok_or_else(bad)?;
    let ms = ms.parse().map_err(|_| bad())?;
    if id.is_empty() {
        return Err(bad());
    }
    Ok((ms, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_rejected() {
        let token = encode_token(1_700_000_000_123, "0199-abc");
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(decode_token(&token).expect("valid"), (1_700_000_000_123, "0199-abc".to_owned()));
        for bad in ["zz", "abc", "6869", &encode_token(1, "")] {
            assert!(
                matches!(decode_token(bad), Err(Error::InvalidArgument { field: "page_token", .. })),
                "{bad}"
            );
        }
    }
}
