//! Fan-out and storm: alerts posted on schedule to connected screens,
//! every delivery timed and checked. The stuck-screen case shares the
//! posting, the waiting and the reckoning ([`Delivered`]).

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::fields::{delivery_fields, fleet_fields, notes, post_fields};
use super::meter::{Meter, Usage};
use super::{Outcome, Target, common, connect, new_run, shown};
use crate::failures::{Failures, Kind};
use crate::poster::{PostReport, Poster};
use crate::screen::Fleet;
use crate::tally::{Summary, summarize};
use crate::wire::site_of;

/// The load of a fan-out: which alerts, how fast, from how many posters.
#[derive(Debug, Clone)]
pub struct Load {
    pub screens: usize,
    pub sites: u32,
    pub alerts: u64,
    /// Alerts per second.
    pub rate: f64,
    pub posters: usize,
    pub pad: usize,
    /// How long to wait for deliveries after the last POST answered.
    pub drain: Duration,
    pub settle: Duration,
}

impl Load {
    fn fields(&self) -> Vec<(String, Value)> {
        vec![
            ("sites".into(), self.sites.into()),
            ("alerts".into(), self.alerts.into()),
            ("rate".into(), self.rate.into()),
            ("posters".into(), self.posters.into()),
            ("pad".into(), self.pad.into()),
        ]
    }
}

/// Screens connected, alerts posted on schedule, every delivery timed and
/// checked. `scenario` is `fanout` or `storm`.
pub async fn fanout(target: &Target, scenario: &str, load: &Load) -> anyhow::Result<Outcome> {
    let run = new_run();
    let (fleet, connect_s) = connect(&target.fleet(load.screens, load.sites, run)).await;
    tokio::time::sleep(load.settle).await;
    let (posts, usage) = post_and_deliver(target, run, &fleet, load).await?;
    let delivered = Delivered::reckon(fleet, connect_s, posts, usage).await;

    let case = if scenario == "storm" {
        format!("storm n={} rate={}", load.screens, load.rate)
    } else {
        format!("fanout n={} k={}", load.screens, load.sites)
    };
    let mut json = common(target, scenario, case);
    json.extend(delivered.fields(load));
    let human = format!(
        "{} {scenario} n={} k={}: {}/{} screens, {} deliveries/s, p50 {} / p99 {} / max {} ms, {} µs server CPU per delivery, {} of {} due delivered",
        target.label,
        load.screens,
        load.sites,
        delivered.connected,
        load.screens,
        shown(&json, "deliveries_per_s"),
        shown(&json, "p50_ms"),
        shown(&json, "p99_ms"),
        shown(&json, "max_ms"),
        shown(&json, "cpu_us_per_delivery"),
        delivered.summary.delivered,
        delivered.summary.expected,
    );
    Ok(delivered.outcome(json, human))
}

/// Posts `load.alerts` on schedule and waits until the screens that take
/// them have them all, or `load.drain` has passed; the server's usage is
/// metered over exactly that span.
pub(super) async fn post_and_deliver(
    target: &Target,
    run: u32,
    fleet: &Fleet,
    load: &Load,
) -> anyhow::Result<(PostReport, Usage)> {
    let poster = Poster::new(&target.base, &target.token, run, load.sites, load.pad)?;
    let meter = Meter::start(target);
    let posts = poster
        .on_schedule(load.alerts, load.rate, load.posters)
        .await;
    let expected = expected_deliveries(fleet, &posts, load.sites);
    wait_for(fleet, expected, load.drain).await;
    Ok((posts, meter.stop()))
}

/// Deliveries due: each accepted alert to every connected screen of its site.
fn expected_deliveries(fleet: &Fleet, posts: &PostReport, sites: u32) -> u64 {
    posts
        .accepted
        .iter()
        .map(|n| {
            let site = if sites > 1 { site_of(n, sites) } else { 0 };
            fleet.per_site.get(site as usize).copied().unwrap_or(0)
        })
        .sum()
}

/// Waits until `expected` deliveries are in, or `drain` has passed.
async fn wait_for(fleet: &Fleet, expected: u64, drain: Duration) {
    let deadline = Instant::now() + drain;
    while fleet.delivered.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// What a case of screens and posts came to.
pub(super) struct Delivered {
    pub screens: usize,
    pub connected: usize,
    /// Screens that failed to connect, and the first few reasons.
    connect_failures: (usize, Vec<String>),
    connect_s: f64,
    posts: PostReport,
    usage: Usage,
    pub summary: Summary,
}

impl Delivered {
    /// Ends every screen of `fleet` and checks what each received against
    /// the alerts `posts` got accepted.
    pub async fn reckon(fleet: Fleet, connect_s: f64, posts: PostReport, usage: Usage) -> Self {
        let screens = fleet.screens();
        let connected = fleet.connected;
        let connect_failures = fleet.failures.clone();
        let tallies = fleet.finish().await;
        let summary = summarize(&tallies, &posts.accepted);
        Delivered {
            screens,
            connected,
            connect_failures,
            connect_s,
            posts,
            usage,
            summary,
        }
    }

    /// Every failure a screen, a POST or a delivery had.
    fn failures(&self) -> Failures {
        let s = &self.summary;
        Failures::default()
            .with(Kind::Connect, self.connect_failures.0 as u64)
            .with(Kind::Request, self.posts.requests_failed)
            .with(Kind::Lost, s.lost)
            .with(Kind::Duplicated, s.duplicates)
            .with(Kind::Misrouted, s.misrouted)
            .with(Kind::Lagged, s.lagged_snapshots)
            .with(Kind::EndedEarly, s.ended_early)
    }

    /// The fields of the connection, the load, the posts and the deliveries.
    pub fn fields(&self, load: &Load) -> Vec<(String, Value)> {
        let mut fields = fleet_fields(self.screens, self.connected, self.connect_s);
        fields.extend(load.fields());
        fields.extend(post_fields(&self.posts, Some(load.rate)));
        fields.extend(delivery_fields(&self.summary, &self.posts, &self.usage));
        fields
    }

    /// The case's outcome: `json` and `human` with the failures and notes.
    pub fn outcome(&self, json: serde_json::Map<String, Value>, human: String) -> Outcome {
        let notes = notes(&self.connect_failures.1, Some(&self.posts), &self.usage);
        Outcome::new(json, human, &self.failures(), &notes)
    }
}
