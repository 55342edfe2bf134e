//! The fan-out hub: every committed event is numbered by the store,
//! serialized to JSON here once, and handed (shared, not copied) to the
//! bounded queue of each connection whose filter wants it.
//!
//! Subscribers are indexed by site, so an event wakes only the connections
//! that take its site (before or after the change) or take every site; a
//! screen of one site sleeps through the other sites' storms.
//!
//! A queue that is full marks its subscriber *lagged* instead of blocking the
//! publisher or dropping events silently: the connection then discards its
//! queue and sends a fresh snapshot (`"reason":"lagged"`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::ws::Utf8Bytes;
use noc_shared::{ServerMessage, Severity, SiteFilter};
use tokio::sync::mpsc;

use crate::metrics::Metrics;
use crate::store::Event;

/// One event, serialized once, with what filters need to know about it.
#[derive(Debug)]
pub struct Frame {
    pub seq: u64,
    /// The JSON text frame; cloning it shares the bytes.
    pub text: Utf8Bytes,
    site: String,
    severity: Severity,
    before: Option<(String, Severity)>,
}

impl Frame {
    /// A frame that carries nothing: it only wakes a connection so that it
    /// looks at its lagged flag. Its seq 0 is below every snapshot's.
    fn wake() -> Self {
        Frame {
            seq: 0,
            text: Utf8Bytes::from_static(""),
            site: String::new(),
            severity: Severity::Info,
            before: None,
        }
    }

    /// Does a screen with `filter` get this event? Yes when the alert matches
    /// before or after the change, so an alert that moves away still leaves.
    pub fn wanted_by(&self, filter: &SiteFilter) -> bool {
        filter.matches(&self.site, self.severity)
            || self
                .before
                .as_ref()
                .is_some_and(|(site, severity)| filter.matches(site, *severity))
    }
}

/// The hub. Shared by the write path (publishes) and the connections
/// (subscribe); cheap to reach through an `Arc`.
pub struct Hub {
    registry: Mutex<Registry>,
    /// Events each connection may hold before it counts as lagged.
    capacity: usize,
    metrics: Metrics,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    subscribers: HashMap<u64, Subscriber>,
    /// Lower-cased site → subscribers that take it.
    by_site: HashMap<String, HashSet<u64>>,
    /// Subscribers that take every site.
    every_site: HashSet<u64>,
}

struct Subscriber {
    filter: SiteFilter,
    queue: mpsc::Sender<Arc<Frame>>,
    lagged: Arc<AtomicBool>,
}

impl Registry {
    fn index(&mut self, id: u64, filter: &SiteFilter) {
        match filter.site_keys() {
            None => {
                self.every_site.insert(id);
            }
            Some(keys) => {
                for key in keys {
                    self.by_site.entry(key.clone()).or_default().insert(id);
                }
            }
        }
    }

    fn unindex(&mut self, id: u64, filter: &SiteFilter) {
        match filter.site_keys() {
            None => {
                self.every_site.remove(&id);
            }
            Some(keys) => {
                for key in keys {
                    if let Some(ids) = self.by_site.get_mut(key) {
                        ids.remove(&id);
                        if ids.is_empty() {
                            self.by_site.remove(key);
                        }
                    }
                }
            }
        }
    }

    /// The subscribers that take `site` or every site.
    fn candidates(&self, sites: &[&str]) -> HashSet<u64> {
        let mut ids: HashSet<u64> = self.every_site.clone();
        for site in sites {
            if let Some(set) = self.by_site.get(&site.to_lowercase()) {
                ids.extend(set);
            }
        }
        ids
    }
}

