//! `ListJobs`: the caller's tenant's jobs newest first, a page at a time (at most
//! [`MAX_PAGE_BYTES`] of them). The page token is the hex of
//! `"<submitted_at_ms>:<id>"` of the last job on the previous page: opaque to clients, stable
//! across replicas and restarts (it names a position, not a server-side cursor).

use tanksim_broker::JobStore;
use tanksim_proto::convert::MAX_PAGE_TOKEN_BYTES;
use tanksim_proto::v1::{ListJobsRequest, ListJobsResponse};
use tanksim_server::job::job_to_proto;

use crate::error::Error;
use crate::shared::Shared;

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 1000;

/// Most bytes of jobs on one page: a page always fits a client's default 4 MiB receive
/// limit, whatever the jobs' names (bounded themselves) and however many were asked for.
pub(crate) const MAX_PAGE_BYTES: usize = 1 << 20;

/// `tenant`'s jobs, newest first.
pub(crate) async fn list_jobs<S: JobStore>(
    shared: &Shared<S>,
    tenant: &str,
    req: ListJobsRequest,
) -> Result<ListJobsResponse, Error> {
    let size = match usize::try_from(req.page_size).unwrap_or(MAX_PAGE) {
        0 => DEFAULT_PAGE,
        // Larger requests are served the largest page (AIP-158), not refused.
        n => n.min(MAX_PAGE),
    };
    let before = if req.page_token.is_empty() { None } else { Some(decode_token(&req.page_token)?) };
    // One extra tells whether another page follows.
    let mut jobs = shared.store.list_jobs(tenant, before, size + 1).await?;
    let mut more = jobs.len() > size;
    jobs.truncate(size);
    let page = within_bytes(jobs.iter().map(job_to_proto), MAX_PAGE_BYTES);
    more |= page.len() < jobs.len();
    let last = jobs.get(page.len().saturating_sub(1));
    let next_page_token = match last {
        Some(last) if more => encode_token(last.submitted_at_ms, &last.id),
        _ => String::new(),
    };
    Ok(ListJobsResponse { jobs: page, next_page_token })
}

/// The leading jobs whose encoding fits `budget` bytes, and at least one (so paging always
/// moves on).
fn within_bytes(
    jobs: impl Iterator<Item = tanksim_proto::v1::Job>,
    budget: usize,
) -> Vec<tanksim_proto::v1::Job> {
    let mut page = Vec::new();
    let mut bytes = 0;
    for job in jobs {
        // The job's bytes and its field header in the response.
        bytes += prost::Message::encoded_len(&job) + 4;
        if bytes > budget && !page.is_empty() {
            break;
        }
        page.push(job);
    }
    page
}

fn encode_token(ms: u64, id: &str) -> String {
    format!("{ms}:{id}").bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_token(token: &str) -> Result<(u64, String), Error> {
    let bad = || Error::invalid("page_token", "not a token from a previous ListJobs response");
    if !token.len().is_multiple_of(2) || token.len() > MAX_PAGE_TOKEN_BYTES {
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
    // A forged token's id would reach the store's range query: only real ids pass.
    if tanksim_proto::convert::check_job_id("page_token", id).is_err() {
        return Err(bad());
    }
    Ok((ms, id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_stops_at_its_byte_budget_but_always_holds_one_job() {
        let job = |i: usize| tanksim_proto::v1::Job {
            id: format!("j{i}"),
            name: "n".repeat(100),
            ..Default::default()
        };
        let size = prost::Message::encoded_len(&job(0)) + 4;
        let ids = |page: Vec<tanksim_proto::v1::Job>| page.into_iter().map(|j| j.id).collect::<Vec<_>>();
        assert_eq!(ids(within_bytes((0..10).map(job), 3 * size)), ["j0", "j1", "j2"]);
        assert_eq!(ids(within_bytes((0..10).map(job), 3 * size - 1)), ["j0", "j1"]);
        assert_eq!(ids(within_bytes((0..10).map(job), 1)), ["j0"], "one job even over the budget");
        assert_eq!(within_bytes((0..2).map(job), MAX_PAGE_BYTES).len(), 2);
    }

    #[test]
    fn tokens_round_trip_and_garbage_is_rejected() {
        let token = encode_token(1_700_000_000_123, "0199-abc");
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(decode_token(&token).expect("valid"), (1_700_000_000_123, "0199-abc".to_owned()));
        let too_long = "ab".repeat(MAX_PAGE_TOKEN_BYTES / 2 + 1);
        for bad in ["zz", "abc", "6869", &encode_token(1, ""), &encode_token(1, "a*"), &too_long] {
            assert!(
                matches!(decode_token(bad), Err(Error::InvalidArgument { field: "page_token", .. })),
                "{bad}"
            );
        }
    }
}
