//! Silences, purely: what a posted silence may hold ([`input`]), how one
//! matcher tests an alert ([`matcher`]), and which silence hides an alert
//! ([`Rules::silencer`]). The store keeps silences and the write path asks
//! [`Rules`] for each alert it stores; nothing here does I/O.
//!
//! - [`input`]: a silence as posted, validated (422 messages).
//! - [`matcher`]: one matcher compiled into a [`matcher::Check`].

pub mod input;
pub mod matcher;

use chrono::{DateTime, Utc};
use std::collections::HashMap;

use noc_shared::{Alert, EventKind, EventReason, MatchOp, Matcher, Silence, SilenceState, Status};

use crate::change::Applied;

use crate::sites::SiteGroups;
use matcher::{Check, Subject};

pub use input::SilenceInput;

/// The most silences that may be active or pending at once.
pub const MAX_LIVE: usize = 10_000;

/// A new silence id: `s-` and a UUIDv7, so ids sort by creation time.
pub fn new_id() -> String {
    format!("s-{}", uuid::Uuid::now_v7())
}

/// Sets what the live silences say on the alert `applied` stores, at
/// `now`: its `silenced_by` goes along with the op's own event; an op that
/// changed nothing else but this emits `alert.updated` with reason
/// `silence`. A stale write stores nothing and stays as it is.
pub fn mark(applied: &mut Applied, rules: &Rules, now: DateTime<Utc>) {
    if applied.stale {
        return;
    }
    let alert = &mut applied.stored.alert;
    let wanted = rules.silencer(alert, now);
    if alert.silenced_by.as_deref() == wanted {
        return;
    }
    alert.silenced_by = wanted.map(str::to_owned);
    if applied.kind.is_none() {
        applied.kind = Some(EventKind::Updated);
        applied.reason = Some(EventReason::Silence);
    }
}

/// The site groups that `matchers` name (`site = group`, `site != group`),
/// lower-cased name → sites, as `groups` holds them now: a silence keeps
/// them, so that it goes on meaning what it meant when it was made.
pub fn groups_named(matchers: &[Matcher], groups: &SiteGroups) -> HashMap<String, Vec<String>> {
    matchers
        .iter()
        .filter(|m| m.name.trim() == "site" && !matches!(m.op, MatchOp::Regex | MatchOp::NotRegex))
        .filter_map(|m| {
            let sites = groups.sites_of(&m.value)?;
            Some((m.value.trim().to_lowercase(), sites.to_vec()))
        })
        .collect()
}

/// One silence compiled for testing alerts.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    checks: Vec<Check>,
}

impl Rule {
    /// Compiles a stored silence's matchers, expanding site groups with
    /// `groups` as they are now.
    pub fn compile(silence: &Silence, groups: &SiteGroups) -> Result<Rule, String> {
        let checks = silence
            .matchers
            .iter()
            .map(|m| Check::compile(m, groups))
            .collect::<Result<_, _>>()?;
        Ok(Rule {
            id: silence.id.clone(),
            starts_at: silence.starts_at,
            ends_at: silence.ends_at,
            checks,
        })
    }

    /// Does every matcher match `alert`?
    pub fn matches(&self, alert: &Alert) -> bool {
        self.matches_subject(&Subject::new(alert))
    }

    fn matches_subject(&self, subject: &Subject) -> bool {
        self.checks.iter().all(|c| c.matches_subject(subject))
    }

    pub fn state(&self, now: DateTime<Utc>) -> SilenceState {
        SilenceState::at(now, self.starts_at, self.ends_at)
    }
}

/// The silences that are active or pending, ordered so that the first
/// match is the one the contract names: the earliest-ending (then the
/// smallest id, so that every instance picks the same one).
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

impl Rules {
    pub fn new(mut rules: Vec<Rule>) -> Self {
        rules.sort_by(|a, b| (a.ends_at, &a.id).cmp(&(b.ends_at, &b.id)));
        Rules { rules }
    }

