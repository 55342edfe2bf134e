//! [`update`], the one function that changes the model, and its inputs:
//! [`Msg`] (an [`Action`], a resize, a clock tick, a network event) in,
//! [`Effects`] out.

use std::time::Duration;

use noc_shared::{Alert, EventKind, ServerMessage, Severity, SiteFilter, Snapshot};

use super::{App, IDENTIFY_FOR, Link, Mode, Now, View};
use crate::api::{Reply, Request};
use crate::net::NetEvent;

/// How long a newly arrived critical alert stands out.
pub const HIGHLIGHT_FOR: Duration = Duration::from_secs(5);

/// The bell rings at most once in this time, however many alerts come.
pub const BELL_EVERY: Duration = Duration::from_secs(5);

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
    /// An answer from the server's API to one of [`Effects::requests`].
    Api(Reply),
}

/// What the operator can ask of the screen, whichever key says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    /// Open the key help.
    Help,
    /// Close what is open over the list (help, details, prompt, filter).
    Close,
    /// Esc on the bare list: clear the filter if one is set, else quit.
    Back,
    /// Switch between the alert list and the site board.
    SwitchView,
    /// Hide or show the acknowledged alerts (`h`).
    ToggleAcked,
    /// Hide or show the silenced alerts (`z`).
    ToggleSilenced,
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
    /// Open the selected alert's details.
    Open,
    /// Acknowledge (asks a note, then an expiry).
    Ack,
    Unack,
    /// Add a note (asks its text).
    Note,
    /// Silence the host or the site (asks which, how long, why).
    Silence,
    /// Start typing the `/` filter.
    Filter,
    /// A character typed into a prompt or the filter.
    Type(char),
    /// Backspace in a prompt or the filter.
    Erase,
    /// Enter in a prompt or the filter.
    Submit,
}

/// What the caller of [`update`] must do besides redrawing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Effects {
    /// The screen changed and must be drawn.
    pub redraw: bool,
    /// Ring the terminal bell.
    pub bell: bool,
    /// Ask the network task to skip its wait and dial now.
    pub reconnect_now: bool,
    /// Calls to the server's API to make, off the screen's task; each
    /// answer comes back as [`Msg::Api`].
    pub requests: Vec<Request>,
}

impl Effects {
    /// Draw again, nothing else.
    const REDRAW: Effects = Effects {
        redraw: true,
        bell: false,
        reconnect_now: false,
        requests: Vec::new(),
    };

    /// Takes in `other`'s effects too.
    pub fn merge(&mut self, other: Effects) {
        self.redraw |= other.redraw;
        self.bell |= other.bell;
        self.reconnect_now |= other.reconnect_now;
        self.requests.extend(other.requests);
    }
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
            if app.status.as_ref().is_some_and(|s| s.until <= now.instant) {
                app.status = None;
            }
            app.rotate(now);
            // The clock and the ages on screen move every second.
            Effects::REDRAW
        }
        Msg::Net(event) => on_net(app, event, now),
        Msg::Api(reply) => {
            let mut effects = Effects::REDRAW;
            app.on_reply(reply, &mut effects);
            effects
        }
    }
}

/// Carries out what the operator asked for.
fn apply(app: &mut App, action: Action) -> Effects {
    let mut effects = Effects::REDRAW;
    app.actions_applied += 1;
    if action == Action::Quit {
        app.quit = true;
        return effects;
    }
    match app.mode {
        Mode::Prompt => app.prompt_key(action, &mut effects),
        Mode::Filter => app.filter_key(action),
        Mode::Details => details_key(app, action, &mut effects),
        Mode::Browse | Mode::Help => list_key(app, action, &mut effects),
    }
    app.clamp_scroll();
    effects
}

/// A key with the details open: scroll them, act on their alert, close.
fn details_key(app: &mut App, action: Action, effects: &mut Effects) {
    let Some(details) = app.details.as_mut() else {
        app.mode = Mode::Browse;
        return;
    };
    match action {
        Action::Close | Action::Back => {
            app.details = None;
            app.mode = Mode::Browse;
        }
        Action::RowUp => details.scroll = details.scroll.saturating_sub(1),
        Action::RowDown => details.scroll = details.scroll.saturating_add(1),
        Action::PageUp => details.scroll = details.scroll.saturating_sub(10),
        Action::PageDown => details.scroll = details.scroll.saturating_add(10),
        Action::First => details.scroll = 0,
        Action::Ack | Action::Unack | Action::Note | Action::Silence => {
            app.start_action(action, effects)
        }
        _ => {}
    }
}

