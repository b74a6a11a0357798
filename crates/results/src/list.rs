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

/// Page tokens, fuzzed. `decode_token` answers every string without panicking (any unicode,
/// the hex of any bytes up to twice [`MAX_PAGE_TOKEN_BYTES`], forged and damaged tokens); every
/// refusal is INVALID_ARGUMENT with a `BadRequest` naming `page_token` and nothing else; every
/// token `encode_token` makes decodes back to its position; and whatever decodes carries an id
/// that passes `check_job_id`, so no token smuggles glob or path characters to the store.
#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;
    use proptest::sample::Index;
    use tanksim_proto::convert::{MAX_JOB_ID_BYTES, check_job_id};
    use tonic::{Code, Status};
    use tonic_types::StatusExt;

    use super::*;

    /// `token` decoded, the answer checked: a refusal is INVALID_ARGUMENT naming only
    /// `page_token`; an acceptance holds a job id and survives encoding again.
    fn decode_checked(token: &str) -> Result<Option<(u64, String)>, TestCaseError> {
        match decode_token(token) {
            Ok((ms, id)) => {
                prop_assert!(check_job_id("page_token", &id).is_ok(), "{:?} smuggled id {:?}", token, id);
                prop_assert_eq!(decode_token(&encode_token(ms, &id)).ok(), Some((ms, id.clone())));
                Ok(Some((ms, id)))
            }
            Err(e) => {
                prop_assert!(
                    matches!(&e, Error::InvalidArgument { field: "page_token", .. }),
                    "{:?}: {:?}",
                    token,
                    e
                );
                let status = Status::from(e);
                prop_assert_eq!(status.code(), Code::InvalidArgument);
                let detail = status
                    .get_details_bad_request()
                    .ok_or_else(|| TestCaseError::fail(format!("{token:?}: no BadRequest detail")))?;
                let fields: Vec<&str> = detail.field_violations.iter().map(|v| v.field.as_str()).collect();
                prop_assert_eq!(fields, vec!["page_token"]);
                Ok(None)
            }
        }
    }

    fn hex(bytes: &[u8], upper: bool) -> String {
        bytes.iter().map(|b| if upper { format!("{b:02X}") } else { format!("{b:02x}") }).collect()
    }

    /// Any string: any characters (controls and multi-byte ones included), hex-ish text, and
    /// the hex of any bytes (in either case) within the limit and up to twice past it.
    fn any_token() -> impl Strategy<Value = String> {
        let bytes = |max: usize| (prop::collection::vec(any::<u8>(), 0..=max), any::<bool>());
        prop_oneof![
            prop::collection::vec(any::<char>(), 0..300)
                .prop_map(|chars| chars.into_iter().collect::<String>()),
            "[0-9a-fA-F+-]{0,300}",
            bytes(MAX_PAGE_TOKEN_BYTES / 2).prop_map(|(b, upper)| hex(&b, upper)),
            bytes(2 * MAX_PAGE_TOKEN_BYTES).prop_map(|(b, upper)| hex(&b, upper)),
        ]
    }

    /// Timestamps as text: real ones, too many digits, leading zeros (long tokens of a valid
    /// position), signs and other near-numbers.
    fn ms_text() -> impl Strategy<Value = String> {
        prop_oneof![
            2 => any::<u64>().prop_map(|n| n.to_string()),
            1 => "[0-9]{0,25}",
            1 => "0{0,200}[0-9]{1,19}",
            1 => "[-+ 0-9a-fxe.]{0,8}",
        ]
    }

    /// Ids as text: job ids (and too long ones), glob and path characters, any text.
    fn id_text() -> impl Strategy<Value = String> {
        prop_oneof![
            2 => "[A-Za-z0-9_-]{0,80}",
            2 => r"[A-Za-z0-9_*?\[\]{}/\\.:, -]{0,80}",
            1 => "\\PC{0,40}",
        ]
    }

    fn job_id() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_-]{1,64}"
    }

    fn any_ms() -> impl Strategy<Value = u64> {
        prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any string is a position or refused as a bad `page_token`, never a panic; odd and
        /// over-long ones are always refused.
        #[test]
        fn any_string_is_a_position_or_a_bad_page_token(token in any_token()) {
            let decoded = decode_checked(&token)?;
            if token.len() > MAX_PAGE_TOKEN_BYTES || !token.len().is_multiple_of(2) {
                prop_assert_eq!(decoded, None);
            }
        }

        /// Every token the service hands out is within the limit, lowercase hex, and decodes to
        /// its position.
        #[test]
        fn tokens_round_trip(ms in any_ms(), id in job_id()) {
            prop_assert!(id.len() <= MAX_JOB_ID_BYTES && check_job_id("id", &id).is_ok());
            let token = encode_token(ms, &id);
            prop_assert!(token.len() <= MAX_PAGE_TOKEN_BYTES, "{} bytes", token.len());
            prop_assert!(token.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')), "{}", token);
            prop_assert_eq!(decode_checked(&token)?, Some((ms, id)));
        }

        /// A forged `<ms>:<id>` token decodes exactly when it is within the limit, `ms` is a
        /// u64 and `id` a job id: no glob, path or non-ASCII character reaches the store.
        #[test]
        fn forged_tokens_decode_only_to_job_ids(ms in ms_text(), id in id_text(), upper in any::<bool>()) {
            let token = hex(format!("{ms}:{id}").as_bytes(), upper);
            let expected = match ms.parse::<u64>() {
                Ok(n) if token.len() <= MAX_PAGE_TOKEN_BYTES && check_job_id("page_token", &id).is_ok() => {
                    Some((n, id.clone()))
                }
                _ => None,
            };
            prop_assert_eq!(decode_checked(&token)?, expected);
        }

        /// A valid token with one hex digit changed is refused or decodes to another valid
        /// position, never a panic.
        #[test]
        fn a_changed_hex_digit_is_refused_or_another_position(
            ms in any_ms(),
            id in job_id(),
            at in any::<Index>(),
            flip in 1u32..16,
            upper in any::<bool>(),
        ) {
            let original = encode_token(ms, &id);
            let mut digits: Vec<char> = original.chars().collect();
            let i = at.index(digits.len());
            let digit = digits[i].to_digit(16).ok_or_else(|| TestCaseError::fail("not a hex digit"))?;
            let changed =
                char::from_digit(digit ^ flip, 16).ok_or_else(|| TestCaseError::fail("not a digit"))?;
            digits[i] = if upper { changed.to_ascii_uppercase() } else { changed };
            let token: String = digits.into_iter().collect();
            prop_assert_ne!(token.to_ascii_lowercase(), original);
            prop_assert_ne!(decode_checked(&token)?, Some((ms, id)));
        }
    }
}
