//! Alert severity: five levels, ordered so that `Critical` is the greatest.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How bad an alert is. `Ord` follows urgency: `Critical > High > Average >
/// Warning > Info`, so "at or above warning" is `severity >= Severity::Warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Severity {
    /// Informational; also Zabbix's "Not classified".
    #[default]
    Info,
    Warning,
    /// Zabbix's "Average"; also `minor`.
    Average,
    /// Also `major` and `error`.
    High,
    /// Also Zabbix's "Disaster".
    Critical,
}

/// A severity name that is neither a canonical name nor a known alias.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown severity {0:?}: expected critical, high, average, warning or info \
     (or disaster, major, error, minor, information, not classified)"
)]
pub struct UnknownSeverity(pub String);

impl Severity {
    /// Every severity, most severe first: the display order of lists and counts.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Average,
        Severity::Warning,
        Severity::Info,
    ];

    /// The canonical lower-case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Average => "average",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }

    /// Position in [`Severity::ALL`]: 0 for critical, 4 for info.
    pub fn rank(self) -> usize {
        match self {
            Severity::Critical => 0,
            Severity::High => 1,
            Severity::Average => 2,
            Severity::Warning => 3,
            Severity::Info => 4,
        }
    }
}

impl FromStr for Severity {
    type Err = UnknownSeverity;

    /// Accepts the canonical names and the aliases of the contract,
    /// case-insensitively and ignoring surrounding blanks.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "critical" | "disaster" => Severity::Critical,
            "high" | "major" | "error" => Severity::High,
            "average" | "minor" => Severity::Average,
            "warning" => Severity::Warning,
            "info" | "information" | "not classified" | "not_classified" => Severity::Info,
            _ => return Err(UnknownSeverity(s.to_owned())),
        })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Severity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Severity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_follows_urgency() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::High > Severity::Average);
        assert!(Severity::Average > Severity::Warning);
        assert!(Severity::Warning > Severity::Info);
        let mut sorted = Severity::ALL;
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(sorted, Severity::ALL);
    }

    #[test]
    fn aliases_parse_case_insensitively() {
        let cases = [
            ("Disaster", Severity::Critical),
            ("CRITICAL", Severity::Critical),
            ("major", Severity::High),
            ("Error", Severity::High),
            ("minor", Severity::Average),
            ("Warning", Severity::Warning),
            ("Information", Severity::Info),
            ("Not classified", Severity::Info),
            ("not_classified", Severity::Info),
        ];
        for (name, want) in cases {
            assert_eq!(name.parse::<Severity>(), Ok(want), "{name}");
        }
        assert!("severe".parse::<Severity>().is_err());
        assert!("".parse::<Severity>().is_err());
    }

    #[test]
    fn serializes_to_the_canonical_name() {
        assert_eq!(
            serde_json::to_string(&Severity::Critical).ok().as_deref(),
            Some("\"critical\"")
        );
        let parsed: Severity = serde_json::from_str("\"Disaster\"").expect("alias");
        assert_eq!(parsed, Severity::Critical);
    }
}