/// A key on the list or the board (or with the help over them).
fn list_key(app: &mut App, action: Action, effects: &mut Effects) {
    let page = app.page_rows();
    let list = app.view == View::Alerts;
    let at = app.selected_index().unwrap_or(0);
    match action {
        Action::Help => app.mode = Mode::Help,
        Action::Close => app.mode = Mode::Browse,
        Action::Back if app.mode == Mode::Help => app.mode = Mode::Browse,
        // The name across the screen looks like something open: Esc takes
        // it away rather than quitting under it.
        Action::Back if app.identifying() => app.identify_until = None,
        Action::Back if !app.query.is_empty() => app.filter_key(Action::Close),
        Action::Back => app.quit = true,
        Action::SwitchView => {
            app.view = match app.view {
                View::Alerts => View::Sites,
                View::Sites => View::Alerts,
            };
            app.scroll = 0;
        }
        Action::ToggleAcked => app.show_acked = !app.show_acked,
        Action::ToggleSilenced => app.show_silenced = !app.show_silenced,
        Action::ReconnectNow => effects.reconnect_now = true,
        Action::RowUp if list => app.select_row(at.saturating_sub(1)),
        Action::RowDown if list => app.select_row(at + 1),
        // A page moves the page and the selection with it.
        Action::PageUp if list => {
            app.scroll = app.scroll.saturating_sub(page);
            app.select_row(at.saturating_sub(page));
        }
        Action::PageDown if list => {
            app.scroll = app.scroll.saturating_add(page);
            app.select_row(at + page);
        }
        Action::First if list => {
            app.scroll = 0;
            app.select_row(0);
        }
        Action::Last if list => {
            app.scroll = usize::MAX;
            app.select_row(usize::MAX);
        }
        Action::RowUp => app.scroll = app.scroll.saturating_sub(1),
        Action::RowDown => app.scroll = app.scroll.saturating_add(1),
        Action::PageUp => app.scroll = app.scroll.saturating_sub(page),
        Action::PageDown => app.scroll = app.scroll.saturating_add(page),
        Action::First => app.scroll = 0,
        Action::Last => app.scroll = usize::MAX,
        Action::Open if list => app.open_details(effects),
        Action::Ack | Action::Unack | Action::Note | Action::Silence if list => {
            app.start_action(action, effects)
        }
        Action::Filter if list => {
            app.mode = Mode::Filter;
            app.query.clear();
        }
        _ => {}
    }
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
            on_message(app, message, now, &mut effects);
        }
    }
    effects
}

/// Applies one server message.
fn on_message(app: &mut App, message: ServerMessage, now: Now, effects: &mut Effects) {
    match message {
        ServerMessage::Snapshot(snapshot) => apply_snapshot(app, snapshot, now),
        ServerMessage::Heartbeat { .. } => app.last_heartbeat = Some(now.instant),
        ServerMessage::Error { message } => {
            app.notice = Some((message, now.instant + NOTICE_FOR));
        }
        ServerMessage::Profile { profile } => app.set_profile(profile, now),
        ServerMessage::Identify => app.identify_until = Some(now.instant + IDENTIFY_FOR),
        other => {
            if let Some((kind, event)) = other.as_alert_event() {
                apply_event(app, kind, event.alert.clone(), now, effects);
            }
        }
    }
}

fn apply_snapshot(app: &mut App, snapshot: Snapshot, now: Now) {
    app.set_profile(snapshot.profile, now);
    app.filter = SiteFilter::new(snapshot.sites, snapshot.min_severity);
    app.heartbeat_ms = Some(snapshot.heartbeat_ms);
    app.truncated = snapshot.truncated;
    app.alerts.replace_all(snapshot.alerts);
    app.highlights.retain(|id, _| app.alerts.get(id).is_some());
    if let Some(details) = app.details.as_mut() {
        if let Some(alert) = app.alerts.get(&details.alert.id) {
            details.alert = alert.clone();
        }
    }
    app.stale = false;
    // A snapshot is as good a sign of life as a heartbeat.
    app.last_heartbeat = Some(now.instant);
}

/// Applies one alert event: the list, the open details, the bell.
fn apply_event(app: &mut App, kind: EventKind, alert: Alert, now: Now, effects: &mut Effects) {
    if let Some(details) = app.details.as_mut().filter(|d| d.alert.id == alert.id) {
        effects.requests.extend(details.on_event(alert.clone()));
    }
    // The server also sends an event when an alert leaves this screen's
    // filter (e.g. it moved to another site), so the filter decides, not the
    // event's kind alone.
    let keep = alert.is_active() && kind != EventKind::Resolved && app.filter.matches_alert(&alert);
    if !keep {
        app.alerts.remove(&alert.id);
        app.highlights.remove(&alert.id);
        return;
    }
    let previous = app.alerts.get(&alert.id).map(|a| a.severity);
    // "New" for the eye and the bell: never seen here, or worse than before.
    let escalated = previous.is_none_or(|old| alert.severity > old)
        && matches!(kind, EventKind::Created | EventKind::Updated)
        && !alert.is_silenced();
    if escalated && alert.severity == Severity::Critical {
        app.highlights
            .insert(alert.id.clone(), now.instant + HIGHLIGHT_FOR);
    }
    let rested = app
        .last_bell
        .is_none_or(|at| now.instant.saturating_duration_since(at) >= BELL_EVERY);
    if escalated && rested && app.bell.is_some_and(|min| alert.severity >= min) {
        app.last_bell = Some(now.instant);
        effects.bell = true;
    }
    app.alerts.upsert(alert);
}
