//! The scenarios. Each measures one thing on a server that was started
//! fresh for it and returns one [`Outcome`]: a JSON object for the table and
//! a line for a person.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::clock;
use crate::poster::{PostReport, Poster};
use crate::procfs::{self, CpuTime, Proc};
use crate::screen::{Fleet, FleetPlan, stuck_screen};
use crate::tally::{Summary, quantile_ms, summarize};
use crate::wire::site_of;

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
}

/// CPU time of the server and of the generator over a measured stretch.
struct Meter {
    server: Option<Proc>,
    ticks_per_s: u64,
    server_cpu: Option<CpuTime>,
    own_cpu: Option<CpuTime>,
    wall: Instant,
}

struct Usage {
    server_cpu: Option<Duration>,
    own_cpu_pct: Option<f64>,
}

impl Meter {
    fn start(target: &Target) -> Meter {
        Meter {
            server: target.server,
            ticks_per_s: target.ticks_per_s,
            server_cpu: target.server.and_then(|p| p.cpu(target.ticks_per_s).ok()),
            own_cpu: Proc::Myself.cpu(target.ticks_per_s).ok(),
            wall: Instant::now(),
        }
    }

    fn stop(&self) -> Usage {
        let since = |before: Option<CpuTime>, p: Option<Proc>| {
            Some(p?.cpu(self.ticks_per_s).ok()?.since(&before?))
        };
        let wall = self.wall.elapsed().as_secs_f64();
        Usage {
            server_cpu: since(self.server_cpu, self.server),
            own_cpu_pct: since(self.own_cpu, Some(Proc::Myself))
                .map(|cpu| 100.0 * cpu.as_secs_f64() / wall.max(1e-9)),
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

async fn connect(target: &Target, plan: &FleetPlan) -> anyhow::Result<(Fleet, f64)> {
    let started = Instant::now();
    let fleet = Fleet::connect(plan).await;
    let seconds = started.elapsed().as_secs_f64();
    if fleet.connected == 0 {
        anyhow::bail!(
            "no screen could connect to {}: {:?}",
            target.base,
            fleet.failures.1
        );
    }
    Ok((fleet, seconds))
}

fn common(target: &Target, scenario: &str, case: String) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    map.insert("scenario".into(), scenario.into());
    map.insert("case".into(), case.into());
    map.insert("label".into(), target.label.clone().into());
    map
}

/// Idle screens: the server's resident memory per connection.
pub async fn idle(target: &Target, screens: usize, settle: Duration) -> anyhow::Result<Outcome> {
    let before = target.rss_kib();
    let (fleet, connect_s) = connect(target, &target.fleet(screens, 1, new_run())).await?;
    tokio::time::sleep(settle).await;
    let after = target.rss_kib();
    let connected = fleet.connected;
    let failed = fleet.failures.0;
    fleet.finish().await;
    let per_screen = match (before, after) {
        (Some(b), Some(a)) => Some(round((a as f64 - b as f64) / connected as f64, 2)),
        _ => None,
    };
    let mut json = common(target, "idle", format!("idle n={screens}"));
    json.extend(fleet_fields(screens, connected, failed, connect_s));
    json.extend([
        ("rss_before_kib".into(), before.into()),
        ("rss_after_kib".into(), after.into()),
        ("rss_per_screen_kib".into(), per_screen.into()),
    ]);
    let human = format!(
        "{} idle: {connected}/{screens} screens in {connect_s:.1} s, RSS {} → {} KiB, {} KiB per screen",
        target.label,
        show(before),
        show(after),
        show(per_screen),
    );
    Ok(Outcome {
        json: json.into(),
        human,
    })
}

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

/// Durable ingest: posters back to back for `duration`, no screens.
pub async fn ingest(
    target: &Target,
    batch: u64,
    posters: usize,
    duration: Duration,
) -> anyhow::Result<Outcome> {
    let poster = Poster::new(&target.base, &target.token, new_run(), 10, 0)?;
    let meter = Meter::start(target);
    let posts = poster.flat_out(duration, batch.max(1), posters).await;
    let usage = meter.stop();
    let alerts = posts.accepted.len();
    let per_s = alerts as f64 / posts.elapsed_s().max(1e-9);
    let cpu_per_alert = usage
        .server_cpu
        .map(|cpu| round(cpu.as_secs_f64() * 1e6 / alerts.max(1) as f64, 2));
    let mut json = common(target, "ingest", format!("ingest batch={batch}"));
    json.extend([
        ("batch".into(), batch.into()),
        ("posters".into(), posters.into()),
        ("duration_s".into(), duration.as_secs_f64().into()),
        ("alerts_accepted".into(), alerts.into()),
        ("alerts_per_s".into(), round(per_s, 0).into()),
        ("cpu_us_per_alert".into(), cpu_per_alert.into()),
        (
            "gen_cpu_pct".into(),
            usage.own_cpu_pct.map(|p| round(p, 1)).into(),
        ),
    ]);
    json.extend(post_fields(&posts, None));
    let human = format!(
        "{} ingest batch={batch}: {} alerts/s, POST p50 {} / p99 {} ms, {} µs server CPU per alert, {} failed requests{}{}",
        target.label,
        json["alerts_per_s"],
        json["post_p50_ms"],
        json["post_p99_ms"],
        json["cpu_us_per_alert"],
        posts.requests_failed,
        first_error(&posts),
        if usage.own_cpu_pct.is_some_and(|p| p > 90.0) {
            " [the generator was CPU-bound: the server may take more]"
        } else {
            ""
        },
    );
    Ok(Outcome {
        json: json.into(),
        human,
    })
}

/// One screen stops reading while a flood goes to it and to `load.screens`
/// healthy screens: the server's memory over time, and whether the healthy
/// screens still get everything.
pub async fn stuck(target: &Target, load: &Load, after: Duration) -> anyhow::Result<Outcome> {
    let run = new_run();
    let plan = target.fleet(load.screens, load.sites, run);
    let (fleet, connect_s) = connect(target, &plan).await?;
    let stop_stuck = CancellationToken::new();
    let stuck = stuck_screen(&plan, stop_stuck.clone())
        .await
        .context("connecting the stuck screen")?;
    tokio::time::sleep(load.settle).await;

    let stop_sampling = CancellationToken::new();
    let sampler = tokio::spawn(sample_rss(target.server, stop_sampling.clone()));
    let (posts, usage) = post_and_deliver(target, run, &fleet, load).await?;
    // Keep sampling with the stuck screen still connected: does the memory
    // it caused stay, grow or go?
    tokio::time::sleep(after).await;
    stop_sampling.cancel();
    let samples = sampler.await.unwrap_or_default();
    stop_stuck.cancel();
    let _ = stuck.await;
    let (connected, failures, summary) = finish(fleet, &posts).await;
    let failed = failures.0;

    let before = samples.first().map(|&(_, kib)| kib);
    let max = samples.iter().map(|&(_, kib)| kib).max();
    let end = samples.last().map(|&(_, kib)| kib);
    let growth = before.zip(max).map(|(b, m)| m.saturating_sub(b));
    let mut json = common(target, "stuck", "stuck".to_owned());
    json.extend(fleet_fields(load.screens, connected, failed, connect_s));
    json.extend([
        ("alerts".into(), load.alerts.into()),
        ("rate".into(), load.rate.into()),
        ("pad".into(), load.pad.into()),
        ("rss_before_kib".into(), before.into()),
        ("rss_max_kib".into(), max.into()),
        ("rss_end_kib".into(), end.into()),
        ("rss_growth_kib".into(), growth.into()),
        (
            "rss_samples".into(),
            samples.iter().map(|&(ms, kib)| json!([ms, kib])).collect(),
        ),
    ]);
    json.extend(post_fields(&posts, Some(load.rate)));
    json.extend(delivery_fields(&summary, &posts, &usage));
    let human = format!(
        "{} stuck screen: server RSS {} → max {} → {} KiB at the end; healthy screens p99 {} ms, lost {} dup {} (of {} due){}",
        target.label,
        show(before),
        show(max),
        show(end),
        json["p99_ms"],
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
async fn post_and_deliver(
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
async fn finish(fleet: Fleet, posts: &PostReport) -> (usize, (usize, Vec<String>), Summary) {
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

/// The server's RSS every 250 ms until `stop`: (ms since start, KiB).
async fn sample_rss(server: Option<Proc>, stop: CancellationToken) -> Vec<(u64, u64)> {
    let Some(server) = server else {
        return Vec::new();
    };
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut samples = Vec::new();
    // Bounded by `stop`, which the scenario always cancels.
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = tick.tick() => {
                if let Ok(kib) = server.rss_kib() {
                    samples.push((start.elapsed().as_millis() as u64, kib));
                }
            }
        }
    }
    if let Ok(kib) = server.rss_kib() {
        samples.push((start.elapsed().as_millis() as u64, kib));
    }
    samples
}

/// How the screens connected: asked for, connected, failed, and seconds.
fn fleet_fields(
    screens: usize,
    connected: usize,
    failed: usize,
    connect_s: f64,
) -> Vec<(String, Value)> {
    vec![
        ("screens".into(), screens.into()),
        ("connected".into(), connected.into()),
        ("connect_failed".into(), failed.into()),
        ("connect_s".into(), round(connect_s, 2).into()),
    ]
}

fn post_fields(posts: &PostReport, rate: Option<f64>) -> Vec<(String, Value)> {
    let mut fields = vec![
        ("requests_ok".into(), posts.requests_ok.into()),
        ("requests_failed".into(), posts.requests_failed.into()),
        (
            "post_p50_ms".into(),
            round(quantile_ms(&posts.latency_us, 0.5), 2).into(),
        ),
        (
            "post_p99_ms".into(),
            round(quantile_ms(&posts.latency_us, 0.99), 2).into(),
        ),
        (
            "post_max_ms".into(),
            round(quantile_ms(&posts.latency_us, 1.0), 2).into(),
        ),
    ];
    if rate.is_some() {
        let achieved = posts.accepted.len() as f64 / posts.elapsed_s().max(1e-9);
        fields.push(("achieved_rate".into(), round(achieved, 1).into()));
        fields.push((
            "post_behind_max_ms".into(),
            round(posts.max_behind_us as f64 / 1e3, 1).into(),
        ));
    }
    fields
}

fn delivery_fields(summary: &Summary, posts: &PostReport, usage: &Usage) -> Vec<(String, Value)> {
    let span_s = summary
        .last_rx_ns
        .saturating_sub(posts.first_sent_ns.min(clock::now_ns())) as f64
        / 1e9;
    let per_s = if span_s > 0.0 {
        summary.delivered as f64 / span_s
    } else {
        0.0
    };
    let h = &summary.latency_us;
    vec![
        ("expected".into(), summary.expected.into()),
        ("delivered".into(), summary.delivered.into()),
        ("lost".into(), summary.lost.into()),
        ("duplicated".into(), summary.duplicates.into()),
        ("misrouted".into(), summary.misrouted.into()),
        ("lagged_snapshots".into(), summary.lagged_snapshots.into()),
        ("screens_ended_early".into(), summary.ended_early.into()),
        ("deliveries_per_s".into(), round(per_s, 0).into()),
        ("p50_ms".into(), round(quantile_ms(h, 0.5), 2).into()),
        ("p99_ms".into(), round(quantile_ms(h, 0.99), 2).into()),
        ("p999_ms".into(), round(quantile_ms(h, 0.999), 2).into()),
        ("max_ms".into(), round(quantile_ms(h, 1.0), 2).into()),
        (
            "server_cpu_s".into(),
            usage.server_cpu.map(|c| round(c.as_secs_f64(), 3)).into(),
        ),
        (
            "cpu_us_per_delivery".into(),
            usage
                .server_cpu
                .map(|c| round(c.as_secs_f64() * 1e6 / summary.delivered.max(1) as f64, 2))
                .into(),
        ),
        (
            "gen_cpu_pct".into(),
            usage.own_cpu_pct.map(|p| round(p, 1)).into(),
        ),
    ]
}

/// What a person should know before trusting the numbers.
fn warnings(
    posts: &PostReport,
    summary: &Summary,
    usage: &Usage,
    connect_failed: &(usize, Vec<String>),
) -> String {
    let mut notes = Vec::new();
    if connect_failed.0 > 0 {
        let first = connect_failed.1.first().map_or("", String::as_str);
        notes.push(format!(
            "{} screens failed to connect (first: {first})",
            connect_failed.0
        ));
    }
    if posts.requests_failed > 0 {
        notes.push(format!(
            "{} POSTs failed{}",
            posts.requests_failed,
            first_error(posts)
        ));
    }
    if summary.misrouted > 0 {
        notes.push(format!("{} misrouted", summary.misrouted));
    }
    if summary.lagged_snapshots > 0 {
        notes.push(format!("{} lagged snapshots", summary.lagged_snapshots));
    }
    if summary.ended_early > 0 {
        notes.push(format!("{} screens disconnected", summary.ended_early));
    }
    if posts.max_behind_us > 100_000 {
        notes.push(format!(
            "posting fell {} ms behind schedule",
            posts.max_behind_us / 1_000
        ));
    }
    if usage.own_cpu_pct.is_some_and(|p| p > 90.0) {
        notes.push("the generator was CPU-bound: latencies include its own queueing".into());
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(" [{}]", notes.join("; "))
    }
}

fn first_error(posts: &PostReport) -> String {
    posts
        .errors
        .first()
        .map(|e| format!(" (first: {e})"))
        .unwrap_or_default()
}

fn show<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "?".to_owned(), |v| v.to_string())
}
