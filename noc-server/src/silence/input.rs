//! [`SilenceInput`]: a silence as `POST /api/v1/silences` sends it,
//! validated with messages that say what to fix (the HTTP layer answers
//! them with 422).

use chrono::{DateTime, Duration, Utc};
use noc_shared::Matcher;
use serde_json::{Map, Value};

use super::matcher::Check;
use crate::sites::SiteGroups;

/// The most matchers one silence holds.
pub const MAX_MATCHERS: usize = 32;
/// The longest comment, in characters after trimming.
pub const MAX_COMMENT: usize = 4096;
/// The longest a silence may last.
pub const MAX_LENGTH: Duration = Duration::days(90);
/// How far ahead a silence may be scheduled to start.
pub const MAX_LEAD: Duration = Duration::days(365);

/// A valid new silence, before the store gives it an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilenceInput {
    pub matchers: Vec<Matcher>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub comment: String,
}

impl SilenceInput {
    /// Validates a posted body at time `now` (the default `starts_at`);
    /// `groups` resolves site group names. Unknown fields are ignored.
    pub fn from_json(
        body: &Value,
        now: DateTime<Utc>,
        groups: &SiteGroups,
    ) -> Result<Self, String> {
        let Value::Object(map) = body else {
            return Err("a silence must be a JSON object".into());
        };
        let matchers = matchers(map, groups)?;
        let starts_at = time(map, "starts_at")?.unwrap_or(now);
        let ends_at = ends_at(map, starts_at)?;
        if ends_at <= starts_at {
            return Err("ends_at must be after starts_at".into());
        }
        if ends_at - starts_at > MAX_LENGTH {
            return Err(
                "a silence may last at most 90 days: move ends_at closer to starts_at".into(),
            );
        }
        if ends_at <= now {
            return Err("ends_at is in the past: the silence would never be active".into());
        }
        if starts_at - now > MAX_LEAD {
            return Err("starts_at is more than 365 days ahead".into());
        }
        Ok(SilenceInput {
            matchers,
            starts_at,
            ends_at,
            comment: comment(map)?,
        })
    }
}

/// `matchers`: 1 to [`MAX_MATCHERS`] valid ones, at least one of which
/// narrows the silence down.
fn matchers(map: &Map<String, Value>, groups: &SiteGroups) -> Result<Vec<Matcher>, String> {
    let Some(Value::Array(items)) = map.get("matchers") else {
        return Err("matchers is required: a list of {\"name\", \"op\", \"value\"}".into());
    };
    if items.len() > MAX_MATCHERS {
        return Err(format!(
            "matchers holds {} entries; at most {MAX_MATCHERS} are allowed",
            items.len()
        ));
    }
    let mut matchers = Vec::with_capacity(items.len());
    let mut narrows = false;
    for (i, item) in items.iter().enumerate() {
        let m: Matcher = serde_json::from_value(item.clone()).map_err(|e| {
            format!(
                "matcher at index {i}: {e} (op is one of =, !=, =~, !~; name and value are strings)"
            )
        })?;
        let check = Check::compile(&m, groups).map_err(|e| format!("matcher at index {i}: {e}"))?;
        narrows |= check.restricts();
        matchers.push(m);
    }
    if !narrows {
        return Err(
            "a silence needs at least one matcher that is not negative (!=, !~) and does \
                    not match everything (an empty value, or a regex such as .*)"
                .into(),
        );
    }
    Ok(matchers)
}

/// `ends_at`, or `starts_at` + `duration`: exactly one of them.
fn ends_at(map: &Map<String, Value>, starts_at: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    match (time(map, "ends_at")?, duration(map)?) {
        (Some(_), Some(_)) => Err("give ends_at or duration, not both".into()),
        (Some(ends_at), None) => Ok(ends_at),
        (None, Some(length)) => starts_at
            .checked_add_signed(length)
            .ok_or_else(|| "duration is too long".into()),
        (None, None) => {
            Err("ends_at (RFC 3339) or duration (such as \"2h\" or seconds) is required".into())
        }
    }
}

/// An optional RFC 3339 time, at the store's precision (milliseconds).
fn time(map: &Map<String, Value>, name: &str) -> Result<Option<DateTime<Utc>>, String> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s.trim())
            .map(|t| DateTime::from_timestamp_millis(t.timestamp_millis()))
            .map_err(|e| format!("{name} {s:?} is not an RFC 3339 time: {e}"))?
            .map(Some)
            .ok_or_else(|| format!("{name} {s:?} is out of range")),
        Some(_) => Err(format!("{name} must be an RFC 3339 time as a string")),
    }
}

