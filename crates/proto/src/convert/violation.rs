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

/// At most this many violations are kept per request; the rest are summarised in one extra
/// violation. A 4 MB request can hold a million bad list entries, and a reason per entry
/// would cost far more memory than the request itself.
pub const MAX_VIOLATIONS: usize = 100;

/// Bytes of field paths and reasons the status detail carries. The detail travels base64-coded
/// in the `grpc-status-details-bin` trailer, and HTTP/2 peers commonly refuse header lists
/// over 16 KiB, which would turn a helpful error into a transport failure.
const MAX_DETAIL_BYTES: usize = 8 * 1024;

/// Violations in the message (the rest are in the detail).
const IN_MESSAGE: usize = 3;

/// The violations found so far, capped at [`MAX_VIOLATIONS`].
#[derive(Debug, Default)]
pub(crate) struct Violations {
    kept: Vec<FieldViolation>,
    /// Violations past the cap: how many, and the first one's field.
    dropped: Option<(u64, String)>,
}

impl Violations {
    pub(crate) fn push(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        if self.kept.len() < MAX_VIOLATIONS {
            self.kept.push(FieldViolation { field: field.into(), reason: reason.into() });
        } else {
            let (n, _) = self.dropped.get_or_insert_with(|| (0, field.into()));
            *n += 1;
        }
    }

    /// Adds already-built violations (sim-core's, with their paths rewritten).
    pub(crate) fn extend(&mut self, violations: impl IntoIterator<Item = FieldViolation>) {
        for v in violations {
            self.push(v.field, v.reason);
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
            let reason =
                format!("... and {n} more violations (only the first {MAX_VIOLATIONS} are reported)");
            all.push(FieldViolation { field, reason });
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
/// The message names the first few violations (for people reading logs and CLI output); the
/// `google.rpc.BadRequest` detail has one `FieldViolation { field, description }` per
/// violation, in order, as long as their text fits in 8 KiB (always at least the first one);
/// the message says how many were left out. Decode it with
/// `tonic_types::StatusExt::get_details_bad_request`.
pub fn bad_request_status(violations: &[FieldViolation]) -> Status {
    let mut details = ErrorDetails::new();
    let mut bytes = 0;
    let mut detailed = 0;
    for v in violations {
        bytes += v.field.len() + v.reason.len();
        if detailed > 0 && bytes > MAX_DETAIL_BYTES {
            break;
        }
        details.add_bad_request_violation(v.field.clone(), v.reason.clone());
        detailed += 1;
    }
    let Some(first) = violations.first() else {
        // Callers only build this from a rejected request; say so rather than panic.
        return Status::invalid_argument("invalid request");
    };
    let mut message = format!("invalid request: {first}");
    for v in violations.iter().skip(1).take(IN_MESSAGE - 1) {
        message.push_str("; ");
        message.push_str(&v.to_string());
    }
    if violations.len() > IN_MESSAGE {
        message.push_str(&format!(" (and {} more", violations.len() - IN_MESSAGE));
        if detailed < violations.len() {
            message.push_str(&format!("; the first {detailed} are in the details"));
        }
        message.push(')');
    }
    Status::with_error_details(Code::InvalidArgument, message, details)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(last.reason.contains("5 more"), "{}", last.reason);
    }

    #[test]
    fn long_lists_are_cut_to_fit_a_trailer() {
        let reason = "x".repeat(1000);
        let many: Vec<FieldViolation> =
            (0..40).map(|i| FieldViolation { field: format!("f{i}"), reason: reason.clone() }).collect();
        let status = bad_request_status(&many);
        let detail = status.get_details_bad_request().expect("bad request detail");
        assert_eq!(detail.field_violations.len(), 8);
        assert!(
            status.message().contains("and 37 more; the first 8 are in the details"),
            "{}",
            status.message()
        );
        assert_eq!(bad_request_status(&[]).code(), Code::InvalidArgument);
    }

    #[test]
    fn enum_reasons() {
        assert_eq!(not_one_of(0, &["a", "b"]), "required: one of a, b");
        assert_eq!(not_one_of(-3, &["a"]), "unknown value -3; one of a");
    }
}
