//! One matcher of a silence, checked once when the silence is posted and
//! compiled into a [`Check`] that tests an alert without allocating.
//!
//! A field the alert lacks (no `host`, no such label) has the empty value,
//! so `host != "x"` matches an alert without a host and `host = "x"` does
//! not. Sites compare case-insensitively, everything else exactly;
//! severities by name (aliases taken), regular expressions against the
//! whole value.

use noc_shared::{Alert, MatchOp, Matcher, Severity, site_key};
use regex::{Regex, RegexBuilder};

use crate::sites::SiteGroups;

/// The longest matcher value, in characters.
pub const MAX_VALUE: usize = 1024;
/// The longest label name after `labels.`, as ingest allows.
pub const MAX_LABEL_NAME: usize = 100;
/// A compiled regex may take at most this much memory, so that a silence
/// cannot make every write slow.
const REGEX_SIZE_LIMIT: usize = 256 * 1024;

/// Values unlike each other that a regex "matching everything" matches
/// all of (with the empty one): `.*`, `.+`, `(?s).*`, `[^x]*|x.*` ...
const PROBES: [&str; 8] = [
    "x",
    "Kilimanjaro",
    "sw-01.kili",
    "critical",
    "0",
    " ",
    "Zürich ☃ 东京",
    "a much longer value, with spaces, digits 12345 and punctuation: !?#/",
];

/// The alert field a matcher reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Site,
    Host,
    Source,
    Severity,
    Message,
    Label(String),
}

impl Field {
    fn parse(name: &str) -> Result<Field, String> {
        Ok(match name {
            "site" => Field::Site,
            "host" => Field::Host,
            "source" => Field::Source,
            "severity" => Field::Severity,
            "message" => Field::Message,
            _ => match name.strip_prefix("labels.") {
                Some(label) if !label.is_empty() && label.chars().count() <= MAX_LABEL_NAME => {
                    Field::Label(label.to_owned())
                }
                Some(_) => {
                    return Err(format!(
                        "name {name:?}: a label name after \"labels.\" must be 1 to {MAX_LABEL_NAME} characters"
                    ));
                }
                None => {
                    return Err(format!(
                        "name {name:?} is not one of site, host, source, severity, message, labels.<name>"
                    ));
                }
            },
        })
    }

    /// The alert's value of this field; "" when it has none.
    fn value<'a>(&self, alert: &'a Alert) -> &'a str {
        match self {
            Field::Site => &alert.site,
            Field::Host => alert.host.as_deref().unwrap_or_default(),
            Field::Source => &alert.source,
            Field::Severity => alert.severity.as_str(),
            Field::Message => &alert.message,
            Field::Label(name) => alert
                .labels
                .get(name)
                .map(String::as_str)
                .unwrap_or_default(),
        }
    }
}

/// How a compiled matcher compares a value.
#[derive(Debug, Clone)]
enum Test {
    /// One of these values (a site's key, or a group's sites' keys; a
    /// severity's canonical name; any other value as given).
    OneOf(Vec<String>),
    /// The whole value matches.
    Regex(Regex),
}

/// An alert as matchers read it, with its site lower-cased once rather
/// than once per matcher (a write tests every live silence).
pub struct Subject<'a> {
    alert: &'a Alert,
    site_key: String,
}

impl<'a> Subject<'a> {
    pub fn new(alert: &'a Alert) -> Self {
        Subject {
            alert,
            site_key: site_key(&alert.site),
        }
    }
}

/// A matcher ready to test alerts.
#[derive(Debug, Clone)]
pub struct Check {
    field: Field,
    negative: bool,
    test: Test,
}

impl Check {
    /// Validates `m` and compiles it; site groups are expanded with
    /// `groups` now. The error says what to fix.
    pub fn compile(m: &Matcher, groups: &SiteGroups) -> Result<Check, String> {
        let field = Field::parse(m.name.trim())?;
        if m.value.chars().count() > MAX_VALUE {
            return Err(format!(
                "the value of {:?} is longer than {MAX_VALUE} characters",
                m.name
            ));
        }
        let test = match m.op {
            MatchOp::Equal | MatchOp::NotEqual => {
                Test::OneOf(equal_values(&field, &m.value, groups)?)
            }
            MatchOp::Regex | MatchOp::NotRegex => Test::Regex(whole_value_regex(&field, &m.value)?),
        };
        Ok(Check {
            field,
            negative: m.op.is_negative(),
            test,
        })
    }

