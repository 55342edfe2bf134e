//! The `changes` of a history entry: each field of the alert that a change
//! moved, as `[before, after]`.

use std::collections::BTreeMap;

use noc_shared::Alert;
use serde_json::Value;

/// Fields left out of `changes`: `updated_at` moves with every change and
/// says nothing the entry's own `at` does not.
const QUIET: &[&str] = &["updated_at"];

/// Each field that differs between `before` (none for a new alert, whose
/// every set field is then a change from `null`) and `after`.
pub fn changes(before: Option<&Alert>, after: &Alert) -> BTreeMap<String, (Value, Value)> {
    let fields = |alert: Option<&Alert>| match alert.map(serde_json::to_value) {
        Some(Ok(Value::Object(map))) => map,
        _ => serde_json::Map::new(),
    };
    let before = fields(before);
    fields(Some(after))
        .into_iter()
        .filter(|(name, _)| !QUIET.contains(&name.as_str()))
        .filter_map(|(name, new)| {
            let old = before.get(&name).cloned().unwrap_or(Value::Null);
            let empty = |v: &Value| v.is_null() || v.as_object().is_some_and(|o| o.is_empty());
            let unchanged = old == new || (empty(&old) && empty(&new));
            (!unchanged).then_some((name, (old, new)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use noc_shared::Severity;
    use serde_json::json;

    #[test]
    fn only_what_moved() {
        let t = Utc::now();
        let a = Alert::new("x", "A", Severity::High, "down", "zabbix", t);
        let mut b = a.clone();
        b.severity = Severity::Critical;
        b.acked_by = Some("me@x".into());
        b.updated_at = t + chrono::Duration::seconds(1);
        let changes = changes(Some(&a), &b);
        assert_eq!(
            changes.keys().collect::<Vec<_>>(),
            ["acked_by", "severity"],
            "{changes:?}"
        );
        assert_eq!(changes["acked_by"], (Value::Null, json!("me@x")));
        let created = super::changes(None, &a);
        assert_eq!(created["site"], (Value::Null, json!("A")));
        assert!(!created.contains_key("host") && !created.contains_key("labels"));
    }
}
