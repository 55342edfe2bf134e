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
    /// Write-backs a source accepted; attempts that failed and wait to be
    /// tried again; write-backs given up.
    pub writeback_sent: Counter,
    pub writeback_retries: Counter,
    pub writeback_given_up: Counter,
    /// Write-backs pending and failed in the store now (all instances).
    pub writeback_pending: Gauge,
    pub writeback_failed: Gauge,
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
        let writeback_sent = Counter::default();
        let writeback_retries = Counter::default();
        let writeback_given_up = Counter::default();
        let writeback_pending = Gauge::default();
        let writeback_failed = Gauge::default();
        registry.register(
            "writeback_sent",
            "Write-backs the source accepted",
            writeback_sent.clone(),
        );
        registry.register(
            "writeback_retries",
            "Write-back attempts that failed and will be tried again",
            writeback_retries.clone(),
        );
        registry.register(
            "writeback_given_up",
            "Write-backs given up (failed)",
            writeback_given_up.clone(),
        );
        registry.register(
            "writeback_pending",
            "Write-backs waiting to be sent, in the store",
            writeback_pending.clone(),
        );
        registry.register(
            "writeback_failed",
            "Write-backs that failed, in the store",
            writeback_failed.clone(),
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
            writeback_sent,
            writeback_retries,
            writeback_given_up,
            writeback_pending,
            writeback_failed,
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
