//! The worker processes and their supervisor: a thread that restarts a worker that exited
//! without the test asking for it (as Kubernetes restarts a crashed pod), under the same
//! consumer name and health port, and counts those restarts.

use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::process::{self, ProcessSpec};

/// How often the supervisor looks at the workers (also the restart delay, at most).
const SUPERVISOR_TICK: Duration = Duration::from_millis(50);

/// One worker: how to start it, and the running process if any.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) spec: ProcessSpec,
    pub(crate) port: u16,
    /// Where it serves `/metrics` (the same across restarts).
    pub(crate) admin_port: u16,
    pub(crate) child: Option<Child>,
    /// Whether it should be running: false after the test stopped it, so the supervisor
    /// leaves it alone.
    pub(crate) wanted: bool,
    /// Exits the test did not ask for (each followed by a restart).
    pub(crate) crashes: Vec<ExitStatus>,
}

/// The workers, shared with the supervisor thread.
#[derive(Debug)]
pub(crate) struct Workers {
    slots: Arc<Mutex<Vec<Slot>>>,
    stop: Arc<AtomicBool>,
    supervisor: Option<JoinHandle<()>>,
}

impl Workers {
    /// Starts every slot's process and the supervisor.
    pub(crate) fn start(slots: Vec<Slot>) -> std::io::Result<Self> {
        let slots = Arc::new(Mutex::new(slots));
        for slot in lock(&slots).iter_mut() {
            slot.child = Some(slot.spec.spawn()?);
            slot.wanted = true;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let supervisor = {
            let (slots, stop) = (Arc::clone(&slots), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("e2e-supervisor".into())
                .spawn(move || supervise(&slots, &stop))?
        };
        Ok(Workers { slots, stop, supervisor: Some(supervisor) })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Vec<Slot>> {
        lock(&self.slots)
    }

    /// Stops the supervisor and kills every worker.
    pub(crate) fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.supervisor.take() {
            let _ = thread.join();
        }
        for slot in self.lock().iter_mut() {
            slot.wanted = false;
            if let Some(mut child) = slot.child.take() {
                process::kill(&mut child);
            }
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A poisoned lock only means a test panicked while holding it: the data is still usable
/// for cleaning up.
fn lock(slots: &Mutex<Vec<Slot>>) -> MutexGuard<'_, Vec<Slot>> {
    slots.lock().unwrap_or_else(PoisonError::into_inner)
}

fn supervise(slots: &Mutex<Vec<Slot>>, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(SUPERVISOR_TICK);
        for slot in lock(slots).iter_mut() {
            if !slot.wanted {
                continue;
            }
            let exited = match &mut slot.child {
                Some(child) => child.try_wait().ok().flatten(),
                None => None,
            };
            let Some(status) = exited else {
                if slot.child.is_none() {
                    respawn(slot);
                }
                continue;
            };
            slot.child = None;
            slot.crashes.push(status);
            slot.spec.note(&format!("exited unexpectedly ({status}); the supervisor restarts it"));
            respawn(slot);
        }
    }
}

fn respawn(slot: &mut Slot) {
    match slot.spec.spawn() {
        Ok(child) => slot.child = Some(child),
        Err(e) => slot.spec.note(&format!("restart failed: {e}; retrying")),
    }
}
