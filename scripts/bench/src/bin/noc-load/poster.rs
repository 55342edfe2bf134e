//! The senders: alerts posted to `POST /internal/alerts` on a fixed schedule
//! (for fan-out, storm and flood scenarios) or as fast as the server answers
//! (for ingest), from several concurrent posters with kept-alive
//! connections, so that one slow answer does not hold the rate back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use hdrhistogram::Histogram;
use noc_bench::percentile::{self, histogram};
use tokio::time::Instant;

use crate::clock;
use crate::tally::AlertSet;
use crate::wire;

/// How long one POST may take before it counts as failed.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// Posts alerts to one server.
#[derive(Clone)]
pub struct Poster {
    client: reqwest::Client,
    url: String,
    auth: String,
    pub run: u32,
    /// Sites the alerts spread over (round robin by alert number).
    pub sites: u32,
    /// Extra message bytes per alert.
    pub pad: usize,
}

/// What a set of posters did.
#[derive(Debug)]
pub struct PostReport {
    /// Alerts whose POST answered 2xx.
    pub accepted: AlertSet,
    pub requests_ok: u64,
    pub requests_failed: u64,
    /// The first few failures, for the human line.
    pub errors: Vec<String>,
    /// Latency of each successful POST, in microseconds.
    pub latency_us: Histogram<u64>,
    /// When the first POST was sent and the last answer came (generator clock).
    pub first_sent_ns: u64,
    pub last_answer_ns: u64,
    /// How far the latest POST started behind its scheduled time, in
    /// microseconds: above a few ms, the posters could not hold the rate.
    pub max_behind_us: u64,
}

impl PostReport {
    fn new() -> Self {
        PostReport {
            accepted: AlertSet::default(),
            requests_ok: 0,
            requests_failed: 0,
            errors: Vec::new(),
            latency_us: histogram(),
            first_sent_ns: u64::MAX,
            last_answer_ns: 0,
            max_behind_us: 0,
        }
    }

    fn merge(&mut self, other: PostReport) {
        self.accepted.union(&other.accepted);
        self.requests_ok += other.requests_ok;
        self.requests_failed += other.requests_failed;
        for e in other.errors {
            if self.errors.len() < 3 {
                self.errors.push(e);
            }
        }
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.latency_us.add(&other.latency_us);
        self.first_sent_ns = self.first_sent_ns.min(other.first_sent_ns);
        self.last_answer_ns = self.last_answer_ns.max(other.last_answer_ns);
        self.max_behind_us = self.max_behind_us.max(other.max_behind_us);
    }

    /// Seconds from the first POST to the last answer.
    pub fn elapsed_s(&self) -> f64 {
        self.last_answer_ns.saturating_sub(self.first_sent_ns) as f64 / 1e9
    }
}

impl Poster {
    /// `base` is the server's `http://host:port`.
    pub fn new(base: &str, token: &str, run: u32, sites: u32, pad: usize) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .tcp_nodelay(true)
            .timeout(POST_TIMEOUT)
            .pool_max_idle_per_host(256)
            .build()
            .context("building the HTTP client")?;
        Ok(Poster {
            client,
            url: format!("{base}/internal/alerts"),
            auth: format!("Bearer {token}"),
            run,
            sites: sites.max(1),
            pad,
        })
    }

    /// Posts `first..first + count` in one request, stamped with the send
    /// time, and records the outcome in `report`.
    async fn post(&self, first: u64, count: u64, report: &mut PostReport) {
        let sent = clock::now_ns();
        let body = wire::post_body(self.run, first, count, self.sites, sent, self.pad);
        let answer = self
            .client
            .post(&self.url)
            .header(reqwest::header::AUTHORIZATION, &self.auth)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        // The body is read so that the connection can be kept alive.
        let outcome = match answer {
            Ok(response) if response.status().is_success() => response
                .bytes()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Ok(response) => Err(format!("HTTP {}", response.status())),
            Err(e) => Err(e.to_string()),
        };
        let done = clock::now_ns();
        report.first_sent_ns = report.first_sent_ns.min(sent);
        report.last_answer_ns = report.last_answer_ns.max(done);
        match outcome {
            Ok(()) => {
                report.requests_ok += 1;
                for n in first..first + count {
                    report.accepted.insert(n);
                }
                let latency = Duration::from_nanos(done.saturating_sub(sent));
                percentile::record(&mut report.latency_us, latency);
            }
            Err(e) => {
                report.requests_failed += 1;
                if report.errors.len() < 3 {
                    report.errors.push(e);
                }
            }
        }
    }

    /// Posts alerts `0..count`, one per request, alert `n` due at
    /// `n / rate` seconds, from `posters` concurrent tasks. A late poster
    /// sends at once, so the rate holds as long as the server keeps up.
    pub async fn on_schedule(&self, count: u64, rate: f64, posters: usize) -> PostReport {
        let start = Instant::now();
        self.in_parallel(posters, move |poster, next| async move {
            let mut report = PostReport::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    break;
                }
                let due = start + Duration::from_secs_f64(n as f64 / rate.max(0.001));
                tokio::time::sleep_until(due).await;
                let behind = Instant::now().saturating_duration_since(due);
                report.max_behind_us = report.max_behind_us.max(behind.as_micros() as u64);
                poster.post(n, 1, &mut report).await;
            }
            report
        })
        .await
    }

    /// Posts batches of `batch` alerts back to back from `posters` tasks
    /// for `duration`; the requests in flight at the end are waited for.
    pub async fn flat_out(&self, duration: Duration, batch: u64, posters: usize) -> PostReport {
        let deadline = Instant::now() + duration;
        self.in_parallel(posters, move |poster, next| async move {
            let mut report = PostReport::new();
            while Instant::now() < deadline {
                let first = next.fetch_add(batch, Ordering::Relaxed);
                poster.post(first, batch, &mut report).await;
            }
            report
        })
        .await
    }

    /// Runs `work` on `posters` tasks at once, each with its own poster and
    /// the shared count of alert numbers taken, and merges their reports.
    async fn in_parallel<F, Fut>(&self, posters: usize, work: F) -> PostReport
    where
        F: Fn(Poster, Arc<AtomicU64>) -> Fut,
        Fut: Future<Output = PostReport> + Send + 'static,
    {
        let next = Arc::new(AtomicU64::new(0));
        let tasks = (0..posters.max(1))
            .map(|_| tokio::spawn(work(self.clone(), next.clone())))
            .collect();
        join(tasks).await
    }
}

async fn join(tasks: Vec<tokio::task::JoinHandle<PostReport>>) -> PostReport {
    let mut total = PostReport::new();
    for task in tasks {
        if let Ok(report) = task.await {
            total.merge(report);
        }
    }
    total
}
