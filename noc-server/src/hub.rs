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

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::ws::Utf8Bytes;
use noc_shared::{ServerMessage, Severity, SiteFilter, site_key};
use tokio::sync::mpsc;

use crate::metrics::Metrics;
use crate::store::Event;

/// One event, serialized once, with what filters need to know about it.
#[derive(Debug)]
pub struct Frame {
    pub seq: u64,
    /// The JSON text frame; cloning it shares the bytes.
    pub text: Utf8Bytes,
    /// The alert's site, lower-cased once here rather than per screen.
    site_key: String,
    severity: Severity,
    /// Site key and severity before the change, when the alert existed.
    before: Option<(String, Severity)>,
}

impl Frame {
    fn new(event: &Event) -> Self {
        let message = ServerMessage::alert(event.kind, event.seq, event.alert.clone());
        Frame {
            seq: event.seq,
            text: Utf8Bytes::from(message.to_json()),
            site_key: site_key(&event.alert.site),
            severity: event.alert.severity,
            before: event
                .before
                .as_ref()
                .map(|(site, severity)| (site_key(site), *severity)),
        }
    }

    /// A frame that carries nothing: it only wakes a connection so that it
    /// looks at its lagged flag. Its seq 0 is below every snapshot's.
    fn wake() -> Self {
        Frame {
            seq: 0,
            text: Utf8Bytes::from_static(""),
            site_key: String::new(),
            severity: Severity::Info,
            before: None,
        }
    }

    /// Does a screen with `filter` get this event? Yes when the alert matches
    /// before or after the change, so an alert that moves away still leaves.
    pub fn wanted_by(&self, filter: &SiteFilter) -> bool {
        filter.matches_key(&self.site_key, self.severity)
            || self
                .before
                .as_ref()
                .is_some_and(|(site, severity)| filter.matches_key(site, *severity))
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

/// Connection id → subscriber.
type Subscribers = HashMap<u64, Arc<Subscriber>>;

/// The subscribers, indexed so that publishing visits only the ones that
/// take the event's site. Each subscriber is in exactly one of `every_site`
/// or the `by_site` entries of its sites.
#[derive(Default)]
struct Registry {
    next_id: u64,
    all: Subscribers,
    /// Lower-cased site → subscribers that take it.
    by_site: HashMap<String, Subscribers>,
    /// Subscribers that take every site.
    every_site: Subscribers,
}

struct Subscriber {
    filter: SiteFilter,
    queue: mpsc::Sender<Arc<Frame>>,
    lagged: Arc<AtomicBool>,
}

impl Subscriber {
    /// Queues `frame`; a full queue marks the subscriber lagged (counted
    /// once per overflow) instead of blocking the publisher.
    fn offer(&self, frame: &Arc<Frame>, metrics: &Metrics) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.queue.try_send(frame.clone()) {
            if !self.lagged.swap(true, Ordering::AcqRel) {
                metrics.lagged.inc();
            }
        }
    }
}

impl Registry {
    fn insert(&mut self, id: u64, sub: Arc<Subscriber>) {
        match sub.filter.site_keys() {
            None => {
                self.every_site.insert(id, sub.clone());
            }
            Some(keys) => {
                for key in keys {
                    self.by_site
                        .entry(key.clone())
                        .or_default()
                        .insert(id, sub.clone());
                }
            }
        }
        self.all.insert(id, sub);
    }

    fn remove(&mut self, id: u64) -> Option<Arc<Subscriber>> {
        let sub = self.all.remove(&id)?;
        match sub.filter.site_keys() {
            None => {
                self.every_site.remove(&id);
            }
            Some(keys) => {
                for key in keys {
                    if let Some(subs) = self.by_site.get_mut(key) {
                        subs.remove(&id);
                        if subs.is_empty() {
                            self.by_site.remove(key);
                        }
                    }
                }
            }
        }
        Some(sub)
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
        registry.insert(
            id,
            Arc::new(Subscriber {
                filter,
                queue,
                lagged: lagged.clone(),
            }),
        );
        Subscription {
            id,
            hub: self.clone(),
            rx,
            lagged,
        }
    }

    /// Serializes `event` once and queues it for every connection that
    /// wants it, visiting only those that take its site (before or after
    /// the change) or every site. Never blocks.
    pub fn publish(&self, event: &Event) {
        let frame = Arc::new(Frame::new(event));
        self.metrics.events.inc();
        let registry = self.registry();
        let offer = |sub: &Arc<Subscriber>| {
            if frame.wanted_by(&sub.filter) {
                sub.offer(&frame, &self.metrics);
            }
        };
        registry.every_site.values().for_each(offer);
        let now = registry.by_site.get(&frame.site_key);
        now.into_iter().flat_map(HashMap::values).for_each(offer);
        // Screens of the site the alert moved away from, each once.
        if let Some((before, _)) = frame
            .before
            .as_ref()
            .filter(|(site, _)| *site != frame.site_key)
        {
            let also_now = |id: &u64| now.is_some_and(|subs| subs.contains_key(id));
            let then = registry.by_site.get(before).into_iter().flatten();
            then.filter(|(id, _)| !also_now(id))
                .for_each(|(_, sub)| offer(sub));
        }
    }

    /// Makes every connection send a fresh snapshot (`"reason":"lagged"`),
    /// as if its queue had overflowed: for when this hub may have missed
    /// events (a lost link to a shared store).
    pub fn resync_all(&self) {
        let registry = self.registry();
        for sub in registry.all.values() {
            if !sub.lagged.swap(true, Ordering::AcqRel) {
                self.metrics.lagged.inc();
            }
            // Wakes the connection; a full queue wakes it anyway.
            let _ = sub.queue.try_send(Arc::new(Frame::wake()));
        }
    }

    /// Connections currently subscribed.
    pub fn len(&self) -> usize {
        self.registry().all.len()
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
        if let Some(old) = registry.remove(self.id) {
            let sub = Subscriber {
                filter,
                queue: old.queue.clone(),
                lagged: old.lagged.clone(),
            };
            registry.insert(self.id, Arc::new(sub));
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.registry().remove(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use noc_shared::{Alert, EventKind};

    fn event(seq: u64, site: &str, severity: Severity, before: Option<(&str, Severity)>) -> Event {
        Event {
            kind: EventKind::Created,
            seq,
            alert: Alert::new(
                format!("a{seq}"),
                site,
                severity,
                "m",
                "test",
                crate::store::now(),
            ),
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
    fn an_alert_moving_between_two_sites_of_one_screen_arrives_once() {
        let hub = Hub::new(16, Metrics::default());
        let mut both = hub.subscribe(filter(&["A", "b"], Severity::Info));
        let mut only_a = hub.subscribe(filter(&["a"], Severity::Info));
        hub.publish(&event(1, "B", Severity::Info, Some(("A", Severity::Info))));
        let seqs = |s: &mut Subscription| {
            std::iter::from_fn(|| s.try_recv())
                .map(|f| f.seq)
                .collect::<Vec<_>>()
        };
        assert_eq!(seqs(&mut both), vec![1]);
        assert_eq!(seqs(&mut only_a), vec![1], "the screen it left hears of it");
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
