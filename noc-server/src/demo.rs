//! `--demo`: made-up but plausible alerts from a few sites, some resolving,
//! so that a first look shows a living screen; the sites' countries as site
//! groups (unless `--sites-file` is given); and two screen profiles,
//! `wall-1` and `wall-2`, to try `noc-tui --name wall-1`.

use std::collections::HashMap;
use std::time::Duration;

use noc_shared::{Bell, EventKind, Profile, ProfileView, Severity};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use tokio_util::sync::CancellationToken;

use crate::change::{Actor, AlertInput};
use crate::sites::SiteGroups;
use crate::writer::Writer;

const SITES: [(&str, &str); 6] = [
    ("Kilimanjaro", "kili"),
    ("Serengeti", "sere"),
    ("Dar es Salaam", "dar"),
    ("Kampala", "kla"),
    ("Entebbe", "ebb"),
    ("Nairobi", "nbo"),
];

/// The demo sites by country.
const COUNTRIES: [(&str, &[&str]); 3] = [
    ("Tanzania", &["Kilimanjaro", "Serengeti", "Dar es Salaam"]),
    ("Uganda", &["Kampala", "Entebbe"]),
    ("Kenya", &["Nairobi"]),
];

/// The demo's site groups: Tanzania, Uganda and Kenya.
pub fn groups() -> SiteGroups {
    SiteGroups::new(
        COUNTRIES
            .iter()
            .map(|(country, sites)| {
                let sites = sites.iter().map(|s| (*s).to_owned()).collect();
                ((*country).to_owned(), sites)
            })
            .collect::<HashMap<_, _>>(),
    )
}

/// The demo's screen profiles, set at start as a screens file would:
/// `wall-1` shows Tanzania's problems from `warning` up as a board;
/// `wall-2` rotates between list and board for Uganda and Kenya.
pub fn profiles() -> Vec<(String, Profile)> {
    let wall_1 = Profile {
        title: Some("Tanzania NOC".into()),
        sites: Some(vec!["Tanzania".into()]),
        min_severity: Some(Severity::Warning),
        view: Some(ProfileView::Board),
        hide_acked: Some(true),
        bell: Some(Bell::At(Severity::Critical)),
        ..Profile::default()
    };
    let wall_2 = Profile {
        title: Some("Uganda and Kenya".into()),
        sites: Some(vec!["Uganda".into(), "Kenya".into()]),
        view: Some(ProfileView::Rotate),
        rotate: Some("20s".into()),
        ..Profile::default()
    };
    vec![("wall-1".into(), wall_1), ("wall-2".into(), wall_2)]
}

const PROBLEMS: [(Severity, &str, &str); 10] = [
    (Severity::Critical, "sw-01", "Core switch unreachable"),
    (Severity::Critical, "pe-02", "BGP session to upstream down"),
    (
        Severity::High,
        "fw-01",
        "Firewall CPU above 95% for 10 minutes",
    ),
    (Severity::High, "olt-03", "PON port 4 lost 120 ONTs"),
    (Severity::Average, "ups-01", "UPS on battery"),
    (Severity::Average, "rtr-01", "Interface ge-0/0/3 flapping"),
    (Severity::Warning, "srv-07", "Disk /var 88% full"),
    (
        Severity::Warning,
        "ap-12",
        "Wi-Fi controller lost 3 access points",
    ),
    (Severity::Info, "ntp-01", "NTP offset 120 ms"),
    (Severity::Info, "bkp-01", "Nightly backup took 3 h 10 min"),
];

/// Posts alerts through the normal write path until `shutdown`.
pub async fn run(writer: Writer, shutdown: CancellationToken) {
    let mut rng = StdRng::from_os_rng();
    let mut active: Vec<String> = Vec::new();
    let mut next = 1u64;
    let feed = async {
        // A first picture at once, then a steady trickle.
        for _ in 0..8 {
            step(&writer, &mut rng, &mut active, &mut next, false).await;
        }
        loop {
            let pause = Duration::from_millis(rng.random_range(1500..4000));
            tokio::time::sleep(pause).await;
            let resolve = active.len() > 12 || (active.len() > 3 && rng.random_bool(0.4));
            step(&writer, &mut rng, &mut active, &mut next, resolve).await;
        }
    };
    // A write stuck in a stuck store must not hold up shutdown either.
    tokio::select! {
        () = shutdown.cancelled() => {}
        () = feed => {}
    }
}

async fn step(
    writer: &Writer,
    rng: &mut StdRng,
    active: &mut Vec<String>,
    next: &mut u64,
    resolve: bool,
) {
    let input = if resolve {
        let id = active.swap_remove(rng.random_range(0..active.len()));
        AlertInput::resolve(&id)
    } else {
        let (site, code) = SITES.choose(rng).copied().unwrap_or(SITES[0]);
        let (severity, host, message) = PROBLEMS.choose(rng).copied().unwrap_or(PROBLEMS[0]);
        let id = format!("demo-{next}");
        *next += 1;
        active.push(id.clone());
        AlertInput {
            id: Some(id),
            site: Some(site.into()),
            severity: Some(severity),
            message: Some(message.into()),
            host: Some(format!("{host}.{code}")),
            source: Some("demo".into()),
            event: EventKind::Created,
            ..AlertInput::default()
        }
    };
    if let Err(e) = writer.ingest(Actor::Server, vec![input]).await {
        tracing::warn!(error = %e, "demo alert not stored");
    }
}
