//! An alert storm through the terminal client's own path, through its public
//! API (`noc_tui::app`): `update` for every event
//! of five seconds' worth at 1,000 events per second, and a full draw 30
//! times per simulated second. What it checks is behaviour: every event
//! lands, the list, its order and its counts agree with a plain model of
//! the same events, the list never holds more than the alerts in play, and
//! drawing through it all does not panic. How fast this goes is measured by
//! the `noc-tui-storm` benchmark (`scripts/bench.sh --scenarios tui`), not
//! here.

use clap::Parser;
use noc_bench::storm::{self, Model};
use noc_shared::{Alert, EventKind, ServerMessage};
use noc_tui::app::{App, Msg, Now, update};
use noc_tui::net::NetEvent;
use noc_tui::{Cli, Config};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

const EVENTS_PER_SECOND: usize = 1000;
const FRAMES_PER_SECOND: usize = 30;
const SECONDS: usize = 5;
/// Distinct alerts the storm plays with, so the list holds thousands.
const POOL: usize = 3000;

fn message(kind: EventKind, n: usize, alert: Alert) -> Msg {
    Msg::Net(NetEvent::Message(ServerMessage::alert(
        kind, n as u64, alert,
    )))
}

fn screen_text(buffer: &Buffer) -> String {
    let width = usize::from(buffer.area.width);
    let cells: Vec<&str> = buffer.content().iter().map(|c| c.symbol()).collect();
    cells
        .chunks(width)
        .map(|row| row.concat())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_storm_of_1000_events_per_second_is_applied_in_full_and_drawn() {
    let config =
        Config::from_cli(Cli::parse_from(["noc-tui", "--name", "storm"])).expect("valid flags");
    let mut app = App::new(&config, Now::current());
    app.size = (160, 50);
    let mut terminal = Terminal::new(TestBackend::new(160, 50)).expect("backend");
    // Start from a full screen.
    let initial = storm::snapshot_alerts(POOL);
    let mut model = Model::new(&initial);
    update(
        &mut app,
        Msg::Net(NetEvent::Message(ServerMessage::Snapshot(
            noc_shared::Snapshot {
                reason: noc_shared::SnapshotReason::Connect,
                seq: 0,
                sites: None,
                min_severity: noc_shared::Severity::Info,
                heartbeat_ms: 30_000,
                alerts: initial,
                truncated: false,
                profile: None,
            },
        ))),
        Now::current(),
    );
    assert_eq!(app.alerts.len(), POOL);

    let events_per_frame = EVENTS_PER_SECOND / FRAMES_PER_SECOND;
    let mut n = 0;
    let mut frames = 0;
    for _ in 0..SECONDS * FRAMES_PER_SECOND {
        let now = Now::current();
        for _ in 0..events_per_frame {
            let (kind, alert) = storm::event(n, POOL);
            model.apply(kind, alert.clone());
            let effects = update(&mut app, message(kind, n, alert), now);
            assert!(effects.redraw, "event {n} asks for a frame");
            n += 1;
        }
        // Bounded: never more than the alerts in play, whatever the storm.
        assert!(app.alerts.len() <= POOL);
        assert_eq!(app.alerts.len(), model.alerts().len(), "after event {n}");
        terminal
            .draw(|frame| frame.render_widget(&app, frame.area()))
            .expect("draw");
        frames += 1;
    }
    assert_eq!(n, SECONDS * FRAMES_PER_SECOND * events_per_frame);
    assert_eq!(frames, SECONDS * FRAMES_PER_SECOND);

    // Every event applied: the same alerts, each as its last event left it.
    assert_eq!(app.alerts.len(), model.alerts().len());
    for (id, want) in model.alerts() {
        assert_eq!(app.alerts.get(id), Some(want), "alert {id}");
    }
    assert!(app.alerts.len() > POOL / 2, "the list stayed large");

    // The counts agree with the list.
    let mut counts = [0; 5];
    let mut acked = [0; 5];
    for a in model.alerts().values() {
        counts[a.severity.rank()] += 1;
        if a.is_acked() {
            acked[a.severity.rank()] += 1;
        }
    }
    assert_eq!(app.alerts.counts(), counts);
    assert_eq!(app.alerts.acked_counts(), acked);
    assert_eq!(app.counts(), counts);
    assert_eq!(app.visible_count(), model.alerts().len());

    // The list iterates each alert once, in display order.
    let listed: Vec<&Alert> = app.alerts.iter().collect();
    assert_eq!(listed.len(), model.alerts().len());
    let mut want: Vec<&Alert> = model.alerts().values().collect();
    want.sort_by(|a, b| Alert::display_order(a, b));
    let ids = |list: &[&Alert]| list.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&listed), ids(&want));

    // The last frame shows the final total and the first alert in order.
    let text = screen_text(terminal.backend().buffer());
    assert!(
        text.contains(&format!("total {}", model.alerts().len())),
        "the counts row shows the total:\n{text}"
    );
    assert!(
        text.contains(&want[0].message),
        "the first alert is on screen:\n{text}"
    );
}
