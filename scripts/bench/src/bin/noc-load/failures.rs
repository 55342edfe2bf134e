//! Every way a case can fail, counted: screens that never connected, POSTs
//! that were not accepted, deliveries lost, repeated or misrouted, screens
//! resynced or dropped by the server. A case with any of them is marked
//! failed on both of its lines (`"failed": true` in the JSON, `FAILED:` at
//! the start of the human line) and in the table (`✗`), so that its figures
//! are never read as a clean run's.

use serde_json::Value;

/// A kind of failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A screen that never got its first snapshot.
    Connect,
    /// A POST not answered 2xx (or not answered).
    Request,
    /// An accepted alert a screen that takes its site never received.
    Lost,
    /// The same alert twice on one screen.
    Duplicated,
    /// An alert for another site than the screen's.
    Misrouted,
    /// A screen the server resynced (`"reason":"lagged"`) instead of
    /// delivering to it.
    Lagged,
    /// A screen whose connection ended during the run.
    EndedEarly,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Connect,
        Kind::Request,
        Kind::Lost,
        Kind::Duplicated,
        Kind::Misrouted,
        Kind::Lagged,
        Kind::EndedEarly,
    ];

    /// Its field in the JSON line.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Connect => "connect_failed",
            Kind::Request => "requests_failed",
            Kind::Lost => "lost",
            Kind::Duplicated => "duplicated",
            Kind::Misrouted => "misrouted",
            Kind::Lagged => "lagged_snapshots",
            Kind::EndedEarly => "screens_ended_early",
        }
    }

    fn describe(self, n: u64) -> String {
        match self {
            Kind::Connect => format!("{n} screens failed to connect"),
            Kind::Request => format!("{n} POSTs failed"),
            Kind::Lost => format!("{n} lost"),
            Kind::Duplicated => format!("{n} duplicated"),
            Kind::Misrouted => format!("{n} misrouted"),
            Kind::Lagged => format!("{n} lagged snapshots"),
            Kind::EndedEarly => format!("{n} screens disconnected"),
        }
    }
}

/// The failure counts of one case, for the kinds it can have.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Failures {
    counts: Vec<(Kind, u64)>,
}

impl Failures {
    /// Adds the count of one kind (zero included: a kind the case checked).
    pub fn with(mut self, kind: Kind, n: u64) -> Self {
        self.counts.push((kind, n));
        self
    }

    /// Any failure at all.
    pub fn any(&self) -> bool {
        self.counts.iter().any(|&(_, n)| n > 0)
    }

    /// The JSON fields: each kind's count, and `failed`.
    pub fn fields(&self) -> Vec<(String, Value)> {
        let mut fields: Vec<(String, Value)> = self
            .counts
            .iter()
            .map(|&(kind, n)| (kind.key().to_owned(), n.into()))
            .collect();
        fields.push(("failed".into(), self.any().into()));
        fields
    }

    /// The counts of a JSON line, as [`Failures::fields`] wrote them.
    pub fn from_json(result: &Value) -> Self {
        Kind::ALL
            .into_iter()
            .filter_map(|kind| Some((kind, result.get(kind.key())?.as_u64()?)))
            .fold(Failures::default(), |f, (kind, n)| f.with(kind, n))
    }

    /// `none`, or every non-zero count: `9 screens failed to connect, 3 lost`.
    pub fn describe(&self) -> String {
        let found: Vec<String> = self
            .counts
            .iter()
            .filter(|&&(_, n)| n > 0)
            .map(|&(kind, n)| kind.describe(n))
            .collect();
        if found.is_empty() {
            "none".to_owned()
        } else {
            found.join(", ")
        }
    }

    /// The start of the human line: `FAILED: ` or nothing.
    pub fn mark(&self) -> &'static str {
        if self.any() { "FAILED: " } else { "" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_case_is_not_marked() {
        let clean = Failures::default()
            .with(Kind::Connect, 0)
            .with(Kind::Lost, 0);
        assert!(!clean.any());
        assert_eq!(clean.describe(), "none");
        assert_eq!(clean.mark(), "");
        let json: serde_json::Map<_, _> = clean.fields().into_iter().collect();
        assert_eq!(
            Value::Object(json),
            serde_json::json!({"connect_failed": 0, "lost": 0, "failed": false})
        );
    }

    #[test]
    fn any_count_marks_the_case_and_reads_back() {
        let failed = Failures::default()
            .with(Kind::Connect, 1000)
            .with(Kind::Request, 0)
            .with(Kind::Lagged, 3);
        assert!(failed.any());
        assert_eq!(failed.mark(), "FAILED: ");
        assert_eq!(
            failed.describe(),
            "1000 screens failed to connect, 3 lagged snapshots"
        );
        let json = Value::Object(failed.fields().into_iter().collect());
        assert_eq!(json["failed"], true);
        assert_eq!(Failures::from_json(&json), failed);
    }
}
