//! Stored bytes and the types they hold: chunk and merged summaries (the internal
//! `RunSummary` proto, which round-trips every bit) and job specs (an encoded
//! `SubmitJobRequest`). The conversions themselves live in `tanksim_proto::convert`.

use prost::Message;
use tanksim_broker::JobStore;
use tanksim_proto::convert::decode_stored_spec;
use tanksim_proto::internal::v1 as internal;
use tanksim_sim_core::job::JobSpec;
use tanksim_sim_core::summary::RunSummary;

use crate::error::Error;

/// A reported summary, checked (the reason when it does not describe a summary).
pub(crate) fn summary_from_report(proto: &internal::RunSummary) -> Result<RunSummary, String> {
    RunSummary::try_from(proto).map_err(|e| e.to_string())
}

/// A summary as stored.
pub(crate) fn encode_summary(summary: &RunSummary) -> Vec<u8> {
    internal::RunSummary::from(summary).encode_to_vec()
}

/// A stored summary (`what` names it in the error).
pub(crate) fn decode_summary(bytes: &[u8], what: &str) -> Result<RunSummary, Error> {
    let proto = internal::RunSummary::decode(bytes).map_err(|e| Error::corrupt(what, e))?;
    RunSummary::try_from(&proto).map_err(|e| Error::corrupt(what, e))
}

/// A job's spec, as the dispatcher stored it (validated at submission).
pub(crate) async fn load_spec<S: JobStore>(store: &S, id: &str) -> Result<JobSpec, Error> {
    let bytes = store.spec(id).await?.ok_or_else(|| Error::NotFound(id.to_owned()))?;
    decode_stored_spec(&bytes).map_err(|e| Error::corrupt(format!("spec of job {id}"), e))
}

#[cfg(test)]
mod tests;
