//! The scenarios. Each measures one thing on a server that was started
//! fresh for it and returns one [`Outcome`]: a JSON object for the table and
//! a line for a person, both marked when the case had any failure.
//!
//! - [`idle`], [`fanout`] (fan-out and storm), [`ingest`], [`stuck`]: one
//!   file each.
//! - [`meter`]: the server's and the generator's CPU time over a measured
//!   stretch, and the server's memory over time.
//! - [`fields`]: the JSON fields and the notes the scenarios share.

mod fanout;
mod fields;
mod idle;
mod ingest;
mod meter;
mod stuck;

use std::net::SocketAddr;

use anyhow::Context;
use noc_bench::procfs::{self, Proc};
use serde_json::Value;
use tokio::time::Instant;

use crate::failures::Failures;
use crate::screen::{Fleet, FleetPlan};

pub use fanout::{Load, fanout};
pub use idle::idle;
pub use ingest::ingest;
pub use stuck::stuck;

/// The server under test and how to reach it.
pub struct Target {
    /// `http://host:port`, without a trailing slash.
    pub base: String,
    pub addr: SocketAddr,
    pub token: String,
    /// The server's process, for its memory and CPU time.
    pub server: Option<Proc>,
    /// The server's name in the table.
    pub label: String,
    /// Concurrent WebSocket handshakes while connecting screens.
    pub concurrency: usize,
    ticks_per_s: u64,
}

impl Target {
    pub fn new(
        url: &str,
        token: String,
        server_pid: Option<u32>,
        label: String,
        concurrency: usize,
    ) -> anyhow::Result<Self> {
        let base = url.trim_end_matches('/').to_owned();
        let host = base
            .strip_prefix("http://")
            .context("--url must be http://HOST:PORT")?;
        let addr = host
            .parse()
            .with_context(|| format!("--url: {host:?} is not an IP address and port"))?;
        Ok(Target {
            base,
            addr,
            token,
            server: server_pid.map(Proc::Pid),
            label,
            concurrency,
            ticks_per_s: procfs::ticks_per_second(),
        })
    }

    fn fleet(&self, screens: usize, sites: u32, run: u32) -> FleetPlan {
        FleetPlan {
            addr: self.addr,
            ws_url: format!("ws://{}/ws/alerts", self.addr),
            screens,
            sites: sites.max(1),
            run,
            concurrency: self.concurrency,
        }
    }

    fn rss_kib(&self) -> Option<u64> {
        self.server.and_then(|p| p.rss_kib().ok())
    }
}

/// What a scenario prints: one JSON line and one human line.
pub struct Outcome {
    pub json: Value,
    pub human: String,
    /// The case had a failure (see [`Failures`]).
    pub failed: bool,
}

impl Outcome {
    /// The outcome of a case: `json` gets the failure counts, `human` the
    /// `FAILED:` mark in front when there is any, then every count, then
    /// `notes` (first errors, warnings) in brackets.
    fn new(
        mut json: serde_json::Map<String, Value>,
        human: String,
        failures: &Failures,
        notes: &[String],
    ) -> Outcome {
        json.extend(failures.fields());
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" [{}]", notes.join("; "))
        };
        Outcome {
            json: json.into(),
            human: format!(
                "{}{human}; failures: {}{notes}",
                failures.mark(),
                failures.describe()
            ),
            failed: failures.any(),
        }
    }
}

fn new_run() -> u32 {
    // Tells this run's alerts from any a server already holds.
    rand::random::<u32>() >> 1
}

fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

/// Connects the screens of `plan`, and how long it took. Screens that fail
/// are counted in the fleet; a case where none connect still runs, and its
/// lines say so.
async fn connect(plan: &FleetPlan) -> (Fleet, f64) {
    let started = Instant::now();
    let fleet = Fleet::connect(plan).await;
    (fleet, started.elapsed().as_secs_f64())
}

fn common(target: &Target, scenario: &str, case: String) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    map.insert("scenario".into(), scenario.into());
    map.insert("case".into(), case.into());
    map.insert("label".into(), target.label.clone().into());
    map
}

/// A field of a result for the human line: `–` when it is null (nothing
/// was timed, no `/proc` reading).
fn shown(json: &serde_json::Map<String, Value>, key: &str) -> String {
    match json.get(key) {
        Some(Value::Null) | None => "–".to_owned(),
        Some(value) => value.to_string(),
    }
}

fn show<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "?".to_owned(), |v| v.to_string())
}
