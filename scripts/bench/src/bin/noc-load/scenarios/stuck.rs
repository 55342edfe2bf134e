//! A stuck screen: one connection stops reading during a flood.

use std::time::Duration;

use anyhow::Context;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::fanout::{Delivered, Load, post_and_deliver};
use super::meter::sample_rss;
use super::{Outcome, Target, common, connect, new_run, show, shown};
use crate::screen::stuck_screen;

/// One screen stops reading while a flood goes to it and to `load.screens`
/// healthy screens: the server's memory over time, and whether the healthy
/// screens still get everything.
pub async fn stuck(target: &Target, load: &Load, after: Duration) -> anyhow::Result<Outcome> {
    let run = new_run();
    let plan = target.fleet(load.screens, load.sites, run);
    let (fleet, connect_s) = connect(&plan).await;
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
    let delivered = Delivered::reckon(fleet, connect_s, posts, usage).await;

    let before = samples.first().map(|&(_, kib)| kib);
    let max = samples.iter().map(|&(_, kib)| kib).max();
    let end = samples.last().map(|&(_, kib)| kib);
    let growth = before.zip(max).map(|(b, m)| m.saturating_sub(b));
    let mut json = common(target, "stuck", "stuck".to_owned());
    json.extend(delivered.fields(load));
    json.extend([
        ("rss_before_kib".into(), before.into()),
        ("rss_max_kib".into(), max.into()),
        ("rss_end_kib".into(), end.into()),
        ("rss_growth_kib".into(), growth.into()),
        (
            "rss_samples".into(),
            samples.iter().map(|&(ms, kib)| json!([ms, kib])).collect(),
        ),
    ]);
    let human = format!(
        "{} stuck screen: server RSS {} → max {} → {} KiB at the end; healthy screens: {}/{} connected, p99 {} ms, {} of {} due delivered",
        target.label,
        show(before),
        show(max),
        show(end),
        delivered.connected,
        delivered.screens,
        shown(&json, "p99_ms"),
        delivered.summary.delivered,
        delivered.summary.expected,
    );
    // The failures are the healthy screens': the stuck one is expected to
    // be resynced or dropped.
    Ok(delivered.outcome(json, human))
}