impl Hub {
    /// A hub whose connections each queue up to `capacity` events.
    pub fn new(capacity: usize, metrics: Metrics) -> Arc<Self> {
        Arc::new(Hub {
            registry: Mutex::new(Registry::default()),
            capacity,
            metrics,
        })
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        // A panic while holding the lock leaves the registry consistent
        // (each change is a single insert or remove), so poisoning is ignored.
        self.registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a connection. Subscribe *before* reading the snapshot, then
    /// drop events whose `seq` the snapshot already holds.
    pub fn subscribe(self: &Arc<Self>, filter: SiteFilter) -> Subscription {
        let (queue, rx) = mpsc::channel(self.capacity);
        let lagged = Arc::new(AtomicBool::new(false));
        let mut registry = self.registry();
        registry.next_id += 1;
        let id = registry.next_id;
        registry.index(id, &filter);
        registry.subscribers.insert(
            id,
            Subscriber {
                filter,
                queue,
                lagged: lagged.clone(),
            },
        );
        Subscription {
            id,
            hub: self.clone(),
            rx,
            lagged,
        }
    }

    /// Serializes `event` once and queues it for every connection that
    /// wants it. Never blocks: a full queue marks its connection lagged.
    pub fn publish(&self, event: &Event) {
        let message = ServerMessage::alert(event.kind, event.seq, event.alert.clone());
        let frame = Arc::new(Frame {
            seq: event.seq,
            text: Utf8Bytes::from(message.to_json()),
            site: event.alert.site.clone(),
            severity: event.alert.severity,
            before: event.before.clone(),
        });
        self.metrics.events.inc();
        let registry = self.registry();
        let mut sites = vec![frame.site.as_str()];
        if let Some((before, _)) = &frame.before {
            sites.push(before);
        }
        for id in registry.candidates(&sites) {
            let Some(sub) = registry.subscribers.get(&id) else {
                continue;
            };
            if !frame.wanted_by(&sub.filter) {
                continue;
            }
            if let Err(mpsc::error::TrySendError::Full(_)) = sub.queue.try_send(frame.clone()) {
                if !sub.lagged.swap(true, Ordering::AcqRel) {
                    self.metrics.lagged.inc();
                }
            }
        }
    }

    /// Makes every connection send a fresh snapshot (`"reason":"lagged"`),
    /// as if its queue had overflowed: for when this hub may have missed
    /// events (a lost link to a shared store).
    pub fn resync_all(&self) {
        let registry = self.registry();
        for sub in registry.subscribers.values() {
            if !sub.lagged.swap(true, Ordering::AcqRel) {
                self.metrics.lagged.inc();
            }
            // Wakes the connection; a full queue wakes it anyway.
            let _ = sub.queue.try_send(Arc::new(Frame::wake()));
        }
    }

    /// Connections currently subscribed.
    pub fn len(&self) -> usize {
        self.registry().subscribers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One connection's place in the hub; leaving the hub is dropping this.
pub struct Subscription {
    id: u64,
    hub: Arc<Hub>,
    rx: mpsc::Receiver<Arc<Frame>>,
    lagged: Arc<AtomicBool>,
}

impl Subscription {
    /// The next queued event. Never ends while the subscription lives.
    pub async fn recv(&mut self) -> Option<Arc<Frame>> {
        self.rx.recv().await
    }

    /// The next queued event if one is waiting.
    pub fn try_recv(&mut self) -> Option<Arc<Frame>> {
        self.rx.try_recv().ok()
    }

    /// True once after the queue overflowed: the caller must discard the
    /// queue ([`Subscription::discard_queue`]) and send a fresh snapshot.
    pub fn take_lagged(&self) -> bool {
        self.lagged.swap(false, Ordering::AcqRel)
    }

    /// Drops every queued event (a snapshot read afterwards replaces them).
    pub fn discard_queue(&mut self) {
        while self.rx.try_recv().is_ok() {}
    }

    /// Replaces the filter (on a `subscribe` message). Read the new snapshot
    /// after this call so that nothing falls between the two.
    pub fn set_filter(&self, filter: SiteFilter) {
        let mut registry = self.hub.registry();
        let Some(old) = registry.subscribers.get(&self.id).map(|s| s.filter.clone()) else {
            return;
        };
        registry.unindex(self.id, &old);
        registry.index(self.id, &filter);
        if let Some(sub) = registry.subscribers.get_mut(&self.id) {
            sub.filter = filter;
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut registry = self.hub.registry();
        if let Some(sub) = registry.subscribers.remove(&self.id) {
            registry.unindex(self.id, &sub.filter);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use noc_shared::{Alert, EventKind, Status};

    fn event(seq: u64, site: &str, severity: Severity, before: Option<(&str, Severity)>) -> Event {
        let t = crate::store::now();
        Event {
            kind: EventKind::Created,
            seq,
            alert: Alert {
                id: format!("a{seq}"),
                site: site.into(),
                severity,
                message: "m".into(),
                host: None,
                source: "test".into(),
                status: Status::Active,
                created_at: t,
                updated_at: t,
                resolved_at: None,
                acked_by: None,
                acked_at: None,
            },
            before: before.map(|(s, v)| (s.to_owned(), v)),
        }
    }

    fn filter(sites: &[&str], min: Severity) -> SiteFilter {
        SiteFilter::new(Some(sites.iter().map(|s| s.to_string()).collect()), min)
    }

    #[test]
    fn delivers_only_what_each_filter_wants() {
        let hub = Hub::new(16, Metrics::default());
        let mut kili = hub.subscribe(filter(&["Kilimanjaro"], Severity::Info));
        let mut all_high = hub.subscribe(SiteFilter::new(None, Severity::High));
        hub.publish(&event(1, "KILIMANJARO", Severity::Info, None));
        hub.publish(&event(2, "Serengeti", Severity::Critical, None));
        hub.publish(&event(
            3,
            "Serengeti",
            Severity::Info,
            Some(("kilimanjaro", Severity::Info)),
        ));
        let seqs = |s: &mut Subscription| {
            std::iter::from_fn(|| s.try_recv())
                .map(|f| f.seq)
                .collect::<Vec<_>>()
        };
        assert_eq!(seqs(&mut kili), vec![1, 3]);
        assert_eq!(seqs(&mut all_high), vec![2]);
    }

    #[test]
    fn a_full_queue_marks_the_subscriber_lagged() {
        let hub = Hub::new(2, Metrics::default());
        let mut sub = hub.subscribe(SiteFilter::all());
        for seq in 1..=3 {
            hub.publish(&event(seq, "A", Severity::Info, None));
        }
        assert!(sub.take_lagged());
        assert!(!sub.take_lagged(), "reported once");
        sub.discard_queue();
        assert!(sub.try_recv().is_none());
    }

    #[test]
    fn dropping_and_refiltering_update_the_index() {
        let hub = Hub::new(4, Metrics::default());
        let mut sub = hub.subscribe(filter(&["A"], Severity::Info));
        sub.set_filter(filter(&["B"], Severity::Info));
        hub.publish(&event(1, "A", Severity::Info, None));
        hub.publish(&event(2, "B", Severity::Info, None));
        assert_eq!(sub.try_recv().map(|f| f.seq), Some(2));
        assert_eq!(hub.len(), 1);
        drop(sub);
        assert!(hub.is_empty());
        assert!(hub.registry().by_site.is_empty());
    }
}
