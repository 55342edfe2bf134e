//! Prometheus Alertmanager (webhook version 4) and Grafana (webhook contact
//! point) bodies, turned into alert changes. Pure: no I/O, no clock.
//!
//! Both senders post a whole alert group, again and again, with one entry
//! per alert in `alerts`, each with its own `status`. The mapping is built
//! so that a monitoring system never loses an alert in translation: labels
//! that are missing, unknown or too long fall back or are cut, never
//! refused. Only an entry that has no identity at all (or is not an object)
//! cannot be used; it is reported, and the others are still stored.

use noc_shared::{EventKind, Severity};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::change::{AlertInput, MAX_HOST, MAX_ID, MAX_MESSAGE, MAX_SITE};

/// The prefix of every id this mapping gives.
const ID_PREFIX: &str = "am-";
/// How many hex digits of the labels' SHA-256 make an id when the sender
/// gives no fingerprint.
const HASH_DIGITS: usize = 16;
/// The site of an alert without a `site` label: visible on every screen
/// that takes all sites, and easy to search for.
pub const UNKNOWN_SITE: &str = "unknown";
/// The severity of an alert whose `severity` label is missing or unknown.
pub const DEFAULT_SEVERITY: Severity = Severity::Warning;

/// Which system sent the body; it becomes the alert's `source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    Alertmanager,
    Grafana,
}

impl Sender {
    /// Grafana's body carries `orgId`; Alertmanager's never does.
    fn of(body: &Map<String, Value>) -> Self {
        if body.get("orgId").is_some_and(|v| !v.is_null()) {
            Sender::Grafana
        } else {
            Sender::Alertmanager
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sender::Alertmanager => "alertmanager",
            Sender::Grafana => "grafana",
        }
    }
}

/// An entry of `alerts` that could not be turned into an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    /// Its index in `alerts`.
    pub index: usize,
    /// What is wrong, for a person; plain ASCII so it fits an HTTP header.
    pub reason: &'static str,
}

/// What a body maps to: the changes to store, in the order of `alerts`, and
/// the entries that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    pub sender: Sender,
    pub inputs: Vec<AlertInput>,
    pub unusable: Vec<Unusable>,
}

/// Maps a webhook body. `Err` (a 422 message) only when the body as a whole
/// is not such a webhook: not an object, or without an `alerts` array.
pub fn map_body(body: &Value) -> Result<Mapped, String> {
    let Value::Object(body) = body else {
        return Err(format!(
            "the body must be a JSON object (an Alertmanager or Grafana webhook), not {}",
            kind_of(body)
        ));
    };
    let alerts = match body.get("alerts") {
        Some(Value::Array(alerts)) => alerts,
        None | Some(Value::Null) => {
            return Err(
                "the body has no \"alerts\" array: it is not an Alertmanager or Grafana webhook"
                    .into(),
            );
        }
        Some(other) => {
            return Err(format!(
                "\"alerts\" must be an array of alerts, not {}",
                kind_of(other)
            ));
        }
    };
    let sender = Sender::of(body);
    let mut mapped = Mapped {
        sender,
        inputs: Vec::with_capacity(alerts.len()),
        unusable: Vec::new(),
    };
    for (index, entry) in alerts.iter().enumerate() {
        match map_entry(sender, entry) {
            Ok(input) => mapped.inputs.push(input),
            Err(reason) => mapped.unusable.push(Unusable { index, reason }),
        }
    }
    Ok(mapped)
}

