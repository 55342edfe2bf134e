//! [`SourceAck`]: an acknowledgement made in the source itself (the Zabbix
//! media type sends one with an update), validated from the webhook's
//! `ack` object, and what it does to an active alert ([`SourceAck::apply`]).

use chrono::{DateTime, Utc};
use noc_shared::{Alert, EventKind};
use serde_json::{Map, Value};

/// Limits in characters, after trimming.
pub const MAX_ACK_BY: usize = 255;
pub const MAX_ACK_NOTE: usize = 4096;

/// How the server signs what it writes back; an ack carrying it is the
/// server's own, echoed.
const ECHO_SUFFIX: &str = " via NOC";

/// `{"acked": true|false, "by"?: "…", "note"?: "…"}` as posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceAck {
    pub acked: bool,
    /// The source's user, as the source names them.
    pub by: Option<String>,
    pub note: Option<String>,
}

/// What an ack did to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckOutcome {
    /// The event the ack makes of the write, with the alert changed.
    Event(EventKind),
    /// The ack state is the alert's already: a plain update.
    Same,
    /// The server's own ack come back on an acked alert: the whole write
    /// is dropped.
    Echo,
}

impl SourceAck {
    /// The `ack` field of `map`, if any.
    pub fn from_map(map: &Map<String, Value>) -> Result<Option<Self>, String> {
        let ack = match map.get("ack") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(ack)) => ack,
            Some(_) => {
                return Err(
                    "ack must be an object such as {\"acked\": true, \"by\": \"Admin\"}".into(),
                );
            }
        };
        let acked = match ack.get("acked") {
            Some(Value::Bool(acked)) => *acked,
            _ => return Err("ack.acked must be true or false".into()),
        };
        Ok(Some(SourceAck {
            acked,
            by: text(ack, "by", MAX_ACK_BY)?,
            note: text(ack, "note", MAX_ACK_NOTE)?,
        }))
    }

    /// Applies the ack to `alert` (active), written by `source` at `at`.
    pub fn apply(
        &self,
        alert: &mut Alert,
        source: &str,
        at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> AckOutcome {
        let echo = self
            .note
            .as_deref()
            .is_some_and(|n| n.ends_with(ECHO_SUFFIX));
        match (self.acked, alert.is_acked()) {
            (true, true) if echo => AckOutcome::Echo,
            (true, false) if echo => AckOutcome::Same,
            (true, false) => {
                alert.acked_by = Some(self.by.clone().unwrap_or_else(|| source.to_owned()));
                alert.acked_at = Some(at.unwrap_or(now));
                alert.ack_note = self.note.clone();
                alert.ack_expires_at = None;
                AckOutcome::Event(EventKind::Acknowledged)
            }
            (false, true) => {
                alert.acked_by = None;
                alert.acked_at = None;
                alert.ack_note = None;
                alert.ack_expires_at = None;
                AckOutcome::Event(EventKind::Unacknowledged)
            }
            _ => AckOutcome::Same,
        }
    }
}

/// A text field of the ack: trimmed, empty or `null` is absent.
fn text(ack: &Map<String, Value>, name: &str, max: usize) -> Result<Option<String>, String> {
    match ack.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            let chars = s.chars().count();
            match chars {
                0 => Ok(None),
                n if n > max => Err(format!(
                    "ack.{name} is {n} characters long; at most {max} are allowed"
                )),
                _ => Ok(Some(s.to_owned())),
            }
        }
        Some(_) => Err(format!("ack.{name} must be a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(ack: Value) -> Result<Option<SourceAck>, String> {
        SourceAck::from_map(json!({ "ack": ack }).as_object().expect("object"))
    }

    #[test]
    fn validates_the_ack_object() {
        let ack = parse(json!({"acked": true, "by": " Admin (Zabbix Administrator) ", "note": ""}))
            .expect("valid")
            .expect("present");
        assert!(ack.acked);
        assert_eq!(ack.by.as_deref(), Some("Admin (Zabbix Administrator)"));
        assert_eq!(ack.note, None);
        assert_eq!(parse(Value::Null), Ok(None));
        for (bad, says) in [
            (json!(true), "ack must be an object"),
            (json!({"by": "x"}), "ack.acked"),
            (json!({"acked": "yes"}), "ack.acked"),
            (json!({"acked": true, "by": 3}), "ack.by must be a string"),
            (
                json!({"acked": true, "by": "b".repeat(MAX_ACK_BY + 1)}),
                "ack.by is 256",
            ),
            (
                json!({"acked": true, "note": "n".repeat(MAX_ACK_NOTE + 1)}),
                "ack.note is 4097",
            ),
        ] {
            let err = parse(bad.clone()).expect_err("refused");
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
