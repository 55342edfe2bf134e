//! [`AlertInput`]: one alert change as a sender posts it, validated from
//! JSON with messages precise enough to fix the sender (the HTTP layer
//! answers them with 422).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use noc_shared::{EVERY_SITE, EventKind, Severity};
use serde_json::{Map, Value};

use super::{Actor, SourceAck, millis};

/// Field limits in characters, after trimming.
pub const MAX_ID: usize = 200;
pub const MAX_SITE: usize = 100;
pub const MAX_HOST: usize = 255;
pub const MAX_SOURCE: usize = 64;
pub const MAX_MESSAGE: usize = 4096;
pub const MAX_DESCRIPTION: usize = 16384;
pub const MAX_URL: usize = 2048;
pub const MAX_LABELS: usize = 64;
pub const MAX_LABEL_NAME: usize = 100;
pub const MAX_LABEL_VALUE: usize = 1024;
/// The longest `ttl`: an alert that should outlive this has no business
/// expiring by itself.
pub const MAX_TTL: Duration = Duration::from_secs(366 * 24 * 3600);

/// One alert change as posted, validated. `site`, `severity` and `message`
/// are always present for `alert.created`; a resolve may carry only `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertInput {
    pub id: Option<String>,
    pub site: Option<String>,
    pub severity: Option<Severity>,
    pub message: Option<String>,
    pub host: Option<String>,
    pub source: Option<String>,
    pub description: Option<String>,
    /// `http://` or `https://` only.
    pub url: Option<String>,
    /// `None`: leave the alert's labels as they are; `Some`: replace them.
    pub labels: Option<BTreeMap<String, String>>,
    /// Resolve by itself this long after the write.
    pub ttl: Option<Duration>,
    /// When the source saw this change; older than the alert's last is stale.
    pub at: Option<DateTime<Utc>>,
    /// `Created` or `Resolved`.
    pub event: EventKind,
    /// An ack made in the source (the Zabbix media type's updates).
    pub ack: Option<Box<SourceAck>>,
}

impl Default for AlertInput {
    /// An `alert.created` with nothing in it, for struct update syntax.
    fn default() -> Self {
        AlertInput {
            id: None,
            site: None,
            severity: None,
            message: None,
            host: None,
            source: None,
            description: None,
            url: None,
            labels: None,
            ttl: None,
            at: None,
            event: EventKind::Created,
            ack: None,
        }
    }
}

impl AlertInput {
    /// A resolve of `id` that changes nothing else.
    pub fn resolve(id: &str) -> Self {
        AlertInput {
            id: Some(id.to_owned()),
            event: EventKind::Resolved,
            ..AlertInput::default()
        }
    }

    /// Validates one posted object. Unknown fields are ignored.
    pub fn from_json(value: &Value) -> Result<Self, String> {
        let Value::Object(map) = value else {
            return Err("an alert must be a JSON object".into());
        };
        let event = match optional(map, "event", 64)?.as_deref() {
            None | Some("alert.created") => EventKind::Created,
            Some("alert.resolved") => EventKind::Resolved,
            Some(other) => {
                return Err(format!(
                    "event {other:?} is not one of alert.created, alert.resolved"
                ));
            }
        };
        let severity = required(map, "severity", 64)?
            .map(|s| s.parse::<Severity>().map_err(|e| format!("severity: {e}")))
            .transpose()?;
        let input = AlertInput {
            id: required(map, "id", MAX_ID)?,
            site: required(map, "site", MAX_SITE)?,
            severity,
            message: required(map, "message", MAX_MESSAGE)?,
            host: optional(map, "host", MAX_HOST)?,
            source: optional(map, "source", MAX_SOURCE)?,
            description: optional(map, "description", MAX_DESCRIPTION)?,
            url: url(map)?,
            labels: labels(map)?,
            ttl: ttl(map)?,
            at: at(map)?,
            event,
            ack: SourceAck::from_map(map)?.map(Box::new),
        };
        if input.event == EventKind::Created {
            for (name, present) in [
                ("site", input.site.is_some()),
                ("severity", input.severity.is_some()),
                ("message", input.message.is_some()),
            ] {
                if !present {
                    return Err(format!("{name} is required"));
                }
            }
        } else if input.id.is_none() {
            return Err("id is required to resolve an alert".into());
        }
        Ok(input)
    }

