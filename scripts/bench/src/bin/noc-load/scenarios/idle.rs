//! Idle screens: what each connection costs the server in memory.

use std::time::Duration;

use super::fields::fleet_fields;
use super::{Outcome, Target, common, connect, new_run, round, show};

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
