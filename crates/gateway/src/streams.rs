//! Each tenant's open WatchJob and ExportRuns streams at this gateway replica, capped by the
//! tenant's `concurrent_streams` quota ([`tanksim_server::quotas`]). A stream holds a
//! [`Slot`] from the call that opens it until the client, the peer or the drain ends it; a call
//! over the cap is refused with RESOURCE_EXHAUSTED (retry in [`RETRY_AFTER`]), counted in
//! `tanksim_quota_rejections_total{limit="concurrent_streams"}` and logged.
//!
//! HTTP/2 already bounds the streams of one connection (`MAX_CONCURRENT_STREAMS`); this bounds
//! a tenant across connections, so one tenant's watchers cannot hold every handler and file
//! descriptor of a replica. `tanksim_open_streams` is every tenant's open streams here.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use metrics::gauge;
use tanksim_server::QuotaBook;
use tanksim_telemetry::metrics::names::{OPEN_STREAMS, limit};
use tonic::Status;

use crate::metrics::{init_quota_rejections, quota_rejections};

/// The retry hint of a refused stream: streams end when their jobs do, usually within seconds.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// Every tenant's open streams at this replica. Cheap to clone (clones share the counts).
#[derive(Debug, Clone)]
pub struct StreamSlots {
    quotas: QuotaBook,
    open: Arc<Mutex<HashMap<String, u32>>>,
}

impl StreamSlots {
    /// Slots sized by each tenant's quota in `quotas` (read at every call: a reloaded file
    /// applies to the next stream opened).
    pub fn new(quotas: QuotaBook) -> Self {
        StreamSlots { quotas, open: Arc::default() }
    }

    /// A slot for a new stream of `tenant`'s, or the refusal (counted and logged) when the
    /// tenant has its quota's worth of streams open.
    pub fn open(&self, tenant: &str, method: &str) -> Result<Slot, Status> {
        let cap = self.quotas.for_tenant(tenant).concurrent_streams;
        // A panic under the lock leaves whole counts (each change is one assignment).
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let held = open.get(tenant).copied().unwrap_or(0);
        if cap != 0 && held >= cap {
            drop(open);
            quota_rejections(limit::CONCURRENT_STREAMS, self.quotas.get().metric_tenant(tenant)).increment(1);
            tracing::info!(
                method,
                tenant,
                open = held,
                "stream refused by the tenant's concurrent_streams quota"
            );
            let message = format!(
                "tenant {tenant}: {held} WatchJob and ExportRuns streams open at this gateway, the most \
                 allowed (concurrent_streams {cap}); retry once one has ended"
            );
            return Err(tanksim_server::status::resource_exhausted(message, Some(RETRY_AFTER)));
        }
        open.insert(tenant.to_owned(), held + 1);
        gauge!(OPEN_STREAMS).increment(1.0);
        Ok(Slot { tenant: tenant.to_owned(), open: Arc::clone(&self.open) })
    }

    /// `tenant`'s open streams.
    #[cfg(test)]
    fn open_for(&self, tenant: &str) -> u32 {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).get(tenant).copied().unwrap_or(0)
    }
}

/// One open stream's place in its tenant's count, given back when dropped.
#[derive(Debug)]
pub struct Slot {
    tenant: String,
    open: Arc<Mutex<HashMap<String, u32>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(held) = open.get_mut(&self.tenant) {
            *held -= 1;
            if *held == 0 {
                open.remove(&self.tenant);
            }
        }
        gauge!(OPEN_STREAMS).decrement(1.0);
    }
}

/// A response stream holding its [`Slot`] until it is dropped (ended, or the client gone).
#[derive(Debug)]
pub struct Held<S> {
    inner: S,
    _slot: Slot,
}

impl<S> Held<S> {
    pub fn new(inner: S, slot: Slot) -> Self {
        Held { inner, _slot: slot }
    }
}

impl<S: Stream + Unpin> Stream for Held<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

/// Creates the refusal and open-stream series known at start at zero.
pub fn init_metrics(quotas: &QuotaBook) {
    init_quota_rejections(quotas, limit::CONCURRENT_STREAMS);
    gauge!(OPEN_STREAMS).set(0.0);
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    fn slots(yaml: &str) -> StreamSlots {
        StreamSlots::new(QuotaBook::from_yaml(yaml).expect("quotas"))
    }

    #[test]
    fn a_tenant_over_its_cap_is_refused_and_others_are_not() {
        let slots = slots("tenants: {acme: {concurrent_streams: 2}}");
        let (a, b) = (slots.open("acme", "WatchJob").unwrap(), slots.open("acme", "ExportRuns").unwrap());
        let refused = slots.open("acme", "WatchJob").unwrap_err();
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        assert_eq!(
            refused.message(),
            "tenant acme: 2 WatchJob and ExportRuns streams open at this gateway, the most allowed \
             (concurrent_streams 2); retry once one has ended"
        );
        assert_eq!(refused.metadata().get(tanksim_server::status::RETRY_AFTER_METADATA).unwrap(), "5");
        // Unlisted tenants fall back to the defaults, here unlimited.
        let many: Vec<Slot> = (0..500).map(|_| slots.open("beta", "WatchJob").unwrap()).collect();
        assert_eq!((slots.open_for("acme"), slots.open_for("beta")), (2, 500));
        drop(a);
        assert_eq!(slots.open_for("acme"), 1, "an ended stream gives its slot back");
        let c = slots.open("acme", "WatchJob").unwrap();
        drop((b, c, many));
        assert_eq!((slots.open_for("acme"), slots.open_for("beta")), (0, 0));
        assert!(slots.open.lock().unwrap().is_empty(), "no entry is left for idle tenants");
    }

    #[tokio::test]
    async fn a_held_stream_passes_its_items_and_frees_its_slot_when_dropped() {
        let slots = slots("default: {concurrent_streams: 1}");
        let slot = slots.open("acme", "WatchJob").unwrap();
        let mut held = Held::new(futures_util::stream::iter([1, 2, 3]), slot);
        assert_eq!(held.next().await, Some(1));
        assert!(slots.open("acme", "WatchJob").is_err());
        assert_eq!(held.collect::<Vec<_>>().await, [2, 3]);
        assert!(slots.open("acme", "WatchJob").is_ok(), "the dropped stream freed its slot");
    }
}
