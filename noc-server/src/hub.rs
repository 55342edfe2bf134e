//! The fan-out hub: every committed event is numbered by the store,
//! serialized and framed once when it is published (an [`event::Frame`]),
//! and offered (shared, not copied) to the outlet of each connection whose
//! filter wants it. Events come in through [`Publish`], which is all the
//! writer and the PostgreSQL follower know of the hub.
//!
//! [`event::Frame`]: crate::event::Frame
//!
//! Subscribers are indexed by site, so an event reaches only the
//! connections that take its site (before or after the change) or take
//! every site; a screen of one site sleeps through the other sites' storms.
//!
//! One fan-out task does the offering, off the write path. It takes every
//! event that waits (up to [`ROUND`]) as one round, and offers each screen
//! all of that round's frames it wants at once: idle, one event costs one
//! `write` per screen; in a storm the rounds grow, and several frames share
//! one `write`, which is what keeps a single core ahead of the flood.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use noc_shared::SiteFilter;
use tokio::sync::mpsc;

use crate::event::{Event, Frame, Publish};
use crate::metrics::Metrics;
use crate::outlet::Outlet;

/// The most events in one fan-out round (a bit each in a `u64` mask).
const ROUND: usize = 64;
/// Screens offered a round between two yields to the other tasks, so that
/// a fan-out to 10,000 screens does not hold up the requests behind it.
const YIELD_EVERY: usize = 256;

/// The hub. Shared by the write path (publishes, through [`Publish`]) and
/// the connections (subscribe); cheap to reach through an `Arc`.
pub struct Hub {
    registry: Arc<Mutex<Registry>>,
    /// To the fan-out task, which ends when the hub is dropped.
    rounds: mpsc::UnboundedSender<Arc<Frame>>,
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
    outlet: Arc<Outlet>,
}

fn lock(registry: &Mutex<Registry>) -> MutexGuard<'_, Registry> {
    // A panic while holding the lock leaves the registry consistent (each
    // change is a single insert or remove), so poisoning is ignored.
    registry
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
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

    /// Calls `visit` once for each subscriber that wants `frame`, visiting
    /// only those that take its site (before or after the change) or every
    /// site.
    fn wanting(&self, frame: &Frame, mut visit: impl FnMut(u64, &Arc<Subscriber>)) {
        // `takes_site`: the subscriber is known to take the alert's site, so
        // its severity is all that is left to check (the site set lookup
        // is a measurable share of a delivery).
        let mut offer = |id: &u64, sub: &Arc<Subscriber>, takes_site: bool| {
            if (takes_site && frame.severity() >= sub.filter.min_severity())
                || frame.wanted_by(&sub.filter)
            {
                visit(*id, sub);
            }
        };
        // An alert for every site (now or before the change) concerns
        // every screen: no index narrows it down.
        let everywhere = |site: &str| site == noc_shared::EVERY_SITE;
        if everywhere(frame.site_key()) || frame.before().is_some_and(|(s, _)| everywhere(s)) {
            for (id, sub) in &self.all {
                offer(id, sub, false);
            }
            return;
        }
        for (id, sub) in &self.every_site {
            offer(id, sub, true);
        }
        let now = self.by_site.get(frame.site_key());
        for (id, sub) in now.into_iter().flatten() {
            offer(id, sub, true);
        }
        // Screens of the site the alert moved away from, each once.
        if let Some((before, _)) = frame.before().filter(|(site, _)| *site != frame.site_key()) {
            let also_now = |id: &u64| now.is_some_and(|subs| subs.contains_key(id));
            for (id, sub) in self.by_site.get(before).into_iter().flatten() {
                if !also_now(id) {
                    offer(id, sub, false);
                }
            }
        }
    }
}

impl Hub {
    /// A hub whose connections each hold up to `capacity` events; starts
    /// its fan-out task on the current runtime.
    pub fn new(capacity: usize, metrics: Metrics) -> Arc<Self> {
        let registry = Arc::new(Mutex::new(Registry::default()));
        let (rounds, rx) = mpsc::unbounded_channel();
        tokio::spawn(fan_out(registry.clone(), rx, metrics.clone()));
        Arc::new(Hub {
            registry,
            rounds,
            capacity,
            metrics,
        })
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        lock(&self.registry)
    }