/// Maps one entry of `alerts`.
fn map_entry(sender: Sender, entry: &Value) -> Result<AlertInput, &'static str> {
    let Value::Object(entry) = entry else {
        return Err("not a JSON object");
    };
    let labels = object(entry.get("labels"));
    let annotations = object(entry.get("annotations"));
    let id = identity(entry.get("fingerprint"), labels)?;

    let label = |name: &str| labels.and_then(|l| text(l.get(name)));
    let annotation = |name: &str| annotations.and_then(|a| text(a.get(name)));

    let site = label("site").map_or_else(|| UNKNOWN_SITE.to_owned(), |s| cut(&s, MAX_SITE));
    let severity = label("severity")
        .and_then(|s| s.parse::<Severity>().ok())
        .unwrap_or(DEFAULT_SEVERITY);
    let message = annotation("summary")
        .or_else(|| annotation("description"))
        .or_else(|| label("alertname"))
        .unwrap_or_else(|| fallback_message(labels, &id));
    let host = label("instance").map(|h| cut(&h, MAX_HOST));
    // Anything but "resolved" is firing: a sender that adds a state must not
    // make an alert disappear.
    let event = match entry.get("status").and_then(Value::as_str).map(str::trim) {
        Some(s) if s.eq_ignore_ascii_case("resolved") => EventKind::Resolved,
        _ => EventKind::Created,
    };
    // A resolved entry carries every field too, so that an alert the server
    // never saw firing (it was down, or just plugged in) is stored resolved.
    Ok(AlertInput {
        id: Some(id),
        site: Some(site),
        severity: Some(severity),
        message: Some(cut(&message, MAX_MESSAGE)),
        host,
        source: Some(sender.as_str().to_owned()),
        event,
    })
}

/// `am-<fingerprint>`, or `am-` and the first 16 hex digits of the SHA-256
/// of the labels when the sender gives no fingerprint.
fn identity(
    fingerprint: Option<&Value>,
    labels: Option<&Map<String, Value>>,
) -> Result<String, &'static str> {
    let fingerprint = match fingerprint {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => return Err("its fingerprint is not a string"),
    };
    if let Some(fingerprint) = fingerprint {
        if ID_PREFIX.len() + fingerprint.chars().count() > MAX_ID {
            // Cutting could merge two alerts into one; a fingerprint this
            // long is not one that Alertmanager or Grafana makes.
            return Err("its fingerprint is longer than an alert id may be");
        }
        return Ok(format!("{ID_PREFIX}{fingerprint}"));
    }
    match labels {
        Some(labels) if !labels.is_empty() => Ok(format!("{ID_PREFIX}{}", labels_hash(labels))),
        // Every such entry would get the same id and overwrite the others.
        _ => Err("it has neither a fingerprint nor labels, so it has no identity"),
    }
}

/// The first 16 hex digits of the SHA-256 of the labels as sorted
/// `name=value` lines joined by newlines. Values are taken as sent (not
/// trimmed, not cut), so the id stays the same whatever the limits are.
pub fn labels_hash(labels: &Map<String, Value>) -> String {
    let mut lines: Vec<String> = labels
        .iter()
        .map(|(name, value)| format!("{name}={}", raw(value)))
        .collect();
    lines.sort();
    let digest = Sha256::digest(lines.join("\n").as_bytes());
    let mut hex = hex::encode(digest);
    hex.truncate(HASH_DIGITS);
    hex
}

/// The message of an alert with no summary, description or alertname: its
/// labels, as Prometheus writes them, so that the operator sees what fired.
fn fallback_message(labels: Option<&Map<String, Value>>, id: &str) -> String {
    let mut pairs: Vec<String> = labels
        .into_iter()
        .flatten()
        .filter_map(|(name, value)| text(Some(value)).map(|v| format!("{name}={v:?}")))
        .collect();
    if pairs.is_empty() {
        return format!("alert {id}");
    }
    pairs.sort();
    format!("{{{}}}", pairs.join(", "))
}

