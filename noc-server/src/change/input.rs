//! [`AlertInput`]: one alert change as a sender posts it, validated from
//! JSON with messages precise enough to fix the sender (the HTTP layer
//! answers them with 422).

use noc_shared::{EventKind, Severity};
use serde_json::{Map, Value};

/// Field limits in characters, after trimming.
pub const MAX_ID: usize = 200;
pub const MAX_SITE: usize = 100;
pub const MAX_HOST: usize = 255;
pub const MAX_SOURCE: usize = 64;
pub const MAX_MESSAGE: usize = 4096;

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
    /// `Created` or `Resolved`.
    pub event: EventKind,
}

impl AlertInput {
    /// A resolve of `id` that changes nothing else.
    pub fn resolve(id: &str) -> Self {
        AlertInput {
            id: Some(id.to_owned()),
            site: None,
            severity: None,
            message: None,
            host: None,
            source: None,
            event: EventKind::Resolved,
        }
    }

    /// Validates one posted object. Unknown fields are ignored.
    pub fn from_json(value: &Value) -> Result<Self, String> {
        let Value::Object(map) = value else {
            return Err("an alert must be a JSON object".into());
        };
        let event = match text(map, "event", 64)?.as_deref() {
            None | Some("alert.created") => EventKind::Created,
            Some("alert.resolved") => EventKind::Resolved,
            Some(other) => {
                return Err(format!(
                    "event {other:?} is not one of alert.created, alert.resolved"
                ));
            }
        };
        let severity = text(map, "severity", 64)?
            .map(|s| s.parse::<Severity>().map_err(|e| format!("severity: {e}")))
            .transpose()?;
        let input = AlertInput {
            id: text(map, "id", MAX_ID)?,
            site: text(map, "site", MAX_SITE)?,
            severity,
            message: text(map, "message", MAX_MESSAGE)?,
            host: text(map, "host", MAX_HOST)?,
            source: text(map, "source", MAX_SOURCE)?,
            event,
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

    /// Validates a body holding one alert object or an array of them;
    /// returns the inputs and whether the body was an array. An invalid
    /// entry refuses the whole body, naming the entry's index.
    pub fn from_body(body: &Value) -> Result<(Vec<AlertInput>, bool), String> {
        match body {
            Value::Array(items) if items.is_empty() => Err("the array holds no alerts".into()),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    AlertInput::from_json(item).map_err(|e| format!("alert at index {i}: {e}"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(|inputs| (inputs, true)),
            one => AlertInput::from_json(one).map(|input| (vec![input], false)),
        }
    }
}

/// Reads an optional string field: trimmed, `null` or absent is `None`; an
/// empty or over-long value, or a value that is not a string, is refused.
fn text(map: &Map<String, Value>, name: &str, max: usize) -> Result<Option<String>, String> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            let chars = s.chars().count();
            if chars == 0 {
                Err(format!("{name} is empty"))
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
        let err = AlertInput::from_body(&body).expect_err("second invalid");
        assert!(err.contains("index 1"), "{err}");
    }
}
