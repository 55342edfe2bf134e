//! Prometheus metrics, served as text at `/metrics`.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The server's counters. Cloning shares them.
#[derive(Clone)]
pub struct Metrics {
    /// WebSocket screens connected now.
    pub screens: Gauge,
    /// Alert events committed and published.
    pub events: Counter,
    /// Event frames written to screens.
    pub deliveries: Counter,
    /// Times a screen's queue overflowed and it was resynced.
    pub lagged: Counter,
    /// Alerts accepted by a write (webhook or API).
    pub ingested: Counter,
    /// Write requests refused (4xx) or failed (5xx).
    pub rejected: Counter,
    /// Time from a write request's arrival to its durable commit.
    pub ingest_seconds: Histogram,
    /// Writes accepted from each source of the sources file.
    pub source_writes: Family<SourceLabels, Counter>,
    /// When each source was last heard from here, in unix seconds.
    pub source_last_seen: Family<SourceLabels, Gauge>,
    registry: Arc<Registry>,
}

impl Default for Metrics {
    fn default() -> Self {
        let screens = Gauge::default();
        let events = Counter::default();
        let deliveries = Counter::default();
        let lagged = Counter::default();
        let ingested = Counter::default();
        let rejected = Counter::default();
        // 0.25 ms .. ~4 s.
        let ingest_seconds = Histogram::new(exponential_buckets(0.000_25, 2.0, 15));
        let mut registry = Registry::with_prefix("noc");
        registry.register(
            "screens_connected",
            "WebSocket screens connected now",
            screens.clone(),
        );
        registry.register(
            "events",
            "Alert events committed and published",
            events.clone(),
        );
        registry.register(
            "deliveries",
            "Event frames written to screens",
            deliveries.clone(),
        );
        registry.register(
            "lagged_screens",
            "Times a screen fell behind and was resynced",
            lagged.clone(),
        );
        registry.register(
            "ingest_alerts",
            "Alerts accepted by writes",
            ingested.clone(),
        );
        registry.register(
            "ingest_rejected_requests",
            "Write requests refused or failed",
            rejected.clone(),
        );
        registry.register(
            "ingest_duration_seconds",
            "Time from a write request's arrival to its durable commit",
            ingest_seconds.clone(),
        );
        let source_writes = Family::<SourceLabels, Counter>::default();
        registry.register(
            "source_writes",
            "Writes accepted from each source of the sources file",
            source_writes.clone(),
        );
        let source_last_seen = Family::<SourceLabels, Gauge>::default();
        registry.register(
            "source_last_seen_seconds",
            "When each source was last heard from by this instance (unix time)",
            source_last_seen.clone(),
        );
        Metrics {
            source_writes,
            source_last_seen,
            screens,
            events,
            deliveries,
            lagged,
            ingested,
            rejected,
            ingest_seconds,
            registry: Arc::new(registry),
        }
    }
}

/// The label of the per-source metrics.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    pub source: String,
}

impl Metrics {
    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}
