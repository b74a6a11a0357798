//! Field violations: collecting them (bounded) while converting, and turning them into the
//! `INVALID_ARGUMENT` status with a `google.rpc.BadRequest` detail that clients decode.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// One invalid request field: its proto path in snake_case as a user writes it
/// (`config.plant.tau`, `monte_carlo.params[0].truncated_normal.sd`) and why.
///
/// The same type sim-core's validator reports, so its violations need only their paths
/// rewritten.
pub use tanksim_sim_core::validate::FieldViolation;

/// At most this many violations are kept per request and listed in a status; the rest are
/// summarised in one extra violation saying how many more there are. A 4 MB request can hold a
/// million bad list entries: a reason per entry would cost far more memory than the request,
/// and listing them all would make an error no client can receive (see [`bad_request_status`]).
pub const MAX_VIOLATIONS: usize = 50;

/// Bytes of field paths and reasons listed in the status detail (the first violation is always
/// listed). With [`MAX_TEXT_BYTES`] and [`MAX_MESSAGE_BYTES`] this keeps the whole error, as
/// headers, under ~6 KB: see [`bad_request_status`].
const MAX_DETAIL_BYTES: usize = 2560;

/// Bytes of one field path or reason in the detail (longer ones are cut, marked with `...`).
const MAX_TEXT_BYTES: usize = 512;

/// Bytes of the status message (cut, marked with `...`).
const MAX_MESSAGE_BYTES: usize = 256;

/// Violations named in the message (the rest are in the detail).
const IN_MESSAGE: usize = 3;

/// How a summary violation's reason starts and ends: `... and 99950 more violations, not
/// listed`. [`bad_request_status`] reads the count back, so a list already summarised by the
/// collector and cut again by the status's own limits still says how many were left out.
const MORE_PREFIX: &str = "... and ";
const MORE_SUFFIX: &str = " more violations, not listed";

/// The violation standing for `n` more, the first of which is at `field`.
fn more(n: u64, field: &str) -> FieldViolation {
    FieldViolation { field: clip(field, MAX_TEXT_BYTES), reason: format!("{MORE_PREFIX}{n}{MORE_SUFFIX}") }
}

