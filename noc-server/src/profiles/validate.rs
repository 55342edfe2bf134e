//! What a profile may hold, checked key by key so that a refusal names the
//! key (and, in the screens file, its line): the API's 422 and the file's
//! errors say the same things.

use std::time::Duration;

use noc_shared::{Bell, Profile, Severity};
use serde_json::Value;

/// The longest screen name, as `client=` is cut on the WebSocket.
pub const MAX_NAME: usize = 100;
const MAX_TITLE: usize = 200;
const MAX_SITES: usize = 1000;
const MAX_SITE: usize = 100;
/// A rotation faster than this would only flicker.
const MIN_ROTATE: Duration = Duration::from_secs(1);

/// A screen name as profiles are kept under: what a screen sends as
/// `client`, trimmed; not empty, at most [`MAX_NAME`] characters.
pub fn screen_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("a screen name must not be empty".into());
    }
    if name.chars().count() > MAX_NAME {
        return Err(format!("a screen name has at most {MAX_NAME} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("a screen name must not hold control characters".into());
    }
    Ok(name.to_owned())
}

/// A profile from a JSON object; the error names the key and what to fix.
pub fn profile(value: &Value) -> Result<Profile, String> {
    let Value::Object(map) = value else {
        return Err(format!(
            "a profile is a JSON object with any of the keys {}",
            Profile::KEYS.join(", ")
        ));
    };
    let mut profile = Profile::default();
    for (key, value) in map {
        set_key(&mut profile, key, value)?;
    }
    Ok(profile)
}

/// Checks one key's value and sets it in `profile`; `null` leaves it unset.
pub fn set_key(profile: &mut Profile, key: &str, value: &Value) -> Result<(), String> {
    if !Profile::KEYS.contains(&key) {
        return Err(format!(
            "unknown key {key:?}; a profile has {}",
            Profile::KEYS.join(", ")
        ));
    }
    if value.is_null() {
        return Ok(());
    }
    let fail = |what: &str| format!("{key}: {what}");
    match key {
        "title" => profile.title = text(value, MAX_TITLE).map_err(|e| fail(&e))?,
        "sites" => profile.sites = Some(sites(value).map_err(|e| fail(&e))?),
        "min_severity" => {
            let name = value
                .as_str()
                .ok_or_else(|| fail("must be a severity name"))?;
            let severity: Severity = name.parse().map_err(|e| fail(&format!("{e}")))?;
            profile.min_severity = Some(severity);
        }
        "view" => {
            profile.view = Some(
                serde_json::from_value(value.clone())
                    .map_err(|_| fail(&format!("{value} is not one of list, board, rotate")))?,
            );
        }
        "rotate" => profile.rotate = Some(rotate(value).map_err(|e| fail(&e))?),
        "hide_acked" => profile.hide_acked = Some(flag(value).map_err(|e| fail(&e))?),
        "show_silenced" => profile.show_silenced = Some(flag(value).map_err(|e| fail(&e))?),
        "bell" => {
            let name = value
                .as_str()
                .ok_or_else(|| fail("must be off or a severity name"))?;
            profile.bell = Some(name.parse::<Bell>()?);
        }
        _ => unreachable!("every key of Profile::KEYS is handled"),
    }
    Ok(())
}

/// Trimmed text; empty is the same as leaving the key out.
fn text(value: &Value, max: usize) -> Result<Option<String>, String> {
    let s = value.as_str().ok_or("must be a string")?.trim();
    if s.chars().count() > max {
        return Err(format!("at most {max} characters"));
    }
    Ok((!s.is_empty()).then(|| s.to_owned()))
}

fn sites(value: &Value) -> Result<Vec<String>, String> {
    let list = value
        .as_array()
        .ok_or("must be a list of site or site-group names")?;
    if list.len() > MAX_SITES {
        return Err(format!("at most {MAX_SITES} names"));
    }
    list.iter()
        .enumerate()
        .map(|(i, v)| match text(v, MAX_SITE) {
            Ok(Some(site)) => Ok(site),
            Ok(None) => Err(format!("entry {i} is empty")),
            Err(e) => Err(format!("entry {i} {e}")),
        })
        .collect()
}

fn rotate(value: &Value) -> Result<String, String> {
    let s = value
        .as_str()
        .ok_or("must be a duration such as \"30s\" or \"2m\"")?
        .trim();
    let every = humantime::parse_duration(s)
        .map_err(|e| format!("{s:?} is not a duration ({e}); write e.g. \"30s\" or \"2m\""))?;
    if every < MIN_ROTATE {
        return Err("at least 1s".into());
    }
    Ok(s.to_owned())
}

fn flag(value: &Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| "must be true or false".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use noc_shared::ProfileView;
    use serde_json::json;

    #[test]
    fn takes_the_contracts_example() {
        let p = profile(&json!({
            "title": "Tanzania NOC", "sites": ["Tanzania"], "min_severity": "warning",
            "view": "board", "rotate": "30s", "hide_acked": true,
            "show_silenced": false, "bell": "critical"
        }))
        .expect("valid");
        assert_eq!(p.view, Some(ProfileView::Board));
        assert_eq!(p.bell, Some(Bell::At(Severity::Critical)));
        assert_eq!(p.min_severity, Some(Severity::Warning));
        assert_eq!(profile(&json!({"title": null})), Ok(Profile::default()));
    }

    #[test]
    fn refusals_name_the_key() {
        let error = |v: Value| profile(&v).expect_err("refused");
        assert!(error(json!({"colour": "red"})).contains("unknown key \"colour\""));
        assert!(error(json!({"view": "grid"})).starts_with("view:"));
        assert!(error(json!({"min_severity": "dire"})).starts_with("min_severity:"));
        assert!(error(json!({"rotate": "soon"})).starts_with("rotate:"));
        assert!(error(json!({"rotate": "10ms"})).starts_with("rotate:"));
        assert!(error(json!({"sites": ["A", " "]})).contains("entry 1"));
        assert!(error(json!({"bell": "loud"})).starts_with("bell:"));
        assert!(error(json!({"hide_acked": "yes"})).starts_with("hide_acked:"));
        assert!(error(json!(["wall"])).contains("JSON object"));
        assert!(screen_name(" ").is_err() && screen_name(&"w".repeat(101)).is_err());
    }
}