    /// Does `alert` match?
    pub fn matches(&self, alert: &Alert) -> bool {
        self.matches_subject(&Subject::new(alert))
    }

    /// Does the alert of `subject` match?
    pub fn matches_subject(&self, subject: &Subject) -> bool {
        let positive = match (&self.test, &self.field) {
            (Test::OneOf(values), Field::Site) => values.contains(&subject.site_key),
            _ => self.test_value(self.field.value(subject.alert)),
        };
        positive != self.negative
    }

    /// Does the positive test hold for `value` (an alert's field value)?
    fn test_value(&self, value: &str) -> bool {
        match &self.test {
            Test::OneOf(values) if self.field == Field::Site => {
                let key = site_key(value);
                values.contains(&key)
            }
            Test::OneOf(values) => values.iter().any(|v| v == value),
            Test::Regex(re) => re.is_match(value),
        }
    }

    /// Does this matcher narrow a silence down? Not when it is negative,
    /// nor when it matches the empty value (every alert without the field)
    /// or, being a regex, every value tried.
    pub fn restricts(&self) -> bool {
        if self.negative || self.test_value("") {
            return false;
        }
        match self.test {
            Test::Regex(_) => !PROBES.iter().all(|p| self.test_value(p)),
            Test::OneOf(_) => true,
        }
    }
}

/// The values an `=` or `!=` matcher accepts.
fn equal_values(field: &Field, value: &str, groups: &SiteGroups) -> Result<Vec<String>, String> {
    Ok(match field {
        Field::Site => groups
            .expand(&[value.to_owned()])
            .iter()
            .map(|site| site_key(site.trim()))
            .collect(),
        Field::Severity => {
            let severity: Severity = value
                .parse()
                .map_err(|e| format!("severity matcher: {e}"))?;
            vec![severity.as_str().to_owned()]
        }
        _ => vec![value.to_owned()],
    })
}

