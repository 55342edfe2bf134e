//! [`update`], the one function that changes the model, and its inputs:
//! [`Msg`] (an [`Action`], a resize, a clock tick, a network event) in,
//! [`Effects`] out.

use std::time::Duration;

use noc_shared::{Alert, EventKind, ServerMessage, Severity, SiteFilter, Snapshot};

use super::{App, Link, Mode, Now, View};
use crate::net::NetEvent;

/// How long a newly arrived critical alert stands out.
pub const HIGHLIGHT_FOR: Duration = Duration::from_secs(5);

/// How long a server `error` message stays in the header.
pub(super) const NOTICE_FOR: Duration = Duration::from_secs(10);

/// One input to [`update`].
// Each message is built once and moved straight into `update`; boxing the
// network variant would cost an allocation per event for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// What the operator asked for; [`crate::input`] turns keys into these.
    Action(Action),
    /// The terminal's new size, in cells.
    Resize {
        width: u16,
        height: u16,
    },
    /// The once-a-second clock.
    Tick,
    Net(NetEvent),
}

/// What the operator can ask of the screen, whichever key says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    /// Open the key help.
    Help,
    /// Close what is open over the list (the help).
    Close,
    /// Switch between the alert list and the site board.
    SwitchView,
    /// Hide or show the acknowledged alerts.
    ToggleAcked,
    /// Dial now instead of waiting for the next try.
    ReconnectNow,
    RowUp,
    RowDown,
    PageUp,
    PageDown,
    /// The first row.
    First,
    /// The last page.
    Last,
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

impl Effects {
    /// Draw again, nothing else.
    const REDRAW: Effects = Effects {
        redraw: true,
        bell: false,
        reconnect_now: false,
    };
}

/// Applies one input to the state. Pure: the only clock is `now`.
pub fn update(app: &mut App, msg: Msg, now: Now) -> Effects {
    app.now = now;
    match msg {
        Msg::Action(action) => apply(app, action),
        Msg::Resize { width, height } => {
            app.size = (width, height);
            app.clamp_scroll();
            Effects::REDRAW
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
            Effects::REDRAW
        }
        Msg::Net(event) => on_net(app, event, now),
    }
}

/// Carries out what the operator asked for.
fn apply(app: &mut App, action: Action) -> Effects {
    let mut effects = Effects::REDRAW;
    let page = app.page_rows();
    match action {
        Action::Quit => app.quit = true,
        Action::Help => app.mode = Mode::Help,
        Action::Close => app.mode = Mode::Browse,
        Action::SwitchView => {
            app.view = match app.view {
                View::Alerts => View::Sites,
                View::Sites => View::Alerts,
            };
            app.scroll = 0;
        }
        Action::ToggleAcked => app.show_acked = !app.show_acked,
        Action::ReconnectNow => effects.reconnect_now = true,
        Action::RowUp => app.scroll = app.scroll.saturating_sub(1),
        Action::RowDown => app.scroll = app.scroll.saturating_add(1),
        Action::PageUp => app.scroll = app.scroll.saturating_sub(page),
        Action::PageDown => app.scroll = app.scroll.saturating_add(page),
        Action::First => app.scroll = 0,
        Action::Last => app.scroll = usize::MAX,
    }
    app.clamp_scroll();
    effects
}

fn on_net(app: &mut App, event: NetEvent, now: Now) -> Effects {
    let mut effects = Effects::REDRAW;
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
