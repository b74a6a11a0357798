//! What a worker needs to know about a job to run its chunks (the converted spec and which
//! rows it wants), decoded once per job from the stored spec and kept in a small bounded cache:
//! a job has thousands of chunks, and re-decoding its spec for each would be waste.

use std::collections::HashMap;
use std::sync::Arc;

use tanksim_proto::convert::decode_stored_spec;
use tanksim_sim_core::job::JobSpec;

use super::compute::Rows;

/// A job as the worker runs it.
#[derive(Debug)]
pub(crate) struct JobPlan {
    pub(crate) spec: JobSpec,
    pub(crate) rows: Rows,
}

impl JobPlan {
    /// Decodes a stored spec (an encoded `tanksim.v1.SubmitJobRequest`, read with
    /// [`decode_stored_spec`]); a failure means a corrupt or incompatible spec, and the reason
    /// says why.
    pub(crate) fn decode(bytes: &[u8]) -> Result<JobPlan, String> {
        let spec = decode_stored_spec(bytes).map_err(|e| format!("the stored job spec {e}"))?;
        let rows = match spec {
            JobSpec::MonteCarlo(_) => Rows::None,
            JobSpec::Sweep(_) | JobSpec::Sensitivity(_) | JobSpec::Optimize(_) => Rows::Values,
            JobSpec::Dataset(_) => Rows::WithTrajectories,
        };
        Ok(JobPlan { spec, rows })
    }
}

/// Plans of the jobs seen last, at most `capacity`, the least recently used evicted first.
#[derive(Debug)]
pub(crate) struct PlanCache {
    capacity: usize,
    clock: u64,
    entries: HashMap<String, (Arc<JobPlan>, u64)>,
}

impl PlanCache {
    pub(crate) fn new(capacity: usize) -> Self {
        PlanCache { capacity: capacity.max(1), clock: 0, entries: HashMap::new() }
    }

    pub(crate) fn get(&mut self, job_id: &str) -> Option<Arc<JobPlan>> {
        self.clock += 1;
        let (plan, used) = self.entries.get_mut(job_id)?;
        *used = self.clock;
        Some(Arc::clone(plan))
    }

    pub(crate) fn insert(&mut self, job_id: &str, plan: Arc<JobPlan>) {
        self.clock += 1;
        if self.entries.len() >= self.capacity && !self.entries.contains_key(job_id) {
            // A linear scan: the cache holds a few dozen jobs, and this runs once per job.
            let oldest = self.entries.iter().min_by_key(|(_, (_, used))| *used).map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(job_id.to_owned(), (plan, self.clock));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use tanksim_proto::v1;
    use tanksim_sim_core::SimConfig;
    use tanksim_sim_core::job::MonteCarlo;
    use tanksim_sim_core::sampling::Sampling;

    fn plan() -> Arc<JobPlan> {
        let spec = JobSpec::MonteCarlo(MonteCarlo {
            base: SimConfig::mc_tau(10.0),
            runs: 1,
            seed: 1,
            params: vec![],
            sampling: Sampling::Random,
            stop: None,
        });
        Arc::new(JobPlan { spec, rows: Rows::None })
    }

    #[test]
    fn evicts_the_least_recently_used() {
        let mut cache = PlanCache::new(2);
        cache.insert("a", plan());
        cache.insert("b", plan());
        assert!(cache.get("a").is_some());
        cache.insert("c", plan());
        assert!(cache.get("b").is_none());
        assert!(cache.get("a").is_some() && cache.get("c").is_some());
    }

    #[test]
    fn decodes_what_the_gateway_stores_and_explains_what_it_cannot() {
        let spec = JobSpec::Dataset(MonteCarlo {
            base: SimConfig::mc_tau(10.0),
            runs: 5,
            seed: 1,
            params: vec![],
            sampling: Sampling::Random,
            stop: None,
        });
        let bytes = v1::SubmitJobRequest::from(&spec).encode_to_vec();
        let plan = JobPlan::decode(&bytes).expect("decodes");
        assert_eq!((plan.rows, plan.spec.runs()), (Rows::WithTrajectories, 5));
        let err = JobPlan::decode(&[0xff, 0xff]).expect_err("garbage");
        assert!(err.contains("does not decode"), "{err}");
        let err = JobPlan::decode(&v1::SubmitJobRequest::default().encode_to_vec()).expect_err("empty");
        assert!(err.contains("does not convert") && err.contains("config"), "{err}");
    }
}