/// How many violations `v` stands for: its count if it is a summary, else 1.
fn count(v: &FieldViolation) -> u64 {
    v.reason
        .strip_prefix(MORE_PREFIX)
        .and_then(|r| r.strip_suffix(MORE_SUFFIX))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// `text` cut to at most `max` bytes on a character boundary, `...` marking a cut.
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// The violations found so far, capped at [`MAX_VIOLATIONS`].
#[derive(Debug, Default)]
pub(crate) struct Violations {
    kept: Vec<FieldViolation>,
    /// Violations past the cap: how many, and the first one's field.
    dropped: Option<(u64, String)>,
}

impl Violations {
    pub(crate) fn push(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.add(FieldViolation { field: field.into(), reason: reason.into() });
    }

    /// Adds already-built violations (sim-core's, with their paths rewritten, or a list this
    /// type built, whose summary keeps its count).
    pub(crate) fn extend(&mut self, violations: impl IntoIterator<Item = FieldViolation>) {
        for v in violations {
            self.add(v);
        }
    }

    fn add(&mut self, v: FieldViolation) {
        let n = count(&v);
        if self.kept.len() < MAX_VIOLATIONS && n == 1 {
            self.kept.push(v);
        } else {
            let (dropped, _) = self.dropped.get_or_insert((0, v.field));
            *dropped += n;
        }
    }

    /// `Ok(value)` when nothing was found and there is a value, else every violation kept
    /// (plus the summary of the dropped ones). Converters return `None` only after recording
    /// why, so the list is never empty.
    pub(crate) fn into_result<T>(self, value: Option<T>) -> Result<T, Vec<FieldViolation>> {
        match value {
            Some(value) if self.kept.is_empty() => Ok(value),
            _ => Err(self.into_list()),
        }
    }

    fn into_list(self) -> Vec<FieldViolation> {
        let mut all = self.kept;
        if let Some((n, field)) = self.dropped {
            all.push(more(n, &field));
        }
        all
    }
}

/// `required: one of a, b, c` for an unset enum or oneof, `unknown value 7; one of a, b, c`
/// for a number the proto does not define.
pub(crate) fn not_one_of(value: i32, names: &[&str]) -> String {
    let names = names.join(", ");
    if value == 0 {
        format!("required: one of {names}")
    } else {
        format!("unknown value {value}; one of {names}")
    }
}

/// The `INVALID_ARGUMENT` status for rejected request fields.
///
/// The `google.rpc.BadRequest` detail has one `FieldViolation { field, description }` per
/// violation, in order, at most [`MAX_VIOLATIONS`] of them and as many as fit in
/// [`MAX_DETAIL_BYTES`] (always the first one), each text cut at [`MAX_TEXT_BYTES`]; when some
/// are left out, a last one says how many (`... and 99950 more violations, not listed`). The
/// message names the first few, cut at [`MAX_MESSAGE_BYTES`]. Decode the detail with
/// `tonic_types::StatusExt::get_details_bad_request`.
///
/// Why the bounds: the status travels as headers (`grpc-message`, and the whole status
/// base64-coded in `grpc-status-details-bin`), and clients refuse large header lists (grpcio's
/// default is 8 KiB; the call then fails with a transport error instead of the helpful one).
/// Whatever the violations, the headers stay under ~6 KB.
pub fn bad_request_status(violations: &[FieldViolation]) -> Status {
    let Some(first) = violations.first() else {
        // Callers only build this from a rejected request; say so rather than panic.
        return Status::invalid_argument("invalid request");
    };
    let total: u64 = violations.iter().map(count).sum();
    let mut details = ErrorDetails::new();
    let (mut bytes, mut listed, mut listed_count) = (0, 0, 0);
    for v in violations.iter().take(MAX_VIOLATIONS) {
        let (field, reason) = (clip(&v.field, MAX_TEXT_BYTES), clip(&v.reason, MAX_TEXT_BYTES));
        bytes += field.len() + reason.len();
        if listed > 0 && bytes > MAX_DETAIL_BYTES {
            break;
        }
        details.add_bad_request_violation(field, reason);
        listed += 1;
        listed_count += count(v);
    }
    if let Some(next) = violations.get(listed) {
        let summary = more(total - listed_count, &next.field);
        details.add_bad_request_violation(summary.field, summary.reason);
    }
    let mut message = format!("invalid request: {first}");
    let mut shown = count(first);
    for v in violations.iter().skip(1).take(IN_MESSAGE - 1) {
        message.push_str("; ");
        message.push_str(&v.to_string());
        shown += count(v);
    }
    if total > shown {
        message.push_str(&format!(" (and {} more)", total - shown));
    }
    Status::with_error_details(Code::InvalidArgument, clip(&message, MAX_MESSAGE_BYTES), details)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes of the headers `status` travels as (names and values).
    fn header_bytes(status: &Status) -> usize {
        let mut headers = tonic::codegen::http::HeaderMap::new();
        status.add_header(&mut headers).expect("encodes");
        headers.iter().map(|(k, v)| k.as_str().len() + v.len()).sum()
    }

    fn listed(status: &Status) -> Vec<(String, String)> {
        let detail = status.get_details_bad_request().expect("bad request detail");
        detail.field_violations.into_iter().map(|v| (v.field, v.description)).collect()
    }

    #[test]
    fn the_cap_keeps_the_first_and_counts_the_rest() {
        let mut found = Violations::default();
        for i in 0..MAX_VIOLATIONS + 5 {
            found.push(format!("sweep.axes[{i}].param"), "bad");
        }
        let all = found.into_result(Some(())).unwrap_err();
        assert_eq!(all.len(), MAX_VIOLATIONS + 1);
        assert_eq!(all[MAX_VIOLATIONS - 1].field, format!("sweep.axes[{}].param", MAX_VIOLATIONS - 1));
        let last = &all[MAX_VIOLATIONS];
        assert_eq!(last.field, format!("sweep.axes[{MAX_VIOLATIONS}].param"));
        assert_eq!(last.reason, "... and 5 more violations, not listed");
        // The status lists the same and counts the summary as the five it stands for.
        let status = bad_request_status(&all);
        let shown = listed(&status);
        assert_eq!(shown.len(), MAX_VIOLATIONS + 1);
        assert_eq!(shown[MAX_VIOLATIONS].1, "... and 5 more violations, not listed");
        assert!(status.message().ends_with("(and 52 more)"), "{}", status.message());
    }

    #[test]
    fn a_summarised_list_added_to_another_keeps_its_count() {
        let mut inner = Violations::default();
        for i in 0..MAX_VIOLATIONS + 100 {
            inner.push(format!("f{i}"), "bad");
        }
        let mut outer = Violations::default();
        outer.push("name", "too long");
        outer.extend(inner.into_result(Some(())).unwrap_err());
        let all = outer.into_result(Some(())).unwrap_err();
        assert_eq!(all.len(), MAX_VIOLATIONS + 1);
        assert_eq!(all[0].field, "name");
        assert_eq!(all[MAX_VIOLATIONS].field, format!("f{}", MAX_VIOLATIONS - 1));
        assert_eq!(all[MAX_VIOLATIONS].reason, "... and 101 more violations, not listed");
        assert_eq!(all.iter().map(count).sum::<u64>(), MAX_VIOLATIONS as u64 + 101);
    }

    #[test]
    fn a_hundred_thousand_violations_make_a_small_error_that_counts_them() {
        let many: Vec<FieldViolation> = (0..100_000)
            .map(|i| FieldViolation {
                field: format!("sweep.axes[0].list.values[{i}]"),
                reason: "plant.tau must be a number, got NaN".into(),
            })
            .collect();
        let status = bad_request_status(&many);
        let shown = listed(&status);
        assert!(shown.len() <= MAX_VIOLATIONS + 1, "{}", shown.len());
        let (field, reason) = shown.last().expect("a summary");
        let n = shown.len() - 1;
        assert_eq!(field, &format!("sweep.axes[0].list.values[{n}]"), "the first one left out");
        assert_eq!(reason, &format!("... and {} more violations, not listed", 100_000 - n));
        assert!(status.message().ends_with("(and 99997 more)"), "{}", status.message());
        assert!(header_bytes(&status) < 6 * 1024, "{} bytes", header_bytes(&status));
    }

    #[test]
    fn long_texts_are_cut_to_fit_a_client_header_limit() {
        // The worst case: every text at its limit, in multi-byte characters.
        let long = "\u{00e9}".repeat(5_000);
        let many: Vec<FieldViolation> = (0..1_000)
            .map(|i| FieldViolation { field: format!("{i}{long}"), reason: long.clone() })
            .collect();
        let status = bad_request_status(&many);
        let shown = listed(&status);
        assert_eq!(shown[0].1.len(), MAX_TEXT_BYTES - 1, "cut on a character boundary");
        assert!(shown[0].1.ends_with("..."));
        assert_eq!(shown.len(), 3, "two fit the detail budget, then the summary");
        assert_eq!(shown[2].1, "... and 998 more violations, not listed");
        assert!(status.message().len() <= MAX_MESSAGE_BYTES);
        assert!(header_bytes(&status) < 6 * 1024, "{} bytes", header_bytes(&status));
        assert_eq!(bad_request_status(&[]).code(), Code::InvalidArgument);
    }

    #[test]
    fn a_short_list_is_listed_whole() {
        let few: Vec<FieldViolation> =
            (0..4).map(|i| FieldViolation { field: format!("f{i}"), reason: "bad".into() }).collect();
        let status = bad_request_status(&few);
        assert_eq!(listed(&status).len(), 4);
        assert_eq!(status.message(), "invalid request: f0: bad; f1: bad; f2: bad (and 1 more)");
    }

    #[test]
    fn enum_reasons() {
        assert_eq!(not_one_of(0, &["a", "b"]), "required: one of a, b");
        assert_eq!(not_one_of(-3, &["a"]), "unknown value -3; one of a");
    }
}