    /// Registers a connection writing to `socket` (see [`Outlet`]). Its
    /// outlet holds events until the connection's first snapshot is queued.
    pub fn subscribe(
        self: &Arc<Self>,
        filter: SiteFilter,
        socket: Option<Arc<tokio::net::tcp::OwnedWriteHalf>>,
    ) -> Subscription {
        let outlet = Arc::new(Outlet::new(socket, self.capacity));
        let mut registry = self.registry();
        registry.next_id += 1;
        let id = registry.next_id;
        let sub = Subscriber {
            filter,
            outlet: outlet.clone(),
        };
        registry.insert(id, Arc::new(sub));
        Subscription {
            id,
            hub: self.clone(),
            outlet,
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

impl Publish for Hub {
    /// Serializes `event` once and hands it to the fan-out task. Never
    /// blocks; events are offered in the order they are published.
    fn publish(&self, event: &Event) {
        self.metrics.events.inc();
        // Fails only once the runtime is shutting down the fan-out task.
        let _ = self.rounds.send(Arc::new(Frame::new(event)));
    }

    /// Marks every connection lagged, as if its queue had overflowed.
    fn resync_all(&self) {
        for sub in self.registry().all.values() {
            if sub.outlet.force_lag() {
                self.metrics.lagged.inc();
            }
        }
    }
}

/// The fan-out task: each round offers every waiting event to the screens
/// that want it, each screen all its frames of the round at once.
async fn fan_out(
    registry: Arc<Mutex<Registry>>,
    mut rx: mpsc::UnboundedReceiver<Arc<Frame>>,
    metrics: Metrics,
) {
    let mut round = Vec::with_capacity(ROUND);
    // Subscriber id → (subscriber, bit i set when it wants round[i]).
    let mut targets: HashMap<u64, (Arc<Subscriber>, u64)> = HashMap::new();
    while rx.recv_many(&mut round, ROUND).await > 0 {
        {
            let registry = lock(&registry);
            for (i, frame) in round.iter().enumerate() {
                registry.wanting(frame, |id, sub| {
                    targets.entry(id).or_insert_with(|| (sub.clone(), 0)).1 |= 1 << i;
                });
            }
        }
        let mut delivered = 0;
        let mut frames = Vec::with_capacity(ROUND);
        for (n, (_, (sub, wants))) in targets.drain().enumerate() {
            frames.extend(
                round
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| wants & (1 << i) != 0)
                    .map(|(_, f)| &**f),
            );
            let (taken, lagged) = sub.outlet.offer(&frames);
            frames.clear();
            delivered += taken as u64;
            if lagged {
                metrics.lagged.inc();
            }
            if n % YIELD_EVERY == YIELD_EVERY - 1 {
                tokio::task::yield_now().await;
            }
        }
        metrics.deliveries.inc_by(delivered);
        round.clear();
    }
}

/// One connection's place in the hub; leaving the hub is dropping this.
pub struct Subscription {
    id: u64,
    hub: Arc<Hub>,
    outlet: Arc<Outlet>,
}

impl Subscription {
    /// Where this connection's frames wait to be written.
    pub fn outlet(&self) -> &Arc<Outlet> {
        &self.outlet
    }

    /// Replaces the filter (on a `subscribe` message). Pause the outlet
    /// first and read the new snapshot after, so nothing falls between.
    pub fn set_filter(&self, filter: SiteFilter) {
        let mut registry = self.hub.registry();
        if let Some(old) = registry.remove(self.id) {
            let sub = Subscriber {
                filter,
                outlet: old.outlet.clone(),
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
    use bytes::Bytes;
    use noc_shared::{Alert, EventKind, Severity};

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
                crate::change::now(),
            ),
            before: before.map(|(s, v)| (s.to_owned(), v)),
            reason: None,
            note: None,
        }
    }

    fn filter(sites: &[&str], min: Severity) -> SiteFilter {
        SiteFilter::new(Some(sites.iter().map(|s| s.to_string()).collect()), min)
    }

    /// A live subscription that queues everything (no socket).
    fn subscribe(hub: &Arc<Hub>, filter: SiteFilter) -> Subscription {
        let sub = hub.subscribe(filter, None);
        sub.outlet().resume(Bytes::new(), 0);
        sub
    }

    /// Lets the fan-out task take its turn.
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    /// The seqs of the event frames queued for `sub`.
    fn seqs(sub: &Subscription) -> Vec<u64> {
        sub.outlet()
            .take_queued()
            .iter()
            .filter_map(|wire| {
                let json = &wire[wire.iter().position(|b| *b == b'{')?..];
                let value: serde_json::Value = serde_json::from_slice(json).ok()?;
                value["seq"].as_u64()
            })
            .collect()
    }

    #[tokio::test]
    async fn delivers_only_what_each_filter_wants() {
        let hub = Hub::new(16, Metrics::default());
        let kili = subscribe(&hub, filter(&["Kilimanjaro"], Severity::Info));
        let all_high = subscribe(&hub, SiteFilter::new(None, Severity::High));
        hub.publish(&event(1, "KILIMANJARO", Severity::Info, None));
        hub.publish(&event(2, "Serengeti", Severity::Critical, None));
        hub.publish(&event(
            3,
            "Serengeti",
            Severity::Info,
            Some(("kilimanjaro", Severity::Info)),
        ));
        settle().await;
        assert_eq!(seqs(&kili), vec![1, 3]);
        assert_eq!(seqs(&all_high), vec![2]);
    }

    #[tokio::test]
    async fn an_alert_moving_between_two_sites_of_one_screen_arrives_once() {
        let hub = Hub::new(16, Metrics::default());
        let both = subscribe(&hub, filter(&["A", "b"], Severity::Info));
        let only_a = subscribe(&hub, filter(&["a"], Severity::Info));
        hub.publish(&event(1, "B", Severity::Info, Some(("A", Severity::Info))));
        settle().await;
        assert_eq!(seqs(&both), vec![1]);
        assert_eq!(seqs(&only_a), vec![1], "the screen it left hears of it");
    }

    #[tokio::test]
    async fn an_alert_for_every_site_reaches_every_screen_and_leaves_them() {
        let hub = Hub::new(16, Metrics::default());
        let north = subscribe(&hub, filter(&["North"], Severity::Info));
        let south_high = subscribe(&hub, filter(&["South"], Severity::High));
        let all = subscribe(&hub, SiteFilter::all());
        hub.publish(&event(1, "*", Severity::Warning, None));
        hub.publish(&event(2, "*", Severity::Critical, None));
        // Moved from every site to South: North's screen hears it leave.
        hub.publish(&event(
            3,
            "South",
            Severity::Info,
            Some(("*", Severity::Info)),
        ));
        settle().await;
        assert_eq!(seqs(&north), vec![1, 2, 3]);
        assert_eq!(
            seqs(&south_high),
            vec![2],
            "its minimum severity still applies"
        );
        assert_eq!(seqs(&all), vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn a_full_queue_marks_the_subscriber_lagged_and_counts_it_once() {
        let metrics = Metrics::default();
        let hub = Hub::new(2, metrics.clone());
        let sub = subscribe(&hub, SiteFilter::all());
        for seq in 1..=4 {
            hub.publish(&event(seq, "A", Severity::Info, None));
            settle().await;
        }
        assert_eq!(metrics.lagged.get(), 1);
        assert!(sub.outlet().take_lagged());
        assert!(seqs(&sub).is_empty(), "the queued events were dropped");
    }

    #[tokio::test]
    async fn resync_all_makes_every_screen_lagged() {
        let hub = Hub::new(4, Metrics::default());
        let a = subscribe(&hub, filter(&["A"], Severity::Info));
        let b = subscribe(&hub, SiteFilter::all());
        hub.resync_all();
        assert!(a.outlet().take_lagged());
        assert!(b.outlet().take_lagged());
    }

    #[tokio::test]
    async fn dropping_and_refiltering_update_the_index() {
        let hub = Hub::new(4, Metrics::default());
        let sub = subscribe(&hub, filter(&["A"], Severity::Info));
        sub.set_filter(filter(&["B"], Severity::Info));
        hub.publish(&event(1, "A", Severity::Info, None));
        hub.publish(&event(2, "B", Severity::Info, None));
        settle().await;
        assert_eq!(seqs(&sub), vec![2]);
        assert_eq!(hub.len(), 1);
        drop(sub);
        assert!(hub.is_empty());
        assert!(hub.registry().by_site.is_empty());
    }
}