/// `value` as a regex anchored to the whole value; sites and severities
/// case-insensitively, as they compare elsewhere.
fn whole_value_regex(field: &Field, value: &str) -> Result<Regex, String> {
    RegexBuilder::new(&format!("^(?:{value})$"))
        .case_insensitive(matches!(field, Field::Site | Field::Severity))
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("regular expression {value:?} does not compile: {e}"))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::Utc;
    use proptest::prelude::*;

    use super::*;

    fn matcher(name: &str, op: MatchOp, value: &str) -> Matcher {
        Matcher {
            name: name.into(),
            op,
            value: value.into(),
        }
    }

    fn check(name: &str, op: MatchOp, value: &str) -> Check {
        let groups = SiteGroups::new(HashMap::from([(
            "Tanzania".to_owned(),
            vec!["Kilimanjaro".to_owned(), "Serengeti".to_owned()],
        )]));
        Check::compile(&matcher(name, op, value), &groups).expect("valid matcher")
    }

    fn alert(site: &str) -> Alert {
        let mut a = Alert::new(
            "a",
            site,
            Severity::High,
            "Core switch down",
            "zabbix-dc1",
            Utc::now(),
        );
        a.labels.insert("team".into(), "core".into());
        a
    }

    #[test]
    fn sites_compare_case_insensitively_and_groups_expand() {
        assert!(check("site", MatchOp::Equal, "KILIMANJARO").matches(&alert("kilimanjaro")));
        assert!(check("site", MatchOp::Equal, "tanzania").matches(&alert("Serengeti")));
        assert!(!check("site", MatchOp::Equal, "tanzania").matches(&alert("Kampala")));
        assert!(check("site", MatchOp::NotEqual, "Tanzania").matches(&alert("Kampala")));
        assert!(check("site", MatchOp::Regex, "kili.*").matches(&alert("Kilimanjaro")));
    }

    #[test]
    fn other_fields_and_missing_ones() {
        let a = alert("A");
        assert!(check("severity", MatchOp::Equal, "major").matches(&a));
        assert!(check("severity", MatchOp::Regex, "critical|high").matches(&a));
        assert!(check("source", MatchOp::Equal, "zabbix-dc1").matches(&a));
        assert!(!check("message", MatchOp::Equal, "core switch down").matches(&a));
        assert!(check("labels.team", MatchOp::Equal, "core").matches(&a));
        assert!(check("labels.owner", MatchOp::NotEqual, "x").matches(&a));
        assert!(check("host", MatchOp::Equal, "").matches(&a));
        assert!(!check("host", MatchOp::Regex, ".+").matches(&a));
    }

    #[test]
    fn refuses_what_cannot_work() {
        let groups = SiteGroups::default();
        for (m, says) in [
            (matcher("hostname", MatchOp::Equal, "x"), "is not one of"),
            (matcher("labels.", MatchOp::Equal, "x"), "label name"),
            (matcher("severity", MatchOp::Equal, "urgent"), "severity"),
            (
                matcher("host", MatchOp::Regex, "sw-(01"),
                "does not compile",
            ),
            (
                matcher("host", MatchOp::Equal, &"x".repeat(1025)),
                "longer than 1024",
            ),
        ] {
            let e = Check::compile(&m, &groups).expect_err("refused");
            assert!(e.contains(says), "{e:?} should say {says:?}");
        }
    }

    #[test]
    fn which_matchers_narrow_a_silence() {
        assert!(check("host", MatchOp::Equal, "sw-01").restricts());
        assert!(check("host", MatchOp::Regex, "sw-.*").restricts());
        assert!(!check("host", MatchOp::NotEqual, "sw-01").restricts());
        assert!(!check("host", MatchOp::NotRegex, "sw-.*").restricts());
        assert!(!check("host", MatchOp::Equal, "").restricts());
        for everything in [
            ".*",
            ".+",
            "(?s).*",
            "(.*)",
            ".*|x",
            "[^x]*|x.*",
            "sw-.*|.*",
        ] {
            assert!(
                !check("site", MatchOp::Regex, everything).restricts(),
                "{everything} matches everything"
            );
        }
    }

    proptest! {
        /// A regex matches the whole value, never a part of it.
        #[test]
        fn regexes_are_anchored(
            prefix in "[a-z]{0,5}", word in "[a-z]{1,8}", suffix in "[a-z]{0,5}"
        ) {
            let mut a = alert("A");
            a.host = Some(format!("{prefix}{word}{suffix}"));
            let whole = prefix.is_empty() && suffix.is_empty();
            prop_assert_eq!(check("host", MatchOp::Regex, &word).matches(&a), whole);
            prop_assert_eq!(check("host", MatchOp::NotRegex, &word).matches(&a), !whole);
            let around = format!(".*{word}.*");
            prop_assert!(check("host", MatchOp::Regex, &around).matches(&a));
        }

        /// `!=` and `!~` are exactly the opposites of `=` and `=~`, and a
        /// literal value as a regex (escaped) agrees with `=`.
        #[test]
        fn negatives_are_opposites(value in "\\PC{0,12}", host in proptest::option::of("\\PC{0,12}")) {
            let mut a = alert("A");
            a.host = host;
            let eq = check("host", MatchOp::Equal, &value).matches(&a);
            prop_assert_eq!(check("host", MatchOp::NotEqual, &value).matches(&a), !eq);
            let escaped = regex::escape(&value);
            prop_assert_eq!(check("host", MatchOp::Regex, &escaped).matches(&a), eq);
            prop_assert_eq!(check("host", MatchOp::NotRegex, &escaped).matches(&a), !eq);
        }

        /// Sites compare without regard to case, for `=` and `=~` alike.
        #[test]
        fn sites_ignore_case(site in "[A-Za-zÀ-Þà-þ]{1,12}") {
            let upper = site.to_uppercase();
            prop_assert!(check("site", MatchOp::Equal, &upper).matches(&alert(&site)));
            let escaped = regex::escape(&upper);
            prop_assert!(check("site", MatchOp::Regex, &escaped).matches(&alert(&site)));
        }
    }
}
