//! The faults: one at a time at seeded random moments, each undone (the process started again
//! and SERVING) before the next.

use std::time::Duration;

use tanksim_e2e::Cluster;
use tanksim_e2e::bench::Rng;
use tokio::time::Instant;

/// Every fault and how often it is chosen (weights, in percent): workers 40 %, results 20 %,
/// dispatcher 20 %, Redis 20 %.
const FAULT_WEIGHTS: [(Fault, u64); 5] = [
    (Fault::KillWorker, 20),
    (Fault::TermWorker, 20),
    (Fault::KillResults, 20),
    (Fault::KillDispatcher, 20),
    (Fault::RestartRedis, 20),
];
/// How long a killed or stopped process stays down before it is started again: uniform in
/// 0..=this.
const MAX_DOWNTIME_MS: u64 = 2_000;
/// How long a worker stopped with SIGTERM may take to exit beyond its shutdown grace, before
/// it is killed.
const TERM_SLACK: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    KillWorker = 0,
    TermWorker = 1,
    KillResults = 2,
    KillDispatcher = 3,
    RestartRedis = 4,
}

impl Fault {
    /// Its name in the summary (the index of its count is `self as usize`).
    pub(crate) const NAMES: [&'static str; FAULT_WEIGHTS.len()] =
        ["kill_worker", "term_worker", "kill_results", "kill_dispatcher", "restart_redis"];
}

/// What the fault loop did.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    /// Faults injected, by [`Fault`].
    pub(crate) counts: [u64; FAULT_WEIGHTS.len()],
    /// Workers stopped with SIGTERM that did not exit 0 within their grace (and slack).
    pub(crate) unclean_terms: u64,
}

impl Faults {
    pub(crate) fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// Injects faults one at a time, each undone before the next, until `stop_at`.
pub(crate) async fn inject_faults(
    cluster: &mut Cluster,
    mut rng: Rng,
    mean_gap_ms: u64,
    stop_at: Instant,
) -> Faults {
    let gaps = mean_gap_ms / 2..=mean_gap_ms.saturating_mul(3) / 2;
    let mut faults = Faults::default();
    loop {
        let at = Instant::now() + Duration::from_millis(rng.within(&gaps));
        if at >= stop_at {
            return faults;
        }
        tokio::time::sleep_until(at).await;
        let fault = rng.weighted(&FAULT_WEIGHTS);
        let started = Instant::now();
        let what = inject(cluster, fault, &mut rng, &mut faults).await;
        faults.counts[fault as usize] += 1;
        log!(
            "fault {}: {what}; all serving again after {:.2} s",
            faults.total(),
            started.elapsed().as_secs_f64()
        );
    }
}

/// Injects `fault` and undoes it (the process started again and SERVING); describes it.
async fn inject(cluster: &mut Cluster, fault: Fault, rng: &mut Rng, faults: &mut Faults) -> String {
    let down = Duration::from_millis(rng.within(&(0..=MAX_DOWNTIME_MS)));
    let downtime = format!("down {:.2} s", down.as_secs_f64());
    match fault {
        Fault::KillWorker => {
            let i = rng.index(cluster.options().workers);
            let status = cluster.kill_worker(i);
            tokio::time::sleep(down).await;
            cluster.start_worker(i).await;
            format!("SIGKILL {} ({status}), {downtime}", cluster.worker_name(i))
        }
        Fault::TermWorker => {
            let i = rng.index(cluster.options().workers);
            let limit = cluster.options().shutdown_grace + TERM_SLACK;
            let (status, took) = cluster.term_worker(i, limit).await;
            let exit = match status {
                Some(status) if status.success() => format!("exited 0 after {:.2} s", took.as_secs_f64()),
                Some(status) => {
                    faults.unclean_terms += 1;
                    format!("exited with {status} after {:.2} s", took.as_secs_f64())
                }
                None => {
                    faults.unclean_terms += 1;
                    format!("still running {limit:?} after it: killed")
                }
            };
            tokio::time::sleep(down).await;
            cluster.start_worker(i).await;
            format!("SIGTERM {}: {exit}, {downtime}", cluster.worker_name(i))
        }
        Fault::KillResults => {
            cluster.kill_results();
            tokio::time::sleep(down).await;
            cluster.start_results().await;
            format!("SIGKILL results, {downtime}")
        }
        Fault::KillDispatcher => {
            cluster.kill_dispatcher();
            tokio::time::sleep(down).await;
            cluster.start_dispatcher().await;
            format!("SIGKILL dispatcher, {downtime}")
        }
        Fault::RestartRedis => {
            cluster.restart_redis().await;
            "SIGKILL Redis, started again on its append-only file".to_owned()
        }
    }
}