    /// Validates a body holding one alert object or an array of them, as
    /// posted by `by`; returns the inputs and whether the body was an
    /// array. An invalid entry refuses the whole body, naming its index.
    pub fn from_body(body: &Value, by: &Actor) -> Result<(Vec<AlertInput>, bool), String> {
        let one = |item: &Value| {
            let input = AlertInput::from_json(item)?;
            input.check_actor(by)?;
            Ok::<_, String>(input)
        };
        match body {
            Value::Array(items) if items.is_empty() => Err("the array holds no alerts".into()),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| one(item).map_err(|e| format!("alert at index {i}: {e}")))
                .collect::<Result<Vec<_>, _>>()
                .map(|inputs| (inputs, true)),
            item => one(item).map(|input| (vec![input], false)),
        }
    }

    /// Only people may post an alert for every site.
    fn check_actor(&self, by: &Actor) -> Result<(), String> {
        if self.site.as_deref() == Some(EVERY_SITE) && by.source().is_some() {
            return Err(format!(
                "site {EVERY_SITE:?} (every site) may be posted by users only, not by a source"
            ));
        }
        Ok(())
    }
}

/// A required field when present: trimmed, `null` or absent is `None`; an
/// empty or over-long value, or a value that is not a string, is refused.
fn required(map: &Map<String, Value>, name: &str, max: usize) -> Result<Option<String>, String> {
    match optional(map, name, max)? {
        None if matches!(map.get(name), Some(Value::String(_))) => Err(format!("{name} is empty")),
        other => Ok(other),
    }
}

/// An optional text field: trimmed; `null`, absent or empty is `None`; an
/// over-long value or one that is not a string is refused.
fn optional(map: &Map<String, Value>, name: &str, max: usize) -> Result<Option<String>, String> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            let chars = s.chars().count();
            if chars == 0 {
                Ok(None)
            } else if chars > max {
                Err(format!(
                    "{name} is {chars} characters long; at most {max} are allowed"
                ))
            } else {
                Ok(Some(s.to_owned()))
            }
        }
        Some(_) => Err(format!("{name} must be a string")),
    }
}

fn url(map: &Map<String, Value>) -> Result<Option<String>, String> {
    let Some(url) = optional(map, "url", MAX_URL)? else {
        return Ok(None);
    };
    match url::Url::parse(&url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.has_host() => {
            Ok(Some(url))
        }
        _ => Err(format!(
            "url {url:?} must be an http:// or https:// address"
        )),
    }
}

fn labels(map: &Map<String, Value>) -> Result<Option<BTreeMap<String, String>>, String> {
    let labels = match map.get("labels") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(labels)) => labels,
        Some(_) => return Err("labels must be an object of string values".into()),
    };
    if labels.len() > MAX_LABELS {
        return Err(format!(
            "labels has {} entries; at most {MAX_LABELS} are allowed",
            labels.len()
        ));
    }
    labels
        .iter()
        .map(|(name, value)| {
            let chars = name.chars().count();
            if name.trim().is_empty() || chars > MAX_LABEL_NAME {
                return Err(format!(
                    "label name {name:?} must be 1 to {MAX_LABEL_NAME} characters"
                ));
            }
            let Value::String(value) = value else {
                return Err(format!("label {name:?} must have a string value"));
            };
            let chars = value.chars().count();
            if chars > MAX_LABEL_VALUE {
                return Err(format!(
                    "label {name:?} is {chars} characters long; at most {MAX_LABEL_VALUE} are allowed"
                ));
            }
            Ok((name.clone(), value.clone()))
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

/// `ttl`: seconds as a number, or a duration string such as `"15m"`.
fn ttl(map: &Map<String, Value>) -> Result<Option<Duration>, String> {
    let ttl = match map.get("ttl") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .and_then(|s| Duration::try_from_secs_f64(s).ok())
            .ok_or_else(|| format!("ttl {n} is not a number of seconds"))?,
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => parse_duration(s).map_err(|e| format!("ttl: {e}"))?,
        Some(_) => {
            return Err("ttl must be a number of seconds or a duration such as \"15m\"".into());
        }
    };
    if ttl.is_zero() || ttl > MAX_TTL {
        return Err(format!(
            "ttl must be more than 0 and at most {}",
            humantime::format_duration(MAX_TTL)
        ));
    }
    Ok(Some(ttl))
}

/// A duration as people write it: `"90s"`, `"15m"`, `"2h 30m"`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("{s:?} is not a duration such as \"15m\" or \"2h\" ({e})"))
}

