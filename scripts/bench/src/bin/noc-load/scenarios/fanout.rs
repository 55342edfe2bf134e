//! Fan-out and storm: alerts posted on schedule to connected screens,
//! every delivery timed and checked.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use super::fields::{delivery_fields, fleet_fields, post_fields, warnings};
use super::meter::{Meter, Usage};
use super::{Outcome, Target, common, connect, new_run};
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

/// Screens connected, alerts posted on schedule, every delivery timed and
/// checked. `scenario` is `fanout` or `storm`.
pub async fn fanout(target: &Target, scenario: &str, load: &Load) -> anyhow::Result<Outcome> {
    let run = new_run();
    let (fleet, connect_s) = connect(target, &target.fleet(load.screens, load.sites, run)).await?;
    tokio::time::sleep(load.settle).await;
    let (posts, usage) = post_and_deliver(target, run, &fleet, load).await?;
    let (connected, failures, summary) = finish(fleet, &posts).await;
    let failed = failures.0;

    let case = if scenario == "storm" {
        format!("storm n={} rate={}", load.screens, load.rate)
    } else {
        format!("fanout n={} k={}", load.screens, load.sites)
    };
    let mut json = common(target, scenario, case);
    json.extend(fleet_fields(load.screens, connected, failed, connect_s));
    json.extend([
        ("sites".into(), load.sites.into()),
        ("alerts".into(), load.alerts.into()),
        ("rate".into(), load.rate.into()),
        ("posters".into(), load.posters.into()),
        ("pad".into(), load.pad.into()),
    ]);
    json.extend(post_fields(&posts, Some(load.rate)));
    json.extend(delivery_fields(&summary, &posts, &usage));
    let human = format!(
        "{} {scenario} n={} k={}: {} deliveries/s, p50 {} / p99 {} / max {} ms, {} µs server CPU per delivery, lost {} dup {} (of {} due){}",
        target.label,
        load.screens,
        load.sites,
        json["deliveries_per_s"],
        json["p50_ms"],
        json["p99_ms"],
        json["max_ms"],
        json["cpu_us_per_delivery"],
        summary.lost,
        summary.duplicates,
        summary.expected,
        warnings(&posts, &summary, &usage, &failures),
    );
    Ok(Outcome {
        json: json.into(),
        human,
    })
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

/// Ends every screen of `fleet`: how many had connected, why the others
/// failed, and what they received of `posts`.
pub(super) async fn finish(
    fleet: Fleet,
    posts: &PostReport,
) -> (usize, (usize, Vec<String>), Summary) {
    let connected = fleet.connected;
    let failures = fleet.failures.clone();
    let tallies = fleet.finish().await;
    (connected, failures, summarize(&tallies, &posts.accepted))
}

/// Waits until `expected` deliveries are in, or `drain` has passed.
async fn wait_for(fleet: &Fleet, expected: u64, drain: Duration) {
    let deadline = Instant::now() + drain;
    while fleet.delivered.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
