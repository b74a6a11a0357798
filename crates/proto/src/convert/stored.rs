//! A job's stored spec read back: the encoded `SubmitJobRequest` the dispatcher records with
//! the job, as sim-core's [`JobSpec`] that workers run and the results service reads. The
//! spec was validated at submission, against limits the readers do not know, so only the
//! conversion is repeated; a failure means a corrupt or incompatible spec.

use prost::Message;
use tanksim_sim_core::job::JobSpec;

use super::violation::FieldViolation;
use crate::v1::SubmitJobRequest;

/// Violations named in a [`StoredSpecError::Convert`] message.
const IN_MESSAGE: usize = 3;

/// Why a stored spec is unusable. The message completes "the stored job spec ...".
#[derive(Debug, thiserror::Error)]
pub enum StoredSpecError {
    /// The bytes are not an encoded `SubmitJobRequest`.
    #[error("does not decode: {0}")]
    Decode(prost::DecodeError),
    /// The request does not convert (every structural violation; the message names the first
    /// few).
    #[error("does not convert: {}", first_violations(.0))]
    Convert(Vec<FieldViolation>),
}

/// Reads a stored spec (an encoded `tanksim.v1.SubmitJobRequest`) as the job it describes.
pub fn decode_stored_spec(bytes: &[u8]) -> Result<JobSpec, StoredSpecError> {
    let request = SubmitJobRequest::decode(bytes).map_err(StoredSpecError::Decode)?;
    JobSpec::try_from(&request).map_err(StoredSpecError::Convert)
}

fn first_violations(violations: &[FieldViolation]) -> String {
    let listed: Vec<String> = violations.iter().take(IN_MESSAGE).map(ToString::to_string).collect();
    listed.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1::{self, submit_job_request::Job};
    use tanksim_sim_core::SimConfig;
    use tanksim_sim_core::job::MonteCarlo;
    use tanksim_sim_core::sampling::Sampling;

    #[test]
    fn reads_back_what_the_dispatcher_stores() {
        let spec = JobSpec::Dataset(MonteCarlo {
            base: SimConfig::mc_tau(10.0),
            runs: 5,
            seed: 1,
            params: vec![],
            sampling: Sampling::Random,
            stop: None,
        });
        let bytes = SubmitJobRequest::from(&spec).encode_to_vec();
        assert_eq!(decode_stored_spec(&bytes).expect("decodes"), spec);
    }

    #[test]
    fn garbage_does_not_decode() {
        let err = decode_stored_spec(&[0xff, 0xff]).expect_err("garbage");
        assert!(matches!(err, StoredSpecError::Decode(_)), "{err:?}");
        assert!(err.to_string().starts_with("does not decode: "), "{err}");
    }

    #[test]
    fn a_request_that_does_not_convert_names_its_first_three_violations() {
        let axis = |param: &str| v1::Axis { param: param.into(), values: None };
        let sweep = v1::Sweep { axes: vec![axis("a"), axis("b"), axis("c")], objective: None, seed: 0 };
        let request = SubmitJobRequest { job: Some(Job::Sweep(sweep)), ..Default::default() };
        let err = decode_stored_spec(&request.encode_to_vec()).expect_err("no config, bad axes");
        let StoredSpecError::Convert(violations) = &err else { panic!("{err:?}") };
        assert!(violations.len() > IN_MESSAGE, "{violations:?}");
        let message = err.to_string();
        let listed = message.strip_prefix("does not convert: ").expect(&message);
        assert_eq!(listed, first_violations(&violations[..IN_MESSAGE]));
        assert!(!listed.contains(&violations[IN_MESSAGE].field), "{message}");
        assert!(listed.starts_with("config: required"), "{message}");
    }
}