    /// The id of the silence that hides `alert` at `now`, if any. Only an
    /// active alert is silenced.
    pub fn silencer(&self, alert: &Alert, now: DateTime<Utc>) -> Option<&str> {
        if alert.status != Status::Active {
            return None;
        }
        let subject = Subject::new(alert);
        self.rules
            .iter()
            .find(|r| r.state(now) == SilenceState::Active && r.matches_subject(&subject))
            .map(|r| r.id.as_str())
    }

    /// The next time after `now` at which a silence starts or ends.
    pub fn next_change(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.rules
            .iter()
            .flat_map(|r| [r.starts_at, r.ends_at])
            .filter(|t| *t > now)
            .min()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use noc_shared::Severity;

    use super::*;

    fn silence(id: &str, host: &str, starts_in: i64, ends_in: i64, now: DateTime<Utc>) -> Rule {
        let s = Silence {
            id: id.into(),
            matchers: vec![Matcher {
                name: "host".into(),
                op: MatchOp::Regex,
                value: host.into(),
            }],
            starts_at: now + Duration::seconds(starts_in),
            ends_at: now + Duration::seconds(ends_in),
            created_by: "me@x".into(),
            comment: "c".into(),
            state: SilenceState::Active,
        };
        Rule::compile(&s, &SiteGroups::default()).expect("valid")
    }

    fn alert(host: &str, now: DateTime<Utc>) -> Alert {
        let mut a = Alert::new("a", "A", Severity::High, "m", "s", now);
        a.host = Some(host.into());
        a
    }

    #[test]
    fn the_earliest_ending_active_silence_wins() {
        let now = Utc::now();
        let rules = Rules::new(vec![
            silence("s-late", "sw-.*", -10, 3600, now),
            silence("s-early", "sw-01", -10, 600, now),
            silence("s-pending", "sw-01", 10, 60, now),
            silence("s-over", "sw-01", -100, -1, now),
        ]);
        assert_eq!(rules.silencer(&alert("sw-01", now), now), Some("s-early"));
        assert_eq!(rules.silencer(&alert("sw-02", now), now), Some("s-late"));
        assert_eq!(rules.silencer(&alert("rtr-1", now), now), None);
        let later = now + Duration::seconds(30);
        assert_eq!(
            rules.silencer(&alert("sw-01", later), later),
            Some("s-pending")
        );
        let mut resolved = alert("sw-01", now);
        resolved.status = Status::Resolved;
        assert_eq!(rules.silencer(&resolved, now), None);
        assert_eq!(rules.next_change(now), Some(now + Duration::seconds(10)));
    }

    #[test]
    fn mark_sets_silenced_by_and_emits_only_when_nothing_else_does() {
        let now = Utc::now();
        let rules = Rules::new(vec![silence("s-1", "sw-.*", -10, 600, now)]);
        let applied = |kind: Option<EventKind>, stale: bool| Applied {
            stored: crate::change::StoredAlert::new(alert("sw-01", now)),
            kind,
            reason: None,
            stale,
            note: None,
        };
        let mut a = applied(None, false);
        mark(&mut a, &rules, now);
        assert_eq!(a.stored.alert.silenced_by.as_deref(), Some("s-1"));
        assert_eq!(
            (a.kind, a.reason),
            (Some(EventKind::Updated), Some(EventReason::Silence))
        );
        let mut a = applied(Some(EventKind::Created), false);
        mark(&mut a, &rules, now);
        assert_eq!((a.kind, a.reason), (Some(EventKind::Created), None));
        assert_eq!(a.stored.alert.silenced_by.as_deref(), Some("s-1"));
        // Already right: nothing to emit.
        let mut again = a.clone();
        again.kind = None;
        mark(&mut again, &rules, now);
        assert_eq!(again.kind, None);
        let mut stale = applied(None, true);
        mark(&mut stale, &rules, now);
        assert_eq!((stale.kind, stale.stored.alert.silenced_by), (None, None));
    }

    #[test]
    fn ids_are_prefixed_and_sort_by_creation() {
        let (a, b) = (new_id(), new_id());
        assert!(a.starts_with("s-") && a.len() == 38, "{a}");
        assert!(a < b);
    }
}
