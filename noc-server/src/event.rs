//! A committed change as screens receive it: the [`Event`], its wire
//! [`Frame`] (serialized and framed once for every screen), and the
//! [`Publish`] seam through which the write path and the PostgreSQL
//! follower hand events to the hub without knowing it; and [`ScreenNews`]
//! with its [`Announce`] seam, the same for profile changes and identify.

use bytes::Bytes;
use noc_shared::{
    Alert, AlertEvent, EventKind, EventReason, Note, ServerMessage, Severity, SiteFilter, site_key,
};
use tungstenite::protocol::frame::Frame as WsFrame;
use tungstenite::protocol::frame::coding::{Data, OpCode};

/// A committed change, as the hub publishes it.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    /// Rises by one for every event, kept in the store across restarts.
    pub seq: u64,
    /// The alert after the change.
    pub alert: Alert,
    /// Site and severity before the change, when the alert existed: screens
    /// that showed it must hear that it moved away.
    pub before: Option<(String, Severity)>,
    /// Why the server made the change by itself, if it did.
    pub reason: Option<EventReason>,
    /// The note of an `alert.noted` event.
    pub note: Option<Note>,
}

impl Event {
    /// The event of a change from `before` (if the alert existed) to `alert`.
    pub fn new(kind: EventKind, seq: u64, alert: &Alert, before: Option<&Alert>) -> Self {
        Event {
            kind,
            seq,
            alert: alert.clone(),
            before: before.map(|old| (old.site.clone(), old.severity)),
            reason: None,
            note: None,
        }
    }
}

/// Where committed events go: the hub, in this process. The write path and
/// the PostgreSQL follower hold an `Arc<dyn Publish>`, never the hub itself.
pub trait Publish: Send + Sync {
    /// Hands `event` to every screen that wants it. Never blocks; events
    /// must be published in `seq` order.
    fn publish(&self, event: &Event);

    /// Makes every screen send a fresh snapshot (`"reason":"lagged"`): for
    /// when events may have been missed (a lost link to a shared store).
    fn resync_all(&self);
}

/// `text` as one whole WebSocket text frame, as a server sends it
/// (unmasked): the same bytes for every screen, so an event is framed once.
pub fn text_frame(text: String) -> Bytes {
    let frame = WsFrame::message(text, OpCode::Data(Data::Text), true);
    let mut wire = Vec::with_capacity(frame.len());
    frame
        .format(&mut wire)
        .expect("writing to a Vec cannot fail");
    Bytes::from(wire)
}

/// One event, serialized and framed once, with what filters need to know.
#[derive(Debug)]
pub struct Frame {
    pub seq: u64,
    /// The whole WebSocket text frame, header and JSON; cloning shares it.
    pub wire: Bytes,
    /// The alert's site, lower-cased once here rather than per screen.
    site_key: String,
    severity: Severity,
    /// Site key and severity before the change, when the alert existed.
    before: Option<(String, Severity)>,
}

impl Frame {
    /// Serializes and frames `event`.
    pub fn new(event: &Event) -> Self {
        let message = ServerMessage::alert_event(
            event.kind,
            AlertEvent {
                seq: event.seq,
                reason: event.reason,
                note: event.note.clone(),
                alert: event.alert.clone(),
            },
        );
        Frame {
            seq: event.seq,
            wire: text_frame(message.to_json()),
            site_key: site_key(&event.alert.site),
            severity: event.alert.severity,
            before: event
                .before
                .as_ref()
                .map(|(site, severity)| (site_key(site), *severity)),
        }
    }

    /// A frame of `wire` bytes for every site (for tests of the outlet).
    #[cfg(test)]
    pub(crate) fn from_parts(seq: u64, wire: Bytes) -> Self {
        Frame {
            seq,
            wire,
            site_key: String::new(),
            severity: Severity::Critical,
            before: None,
        }
    }

    /// The alert's site, lower-cased.
    pub fn site_key(&self) -> &str {
        &self.site_key
    }

    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The lower-cased site and the severity before the change, if the
    /// alert existed.
    pub fn before(&self) -> Option<(&str, Severity)> {
        self.before
            .as_ref()
            .map(|(site, severity)| (site.as_str(), *severity))
    }

    /// Does a screen with `filter` get this event? Yes when the alert matches
    /// before or after the change, so an alert that moves away still leaves.
    pub fn wanted_by(&self, filter: &SiteFilter) -> bool {
        filter.matches_key(&self.site_key, self.severity)
            || self
                .before
                .as_ref()
                .is_some_and(|(site, severity)| filter.matches_key(site, *severity))
    }
}

/// News for the screens of one name, which the profile set turns into
/// what they receive. Carries names only: the profile itself is read from
/// the store, so every instance ends with what was committed last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScreenNews {
    /// The stored profile of this screen name was set or removed.
    Profile(String),
    /// Every screen of this name shows its name (`{"event":"identify"}`).
    Identify(String),
    /// News may have been missed (the PostgreSQL listener was lost): read
    /// every profile again.
    Resync,
}

/// Where screen news goes: the profile set, in this process. The
/// PostgreSQL profile follower holds an `Arc<dyn Announce>`, never the set.
pub trait Announce: Send + Sync {
    /// Never blocks; news is handled in the order it is announced.
    fn announce(&self, news: ScreenNews);
}
