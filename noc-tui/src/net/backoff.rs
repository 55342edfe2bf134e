//! How long to wait before the next connection attempt: exponential, with
//! jitter so that a wall of screens does not reconnect in lockstep after a
//! server restart.

use std::time::Duration;

use rand::Rng;

/// Exponential backoff with "equal jitter": the n-th wait after a failure is
/// drawn from `[d/2, d]` where `d = min · 2^(n+1)`, capped at `max`. With the
/// defaults that is 0.5–1 s, 1–2 s, 2–4 s, … up to 15–30 s.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    failures: u32,
}

impl Default for Backoff {
    /// 0.5 s up to 30 s.
    fn default() -> Self {
        Backoff::new(Duration::from_millis(500), Duration::from_secs(30))
    }
}

impl Backoff {
    /// Waits from about `min` to at most `max`.
    pub fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            min,
            max: max.max(min),
            failures: 0,
        }
    }

    /// The upper end of the next wait, before jitter.
    fn ceiling(&self) -> Duration {
        // 2^(n+1), saturating well before it could overflow: past 2^20 the
        // cap has long been reached.
        let factor = 1u32 << self.failures.saturating_add(1).min(20);
        self.min.saturating_mul(factor).min(self.max)
    }

    /// The wait before the next attempt; each call counts one more failure.
    pub fn next_delay(&mut self, rng: &mut impl Rng) -> Duration {
        let high = self.ceiling();
        let low = (high / 2).max(self.min).min(high);
        self.failures = self.failures.saturating_add(1);
        if low >= high {
            high
        } else {
            rng.random_range(low..=high)
        }
    }

    /// Forgets past failures, after a link that stayed up long enough.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Failures counted since the last reset.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn grows_exponentially_within_jitter_bounds_and_caps() {
        let mut rng = StdRng::seed_from_u64(7);
        let mut backoff = Backoff::default();
        let bounds = [
            (0.5, 1.0),
            (1.0, 2.0),
            (2.0, 4.0),
            (4.0, 8.0),
            (8.0, 16.0),
            (15.0, 30.0),
            (15.0, 30.0),
        ];
        for (i, (low, high)) in bounds.into_iter().enumerate() {
            let d = backoff.next_delay(&mut rng);
            assert!(d >= secs(low) && d <= secs(high), "wait {i}: {d:?}");
        }
        for _ in 0..100 {
            assert!(backoff.next_delay(&mut rng) <= secs(30.0));
        }
    }

    #[test]
    fn jitter_spreads_the_waits() {
        let mut rng = StdRng::seed_from_u64(1);
        let waits: std::collections::HashSet<Duration> = (0..20)
            .map(|_| {
                let mut b = Backoff::default();
                b.next_delay(&mut rng);
                b.next_delay(&mut rng)
            })
            .collect();
        assert!(waits.len() > 10, "waits should differ: {waits:?}");
    }

    #[test]
    fn reset_starts_over() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut backoff = Backoff::default();
        for _ in 0..10 {
            backoff.next_delay(&mut rng);
        }
        assert_eq!(backoff.failures(), 10);
        backoff.reset();
        assert!(backoff.next_delay(&mut rng) <= secs(1.0));
    }

    #[test]
    fn never_overflows() {
        let mut rng = StdRng::seed_from_u64(5);
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        for _ in 0..10_000 {
            assert!(backoff.next_delay(&mut rng) <= Duration::from_secs(60));
        }
    }
}
