//! An alert storm through the screen's own path: `update` for every event
//! and a full draw 30 times per simulated second, timed. The screen must
//! keep up with 1,000 events per second in real time, in a debug build.

use std::time::{Duration, Instant};

use chrono::Utc;
use clap::Parser;
use noc_shared::{Alert, EventKind, ServerMessage, Severity, Status};
use noc_tui::app::{App, Msg, Now, update};
use noc_tui::net::NetEvent;
use noc_tui::{Cli, Config};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const EVENTS_PER_SECOND: usize = 1000;
const FRAMES_PER_SECOND: usize = 30;
const SECONDS: usize = 5;
/// Distinct alerts the storm plays with, so the list holds thousands.
const POOL: usize = 3000;

fn alert(i: usize, severity: Severity, status: Status) -> Alert {
    let now = Utc::now();
    Alert {
        id: format!("storm-{i}"),
        site: format!("Site {}", i % 40),
        severity,
        message: format!("Interface ge-0/0/{} flapping on core router", i % 48),
        host: Some(format!("rtr-{i}.example")),
        source: "storm".into(),
        status,
        created_at: now,
        updated_at: now,
        resolved_at: None,
        acked_by: None,
        acked_at: None,
    }
}

/// The n-th event of the storm: mostly new and changed alerts, some
/// resolved, some acknowledged.
fn storm_event(n: usize) -> Msg {
    let i = (n * 7919) % POOL;
    let severity = Severity::ALL[n % 5];
    let (kind, status) = match n % 10 {
        0..=5 => (EventKind::Created, Status::Active),
        6 | 7 => (EventKind::Updated, Status::Active),
        8 => (EventKind::Acknowledged, Status::Active),
        _ => (EventKind::Resolved, Status::Resolved),
    };
    let mut a = alert(i, severity, status);
    if kind == EventKind::Acknowledged {
        a.acked_at = Some(a.updated_at);
    }
    Msg::Net(NetEvent::Message(ServerMessage::alert(kind, n as u64, a)))
}

#[test]
fn update_and_render_keep_up_with_1000_events_per_second() {
    let config =
        Config::from_cli(Cli::parse_from(["noc-tui", "--name", "storm"])).expect("valid flags");
    let mut app = App::new(&config, Now::current());
    let mut terminal = Terminal::new(TestBackend::new(160, 50)).expect("backend");
    // Start from a full screen.
    let initial: Vec<Alert> = (0..POOL)
        .map(|i| alert(i, Severity::ALL[i % 5], Status::Active))
        .collect();
    update(
        &mut app,
        Msg::Net(NetEvent::Message(ServerMessage::Snapshot(
            noc_shared::Snapshot {
                reason: noc_shared::SnapshotReason::Connect,
                seq: 0,
                sites: None,
                min_severity: Severity::Info,
                heartbeat_ms: 30_000,
                alerts: initial,
                truncated: false,
            },
        ))),
        Now::current(),
    );

    let events_per_frame = EVENTS_PER_SECOND / FRAMES_PER_SECOND;
    let mut worst_frame = Duration::ZERO;
    let mut n = 0;
    let started = Instant::now();
    for _ in 0..SECONDS * FRAMES_PER_SECOND {
        let frame_started = Instant::now();
        let now = Now::current();
        for _ in 0..events_per_frame {
            update(&mut app, storm_event(n), now);
            n += 1;
        }
        terminal
            .draw(|frame| frame.render_widget(&app, frame.area()))
            .expect("draw");
        worst_frame = worst_frame.max(frame_started.elapsed());
    }
    let elapsed = started.elapsed();
    let rate = n as f64 / elapsed.as_secs_f64();
    eprintln!(
        "storm: {n} events and {} frames with ~{} alerts held in {elapsed:?} \
         ({rate:.0} events/s with 30 frames per 1000 events; worst frame {worst_frame:?})",
        SECONDS * FRAMES_PER_SECOND,
        app.alerts.len(),
    );
    assert!(app.alerts.len() > POOL / 2, "the list stayed large");
    assert!(
        elapsed < Duration::from_secs(SECONDS as u64),
        "{SECONDS} s of storm took {elapsed:?}: the screen would fall behind"
    );
}
