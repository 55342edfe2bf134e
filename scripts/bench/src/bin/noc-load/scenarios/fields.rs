//! The JSON fields the scenarios share, and the notes of the human line.
//! The failure counts are not here: [`crate::failures`] writes them, once
//! for every case.

use hdrhistogram::Histogram;
use noc_bench::percentile::quantile_ms;
use serde_json::Value;

use super::meter::Usage;
use super::round;
use crate::clock;
use crate::poster::PostReport;
use crate::tally::Summary;

/// How the screens connected: asked for, connected, and seconds.
pub(super) fn fleet_fields(
    screens: usize,
    connected: usize,
    connect_s: f64,
) -> Vec<(String, Value)> {
    vec![
        ("screens".into(), screens.into()),
        ("connected".into(), connected.into()),
        ("connect_s".into(), round(connect_s, 2).into()),
    ]
}

pub(super) fn post_fields(posts: &PostReport, rate: Option<f64>) -> Vec<(String, Value)> {
    let mut fields = vec![
        ("requests_ok".into(), posts.requests_ok.into()),
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

/// What a person should know before trusting the numbers: the first errors
/// behind the failure counts, and whether the generator kept up.
pub(super) fn notes(
    connect_errors: &[String],
    posts: Option<&PostReport>,
    usage: &Usage,
) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(first) = connect_errors.first() {
        notes.push(format!("first connect error: {first}"));
    }
    if let Some(first) = posts.and_then(|p| p.errors.first()) {
        notes.push(format!("first POST error: {first}"));
    }
    if let Some(behind_us) = posts.map(|p| p.max_behind_us).filter(|&us| us > 100_000) {
        notes.push(format!(
            "posting fell {} ms behind schedule",
            behind_us / 1_000
        ));
    }
    if usage.own_cpu_pct.is_some_and(|p| p > 90.0) {
        notes.push(
            "the generator was CPU-bound: its own queueing is in the latencies, and the server may take more"
                .into(),
        );
    }
    notes
}

/// Milliseconds at quantile `q`, to 0.01 ms; null when nothing was timed.
fn ms_at(h: &Histogram<u64>, q: f64) -> Value {
    quantile_ms(h, q).map(|ms| round(ms, 2)).into()
}
