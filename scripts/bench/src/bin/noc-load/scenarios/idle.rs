//! Idle screens: what each connection costs the server in memory.

use std::time::Duration;

use super::fields::{fleet_fields, notes};
use super::meter::Usage;
use super::{Outcome, Target, common, connect, new_run, round, show};
use crate::failures::{Failures, Kind};

/// Idle screens: the server's resident memory per connection.
pub async fn idle(target: &Target, screens: usize, settle: Duration) -> anyhow::Result<Outcome> {
    let before = target.rss_kib();
    let (fleet, connect_s) = connect(&target.fleet(screens, 1, new_run())).await;
    tokio::time::sleep(settle).await;
    let after = target.rss_kib();
    let connected = fleet.connected;
    let connect_failures = fleet.failures.clone();
    let tallies = fleet.finish().await;
    let ended_early = tallies.iter().filter(|t| t.ended_early).count();
    let per_screen = match (before, after) {
        (Some(b), Some(a)) if connected > 0 => {
            Some(round((a as f64 - b as f64) / connected as f64, 2))
        }
        _ => None,
    };
    let mut json = common(target, "idle", format!("idle n={screens}"));
    json.extend(fleet_fields(screens, connected, connect_s));
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
    let failures = Failures::default()
        .with(Kind::Connect, connect_failures.0 as u64)
        .with(Kind::EndedEarly, ended_early as u64);
    let notes = notes(&connect_failures.1, None, &Usage::default());
    Ok(Outcome::new(json, human, &failures, &notes))
}
