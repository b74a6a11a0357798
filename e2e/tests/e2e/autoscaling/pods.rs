//! The worker Deployment's pods, played by the cluster's worker processes: whatever KEDA and
//! the HPA set as `spec.replicas`, [`Pods::run`] starts or stops processes until that many
//! exist, as the Deployment and ReplicaSet controllers would: without waiting for one pod to
//! be ready or gone before acting on the next change.
//!
//! Like pods, a started worker gets a consumer name no killed pod had: a worker killed with
//! SIGKILL leaves its chunks pending under its name, and a Kubernetes replacement (a new pod
//! name) cannot re-read them; only a claim after the visibility timeout frees them. A slot
//! stopped with SIGTERM hands its chunks back first, so its name may be used again once the
//! process is gone. Scaling down stops the youngest ready pods first (the ReplicaSet's
//! preference) with SIGTERM, and they stop counting at once (`status.replicas` leaves out
//! terminating pods).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tanksim_e2e::Cluster;
use tokio::sync::watch;
use tokio::time::Instant;

/// How often the pods are compared with the wanted count when nothing else happens (a killed
/// pod is replaced within this).
const RECHECK: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// No process; its name may be used.
    Free,
    /// Started (since when), not yet serving.
    Starting(Instant),
    /// Serving (started when).
    Ready(Instant),
    /// SIGTERM sent, not yet exited.
    Stopping,
    /// Killed: its name is never used again.
    Retired,
}

/// The pods of the worker Deployment.
#[derive(Debug)]
pub(crate) struct Pods<'a> {
    cluster: &'a Cluster,
    slots: Mutex<Vec<Slot>>,
    /// How long a stopped worker may take to exit (its shutdown grace, and then some).
    stop_limit: Duration,
    problems: Mutex<Vec<String>>,
}

type Work<'f> = Pin<Box<dyn Future<Output = ()> + 'f>>;

impl<'a> Pods<'a> {
    /// Takes over the cluster's `slots` worker processes, which must all have been stopped.
    pub(crate) fn new(cluster: &'a Cluster, slots: usize, stop_limit: Duration) -> Pods<'a> {
        Pods { cluster, slots: Mutex::new(vec![Slot::Free; slots]), stop_limit, problems: Mutex::default() }
    }

    fn slots(&self) -> MutexGuard<'_, Vec<Slot>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `status.replicas`: pods that exist and are not terminating.
    pub(crate) fn count(&self) -> i32 {
        self.slots().iter().filter(|s| matches!(s, Slot::Starting(_) | Slot::Ready(_))).count() as i32
    }

    /// The indices of the pods that are serving.
    pub(crate) fn ready(&self) -> Vec<usize> {
        self.slots().iter().enumerate().filter(|(_, s)| matches!(s, Slot::Ready(_))).map(|(i, _)| i).collect()
    }

    /// Workers that exited badly when stopped.
    pub(crate) fn problems(&self) -> Vec<String> {
        self.problems.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// `kill -9` ready pod `i` (a node lost, an OOM kill): its name is retired.
    pub(crate) fn kill(&self, i: usize) {
        {
            let mut slots = self.slots();
            assert!(matches!(slots[i], Slot::Ready(_)), "pod {i} is not ready: {:?}", slots[i]);
            slots[i] = Slot::Retired;
        }
        self.cluster.kill_worker(i);
    }

    /// Follows `wanted` forever (the caller drops this future when done).
    pub(crate) async fn run(&self, mut wanted: watch::Receiver<i32>) {
        let mut work: FuturesUnordered<Work<'_>> = FuturesUnordered::new();
        loop {
            let want = usize::try_from(*wanted.borrow_and_update()).unwrap_or(0);
            for i in self.to_start(want) {
                work.push(Box::pin(self.start(i)));
            }
            for i in self.to_stop(want) {
                work.push(Box::pin(self.stop(i)));
            }
            tokio::select! {
                _ = wanted.changed() => {}
                () = tokio::time::sleep(RECHECK) => {}
                Some(()) = work.next(), if !work.is_empty() => {}
            }
        }
    }

    /// Free slots to start so that `want` pods exist (as many as there are), marked starting.
    fn to_start(&self, want: usize) -> Vec<usize> {
        let mut slots = self.slots();
        let exist = slots.iter().filter(|s| matches!(s, Slot::Starting(_) | Slot::Ready(_))).count();
        let free: Vec<usize> =
            (0..slots.len()).filter(|&i| slots[i] == Slot::Free).take(want.saturating_sub(exist)).collect();
        for &i in &free {
            slots[i] = Slot::Starting(Instant::now());
        }
        free
    }

    /// The youngest ready pods to stop so that `want` exist, marked stopping (a pod still
    /// starting is stopped on a later round, once it serves).
    fn to_stop(&self, want: usize) -> Vec<usize> {
        let mut slots = self.slots();
        let exist = slots.iter().filter(|s| matches!(s, Slot::Starting(_) | Slot::Ready(_))).count();
        let mut ready: Vec<(Instant, usize)> = (0..slots.len())
            .filter_map(|i| match slots[i] {
                Slot::Ready(since) => Some((since, i)),
                _ => None,
            })
            .collect();
        ready.sort_unstable();
        ready.reverse();
        let youngest: Vec<usize> = ready.iter().take(exist.saturating_sub(want)).map(|&(_, i)| i).collect();
        for &i in &youngest {
            slots[i] = Slot::Stopping;
        }
        youngest
    }

    async fn start(&self, i: usize) {
        self.cluster.start_worker(i).await;
        let mut slots = self.slots();
        if let Slot::Starting(since) = slots[i] {
            slots[i] = Slot::Ready(since);
        }
    }

    async fn stop(&self, i: usize) {
        let (status, took) = self.cluster.term_worker(i, self.stop_limit).await;
        if status.is_none_or(|s| !s.success()) {
            let problem = format!("worker {i} stopped with SIGTERM: {status:?} after {took:?}");
            self.problems.lock().unwrap_or_else(PoisonError::into_inner).push(problem);
        }
        self.slots()[i] = Slot::Free;
    }
}
