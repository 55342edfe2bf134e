//! The screen's state ([`App`]) and the one function that changes it,
//! [`update`]: a key, a resize, a clock tick or a network event in, the new
//! state and a few [`Effects`] out. No I/O happens here, so every behaviour
//! of the screen is testable without a terminal or a socket.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use noc_shared::{Alert, EventKind, ServerMessage, Severity, SiteFilter, Snapshot};

use crate::alerts::AlertBook;
use crate::cli::Config;
use crate::net::NetEvent;

/// How long a newly arrived critical alert stands out.
pub const HIGHLIGHT_FOR: Duration = Duration::from_secs(5);

/// How long a server `error` message stays in the header.
const NOTICE_FOR: Duration = Duration::from_secs(10);

/// The moment an update happens: the monotonic clock for ages and
/// deadlines, the wall clock for what the screen shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub instant: Instant,
    pub wall: DateTime<Utc>,
}

impl Now {
    /// The current time.
    pub fn current() -> Self {
        Now {
            instant: Instant::now(),
            wall: Utc::now(),
        }
    }

    /// This moment moved on by `d` (for tests and for deadlines).
    pub fn plus(self, d: Duration) -> Self {
        Now {
            instant: self.instant + d,
            wall: self.wall + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero()),
        }
    }
}

/// The state of the link to the server, as the header tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Dialling `url`; `attempt` counts the tries since the last good link.
    Connecting { url: String, attempt: u32 },
    /// The socket is open.
    Connected { url: String, since: DateTime<Utc> },
    /// The link is down; the next try is at `retry_at`.
    Disconnected {
        url: String,
        reason: String,
        retry_at: Instant,
    },
}

impl Link {
    /// The server URL this state is about.
    pub fn url(&self) -> &str {
        match self {
            Link::Connecting { url, .. }
            | Link::Connected { url, .. }
            | Link::Disconnected { url, .. } => url,
        }
    }
}

/// Which of the two screens is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// Every alert, one per row.
    #[default]
    Alerts,
    /// One row per site: its counts and its worst alert.
    Sites,
}

/// How times are shown: the machine's zone (the default) or UTC (tests, and
/// walls that span zones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    #[default]
    Local,
    Utc,
}

/// What the caller of [`update`] must do besides redrawing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Effects {
    /// The screen changed and must be drawn.
    pub redraw: bool,
    /// Ring the terminal bell.
    pub bell: bool,
    /// Ask the network task to skip its wait and dial now.
    pub reconnect_now: bool,
}

/// One input to [`update`].
// Each message is built once and moved straight into `update`; boxing the
// network variant would cost an allocation per event for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(KeyEvent),
    /// The terminal's new size, in cells.
    Resize {
        width: u16,
        height: u16,
    },
    /// The once-a-second clock.
    Tick,
    Net(NetEvent),
}

/// Everything the screen shows. Owned by the UI task alone.
#[derive(Debug)]
pub struct App {
    /// This screen's name (`--name`).
    pub name: String,
    /// The sites as asked for on the command line, for the header.
    pub sites_label: String,
    /// The filter as the server last confirmed it (group names expanded).
    pub filter: SiteFilter,
    /// The active alerts, in display order.
    pub alerts: AlertBook,
    /// True when the last snapshot held only part of the matching alerts.
    pub truncated: bool,
    pub link: Link,
    /// True while the alerts shown come from a link that has gone down.
    pub stale: bool,
    /// When the last message from the server arrived (wall clock).
    pub last_data_at: Option<DateTime<Utc>>,
    /// When the last heartbeat arrived.
    pub last_heartbeat: Option<Instant>,
    /// The server's heartbeat interval from the last snapshot.
    pub heartbeat_ms: Option<u64>,
    pub view: View,
    /// `a` toggles: show acknowledged alerts (on at start).
    pub show_acked: bool,
    pub show_help: bool,
    /// Index of the first row shown in the current view.
    pub scroll: usize,
    /// Terminal size, for paging and clamping the scroll.
    pub size: (u16, u16),
    /// Alerts that stand out until the given instant.
    pub highlights: HashMap<String, Instant>,
    /// `--bell`: ring for alerts at or above this severity.
    pub bell: Option<Severity>,
    /// A server `error` message and when it stops being shown.
    pub notice: Option<(String, Instant)>,
    /// Set by a quit key; the loop exits.
    pub quit: bool,
    /// The time of the last update, which the screen shows.
    pub now: Now,
    pub zone: Zone,
    /// False when `NO_COLOR` is set: no colour at all, only bold/reverse.
    pub color: bool,
}

