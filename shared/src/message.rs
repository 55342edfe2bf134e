//! The WebSocket messages: [`ServerMessage`] from server to screen, tagged by
//! `event`, and [`ClientMessage`] from screen to server.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Alert, Note, Profile, Severity};

/// Why a snapshot was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotReason {
    /// The first message of every connection.
    Connect,
    /// The answer to a `subscribe` message.
    Subscribe,
    /// The screen fell behind the live stream; this replaces its picture.
    Lagged,
    /// The screen's profile changed; its filter may have too.
    Profile,
}

/// The full current picture for one screen's filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub reason: SnapshotReason,
    /// The last event this snapshot already contains; later events follow.
    pub seq: u64,
    /// Expanded site names, `None` for all sites.
    pub sites: Option<Vec<String>>,
    pub min_severity: Severity,
    /// The server's heartbeat interval: three of these without a frame mean
    /// the link is dead.
    pub heartbeat_ms: u64,
    /// Active alerts matching the filter, most severe first, then newest.
    pub alerts: Vec<Alert>,
    /// True when more alerts matched than the snapshot holds.
    pub truncated: bool,
    /// The screen's profile (by its `client` name), `null` when it has none.
    #[serde(default)]
    pub profile: Option<Profile>,
}

/// One change to one alert, with the alert as it is after the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    pub seq: u64,
    /// Why the server made this change by itself (a clock ran out, a
    /// silence started); absent for changes someone asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<EventReason>,
    /// The note an `alert.noted` event adds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Note>,
    #[serde(flatten)]
    pub alert: Alert,
}

/// The kinds of alert event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Created,
    Updated,
    Resolved,
    Acknowledged,
    Unacknowledged,
    Noted,
}

impl EventKind {
    /// Every kind, for parsing and tests.
    pub const ALL: [EventKind; 6] = [
        EventKind::Created,
        EventKind::Updated,
        EventKind::Resolved,
        EventKind::Acknowledged,
        EventKind::Unacknowledged,
        EventKind::Noted,
    ];

    /// The `event` name on the wire, e.g. `alert.created`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "alert.created",
            EventKind::Updated => "alert.updated",
            EventKind::Resolved => "alert.resolved",
            EventKind::Acknowledged => "alert.acknowledged",
            EventKind::Unacknowledged => "alert.unacknowledged",
            EventKind::Noted => "alert.noted",
        }
    }

    /// The kind named `name` on the wire.
    pub fn from_name(name: &str) -> Option<Self> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl Serialize for EventKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        EventKind::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown event {name:?}")))
    }
}

/// Why the server changed an alert by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventReason {
    /// Its `ttl` ran out: `alert.resolved`.
    Expired,
    /// Its acknowledgement's expiry came: `alert.unacknowledged`.
    AckExpired,
    /// A silence started, ended or was deleted: `silenced_by` changed.
    Silence,
    /// It started or stopped flapping.
    Flapping,
    /// The write-back of an action to its source moved on (done, failed).
    Writeback,
    /// A reason this build does not know (a newer server).
    #[serde(other)]
    Other,
}

impl EventReason {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventReason::Expired => "expired",
            EventReason::AckExpired => "ack-expired",
            EventReason::Silence => "silence",
            EventReason::Flapping => "flapping",
            EventReason::Writeback => "writeback",
            EventReason::Other => "other",
        }
    }
}

/// Everything the server sends on `/ws/alerts`, one JSON object per text
/// frame, told apart by its `event` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event")]
pub enum ServerMessage {
    #[serde(rename = "snapshot")]
    Snapshot(Snapshot),
    #[serde(rename = "alert.created")]
    AlertCreated(AlertEvent),
    #[serde(rename = "alert.updated")]
    AlertUpdated(AlertEvent),
    #[serde(rename = "alert.resolved")]
    AlertResolved(AlertEvent),
    #[serde(rename = "alert.acknowledged")]
    AlertAcknowledged(AlertEvent),
    #[serde(rename = "alert.unacknowledged")]
    AlertUnacknowledged(AlertEvent),
    #[serde(rename = "alert.noted")]
    AlertNoted(AlertEvent),
    /// The screen's profile changed (`null`: removed); a snapshot with
    /// `"reason":"profile"` follows.
    #[serde(rename = "profile")]
    Profile { profile: Option<Profile> },
    /// Show the screen's name across the whole screen for 10 s.
    #[serde(rename = "identify")]
    Identify,
    /// Sent every heartbeat interval with a Ping frame; answer with a pong.
    #[serde(rename = "heartbeat")]
    Heartbeat { ts: i64 },
    /// A client message the server could not use; the connection stays open.
    #[serde(rename = "error")]
    Error { message: String },
}

