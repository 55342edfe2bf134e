//! A token bucket over the messages a screen sends (`--max-client-rate` per
//! second, bursts of twice that): a screen is told once that it is being
//! refused, and closed if it keeps flooding.

use tokio::time::Instant;

/// Refused messages in a row after which a flooding screen is closed.
const FLOOD: u32 = 200;

/// What to do with a message.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Handle it.
    Allowed,
    /// Ignore it, and say so: the first refusal in a row.
    RefusedFirst,
    /// Ignore it silently: the screen was told already.
    Refused,
    /// The screen keeps flooding: close it.
    Flooding,
}

pub struct RateLimit {
    rate: f64,
    tokens: f64,
    last: Instant,
    /// Messages refused since the last one let through.
    refused: u32,
}

impl RateLimit {
    /// A full bucket of `rate` messages per second, `now`.
    pub fn new(rate: u32, now: Instant) -> Self {
        let rate = f64::from(rate.max(1));
        RateLimit {
            rate,
            tokens: rate * 2.0,
            last: now,
            refused: 0,
        }
    }

    /// Takes a token for one message that came `now`, if there is one.
    pub fn judge(&mut self, now: Instant) -> Verdict {
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.rate)
            .min(self.rate * 2.0);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.refused = 0;
            return Verdict::Allowed;
        }
        self.refused += 1;
        match self.refused {
            1 => Verdict::RefusedFirst,
            n if n >= FLOOD => Verdict::Flooding,
            _ => Verdict::Refused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_of_twice_the_rate_then_one_refusal_told_then_the_close() {
        let t0 = Instant::now();
        let mut limit = RateLimit::new(10, t0);
        for _ in 0..20 {
            assert_eq!(limit.judge(t0), Verdict::Allowed);
        }
        assert_eq!(limit.judge(t0), Verdict::RefusedFirst);
        for _ in 2..FLOOD {
            assert_eq!(limit.judge(t0), Verdict::Refused);
        }
        assert_eq!(limit.judge(t0), Verdict::Flooding);
        // A tenth of a second later there is a token again, and the count
        // of refusals starts over.
        let later = t0 + Duration::from_millis(100);
        assert_eq!(limit.judge(later), Verdict::Allowed);
        assert_eq!(limit.judge(later), Verdict::RefusedFirst);
    }
}