/// `at`: an RFC 3339 time, kept at the store's precision.
fn at(map: &Map<String, Value>) -> Result<Option<DateTime<Utc>>, String> {
    let Some(at) = optional(map, "at", 64)? else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(&at)
        .map(|t| Some(millis(t.with_timezone(&Utc))))
        .map_err(|e| {
            format!("at {at:?} is not an RFC 3339 time such as \"2026-11-28T19:40:00Z\" ({e})")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn trims_and_checks_limits() {
        let input = AlertInput::from_json(
            &json!({"site": " A ", "severity": "Disaster", "message": "m", "extra": 1}),
        )
        .expect("valid");
        assert_eq!(input.site.as_deref(), Some("A"));
        assert_eq!(input.severity, Some(Severity::Critical));
        let long = "x".repeat(MAX_SITE + 1);
        let err = AlertInput::from_json(&json!({"site": long, "severity": "info", "message": "m"}))
            .expect_err("long");
        assert!(err.contains("site"), "{err}");
        assert!(
            AlertInput::from_json(&json!({"site": "A", "severity": "info", "message": "  "}))
                .is_err()
        );
        assert!(
            AlertInput::from_json(
                &json!({"id": "", "site": "A", "severity": "info", "message": "m"})
            )
            .is_err()
        );
        assert!(
            AlertInput::from_json(&json!({"site": "A", "severity": "bad", "message": "m"}))
                .is_err()
        );
        assert!(
            AlertInput::from_json(&json!({"site": 3, "severity": "info", "message": "m"})).is_err()
        );
    }

    #[test]
    fn resolve_needs_only_an_id() {
        let input =
            AlertInput::from_json(&json!({"id": "x", "event": "alert.resolved"})).expect("valid");
        assert_eq!(input, AlertInput::resolve("x"));
        assert!(AlertInput::from_json(&json!({"event": "alert.resolved"})).is_err());
        assert!(AlertInput::from_json(&json!({"id": "x", "event": "alert.exploded"})).is_err());
    }

    #[test]
    fn array_errors_name_the_index() {
        let body = json!([{"site": "A", "severity": "info", "message": "m"}, {"site": "A"}]);
        let by = Actor::Source("webhook".into());
        let err = AlertInput::from_body(&body, &by).expect_err("second invalid");
        assert!(err.contains("index 1"), "{err}");
    }

    fn valid(extra: Value) -> Result<AlertInput, String> {
        let mut body = json!({"site": "A", "severity": "info", "message": "m"});
        for (k, v) in extra.as_object().expect("object") {
            body[k] = v.clone();
        }
        AlertInput::from_json(&body)
    }

    #[test]
    fn empty_optional_text_is_absent() {
        let input = valid(
            json!({"host": "", "description": " ", "url": "", "source": "", "ttl": "", "at": ""}),
        )
        .expect("empty optional fields are absent");
        assert_eq!(input, valid(json!({})).expect("bare"));
    }

    #[test]
    fn part_two_fields() {
        let input = valid(json!({
            "description": "long", "url": "https://z.example/tr?id=1",
            "labels": {"team": "core", "zabbix.eventid": "48213"},
            "ttl": "15m", "at": "2026-11-28T19:40:00.1234Z"
        }))
        .expect("valid");
        assert_eq!(input.ttl, Some(Duration::from_secs(900)));
        assert_eq!(input.labels.expect("labels")["team"], "core");
        assert_eq!(
            input.at.map(|t| t.to_rfc3339()),
            Some("2026-11-28T19:40:00.123+00:00".into())
        );
        assert_eq!(
            valid(json!({"ttl": 90})).expect("n").ttl,
            Some(Duration::from_secs(90))
        );
        for bad in [
            json!({"url": "ftp://x.example/"}),
            json!({"url": "javascript:alert(1)"}),
            json!({"url": format!("https://x.example/{}", "a".repeat(MAX_URL))}),
            json!({"labels": {"a": 1}}),
            json!({"labels": ["a"]}),
            json!({"labels": {"a": "x".repeat(MAX_LABEL_VALUE + 1)}}),
            json!({"labels": {"n".repeat(MAX_LABEL_NAME + 1): "x"}}),
            json!({"labels": (0..=MAX_LABELS).map(|i| (i.to_string(), json!("v"))).collect::<Map<_, _>>()}),
            json!({"ttl": "soon"}),
            json!({"ttl": 0}),
            json!({"ttl": -5}),
            json!({"ttl": true}),
            json!({"at": "yesterday"}),
            json!({"description": "d".repeat(MAX_DESCRIPTION + 1)}),
        ] {
            assert!(valid(bad.clone()).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn every_site_is_for_users_only() {
        let body = json!({"site": "*", "severity": "info", "message": "m"});
        let source = Actor::Source("webhook".into());
        assert!(AlertInput::from_body(&body, &source).is_err());
        let user = Actor::User("me@x".into());
        assert!(AlertInput::from_body(&body, &user).is_ok());
    }
}