/// A label's value as the hash sees it: a string as sent, anything else as
/// its JSON text.
fn raw(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A usable text value: trimmed and not empty. Numbers and booleans count
/// as their text; null, arrays and objects as missing.
fn text(value: Option<&Value>) -> Option<String> {
    let s = match value? {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

fn object(value: Option<&Value>) -> Option<&Map<String, Value>> {
    value.and_then(Value::as_object)
}

/// `s` cut to at most `max` characters (not bytes), trailing blanks removed.
fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((end, _)) => s[..end].trim_end().to_owned(),
        None => s.to_owned(),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(body: Value) -> AlertInput {
        let mut mapped = map_body(&body).expect("a webhook body");
        assert!(mapped.unusable.is_empty(), "{:?}", mapped.unusable);
        assert_eq!(mapped.inputs.len(), 1);
        mapped.inputs.remove(0)
    }

    fn entry(entry: Value) -> AlertInput {
        one(json!({ "version": "4", "status": "firing", "alerts": [entry] }))
    }

    #[test]
    fn maps_every_field_of_a_firing_alert() {
        let input = entry(json!({
            "status": "firing",
            "labels": {
                "alertname": "InstanceDown", "site": "Kilimanjaro",
                "severity": "Disaster", "instance": "sw-01.kili:9100"
            },
            "annotations": { "summary": "Core switch sw-01 unreachable", "description": "d" },
            "fingerprint": "c6eadffa33fcdf37",
            "startsAt": "2026-11-28T19:40:00Z", "endsAt": "0001-01-01T00:00:00Z"
        }));
        assert_eq!(
            input,
            AlertInput {
                id: Some("am-c6eadffa33fcdf37".into()),
                site: Some("Kilimanjaro".into()),
                severity: Some(Severity::Critical),
                message: Some("Core switch sw-01 unreachable".into()),
                host: Some("sw-01.kili:9100".into()),
                source: Some("alertmanager".into()),
                event: EventKind::Created,
            }
        );
    }

    #[test]
    fn each_entry_by_its_own_status() {
        let mapped = map_body(&json!({
            "status": "firing",
            "alerts": [
                { "status": "resolved", "labels": { "alertname": "A" }, "fingerprint": "1" },
                { "status": "firing", "labels": { "alertname": "B" }, "fingerprint": "2" },
                { "status": "RESOLVED", "labels": { "alertname": "C" }, "fingerprint": "3" },
                { "labels": { "alertname": "D" }, "fingerprint": "4" }
            ]
        }))
        .expect("mapped");
        let events: Vec<EventKind> = mapped.inputs.iter().map(|i| i.event).collect();
        assert_eq!(
            events,
            [
                EventKind::Resolved,
                EventKind::Created,
                EventKind::Resolved,
                EventKind::Created
            ]
        );
        // A resolve carries every field, so a first-seen one can be stored.
        assert!(mapped.inputs[0].site.is_some() && mapped.inputs[0].message.is_some());
    }

    #[test]
    fn missing_labels_fall_back() {
        let input = entry(
            json!({ "status": "firing", "labels": { "alertname": "thing_dead" },
                                  "fingerprint": "f" }),
        );
        assert_eq!(input.site.as_deref(), Some(UNKNOWN_SITE));
        assert_eq!(input.severity, Some(DEFAULT_SEVERITY));
        assert_eq!(input.message.as_deref(), Some("thing_dead"));
        assert_eq!(input.host, None);
        let unknown = entry(json!({ "labels": { "severity": "page", "site": "  " },
                                    "fingerprint": "f" }));
        assert_eq!(unknown.severity, Some(DEFAULT_SEVERITY));
        assert_eq!(unknown.site.as_deref(), Some(UNKNOWN_SITE));
    }

    #[test]
    fn severity_aliases() {
        for (label, severity) in [
            ("critical", Severity::Critical),
            ("major", Severity::High),
            ("error", Severity::High),
            ("minor", Severity::Average),
            ("WARNING", Severity::Warning),
            ("not classified", Severity::Info),
            ("information", Severity::Info),
        ] {
            let input = entry(json!({ "labels": { "severity": label }, "fingerprint": "f" }));
            assert_eq!(input.severity, Some(severity), "{label}");
        }
    }

    #[test]
    fn message_prefers_summary_then_description_then_alertname() {
        let labels = json!({ "alertname": "name", "job": "node" });
        let with = |annotations: Value| {
            entry(json!({ "labels": labels, "annotations": annotations, "fingerprint": "f" }))
                .message
        };
        assert_eq!(
            with(json!({"summary": "s", "description": "d"})).as_deref(),
            Some("s")
        );
        assert_eq!(
            with(json!({"summary": " ", "description": "d"})).as_deref(),
            Some("d")
        );
        assert_eq!(with(json!({})).as_deref(), Some("name"));
        let bare = entry(json!({ "labels": { "job": "node", "instance": "h:1" } }));
        assert_eq!(
            bare.message.as_deref(),
            Some(r#"{instance="h:1", job="node"}"#)
        );
    }

    #[test]
    fn no_fingerprint_hashes_the_sorted_labels() {
        let labels = json!({ "severity": "critical", "alertname": "thing_dead" });
        let input = entry(json!({ "labels": labels }));
        let digest = hex::encode(Sha256::digest(
            b"alertname=thing_dead\nseverity=critical".as_slice(),
        ));
        assert_eq!(input.id, Some(format!("am-{}", &digest[..16])));
        // Same labels, same id; label order does not matter.
        let again = entry(
            json!({ "labels": { "alertname": "thing_dead", "severity": "critical" },
                                  "fingerprint": "" }),
        );
        assert_eq!(again.id, input.id);
        let other = entry(json!({ "labels": { "alertname": "thing_dead" } }));
        assert_ne!(other.id, input.id);
    }

    #[test]
    fn over_long_labels_are_cut_not_refused() {
        let site = "S".repeat(MAX_SITE + 50);
        let host = "h".repeat(MAX_HOST + 1);
        let summary = "é".repeat(MAX_MESSAGE + 10);
        let input = entry(json!({
            "labels": { "site": site, "instance": host, "severity": "x".repeat(500) },
            "annotations": { "summary": summary },
            "fingerprint": "f"
        }));
        assert_eq!(input.site, Some("S".repeat(MAX_SITE)));
        assert_eq!(input.host, Some("h".repeat(MAX_HOST)));
        assert_eq!(input.message, Some("é".repeat(MAX_MESSAGE)));
        assert_eq!(input.severity, Some(DEFAULT_SEVERITY));
        // What the mapping gives always passes the webhook's own checks.
        let body = json!({
            "id": input.id, "site": input.site, "severity": "warning",
            "message": input.message, "host": input.host, "source": input.source
        });
        assert!(AlertInput::from_json(&body).is_ok());
    }

    #[test]
    fn cut_keeps_characters_whole_and_trims() {
        assert_eq!(cut("abc", 5), "abc");
        assert_eq!(cut("ab cd", 3), "ab");
        assert_eq!(cut("ééé", 2), "éé");
    }

    #[test]
    fn grafana_is_told_apart_by_org_id() {
        let body = |extra: Value| {
            let mut b =
                json!({ "alerts": [{ "labels": { "alertname": "x" }, "fingerprint": "f" }] });
            if let (Some(b), Some(extra)) = (b.as_object_mut(), extra.as_object()) {
                b.extend(extra.clone());
            }
            one(b).source
        };
        assert_eq!(body(json!({"orgId": 1})).as_deref(), Some("grafana"));
        assert_eq!(
            body(json!({"version": "4"})).as_deref(),
            Some("alertmanager")
        );
    }

    #[test]
    fn unusable_entries_are_reported_and_the_others_kept() {
        let mapped = map_body(&json!({
            "alerts": [
                "not an alert",
                { "labels": { "alertname": "ok" }, "fingerprint": "1" },
                { "status": "firing" },
                { "labels": {}, "fingerprint": { "x": 1 } },
                { "labels": { "a": "b" }, "fingerprint": "f".repeat(MAX_ID) }
            ]
        }))
        .expect("a webhook body");
        assert_eq!(mapped.inputs.len(), 1);
        assert_eq!(mapped.inputs[0].id.as_deref(), Some("am-1"));
        let indexes: Vec<usize> = mapped.unusable.iter().map(|u| u.index).collect();
        assert_eq!(indexes, [0, 2, 3, 4]);
        assert!(mapped.unusable.iter().all(|u| u.reason.is_ascii()));
    }

    #[test]
    fn refuses_what_is_not_a_webhook() {
        for (body, expect) in [
            (json!([1]), "must be a JSON object"),
            (json!({"receiver": "x"}), "no \"alerts\" array"),
            (json!({"alerts": {"a": 1}}), "must be an array"),
        ] {
            let err = map_body(&body).expect_err("refused");
            assert!(err.contains(expect), "{err}");
        }
        let empty = map_body(&json!({"alerts": []})).expect("nothing to do");
        assert!(empty.inputs.is_empty() && empty.unusable.is_empty());
    }
}
