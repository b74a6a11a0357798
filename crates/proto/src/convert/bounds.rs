//! Bounds of every string a public request carries, and the job id's alphabet: one definition
//! the services check requests against.
//!
//! Unbounded strings are cheap to send and expensive to keep: a 3.9 MB job name was stored
//! and then made every ListJobs response larger than a client's 4 MiB receive limit. Ids also
//! name Redis keys and directories of the data directory, so only path- and glob-safe ones
//! pass (no `*`, `?`, `[`, `/`, `.`), before any store or file is touched.

use super::violation::FieldViolation;

/// Bytes of a job's name (`SubmitJobRequest.name`): a label for people. A ListJobs page of
/// 1000 jobs then stays a few hundred KB.
pub const MAX_NAME_BYTES: usize = 200;

/// Bytes of a parameter path (`params[i].param`, `axes[i].param`); the longest real one,
/// `controller.back_calculation_gain`, has 32.
pub const MAX_PARAM_PATH_BYTES: usize = 64;

/// Bytes of a job id (the dispatcher's are 36-character UUIDs).
pub const MAX_JOB_ID_BYTES: usize = 64;

/// Bytes of a ListJobs page token (the results service's are ~110).
pub const MAX_PAGE_TOKEN_BYTES: usize = 256;

/// Checks a job id at `field` (`id`, `job_id`): 1 to [`MAX_JOB_ID_BYTES`] ASCII letters,
/// digits, `-` and `_`. Anything else cannot be a job of this system, and may not reach Redis
/// key names or paths.
pub fn check_job_id(field: &str, id: &str) -> Result<(), FieldViolation> {
    let reason = if id.is_empty() {
        "required".to_owned()
    } else if id.len() > MAX_JOB_ID_BYTES {
        format!("a job id is at most {MAX_JOB_ID_BYTES} bytes, got {}", id.len())
    } else if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        "not a job id: only letters, digits, '-' and '_'".to_owned()
    } else {
        return Ok(());
    };
    Err(FieldViolation { field: field.to_owned(), reason })
}

/// The violation of a string at `field` longer than `max` bytes, if it is.
pub(crate) fn too_long(field: &str, text: &str, max: usize) -> Option<FieldViolation> {
    (text.len() > max).then(|| FieldViolation {
        field: field.to_owned(),
        reason: format!("at most {max} bytes, got {}", text.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_path_and_glob_safe() {
        assert!(check_job_id("id", "0199b8a2-7c41-7e0a-9d5e-3f1f2b8c9d10").is_ok());
        assert!(check_job_id("id", "a_B-9").is_ok());
        assert!(check_job_id("id", &"x".repeat(MAX_JOB_ID_BYTES)).is_ok());
        let cases = [
            ("", "required"),
            ("*", "not a job id"),
            ("a?", "not a job id"),
            ("[ab]", "not a job id"),
            ("a/b", "not a job id"),
            ("..", "not a job id"),
            ("../etc", "not a job id"),
            ("a b", "not a job id"),
            ("\u{e9}", "not a job id"),
            (&"x".repeat(MAX_JOB_ID_BYTES + 1), "at most 64 bytes, got 65"),
        ];
        for (id, why) in cases {
            let v = check_job_id("job_id", id).expect_err(id);
            assert_eq!(v.field, "job_id");
            assert!(v.reason.contains(why), "{id:?}: {}", v.reason);
        }
    }

    #[test]
    fn lengths() {
        assert_eq!(too_long("name", "abc", 3), None);
        let v = too_long("name", "abcd", 3).expect("too long");
        assert_eq!((v.field.as_str(), v.reason.as_str()), ("name", "at most 3 bytes, got 4"));
    }
}
