//! What a test observes about each process (its `service.name`, admin port, log file), and
//! stopping the whole deployment gracefully, so every process flushes its spans and writes
//! its last log lines before the test reads them.

use std::path::PathBuf;
use std::process::{Child, ExitStatus};
use std::time::Duration;

use tokio::time::Instant;

use super::Cluster;
use crate::process::{self, ProcessSpec};

/// One service process of the cluster.
#[derive(Debug, Clone)]
pub struct ProcessInfo {
    /// The harness's name: "gateway", "dispatcher", "results", "worker-0", ...
    pub name: String,
    /// Its `service.name` and `service` label: "tanksim-gateway", ... "tanksim-worker".
    pub service: &'static str,
    /// `http://127.0.0.1:PORT` of its admin port (`GET /metrics`).
    pub admin_url: String,
    /// Its stdout and stderr (every start, appended).
    pub log: PathBuf,
}

fn info(spec: &ProcessSpec, service: &'static str, admin_port: u16) -> ProcessInfo {
    ProcessInfo {
        name: spec.name.clone(),
        service,
        admin_url: format!("http://127.0.0.1:{admin_port}"),
        log: spec.log.clone(),
    }
}

impl Cluster {
    /// Every service process (running or not): gateway, dispatcher, results, the workers.
    pub fn processes(&self) -> Vec<ProcessInfo> {
        let mut out = vec![
            info(&self.gateway.spec, "tanksim-gateway", self.gateway.admin_port),
            info(&self.dispatcher.spec, "tanksim-dispatcher", self.dispatcher.admin_port),
            info(&self.results.spec, "tanksim-results", self.results.admin_port),
        ];
        let workers = self.workers.lock();
        out.extend(workers.iter().map(|w| info(&w.spec, "tanksim-worker", w.admin_port)));
        out
    }

    /// The process named `name` ("gateway", "worker-1", ...); panics if there is none.
    pub fn process(&self, name: &str) -> ProcessInfo {
        self.processes().into_iter().find(|p| p.name == name).unwrap_or_else(|| panic!("no process {name:?}"))
    }

    /// `http://127.0.0.1:PORT` of process `name`'s admin port.
    pub fn admin_url(&self, name: &str) -> String {
        self.process(name).admin_url
    }

    /// The log file of process `name`.
    pub fn log_file(&self, name: &str) -> PathBuf {
        self.process(name).log
    }

    /// SIGTERM to every service process at once (the supervisor no longer restarts workers),
    /// then waits up to `limit` for each to exit; one still running then is killed. Returns
    /// each process's exit status (`None`: killed at the limit). Redis keeps running.
    pub async fn stop(&mut self, limit: Duration) -> Vec<(String, Option<ExitStatus>)> {
        let mut children: Vec<(ProcessSpec, Child)> = Vec::new();
        for service in [&mut self.gateway, &mut self.dispatcher, &mut self.results] {
            if let Some(child) = service.child.take() {
                children.push((service.spec.clone(), child));
            }
        }
        {
            let mut workers = self.workers.lock();
            for slot in workers.iter_mut() {
                slot.wanted = false;
                if let Some(child) = slot.child.take() {
                    children.push((slot.spec.clone(), child));
                }
            }
        }
        for (spec, child) in &children {
            spec.note("SIGTERM from the test (stopping the cluster)");
            if let Err(e) = process::terminate(child) {
                spec.note(&format!("SIGTERM failed: {e}"));
            }
        }
        let deadline = Instant::now() + limit;
        let mut out = Vec::new();
        for (spec, mut child) in children {
            let left = deadline.saturating_duration_since(Instant::now());
            let status = process::wait_exit(&mut child, left).await;
            match status {
                Some(status) => spec.note(&format!("exited after SIGTERM ({status})")),
                None => {
                    process::kill(&mut child);
                    spec.note(&format!("still running {limit:?} after SIGTERM: killed"));
                }
            }
            out.push((spec.name, status));
        }
        out
    }
}