/// An optional `duration`: a string such as `"2h"` or `"1h30m"`, or whole
/// seconds as a number.
fn duration(map: &Map<String, Value>) -> Result<Option<Duration>, String> {
    let std = match map.get("duration") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => humantime::parse_duration(s.trim())
            .map_err(|e| format!("duration {s:?} is not a duration such as \"2h\": {e}"))?,
        Some(Value::Number(n)) => n
            .as_u64()
            .map(std::time::Duration::from_secs)
            .ok_or_else(|| format!("duration {n} is not a whole number of seconds"))?,
        Some(_) => return Err("duration must be a string such as \"2h\" or seconds".into()),
    };
    let length = Duration::from_std(std).map_err(|_| "duration is too long".to_owned())?;
    if length <= Duration::zero() {
        return Err("duration must be longer than zero".into());
    }
    Ok(Some(length))
}

/// `comment`: required, trimmed, at most [`MAX_COMMENT`] characters.
fn comment(map: &Map<String, Value>) -> Result<String, String> {
    match map.get("comment") {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            let s = s.trim();
            let chars = s.chars().count();
            if chars > MAX_COMMENT {
                return Err(format!(
                    "comment is {chars} characters long; at most {MAX_COMMENT} are allowed"
                ));
            }
            Ok(s.to_owned())
        }
        Some(Value::String(_)) | None | Some(Value::Null) => {
            Err("comment is required: say why the alerts are silenced".into())
        }
        Some(_) => Err("comment must be a string".into()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-30T19:00:00Z")
            .expect("time")
            .with_timezone(&Utc)
    }

    fn parse(body: Value) -> Result<SilenceInput, String> {
        SilenceInput::from_json(&body, now(), &SiteGroups::default())
    }

    fn site_a() -> Value {
        json!([{"name": "site", "op": "=", "value": "A"}])
    }

    #[test]
    fn defaults_and_durations() {
        let s = parse(json!({"matchers": site_a(), "duration": "2h", "comment": " work "}))
            .expect("valid");
        assert_eq!(
            (s.starts_at, s.ends_at - s.starts_at),
            (now(), Duration::hours(2))
        );
        assert_eq!(s.comment, "work");
        let s = parse(json!({"matchers": site_a(), "duration": 60, "comment": "c",
            "starts_at": "2026-11-30T20:00:00Z"}))
        .expect("valid");
        assert_eq!(s.ends_at.to_rfc3339(), "2026-11-30T20:01:00+00:00");
        let s =
            parse(json!({"matchers": site_a(), "ends_at": "2026-11-30T21:00:00Z", "comment": "c"}))
                .expect("valid");
        assert_eq!(s.ends_at - s.starts_at, Duration::hours(2));
    }

    #[test]
    fn refusals_say_what_to_fix() {
        let m = site_a();
        for (body, says) in [
            (
                json!({"duration": "1h", "comment": "c"}),
                "matchers is required",
            ),
            (
                json!({"matchers": [], "duration": "1h", "comment": "c"}),
                "at least one matcher",
            ),
            (
                json!({"matchers": [{"name": "host", "op": "!=", "value": "x"}], "duration": "1h", "comment": "c"}),
                "at least one matcher",
            ),
            (
                json!({"matchers": [{"name": "host", "op": "=~", "value": ".*"}], "duration": "1h", "comment": "c"}),
                "at least one matcher",
            ),
            (
                json!({"matchers": [{"name": "host", "op": "==", "value": "x"}], "duration": "1h", "comment": "c"}),
                "index 0",
            ),
            (
                json!({"matchers": vec![m[0].clone(); 33], "duration": "1h", "comment": "c"}),
                "at most 32",
            ),
            (
                json!({"matchers": m, "comment": "c"}),
                "ends_at (RFC 3339) or duration",
            ),
            (
                json!({"matchers": m, "duration": "1h", "ends_at": "2026-11-30T21:00:00Z", "comment": "c"}),
                "not both",
            ),
            (
                json!({"matchers": m, "duration": "soon", "comment": "c"}),
                "duration \"soon\"",
            ),
            (
                json!({"matchers": m, "duration": 0, "comment": "c"}),
                "longer than zero",
            ),
            (
                json!({"matchers": m, "ends_at": "tomorrow", "comment": "c"}),
                "RFC 3339",
            ),
            (
                json!({"matchers": m, "starts_at": "2026-11-30T22:00:00Z", "ends_at": "2026-11-30T21:00:00Z", "comment": "c"}),
                "after starts_at",
            ),
            (
                json!({"matchers": m, "duration": "91days", "comment": "c"}),
                "at most 90 days",
            ),
            (
                json!({"matchers": m, "starts_at": "2026-11-30T17:00:00Z", "duration": "1h", "comment": "c"}),
                "in the past",
            ),
            (
                json!({"matchers": m, "duration": "1h"}),
                "comment is required",
            ),
            (
                json!({"matchers": m, "duration": "1h", "comment": "  "}),
                "comment is required",
            ),
            (
                json!({"matchers": m, "duration": "1h", "comment": "x".repeat(4097)}),
                "at most 4096",
            ),
            (json!([]), "JSON object"),
        ] {
            let e = parse(body.clone()).expect_err(&body.to_string());
            assert!(e.contains(says), "{body}: {e:?} should say {says:?}");
        }
    }
}
