//! Latencies and their percentiles: one histogram for every latency the
//! benchmarks report (POST→screen, POST→answer, key→frame), recorded in
//! microseconds and read in milliseconds.

use std::time::Duration;

use hdrhistogram::Histogram;

/// A latency histogram from 1 µs to an hour, three significant digits (a
/// value reads back within 0.1 %).
pub fn histogram() -> Histogram<u64> {
    // Constant, valid bounds (low ≥ 1, high ≥ 2 × low, sigfig ≤ 5).
    #[allow(clippy::unwrap_used)]
    Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap()
}

/// Records `latency` in microseconds (at least 1, at most an hour).
pub fn record(h: &mut Histogram<u64>, latency: Duration) {
    let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    h.saturating_record(us.max(1));
}

/// Milliseconds at quantile `q` of a microsecond histogram (`1.0` is the
/// maximum); `None` when nothing was recorded.
pub fn quantile_ms(h: &Histogram<u64>, q: f64) -> Option<f64> {
    if h.is_empty() {
        return None;
    }
    Some(h.value_at_quantile(q) as f64 / 1_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_milliseconds_within_the_precision() {
        let mut h = histogram();
        for ms in 1..=100 {
            record(&mut h, Duration::from_millis(ms));
        }
        // Three significant digits: a bucket's top may differ by 0.1 %.
        let near =
            |q: f64, ms: f64| quantile_ms(&h, q).is_some_and(|v| (v - ms).abs() <= ms / 500.0);
        assert!(near(0.0, 1.0), "{:?}", quantile_ms(&h, 0.0));
        assert!(near(0.5, 50.0), "{:?}", quantile_ms(&h, 0.5));
        assert!(near(0.99, 99.0), "{:?}", quantile_ms(&h, 0.99));
        assert!(near(1.0, 100.0), "{:?}", quantile_ms(&h, 1.0));
    }

    #[test]
    fn nothing_recorded_has_no_quantile() {
        assert_eq!(quantile_ms(&histogram(), 0.99), None);
    }

    #[test]
    fn below_a_microsecond_counts_as_one() {
        let mut h = histogram();
        record(&mut h, Duration::from_nanos(10));
        assert_eq!(h.max(), 1);
    }
}
