//! The JSON fields the scenarios share, and the warnings of the human line.

use hdrhistogram::Histogram;
use noc_bench::percentile::quantile_ms;
use serde_json::Value;

use super::meter::Usage;
use super::round;
use crate::clock;
use crate::poster::PostReport;
use crate::tally::Summary;

/// How the screens connected: asked for, connected, failed, and seconds.
pub(super) fn fleet_fields(
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

pub(super) fn post_fields(posts: &PostReport, rate: Option<f64>) -> Vec<(String, Value)> {
    let mut fields = vec![
        ("requests_ok".into(), posts.requests_ok.into()),
        ("requests_failed".into(), posts.requests_failed.into()),
        ("post_p50_ms".into(), ms_at(&posts.latency_us, 0.5)),
        ("post_p99_ms".into(), ms_at(&posts.latency_us, 0.99)),
        ("post_max_ms".into(), ms_at(&posts.latency_us, 1.0)),
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

pub(super) fn delivery_fields(
    summary: &Summary,
    posts: &PostReport,
    usage: &Usage,
) -> Vec<(String, Value)> {
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
        ("p50_ms".into(), ms_at(h, 0.5)),
        ("p99_ms".into(), ms_at(h, 0.99)),
        ("p999_ms".into(), ms_at(h, 0.999)),
        ("max_ms".into(), ms_at(h, 1.0)),
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
pub(super) fn warnings(
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

pub(super) fn first_error(posts: &PostReport) -> String {
    posts
        .errors
        .first()
        .map(|e| format!(" (first: {e})"))
        .unwrap_or_default()
}

/// Milliseconds at quantile `q`, to 0.01 ms; null when nothing was timed.
fn ms_at(h: &Histogram<u64>, q: f64) -> Value {
    quantile_ms(h, q).map(|ms| round(ms, 2)).into()
}