impl App {
    /// A screen for `config`, not yet connected.
    pub fn new(config: &Config, now: Now) -> Self {
        let url = config
            .urls
            .first()
            .map(|u| u.to_string())
            .unwrap_or_default();
        App {
            name: config.name.clone(),
            sites_label: config.sites_label(),
            filter: SiteFilter::new(config.sites.clone(), config.min_severity),
            alerts: AlertBook::new(),
            truncated: false,
            link: Link::Connecting { url, attempt: 1 },
            stale: false,
            last_data_at: None,
            last_heartbeat: None,
            heartbeat_ms: None,
            view: View::Alerts,
            show_acked: true,
            show_help: false,
            scroll: 0,
            size: (80, 24),
            highlights: HashMap::new(),
            bell: config.bell,
            notice: None,
            quit: false,
            now,
            zone: Zone::Local,
            color: true,
        }
    }

    /// The alerts the list shows: all active ones, less the acknowledged
    /// when they are hidden, in display order.
    pub fn visible_alerts(&self) -> impl Iterator<Item = &Alert> + '_ {
        let show_acked = self.show_acked;
        self.alerts
            .iter()
            .filter(move |a| show_acked || !a.is_acked())
    }

    /// How many acknowledged alerts `a` is hiding.
    pub fn hidden_acked(&self) -> usize {
        if self.show_acked {
            0
        } else {
            self.alerts.acked_counts().iter().sum()
        }
    }

    /// Visible alerts per severity, in [`Severity::ALL`] order.
    pub fn counts(&self) -> [usize; 5] {
        let mut counts = self.alerts.counts();
        if !self.show_acked {
            for (count, acked) in counts.iter_mut().zip(self.alerts.acked_counts()) {
                *count -= acked;
            }
        }
        counts
    }

    /// How many alerts the list shows.
    pub fn visible_count(&self) -> usize {
        self.counts().iter().sum()
    }

    /// The first row to draw when `rows` rows exist: the scroll, pulled back
    /// if the list has shrunk since (network events do not clamp it, so
    /// that a storm of resolutions costs nothing extra).
    pub fn first_row(&self, rows: usize) -> usize {
        self.scroll.min(rows.saturating_sub(self.page_rows()))
    }

    /// True while `id` should stand out.
    pub fn is_highlighted(&self, id: &str) -> bool {
        self.highlights
            .get(id)
            .is_some_and(|until| *until > self.now.instant)
    }

    /// Rows in the current view, for clamping the scroll.
    fn row_count(&self) -> usize {
        match self.view {
            View::Alerts => self.visible_count(),
            View::Sites => crate::ui::sites::site_rows(self).len(),
        }
    }

    /// Rows that fit on one page of the list (the body less its frame).
    pub fn page_rows(&self) -> usize {
        usize::from(self.size.1.saturating_sub(crate::ui::CHROME_ROWS)).max(1)
    }

    fn clamp_scroll(&mut self) {
        let max = self.row_count().saturating_sub(self.page_rows());
        self.scroll = self.scroll.min(max);
    }
}

/// Applies one input to the state. Pure: the only clock is `now`.
pub fn update(app: &mut App, msg: Msg, now: Now) -> Effects {
    app.now = now;
    match msg {
        Msg::Key(key) => on_key(app, key),
        Msg::Resize { width, height } => {
            app.size = (width, height);
            app.clamp_scroll();
            Effects {
                redraw: true,
                ..Effects::default()
            }
        }
        Msg::Tick => {
            // Forget highlights that have run out, so the map stays small.
            app.highlights.retain(|_, until| *until > now.instant);
            if app
                .notice
                .as_ref()
                .is_some_and(|(_, until)| *until <= now.instant)
            {
                app.notice = None;
            }
            // The clock and the ages on screen move every second.
            Effects {
                redraw: true,
                ..Effects::default()
            }
        }
        Msg::Net(event) => on_net(app, event, now),
    }
}

