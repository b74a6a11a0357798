//! Advancing a job's merged prefix: the recorded chunk summaries after the stored prefix are
//! merged into it in chunk order, as far as they are contiguous, and a job whose chunks are
//! all merged is finished (an adaptive job whose released chunks are all merged goes on to
//! its next wave or stops: [`crate::waves`]).
//!
//! Merging in chunk order, from an empty summary, with summaries that round-trip every bit
//! through storage, makes the result bit-identical however many workers ran the job, in
//! which order the chunks arrived and how the merging was split between calls, replicas and
//! restarts. Every step is safe to repeat or to run on two replicas at once: both compute the
//! same bytes for the same prefix and `save_merged` only moves forward. Memory stays bounded:
//! one summary plus at most [`BATCH`] chunk summaries at a time.

use tanksim_broker::{JobStatus, JobStore};
use tanksim_server::job::now_ms;
use tanksim_sim_core::summary::RunSummary;

use crate::codec;
use crate::error::Error;
use crate::shared::Shared;
use crate::{metrics, waves};

/// Chunk summaries fetched (and held) at once.
const BATCH: u32 = 64;

/// Merges what can be merged and finishes the job when everything is; returns the job's
/// status afterwards (`status` is the caller's last view of it).
pub(crate) async fn advance<S: JobStore>(shared: &Shared<S>, status: JobStatus) -> Result<JobStatus, Error> {
    let (id, store) = (status.id.as_str(), &shared.store);
    let total = status.chunks_total;
    let (mut upto, mut merged) = stored_prefix(store, id).await?;
    while upto < total {
        let from = upto;
        let batch = store.chunk_summaries(id, from, total.min(from.saturating_add(BATCH))).await?;
        let mut gap = false;
        for summary in batch {
            let Some(bytes) = summary else {
                gap = true;
                break;
            };
            merged.merge(&codec::decode_summary(&bytes, &format!("summary of job {id} chunk {upto}"))?);
            upto += 1;
        }
        if upto > from {
            store.save_merged(id, upto, &codec::encode_summary(&merged)).await?;
            tracing::debug!(job_id = id, upto, "merged prefix saved");
        }
        if !gap {
            continue;
        }
        // Chunk `upto` is either not recorded yet (stop: its report will continue from here)
        // or another replica merged past it and dropped it (continue from their prefix).
        let (theirs, their_merged) = stored_prefix(store, id).await?;
        if theirs <= upto {
            break;
        }
        (upto, merged) = (theirs, their_merged);
    }
    if status.state.is_terminal() {
        return Ok(status);
    }
    // An adaptive job's wave is over: stop here or release the next one.
    if upto < total && upto >= status.chunks_released {
        return waves::after_wave(shared, status, upto, &merged).await;
    }
    if upto < total {
        return Ok(status);
    }
    let finished = store.finish(id, now_ms()).await?;
    if finished.ended {
        metrics::job_ended(&finished.status);
        tracing::info!(job_id = id, runs = finished.status.runs_done, "job succeeded");
    }
    Ok(finished.status)
}

/// The stored merged prefix, or chunk 0 with an empty summary.
async fn stored_prefix<S: JobStore>(store: &S, id: &str) -> Result<(u32, RunSummary), Error> {
    match store.merged(id).await? {
        Some((upto, bytes)) => {
            Ok((upto, codec::decode_summary(&bytes, &format!("merged summary of job {id}"))?))
        }
        None => Ok((0, RunSummary::new())),
    }
}
