//! A breaker per source: a source whose write-back failed in a way worth
//! retrying (cannot connect, no answer, an HTTP error) is down; the worker
//! then tries one of its write-backs per probe, 1 s after the failure,
//! then 2 s, 4 s … at most 5 min apart, and its other write-backs wait for
//! the probe instead of each retrying on its own. The first write-back it
//! takes closes the breaker, and the rest go at full speed.
//!
//! Kept in memory only: after a restart the outbox's own `next_at` spreads
//! the rows, and the first failure trips the breaker again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::store::outbox::backoff;

/// A source that is down, as the worker last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Down {
    /// When it first failed.
    pub since: DateTime<Utc>,
    /// Failed attempts since then (the probes, and the first failure).
    pub failures: i64,
    /// When to try it next.
    pub probe_at: DateTime<Utc>,
    /// What its last failed attempt said.
    pub error: String,
}

/// What a failed attempt did to its source's breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tripped {
    /// The source was up until this failure.
    pub went_down: bool,
    /// When to try it next.
    pub probe_at: DateTime<Utc>,
}

/// The sources that are down, by name; a source not here is up.
#[derive(Debug, Default)]
pub struct Breakers {
    down: HashMap<String, Down>,
}

impl Breakers {
    /// Whether a write-back to `source` may be sent at `now`: always while
    /// it is up; while it is down, once its probe is due.
    pub fn may_send(&self, source: &str, now: DateTime<Utc>) -> bool {
        self.down.get(source).is_none_or(|d| d.probe_at <= now)
    }

    /// The outage of `source`, if it is down.
    pub fn down(&self, source: &str) -> Option<&Down> {
        self.down.get(source)
    }

    /// An attempt to `source` failed at `now` with `error`, worth retrying:
    /// the source is down, and probed again after its backoff.
    pub fn failed(&mut self, source: &str, error: &str, now: DateTime<Utc>) -> Tripped {
        let went_down = !self.down.contains_key(source);
        let down = self.down.entry(source.to_owned()).or_insert_with(|| Down {
            since: now,
            failures: 0,
            probe_at: now,
            error: String::new(),
        });
        down.failures += 1;
        down.probe_at = now + backoff(down.failures);
        error.clone_into(&mut down.error);
        Tripped {
            went_down,
            probe_at: down.probe_at,
        }
    }

    /// An attempt to `source` succeeded: it is up. Answers the outage it
    /// ends, if it was down.
    pub fn succeeded(&mut self, source: &str) -> Option<Down> {
        self.down.remove(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).expect("a time")
    }

    #[test]
    fn a_source_is_up_until_an_attempt_fails() {
        let breakers = Breakers::default();
        assert!(breakers.may_send("am-kili", at(0)));
        assert_eq!(breakers.down("am-kili"), None);
    }

    #[test]
    fn a_down_source_is_probed_after_1_s_then_2_s_doubling_to_5_min() {
        let mut breakers = Breakers::default();
        let mut now = at(0);
        let mut waits = Vec::new();
        for n in 0..11 {
            let tripped = breakers.failed("am-kili", "HTTP 503", now);
            assert_eq!(tripped.went_down, n == 0, "failure {n}");
            let wait = (tripped.probe_at - now).num_seconds();
            // Not before its probe is due; then once it is.
            assert!(!breakers.may_send("am-kili", now));
            assert!(!breakers.may_send(
                "am-kili",
                tripped.probe_at - chrono::Duration::milliseconds(1)
            ));
            assert!(breakers.may_send("am-kili", tripped.probe_at));
            waits.push(wait);
            // The probe goes a little late, as the worker polls.
            now = tripped.probe_at + chrono::Duration::milliseconds(200);
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        let down = breakers.down("am-kili").expect("down");
        assert_eq!(down.since, at(0));
        assert_eq!(down.failures, 11);
        assert_eq!(down.error, "HTTP 503");
    }

    #[test]
    fn a_success_closes_the_breaker_and_the_next_outage_starts_at_1_s() {
        let mut breakers = Breakers::default();
        breakers.failed("am-kili", "cannot connect", at(0));
        breakers.failed("am-kili", "cannot connect", at(1));
        breakers.failed("am-kili", "no answer within 10s", at(3));
        let ended = breakers.succeeded("am-kili").expect("it was down");
        assert_eq!((ended.since, ended.failures), (at(0), 3));
        assert_eq!(ended.error, "no answer within 10s");
        assert!(breakers.may_send("am-kili", at(8)));
        assert_eq!(breakers.succeeded("am-kili"), None, "already up");
        let tripped = breakers.failed("am-kili", "cannot connect", at(100));
        assert!(tripped.went_down);
        assert_eq!(tripped.probe_at, at(101));
    }

    #[test]
    fn each_source_has_its_own_breaker() {
        let mut breakers = Breakers::default();
        breakers.failed("am-kili", "cannot connect", at(0));
        assert!(!breakers.may_send("am-kili", at(0)));
        assert!(breakers.may_send("zbx-dar", at(0)));
        breakers.failed("zbx-dar", "HTTP 502", at(0));
        breakers.succeeded("am-kili");
        assert!(breakers.may_send("am-kili", at(0)));
        assert!(!breakers.may_send("zbx-dar", at(0)));
    }
}
