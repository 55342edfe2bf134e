//! Durable ingest: posters back to back, no screens.

use std::time::Duration;

use super::fields::{notes, post_fields};
use super::meter::Meter;
use super::{Outcome, Target, common, new_run, round, shown};
use crate::failures::{Failures, Kind};
use crate::poster::Poster;

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
        "{} ingest batch={batch}: {} alerts/s, POST p50 {} / p99 {} ms, {} µs server CPU per alert",
        target.label,
        shown(&json, "alerts_per_s"),
        shown(&json, "post_p50_ms"),
        shown(&json, "post_p99_ms"),
        shown(&json, "cpu_us_per_alert"),
    );
    let failures = Failures::default().with(Kind::Request, posts.requests_failed);
    let notes = notes(&[], Some(&posts), &usage);
    Ok(Outcome::new(json, human, &failures, &notes))
}