fn on_key(app: &mut App, key: KeyEvent) -> Effects {
    let mut effects = Effects {
        redraw: true,
        ..Effects::default()
    };
    // Terminals that report releases and repeats would otherwise act twice.
    if key.kind == KeyEventKind::Release {
        effects.redraw = false;
        return effects;
    }
    let page = app.page_rows();
    match key.code {
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => app.quit = true,
        KeyCode::Char('q') | KeyCode::Esc => app.quit = true,
        KeyCode::Char('?') => app.show_help = !app.show_help,
        KeyCode::Char('v') => {
            app.view = match app.view {
                View::Alerts => View::Sites,
                View::Sites => View::Alerts,
            };
            app.scroll = 0;
        }
        KeyCode::Char('a') => app.show_acked = !app.show_acked,
        KeyCode::Char('r') => effects.reconnect_now = true,
        KeyCode::Up | KeyCode::Char('k') => app.scroll = app.scroll.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => app.scroll = app.scroll.saturating_add(1),
        KeyCode::PageUp => app.scroll = app.scroll.saturating_sub(page),
        KeyCode::PageDown | KeyCode::Char(' ') => app.scroll = app.scroll.saturating_add(page),
        KeyCode::Home | KeyCode::Char('g') => app.scroll = 0,
        KeyCode::End | KeyCode::Char('G') => app.scroll = usize::MAX,
        _ => {
            // Any other key closes the help; otherwise nothing to do.
            if app.show_help {
                app.show_help = false;
            } else {
                effects.redraw = false;
            }
        }
    }
    app.clamp_scroll();
    effects
}

fn on_net(app: &mut App, event: NetEvent, now: Now) -> Effects {
    let mut effects = Effects {
        redraw: true,
        ..Effects::default()
    };
    match event {
        NetEvent::Connecting { url, attempt } => app.link = Link::Connecting { url, attempt },
        NetEvent::Connected { url } => {
            app.link = Link::Connected {
                url,
                since: now.wall,
            };
        }
        NetEvent::Disconnected {
            url,
            reason,
            retry_in,
        } => {
            app.stale = true;
            app.link = Link::Disconnected {
                url,
                reason,
                retry_at: now.instant + retry_in,
            };
        }
        NetEvent::Message(message) => {
            app.last_data_at = Some(now.wall);
            effects.bell = on_message(app, message, now);
        }
    }
    effects
}

/// Applies one server message; returns whether the bell should ring.
fn on_message(app: &mut App, message: ServerMessage, now: Now) -> bool {
    match message {
        ServerMessage::Snapshot(snapshot) => {
            apply_snapshot(app, snapshot, now);
            false
        }
        ServerMessage::Heartbeat { .. } => {
            app.last_heartbeat = Some(now.instant);
            false
        }
        ServerMessage::Error { message } => {
            app.notice = Some((message, now.instant + NOTICE_FOR));
            false
        }
        other => match other.as_alert_event() {
            Some((kind, event)) => apply_event(app, kind, event.alert.clone(), now),
            None => false,
        },
    }
}

fn apply_snapshot(app: &mut App, snapshot: Snapshot, now: Now) {
    app.filter = SiteFilter::new(snapshot.sites, snapshot.min_severity);
    app.heartbeat_ms = Some(snapshot.heartbeat_ms);
    app.truncated = snapshot.truncated;
    app.alerts.replace_all(snapshot.alerts);
    app.highlights.retain(|id, _| app.alerts.get(id).is_some());
    app.stale = false;
    // A snapshot is as good a sign of life as a heartbeat.
    app.last_heartbeat = Some(now.instant);
}

