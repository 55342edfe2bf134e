//! Prometheus Alertmanager (webhook version 4) and Grafana (webhook contact
//! point) bodies, turned into alert changes. Pure: no I/O, no clock.
//!
//! Both senders post a whole alert group, again and again, with one entry
//! per alert in `alerts`, each with its own `status`. The mapping is built
//! so that a monitoring system never loses an alert in translation: labels
//! that are missing, unknown or too long fall back or are cut, never
//! refused. Only an entry that has no identity at all (or is not an object)
//! cannot be used; it is reported, and the others are still stored.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use noc_shared::{EVERY_SITE, EventKind, Severity};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::change::input::{MAX_DESCRIPTION, MAX_LABEL_NAME, MAX_LABEL_VALUE, MAX_LABELS, MAX_URL};
use crate::change::{AlertInput, MAX_HOST, MAX_ID, MAX_MESSAGE, MAX_SITE, millis};

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
/// How long a Grafana contact point's test notification stays, unless
/// `--grafana-test-ttl` says otherwise.
pub const TEST_NOTIFICATION_TTL: Duration = Duration::from_secs(5 * 60);

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
    /// Entries whose `alertname` is the watchdog's: signs of life, not
    /// alerts.
    pub watchdogs: usize,
}

/// Maps a webhook body whose entries named `alertname = watchdog` are only
/// counted, and a Grafana test notification stays `test_ttl`. `Err` (a 422
/// message) only when the body as a whole is not such a webhook: not an
/// object, or without an `alerts` array.
pub fn map_body_watching(
    body: &Value,
    watchdog: &str,
    test_ttl: Duration,
) -> Result<Mapped, String> {
    let mut mapped = map_body_except(body, test_ttl, |entry| {
        entry.pointer("/labels/alertname").and_then(Value::as_str) == Some(watchdog)
    })?;
    mapped.watchdogs = mapped
        .unusable
        .iter()
        .filter(|u| u.reason.is_empty())
        .count();
    mapped.unusable.retain(|u| !u.reason.is_empty());
    Ok(mapped)
}

/// Maps a webhook body, every entry an alert.
pub fn map_body(body: &Value) -> Result<Mapped, String> {
    map_body_except(body, TEST_NOTIFICATION_TTL, |_| false)
}

/// Maps a body; an entry that `skip` picks is left out as an unusable one
/// with an empty reason.
fn map_body_except(
    body: &Value,
    test_ttl: Duration,
    skip: impl Fn(&Value) -> bool,
) -> Result<Mapped, String> {
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
        watchdogs: 0,
    };
    for (index, entry) in alerts.iter().enumerate() {
        if skip(entry) {
            mapped.unusable.push(Unusable { index, reason: "" });
            continue;
        }
        match map_entry(sender, entry, test_ttl) {
            Ok(input) => mapped.inputs.push(input),
            Err(reason) => mapped.unusable.push(Unusable { index, reason }),
        }
    }
    Ok(mapped)
}

/// Maps one entry of `alerts`.
fn map_entry(
    sender: Sender,
    entry: &Value,
    test_ttl: Duration,
) -> Result<AlertInput, &'static str> {
    let Value::Object(entry) = entry else {
        return Err("not a JSON object");
    };
    let labels = object(entry.get("labels"));
    let annotations = object(entry.get("annotations"));
    let id = identity(entry.get("fingerprint"), labels)?;

    let label = |name: &str| labels.and_then(|l| text(l.get(name)));
    let annotation = |name: &str| annotations.and_then(|a| text(a.get(name)));

    // Only people may post an alert for every site.
    let site = label("site")
        .filter(|s| s != EVERY_SITE)
        .map_or_else(|| UNKNOWN_SITE.to_owned(), |s| cut(&s, MAX_SITE));
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
    // The description adds to the message only when it is not the message.
    let description = annotation("summary")
        .and(annotation("description"))
        .map(|d| cut(&d, MAX_DESCRIPTION));
    let when = if event == EventKind::Resolved {
        "endsAt"
    } else {
        "startsAt"
    };
    let test_notification = label("alertname").as_deref() == Some("TestAlert")
        && label("instance").as_deref() == Some("Grafana");
    // A resolved entry carries every field too, so that an alert the server
    // never saw firing (it was down, or just plugged in) is stored resolved.
    Ok(AlertInput {
        id: Some(id),
        site: Some(site),
        severity: Some(severity),
        message: Some(cut(&message, MAX_MESSAGE)),
        host,
        source: Some(sender.as_str().to_owned()),
        description,
        url: link(sender, entry),
        labels: Some(all_labels(labels)),
        // Nobody resolves a test notification: it goes by itself.
        ttl: test_notification.then_some(test_ttl),
        at: time(entry.get(when)),
        event,
        ack: None,
    })
}

/// Every label, cut to the limits rather than refused: values that are not
/// strings as their text, the first 64 names in order.
fn all_labels(labels: Option<&Map<String, Value>>) -> BTreeMap<String, String> {
    labels
        .into_iter()
        .flatten()
        .filter_map(|(name, value)| {
            let name = cut(name.trim(), MAX_LABEL_NAME);
            let value = match value {
                Value::String(s) => s.clone(),
                Value::Null => return None,
                other => other.to_string(),
            };
            (!name.is_empty()).then(|| (name, cut(&value, MAX_LABEL_VALUE)))
        })
        .take(MAX_LABELS)
        .collect()
}

/// The link back to the sender's page: Grafana's panel, else its
/// dashboard, else the generator (the rule); only an `http(s)://` address
/// that fits (a cut one would lead nowhere).
fn link(sender: Sender, entry: &Map<String, Value>) -> Option<String> {
    let names: &[&str] = match sender {
        Sender::Grafana => &["panelURL", "dashboardURL", "generatorURL"],
        Sender::Alertmanager => &["generatorURL"],
    };
    names.iter().find_map(|name| {
        let url = text(entry.get(*name))?;
        let lower = url.to_ascii_lowercase();
        let web = lower.starts_with("http://") || lower.starts_with("https://");
        (web && url.chars().count() <= MAX_URL).then_some(url)
    })
}

/// An RFC 3339 time; Alertmanager's zero time (`0001-01-01…`, "not yet")
/// and anything unreadable are no time.
fn time(value: Option<&Value>) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(value?.as_str()?.trim()).ok()?;
    let t = millis(t.with_timezone(&Utc));
    (t.year() > 1).then_some(t)
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
#[path = "alertmanager_tests.rs"]
mod tests;
