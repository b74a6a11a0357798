//! What a test does to a running cluster: kill or stop a worker and start it again, kill and
//! restart the results service, the dispatcher or Redis.

use std::process::ExitStatus;
use std::time::Duration;

use tokio::time::Instant;

use super::{Cluster, START_LIMIT, TAIL_LINES};
use crate::health::wait_serving;
use crate::process;

impl Cluster {
    /// `kill -9` worker `i` (it stays down until [`Cluster::start_worker`]).
    pub fn kill_worker(&self, i: usize) -> ExitStatus {
        let mut slots = self.workers.lock();
        let slot = &mut slots[i];
        slot.wanted = false;
        let mut child = slot.child.take().unwrap_or_else(|| panic!("worker {i} is not running"));
        let status = process::kill(&mut child).unwrap_or_else(|| panic!("reaping worker {i}"));
        slot.spec.note(&format!("killed by the test (SIGKILL): {status}"));
        status
    }

    /// SIGTERM to worker `i`, then waits up to `limit` for it to exit. Returns its exit
    /// status (`None`: still running at the limit, and then killed) and how long it took.
    pub async fn term_worker(&self, i: usize, limit: Duration) -> (Option<ExitStatus>, Duration) {
        let mut child = {
            let mut slots = self.workers.lock();
            let slot = &mut slots[i];
            slot.wanted = false;
            slot.spec.note("SIGTERM from the test");
            slot.child.take().unwrap_or_else(|| panic!("worker {i} is not running"))
        };
        let started = Instant::now();
        process::terminate(&child).expect("kill -TERM");
        let status = process::wait_exit(&mut child, limit).await;
        let took = started.elapsed();
        if status.is_none() {
            process::kill(&mut child);
        }
        (status, took)
    }

    /// Starts worker `i` again (same consumer name, same port) and waits until it is
    /// SERVING; from then on the supervisor restarts it if it dies.
    pub async fn start_worker(&self, i: usize) {
        {
            let mut slots = self.workers.lock();
            let slot = &mut slots[i];
            if slot.child.is_none() {
                slot.spec.note("started again by the test");
                slot.child = Some(slot.spec.spawn().expect("starting the worker"));
            }
            slot.wanted = true;
        }
        self.wait_worker_serving(i).await;
    }

    pub(super) async fn wait_worker_serving(&self, i: usize) {
        let (url, spec) = {
            let slots = self.workers.lock();
            (format!("http://127.0.0.1:{}", slots[i].port), slots[i].spec.clone())
        };
        // The supervisor restarts a worker that dies meanwhile: only the deadline counts.
        if let Err(e) = wait_serving(&url, START_LIMIT, || None).await {
            panic!("worker {i} did not start: {e}\n{}", spec.tail(TAIL_LINES));
        }
    }

    /// Exits of worker processes the test did not cause (the supervisor restarted them).
    pub fn worker_crashes(&self) -> Vec<(String, ExitStatus)> {
        let slots = self.workers.lock();
        slots.iter().flat_map(|s| s.crashes.iter().map(|c| (s.spec.name.clone(), *c))).collect()
    }

    /// Panics if any worker exited without the test asking (a crash the supervisor hid).
    pub fn assert_no_worker_crashes(&self) {
        let crashes = self.worker_crashes();
        assert!(crashes.is_empty(), "workers crashed: {crashes:?}");
    }

    /// SIGTERM to the gateway, then waits up to `limit` for it to exit. Returns its exit
    /// status (`None`: still running at the limit, and then killed) and how long it took.
    pub async fn term_gateway(&mut self, limit: Duration) -> (Option<ExitStatus>, Duration) {
        self.gateway.terminate(limit).await
    }

    /// SIGTERM to the results service, like [`Cluster::term_gateway`] (it stays down until
    /// [`Cluster::start_results`]).
    pub async fn term_results(&mut self, limit: Duration) -> (Option<ExitStatus>, Duration) {
        self.results.terminate(limit).await
    }

    /// `kill -9` the results service (it stays down until [`Cluster::start_results`]).
    pub fn kill_results(&mut self) {
        self.results.kill();
    }

    /// Starts the results service on its port and waits until it is SERVING.
    pub async fn start_results(&mut self) {
        self.results.spec.note("started again by the test");
        self.results.start().await;
    }

    /// `kill -9` and start the results service.
    pub async fn restart_results(&mut self) {
        self.kill_results();
        self.start_results().await;
    }

    /// `kill -9` the dispatcher (it stays down until [`Cluster::start_dispatcher`]).
    pub fn kill_dispatcher(&mut self) {
        self.dispatcher.kill();
    }

    /// Starts the dispatcher on its port and waits until it is SERVING.
    pub async fn start_dispatcher(&mut self) {
        self.dispatcher.spec.note("started again by the test");
        self.dispatcher.start().await;
    }

    /// `kill -9` and start the dispatcher.
    pub async fn restart_dispatcher(&mut self) {
        self.kill_dispatcher();
        self.start_dispatcher().await;
    }

    /// `kill -9` Redis and start it again on its port (with its data under
    /// [`tanksim_test_util::Persistence::AppendOnly`]), then waits until every service
    /// reports SERVING again.
    pub async fn restart_redis(&mut self) {
        self.redis.restart();
        for service in [&self.results, &self.dispatcher, &self.gateway] {
            if let Err(e) = wait_serving(&service.url, START_LIMIT, || None).await {
                panic!("{} did not recover from the Redis restart: {e}", service.spec.name);
            }
        }
        for i in 0..self.options.workers {
            if self.workers.lock()[i].wanted {
                self.wait_worker_serving(i).await;
            }
        }
    }
}