/// Applies one alert event; returns whether the bell should ring.
fn apply_event(app: &mut App, kind: EventKind, alert: Alert, now: Now) -> bool {
    // The server also sends an event when an alert leaves this screen's
    // filter (e.g. it moved to another site), so the filter decides, not the
    // event's kind alone.
    let keep = alert.is_active() && kind != EventKind::Resolved && app.filter.matches_alert(&alert);
    if !keep {
        app.alerts.remove(&alert.id);
        app.highlights.remove(&alert.id);
        return false;
    }
    let previous = app.alerts.get(&alert.id).map(|a| a.severity);
    // "New" for the eye and the bell: never seen here, or worse than before.
    let escalated = previous.is_none_or(|old| alert.severity > old)
        && matches!(kind, EventKind::Created | EventKind::Updated);
    if escalated && alert.severity == Severity::Critical {
        app.highlights
            .insert(alert.id.clone(), now.instant + HIGHLIGHT_FOR);
    }
    let ring = escalated && app.bell.is_some_and(|min| alert.severity >= min);
    app.alerts.upsert(alert);
    ring
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;
    use clap::Parser;
    use noc_shared::{AlertEvent, SnapshotReason, Status};

    use crate::cli::Cli;

    pub(crate) fn t0() -> Now {
        Now {
            instant: Instant::now(),
            wall: Utc
                .with_ymd_and_hms(2026, 11, 28, 21, 5, 9)
                .single()
                .expect("valid time"),
        }
    }

    pub(crate) fn config(args: &[&str]) -> Config {
        let mut argv = vec!["noc-tui", "--name", "wall-1"];
        argv.extend_from_slice(args);
        Config::from_cli(Cli::parse_from(argv)).expect("valid flags")
    }

    pub(crate) fn alert(id: &str, site: &str, severity: Severity, minute: u32) -> Alert {
        let t = Utc
            .with_ymd_and_hms(2026, 11, 28, 20, minute, 0)
            .single()
            .expect("valid time");
        Alert {
            host: Some(format!("host-{id}")),
            ..Alert::new(
                id,
                site,
                severity,
                format!("{} problem {id}", severity.as_str()),
                "test",
                t,
            )
        }
    }

    pub(crate) fn snapshot(alerts: Vec<Alert>) -> Msg {
        Msg::Net(NetEvent::Message(ServerMessage::Snapshot(Snapshot {
            reason: SnapshotReason::Connect,
            seq: 1,
            sites: None,
            min_severity: Severity::Info,
            heartbeat_ms: 30_000,
            alerts,
            truncated: false,
        })))
    }

    pub(crate) fn event(kind: EventKind, alert: Alert) -> Msg {
        Msg::Net(NetEvent::Message(ServerMessage::alert(kind, 2, alert)))
    }

    fn key(code: KeyCode) -> Msg {
        Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn ids(app: &App) -> Vec<&str> {
        app.visible_alerts().map(|a| a.id.as_str()).collect()
    }

    #[test]
    fn snapshot_replaces_the_list_and_events_apply() {
        let now = t0();
        let mut app = App::new(&config(&[]), now);
        app.alerts.upsert(alert("old", "X", Severity::Info, 0));
        update(
            &mut app,
            snapshot(vec![
                alert("w", "Kilimanjaro", Severity::Warning, 1),
                alert("c", "Serengeti", Severity::Critical, 2),
            ]),
            now,
        );
        assert_eq!(ids(&app), ["c", "w"]);
        update(
            &mut app,
            event(EventKind::Created, alert("h", "Kampala", Severity::High, 3)),
            now,
        );
        assert_eq!(ids(&app), ["c", "h", "w"]);

        let mut resolved = alert("c", "Serengeti", Severity::Critical, 2);
        resolved.status = Status::Resolved;
        update(&mut app, event(EventKind::Resolved, resolved), now);
        assert_eq!(ids(&app), ["h", "w"]);

        let mut raised = alert("w", "Kilimanjaro", Severity::Critical, 1);
        raised.message = "now worse".into();
        update(&mut app, event(EventKind::Updated, raised), now);
        assert_eq!(ids(&app), ["w", "h"]);
        assert_eq!(
            app.alerts.get("w").map(|a| a.message.as_str()),
            Some("now worse")
        );
        assert_eq!(app.counts(), [1, 1, 0, 0, 0]);
    }

    #[test]
    fn an_alert_that_leaves_the_filter_leaves_the_screen() {
        let now = t0();
        let mut app = App::new(&config(&["--sites", "Kilimanjaro"]), now);
        let mut snap = Snapshot {
            reason: SnapshotReason::Connect,
            seq: 1,
            sites: Some(vec!["Kilimanjaro".into()]),
            min_severity: Severity::Info,
            heartbeat_ms: 1000,
            alerts: vec![alert("a", "Kilimanjaro", Severity::High, 1)],
            truncated: false,
        };
        snap.alerts
            .push(alert("b", "kilimanjaro", Severity::Info, 1));
        update(
            &mut app,
            Msg::Net(NetEvent::Message(ServerMessage::Snapshot(snap))),
            now,
        );
        assert_eq!(ids(&app), ["a", "b"]);
        update(
            &mut app,
            event(
                EventKind::Updated,
                alert("a", "Serengeti", Severity::High, 1),
            ),
            now,
        );
        assert_eq!(ids(&app), ["b"]);
    }

    #[test]
    fn acknowledged_alerts_stay_and_can_be_hidden() {
        let now = t0();
        let mut app = App::new(&config(&[]), now);
        update(
            &mut app,
            snapshot(vec![
                alert("a", "S", Severity::High, 1),
                alert("b", "S", Severity::High, 2),
            ]),
            now,
        );
        let mut acked = alert("a", "S", Severity::High, 1);
        acked.acked_by = Some("irene@example".into());
        acked.acked_at = Some(now.wall);
        update(&mut app, event(EventKind::Acknowledged, acked), now);
        assert_eq!(ids(&app), ["b", "a"]);
        update(&mut app, key(KeyCode::Char('a')), now);
        assert_eq!(ids(&app), ["b"]);
        assert_eq!(app.hidden_acked(), 1);
        assert_eq!(app.counts(), [0, 1, 0, 0, 0]);
        update(&mut app, key(KeyCode::Char('a')), now);
        assert_eq!(ids(&app), ["b", "a"]);
    }

    #[test]
    fn quit_keys_quit() {
        for msg in [
            key(KeyCode::Char('q')),
            key(KeyCode::Esc),
            Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        ] {
            let mut app = App::new(&config(&[]), t0());
            update(&mut app, msg, t0());
            assert!(app.quit);
        }
        let mut app = App::new(&config(&[]), t0());
        update(&mut app, key(KeyCode::Char('c')), t0());
        assert!(!app.quit, "plain c is not a quit key");
    }

    #[test]
    fn scrolling_is_clamped_to_the_list() {
        let now = t0();
        let mut app = App::new(&config(&[]), now);
        update(
            &mut app,
            Msg::Resize {
                width: 80,
                height: 20,
            },
            now,
        );
        let page = app.page_rows();
        let alerts = (0..50)
            .map(|i| alert(&format!("a{i:02}"), "S", Severity::Info, i % 60))
            .collect();
        update(&mut app, snapshot(alerts), now);
        update(&mut app, key(KeyCode::PageDown), now);
        assert_eq!(app.scroll, page);
        update(&mut app, key(KeyCode::End), now);
        assert_eq!(app.scroll, 50 - page);
        update(&mut app, key(KeyCode::Down), now);
        assert_eq!(app.scroll, 50 - page);
        update(&mut app, key(KeyCode::Home), now);
        update(&mut app, key(KeyCode::Up), now);
        assert_eq!(app.scroll, 0);
        // A shorter list pulls the scroll back when drawn, and at the next key.
        update(&mut app, key(KeyCode::End), now);
        update(
            &mut app,
            snapshot(vec![alert("x", "S", Severity::Info, 0)]),
            now,
        );
        assert_eq!(app.first_row(app.visible_count()), 0);
        update(&mut app, key(KeyCode::Up), now);
        assert_eq!(app.scroll, 0);
    }

    #[test]
    fn new_critical_stands_out_for_a_few_seconds_and_rings_the_bell() {
        let now = t0();
        let mut app = App::new(&config(&["--bell", "high"]), now);
        update(&mut app, snapshot(vec![]), now);
        let fx = update(
            &mut app,
            event(EventKind::Created, alert("c", "S", Severity::Critical, 1)),
            now,
        );
        assert!(fx.bell);
        assert!(app.is_highlighted("c"));
        let fx = update(
            &mut app,
            event(EventKind::Created, alert("w", "S", Severity::Warning, 1)),
            now,
        );
        assert!(!fx.bell, "below the bell level");
        assert!(!app.is_highlighted("w"));
        // A repeat of the same critical neither rings nor refreshes.
        let fx = update(
            &mut app,
            event(EventKind::Updated, alert("c", "S", Severity::Critical, 1)),
            now,
        );
        assert!(!fx.bell);
        let later = now.plus(HIGHLIGHT_FOR + Duration::from_millis(1));
        update(&mut app, Msg::Tick, later);
        assert!(!app.is_highlighted("c"));
        assert!(app.highlights.is_empty());
    }

    #[test]
    fn no_bell_unless_asked_and_none_for_snapshots() {
        let now = t0();
        let mut app = App::new(&config(&[]), now);
        let fx = update(
            &mut app,
            event(EventKind::Created, alert("c", "S", Severity::Critical, 1)),
            now,
        );
        assert!(!fx.bell);
        let mut app = App::new(&config(&["--bell", "info"]), now);
        let fx = update(
            &mut app,
            snapshot(vec![alert("c", "S", Severity::Critical, 1)]),
            now,
        );
        assert!(!fx.bell);
        assert!(!app.is_highlighted("c"), "snapshot alerts are not new");
    }

    #[test]
    fn disconnect_keeps_alerts_marked_stale_until_the_next_snapshot() {
        let now = t0();
        let mut app = App::new(&config(&[]), now);
        update(
            &mut app,
            snapshot(vec![alert("a", "S", Severity::High, 1)]),
            now,
        );
        update(
            &mut app,
            Msg::Net(NetEvent::Disconnected {
                url: "ws://h/ws/alerts".into(),
                reason: "connection reset".into(),
                retry_in: Duration::from_secs(4),
            }),
            now,
        );
        assert!(app.stale);
        assert_eq!(ids(&app), ["a"]);
        match &app.link {
            Link::Disconnected { retry_at, .. } => {
                assert_eq!(*retry_at, now.plus(Duration::from_secs(4)).instant);
            }
            other => panic!("unexpected link state {other:?}"),
        }
        update(
            &mut app,
            Msg::Net(NetEvent::Connected {
                url: "ws://h/ws/alerts".into(),
            }),
            now,
        );
        assert!(app.stale, "stale until the snapshot replaces the list");
        update(&mut app, snapshot(vec![]), now);
        assert!(!app.stale);
        assert!(app.alerts.is_empty());
    }

    #[test]
    fn heartbeat_is_recorded_and_error_shown_for_a_while() {
        let now = t0();
        let mut app = App::new(&config(&[]), now);
        update(
            &mut app,
            Msg::Net(NetEvent::Message(ServerMessage::Heartbeat { ts: 1 })),
            now,
        );
        assert_eq!(app.last_heartbeat, Some(now.instant));
        update(
            &mut app,
            Msg::Net(NetEvent::Message(ServerMessage::Error {
                message: "bad".into(),
            })),
            now,
        );
        assert!(app.notice.is_some());
        update(&mut app, Msg::Tick, now.plus(NOTICE_FOR));
        assert!(app.notice.is_none());
    }

    #[test]
    fn view_switch_and_help_toggle() {
        let now = t0();
        let mut app = App::new(&config(&[]), now);
        update(&mut app, key(KeyCode::Char('v')), now);
        assert_eq!(app.view, View::Sites);
        update(&mut app, key(KeyCode::Char('?')), now);
        assert!(app.show_help);
        update(&mut app, key(KeyCode::Char('x')), now);
        assert!(!app.show_help);
        let fx = update(&mut app, key(KeyCode::Char('x')), now);
        assert!(!fx.redraw, "an unused key changes nothing");
        update(&mut app, key(KeyCode::Char('v')), now);
        assert_eq!(app.view, View::Alerts);
        let fx = update(&mut app, key(KeyCode::Char('r')), now);
        assert!(fx.reconnect_now);
    }

    #[test]
    fn unused_alert_event_body_is_ignored() {
        // `AlertEvent` is only reachable through `ServerMessage`; make sure a
        // resolved event for an unknown id is harmless.
        let now = t0();
        let mut app = App::new(&config(&[]), now);
        let mut a = alert("ghost", "S", Severity::High, 1);
        a.status = Status::Resolved;
        let msg = ServerMessage::AlertResolved(AlertEvent { seq: 9, alert: a });
        update(&mut app, Msg::Net(NetEvent::Message(msg)), now);
        assert!(app.alerts.is_empty());
    }
}
