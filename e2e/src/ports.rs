//! Ports for the service processes, chosen below the kernel's ephemeral range.
//!
//! A service binds the port it is given some milliseconds after the harness found it free. A
//! port from the ephemeral range (what binding port 0 returns, as `tanksim_test_util::
//! free_port` does) can be taken meanwhile by any outgoing connection on the machine, which
//! would make a test fail for no fault of the code. Ports below that range are only ever
//! taken by an explicit bind, so checking one is free right before handing it out is enough.

use std::collections::BTreeSet;
use std::hash::{BuildHasher, RandomState};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// Lowest port handed out (above the registered ports most local daemons use).
const LOWEST: u16 = 20_000;

/// A port on 127.0.0.1 that nothing listens on, no outgoing connection will take, and this
/// process has not handed out before (two services of one cluster never get the same).
pub fn free_port() -> u16 {
    let Some(end) = ephemeral_start().filter(|&start| start > LOWEST + 1_000) else {
        return tanksim_test_util::free_port();
    };
    static DRAWS: AtomicU64 = AtomicU64::new(0);
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let seed = RandomState::new();
    for _ in 0..1_000 {
        let draw = seed.hash_one((std::process::id(), DRAWS.fetch_add(1, Ordering::Relaxed)));
        let port = LOWEST + u16::try_from(draw % u64::from(end - LOWEST)).unwrap_or(0);
        if TcpListener::bind(("127.0.0.1", port)).is_ok()
            && HANDED_OUT.lock().unwrap_or_else(PoisonError::into_inner).insert(port)
        {
            return port;
        }
    }
    tanksim_test_util::free_port()
}

/// The first port of the ephemeral range (Linux), if known.
fn ephemeral_start() -> Option<u16> {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    range.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_free_and_below_the_ephemeral_range() {
        let ports: Vec<u16> = (0..50).map(|_| free_port()).collect();
        if let Some(start) = ephemeral_start().filter(|&s| s > LOWEST + 1_000) {
            assert!(ports.iter().all(|&p| (LOWEST..start).contains(&p)), "{ports:?}");
        }
        let distinct: BTreeSet<_> = ports.iter().collect();
        assert_eq!(distinct.len(), ports.len(), "never the same port twice: {ports:?}");
        for port in ports {
            assert!(TcpListener::bind(("127.0.0.1", port)).is_ok(), "{port} is free");
        }
    }
}
