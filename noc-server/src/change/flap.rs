//! Flapping: an alert that went from active to resolved [`TIMES`] times
//! within [`WINDOW`] is flapping until it has stayed in one state for
//! [`WINDOW`]. The rule is pure, so that the store keeps what it needs
//! ([`Flap`]: the last resolve times, a short list) and the clock ends it
//! at [`Flap::quiet_at`]; [`follow`] is the step the store's write path
//! applies to every op's result.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use noc_shared::Alert;

use super::{Applied, later};

/// The window in use, in milliseconds: [`WINDOW`] unless `--flap-window`
/// shortened it (for tests). One per process, like the rule itself.
static WINDOW_MS: AtomicU64 = AtomicU64::new(WINDOW.as_millis() as u64);

/// Sets the window of every later change (`--flap-window`).
pub fn set_window(window: Duration) {
    let ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
    WINDOW_MS.store(ms, Ordering::Relaxed);
}

/// The window in use.
pub fn window() -> Duration {
    Duration::from_millis(WINDOW_MS.load(Ordering::Relaxed))
}

/// Applies the rule to one op's result: the change of state it made
/// (`before` → `applied`), or, for the clock's `FlapQuiet` (`quiet`), the
/// quiet at `now`. Answers the new flag when it changed, and sets the
/// alert's `flapping` to it.
pub fn follow(
    before: Option<&Alert>,
    applied: &mut Applied,
    quiet: bool,
    now: DateTime<Utc>,
) -> Option<bool> {
    let window = window();
    let stored = &mut applied.stored;
    let flag = if quiet {
        stored.flap.quiet(now, window)
    } else {
        let turn = match (before.map(Alert::is_active), stored.alert.is_active()) {
            (Some(true), false) => Turn::Resolved,
            (Some(false), true) => Turn::Reopened,
            _ => return None,
        };
        stored.flap.turned(turn, now, window)
    };
    if let Some(flag) = flag {
        stored.alert.flapping = flag;
    }
    flag
}

/// Resolves within [`WINDOW`] that make an alert flap.
pub const TIMES: usize = 4;
/// How close the resolves must be, and how long a flapping alert must stay
/// in one state to stop.
pub const WINDOW: Duration = Duration::from_secs(30 * 60);

/// What the rule keeps of one alert.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flap {
    pub flapping: bool,
    /// The last [`TIMES`] times it went from active to resolved, oldest
    /// first.
    pub resolves: Vec<DateTime<Utc>>,
    /// When it last changed state (resolved, or active again).
    pub changed_at: Option<DateTime<Utc>>,
}

/// A change of state the rule hears of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    Resolved,
    Reopened,
}

impl Flap {
    /// Records `turn` at `now`; answers the new flag when it changed (the
    /// one `alert.updated` with reason `flapping`).
    pub fn turned(&mut self, turn: Turn, now: DateTime<Utc>, window: Duration) -> Option<bool> {
        self.changed_at = Some(now);
        if turn == Turn::Resolved {
            self.resolves.push(now);
            let extra = self.resolves.len().saturating_sub(TIMES);
            self.resolves.drain(..extra);
        }
        let bouncing = self.resolves.len() == TIMES
            && self
                .resolves
                .first()
                .is_some_and(|first| later(*first, window) >= now);
        if bouncing && !self.flapping {
            self.flapping = true;
            return Some(true);
        }
        None
    }

    /// When a flapping alert will have stayed in one state for `window`.
    pub fn quiet_at(&self, window: Duration) -> Option<DateTime<Utc>> {
        if !self.flapping {
            return None;
        }
        self.changed_at.map(|t| later(t, window))
    }

    /// The clock at `now`: answers `Some(false)` when the flapping ends.
    pub fn quiet(&mut self, now: DateTime<Utc>, window: Duration) -> Option<bool> {
        if self.quiet_at(window).is_some_and(|t| t <= now) {
            self.flapping = false;
            return Some(false);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + minutes * 60, 0).expect("a time")
    }

    /// Resolves at each of `minutes`, re-opening a minute before each.
    fn bounce(flap: &mut Flap, minutes: &[i64]) -> Vec<Option<bool>> {
        let mut flags = Vec::new();
        for &m in minutes {
            flags.push(flap.turned(Turn::Reopened, t(m - 1), WINDOW));
            flags.push(flap.turned(Turn::Resolved, t(m), WINDOW));
        }
        flags
    }

    #[test]
    fn four_resolves_within_the_window_start_it_once() {
        let mut flap = Flap::default();
        let flags = bounce(&mut flap, &[2, 4, 6, 8]);
        assert_eq!(flags.iter().filter(|f| f.is_some()).count(), 1);
        assert_eq!(flags.last(), Some(&Some(true)));
        // Further bounces change nothing.
        assert_eq!(bounce(&mut flap, &[10, 12]), vec![None; 4]);
        assert!(flap.flapping);
        assert_eq!(flap.resolves.len(), TIMES);
    }

    #[test]
    fn three_resolves_or_four_spread_out_do_not() {
        let mut flap = Flap::default();
        assert_eq!(bounce(&mut flap, &[2, 4, 6]), vec![None; 6]);
        let mut flap = Flap::default();
        assert_eq!(bounce(&mut flap, &[2, 20, 30, 33]), vec![None; 8]);
        assert!(!flap.flapping);
        // Exactly the window from the first resolve to the fourth counts.
        let mut flap = Flap::default();
        assert_eq!(
            bounce(&mut flap, &[2, 10, 20, 32]).last(),
            Some(&Some(true))
        );
    }

    #[test]
    fn it_ends_after_a_window_in_one_state_and_not_before() {
        let mut flap = Flap::default();
        bounce(&mut flap, &[2, 4, 6, 8]);
        assert_eq!(flap.quiet_at(WINDOW), Some(t(38)));
        assert_eq!(flap.quiet(t(37), WINDOW), None);
        // A change of state meanwhile starts the quiet afresh.
        assert_eq!(flap.turned(Turn::Reopened, t(37), WINDOW), None);
        assert_eq!(flap.quiet(t(38), WINDOW), None);
        assert_eq!(flap.quiet(t(67), WINDOW), Some(false));
        assert_eq!(flap.quiet(t(68), WINDOW), None, "once");
        assert_eq!(flap.quiet_at(WINDOW), None);
        // One more bounce after the quiet does not start it again.
        assert_eq!(bounce(&mut flap, &[70]), vec![None; 2]);
    }

    #[test]
    fn a_short_window_for_tests_scales_the_rule() {
        let window = Duration::from_secs(2);
        let mut flap = Flap::default();
        let mut flags = Vec::new();
        for s in 0..4 {
            let at = t(0) + chrono::Duration::milliseconds(s * 300);
            flags.push(flap.turned(Turn::Resolved, at, window));
        }
        assert_eq!(flags.last(), Some(&Some(true)));
        assert_eq!(
            flap.quiet_at(window),
            Some(t(0) + chrono::Duration::milliseconds(2900))
        );
    }
}
