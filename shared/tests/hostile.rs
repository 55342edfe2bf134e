//! Whatever a screen sends, parsing it never panics: it is a message or an
//! error that says what was expected.

use noc_shared::{ClientMessage, Severity, SiteFilter};
use proptest::prelude::*;

/// Any JSON value, nested a few levels.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        ".{0,20}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("subscribe"),
            Just("pong"),
            Just("event"),
            Just("min_severity"),
            Just("*")
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
            prop::collection::hash_map(
                prop_oneof![
                    Just("subscribe".to_owned()),
                    Just("event".to_owned()),
                    Just("min_severity".to_owned()),
                    Just("ts".to_owned()),
                    ".{0,8}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn any_text_is_a_message_or_a_clear_error(text in ".{0,200}") {
        if let Err(e) = ClientMessage::from_json(&text) {
            prop_assert!(!e.0.is_empty());
        }
    }

    #[test]
    fn any_json_is_a_message_or_a_clear_error(value in json()) {
        match ClientMessage::from_json(&value.to_string()) {
            Ok(message) => {
                // What parses, serializes back to the same message.
                prop_assert_eq!(ClientMessage::from_json(&message.to_json()), Ok(message));
            }
            Err(e) => prop_assert!(!e.0.is_empty()),
        }
    }

    #[test]
    fn subscriptions_round_trip(sites in prop::collection::vec(".{0,30}", 0..20), min in prop::sample::select(Severity::ALL.to_vec())) {
        let message = ClientMessage::Subscribe { sites: sites.clone(), min_severity: Some(min) };
        prop_assert_eq!(ClientMessage::from_json(&message.to_json()), Ok(message));
        // And every filter built from them answers without panicking.
        let filter = SiteFilter::new(Some(sites.clone()), min);
        for site in &sites {
            let _ = filter.matches(site, Severity::Critical);
        }
    }

    #[test]
    fn severities_parse_or_refuse(name in ".{0,20}") {
        let _ = name.parse::<Severity>();
    }
}