impl ServerMessage {
    /// The message for an alert event of `kind`, with no reason or note.
    pub fn alert(kind: EventKind, seq: u64, alert: Alert) -> Self {
        ServerMessage::alert_event(
            kind,
            AlertEvent {
                seq,
                reason: None,
                note: None,
                alert,
            },
        )
    }

    /// The message for `event` as an event of `kind`.
    pub fn alert_event(kind: EventKind, event: AlertEvent) -> Self {
        match kind {
            EventKind::Created => ServerMessage::AlertCreated(event),
            EventKind::Updated => ServerMessage::AlertUpdated(event),
            EventKind::Resolved => ServerMessage::AlertResolved(event),
            EventKind::Acknowledged => ServerMessage::AlertAcknowledged(event),
            EventKind::Unacknowledged => ServerMessage::AlertUnacknowledged(event),
            EventKind::Noted => ServerMessage::AlertNoted(event),
        }
    }

    /// The kind and body of an alert event, `None` for other messages.
    pub fn as_alert_event(&self) -> Option<(EventKind, &AlertEvent)> {
        match self {
            ServerMessage::AlertCreated(e) => Some((EventKind::Created, e)),
            ServerMessage::AlertUpdated(e) => Some((EventKind::Updated, e)),
            ServerMessage::AlertResolved(e) => Some((EventKind::Resolved, e)),
            ServerMessage::AlertAcknowledged(e) => Some((EventKind::Acknowledged, e)),
            ServerMessage::AlertUnacknowledged(e) => Some((EventKind::Unacknowledged, e)),
            ServerMessage::AlertNoted(e) => Some((EventKind::Noted, e)),
            _ => None,
        }
    }

    /// The message as one JSON text frame.
    pub fn to_json(&self) -> String {
        // Serializing these types cannot fail: every map key is a string and
        // no field has a fallible `Serialize`.
        serde_json::to_string(self).unwrap_or_else(|e| unreachable!("serialize: {e}"))
    }
}

/// A client message that is not one of the contract's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProtocolError(pub String);

/// Everything a screen sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// `{"subscribe":[...],"min_severity":"warning"}`: replace the filter.
    /// Entries are site or group names; empty or `["*"]` takes all sites.
    Subscribe {
        sites: Vec<String>,
        min_severity: Option<Severity>,
    },
    /// `{"event":"pong","ts":...}`: the answer to a heartbeat.
    Pong { ts: Option<i64> },
}

const EXPECTED: &str = r#"expected {"subscribe":["Site",...],"min_severity":"warning"} or {"event":"pong","ts":<unix seconds>}"#;

impl ClientMessage {
    /// Parses one text frame, with an error that says what was expected.
    pub fn from_json(text: &str) -> Result<Self, ProtocolError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| ProtocolError(format!("malformed JSON ({e}); {EXPECTED}")))?;
        let Value::Object(map) = value else {
            return Err(ProtocolError(format!("not a JSON object; {EXPECTED}")));
        };
        if let Some(list) = map.get("subscribe") {
            let sites = match list {
                Value::Array(items) => items
                    .iter()
                    .map(|v| v.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>(),
                _ => None,
            }
            .ok_or_else(|| {
                ProtocolError("\"subscribe\" must be a list of site or group names".into())
            })?;
            let min_severity = match map.get("min_severity") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => {
                    Some(s.parse().map_err(|e| ProtocolError(format!("{e}")))?)
                }
                Some(_) => return Err(ProtocolError("\"min_severity\" must be a string".into())),
            };
            return Ok(ClientMessage::Subscribe {
                sites,
                min_severity,
            });
        }
        match map.get("event").and_then(Value::as_str) {
            Some("pong") => Ok(ClientMessage::Pong {
                ts: map.get("ts").and_then(Value::as_i64),
            }),
            Some(other) => Err(ProtocolError(format!(
                "unknown event {other:?}; {EXPECTED}"
            ))),
            None => Err(ProtocolError(format!("unknown message; {EXPECTED}"))),
        }
    }

    /// The message as one JSON text frame.
    pub fn to_json(&self) -> String {
        let value = match self {
            ClientMessage::Subscribe {
                sites,
                min_severity: Some(min),
            } => {
                serde_json::json!({ "subscribe": sites, "min_severity": min })
            }
            ClientMessage::Subscribe {
                sites,
                min_severity: None,
            } => {
                serde_json::json!({ "subscribe": sites })
            }
            ClientMessage::Pong { ts } => serde_json::json!({ "event": "pong", "ts": ts }),
        };
        value.to_string()
    }
}
