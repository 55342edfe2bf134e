//! Counting deliveries exactly: each screen keeps the set of alert numbers it
//! received and the latency of each; the sets are checked afterwards against
//! what was posted, so every lost, repeated or misrouted delivery shows.

use hdrhistogram::Histogram;
use noc_bench::percentile::histogram;

use crate::wire::site_of;

/// A set of alert numbers, one bit each (alert numbers are dense, from 0).
#[derive(Debug, Default, Clone)]
pub struct AlertSet {
    words: Vec<u64>,
    len: u64,
}

impl AlertSet {
    /// Adds `n`; false when it was already there.
    pub fn insert(&mut self, n: u64) -> bool {
        let (word, bit) = ((n / 64) as usize, n % 64);
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        let fresh = self.words[word] & (1 << bit) == 0;
        self.words[word] |= 1 << bit;
        self.len += u64::from(fresh);
        fresh
    }

    pub fn contains(&self, n: u64) -> bool {
        self.words
            .get((n / 64) as usize)
            .is_some_and(|w| w & (1 << (n % 64)) != 0)
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    /// The members, in order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &word)| {
            (0..64u64)
                .filter(move |bit| word & (1 << bit) != 0)
                .map(move |bit| i as u64 * 64 + bit)
        })
    }

    /// Adds every member of `other`.
    pub fn union(&mut self, other: &AlertSet) {
        for n in other.iter() {
            self.insert(n);
        }
    }
}

/// What one screen received.
#[derive(Debug, Default)]
pub struct ScreenTally {
    /// The site this screen takes, or `None` for every site.
    pub site: Option<u32>,
    /// Sites the alerts are spread over.
    pub sites: u32,
    seen: AlertSet,
    /// Latency of each first delivery, in microseconds (the histogram is
    /// built once at the end: one per screen would cost megabytes).
    latencies_us: Vec<u32>,
    pub duplicates: u64,
    /// Alerts for another site than this screen's.
    pub misrouted: u64,
    /// Snapshots with `"reason":"lagged"`: the server dropped this screen's
    /// queue and resynced it.
    pub lagged_snapshots: u64,
    /// When the last delivery arrived (generator clock).
    pub last_rx_ns: u64,
    /// The screen got its first snapshot; one that never did is counted as
    /// a failed connection, not as lost deliveries.
    pub connected: bool,
    /// The connection ended before the run did (closed, reset, failed read).
    pub ended_early: bool,
}

impl ScreenTally {
    /// A connected screen's tally.
    pub fn new(site: Option<u32>, sites: u32) -> Self {
        ScreenTally {
            site,
            sites: sites.max(1),
            connected: true,
            ..ScreenTally::default()
        }
    }

    /// Does this screen take alert `n`?
    pub fn wants(&self, n: u64) -> bool {
        self.site.is_none_or(|k| site_of(n, self.sites) == k)
    }

    /// Records alert `n`, sent at `sent_ns` and received at `now_ns`. True
    /// for a first, wanted delivery (the ones that count).
    pub fn record(&mut self, n: u64, sent_ns: u64, now_ns: u64) -> bool {
        if !self.wants(n) {
            self.misrouted += 1;
            return false;
        }
        if !self.seen.insert(n) {
            self.duplicates += 1;
            return false;
        }
        let latency_us = now_ns.saturating_sub(sent_ns) / 1_000;
        self.latencies_us
            .push(u32::try_from(latency_us).unwrap_or(u32::MAX));
        self.last_rx_ns = self.last_rx_ns.max(now_ns);
        true
    }
}

/// Every screen's tally checked against the alerts the server accepted.
#[derive(Debug)]
pub struct Summary {
    /// Deliveries due: each accepted alert, once to each screen that takes it.
    pub expected: u64,
    /// First deliveries of accepted alerts.
    pub delivered: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub misrouted: u64,
    pub lagged_snapshots: u64,
    /// Screens whose connection ended during the run.
    pub ended_early: u64,
    /// POST→screen latency of each first delivery, in microseconds.
    pub latency_us: Histogram<u64>,
    pub last_rx_ns: u64,
}

/// Checks `screens` against `accepted`, the alerts whose POST succeeded.
pub fn summarize(screens: &[ScreenTally], accepted: &AlertSet) -> Summary {
    let mut summary = Summary {
        expected: 0,
        delivered: 0,
        lost: 0,
        duplicates: 0,
        misrouted: 0,
        lagged_snapshots: 0,
        ended_early: 0,
        latency_us: histogram(),
        last_rx_ns: 0,
    };
    for screen in screens.iter().filter(|s| s.connected) {
        for n in accepted.iter().filter(|&n| screen.wants(n)) {
            summary.expected += 1;
            if screen.seen.contains(n) {
                summary.delivered += 1;
            } else {
                summary.lost += 1;
            }
        }
        summary.duplicates += screen.duplicates;
        summary.misrouted += screen.misrouted;
        summary.lagged_snapshots += screen.lagged_snapshots;
        summary.ended_early += u64::from(screen.ended_early);
        summary.last_rx_ns = summary.last_rx_ns.max(screen.last_rx_ns);
        for &us in &screen.latencies_us {
            summary.latency_us.saturating_record(u64::from(us).max(1));
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use noc_bench::percentile::quantile_ms;

    fn accepted(ns: impl IntoIterator<Item = u64>) -> AlertSet {
        let mut set = AlertSet::default();
        for n in ns {
            set.insert(n);
        }
        set
    }

    #[test]
    fn the_set_counts_each_number_once() {
        let mut set = AlertSet::default();
        assert!(set.insert(3));
        assert!(set.insert(200));
        assert!(!set.insert(3));
        assert_eq!(set.len(), 2);
        assert!(set.contains(200) && !set.contains(4) && !set.contains(10_000));
        assert_eq!(set.iter().collect::<Vec<_>>(), [3, 200]);
        let mut other = accepted([1, 3]);
        other.union(&set);
        assert_eq!(other.iter().collect::<Vec<_>>(), [1, 3, 200]);
    }

    #[test]
    fn counts_lost_duplicated_and_misrouted_deliveries() {
        // Ten alerts over two sites; one screen per site and one for all.
        let mut even = ScreenTally::new(Some(0), 2);
        let mut odd = ScreenTally::new(Some(1), 2);
        let mut all = ScreenTally::new(None, 2);
        for n in 0..10 {
            let sent = n * 1_000_000;
            if n != 4 {
                even.record(n, sent, sent + 2_000_000); // 4 is lost; odd ones misrouted
            }
            if n % 2 == 1 {
                odd.record(n, sent, sent + 1_000_000);
            }
            all.record(n, sent, sent + 3_000_000);
        }
        assert!(!all.record(7, 0, 99_000_000), "a repeat does not count");
        let summary = summarize(&[even, odd, all], &accepted(0..10));
        assert_eq!(summary.expected, 5 + 5 + 10);
        assert_eq!(summary.delivered, 4 + 5 + 10);
        assert_eq!(summary.lost, 1);
        assert_eq!(summary.duplicates, 1);
        assert_eq!(summary.misrouted, 5);
        assert_eq!(summary.latency_us.len(), 19);
        // Three significant digits: a bucket's top may differ by 0.1 %.
        let near = |q: f64, ms: f64| {
            quantile_ms(&summary.latency_us, q).is_some_and(|v| (v - ms).abs() < ms / 500.0)
        };
        assert!(near(0.0, 1.0) && near(0.5, 3.0) && near(1.0, 3.0));
        assert_eq!(summary.last_rx_ns, 12_000_000);
    }

    #[test]
    fn screens_that_never_connected_expect_nothing() {
        let mut failed = ScreenTally::new(None, 1);
        failed.connected = false;
        let summary = summarize(&[failed], &accepted([0, 1]));
        assert_eq!((summary.expected, summary.lost), (0, 0));
    }

    #[test]
    fn only_accepted_alerts_are_expected() {
        // Alert 2's POST failed: not expected, so not lost either.
        let mut screen = ScreenTally::new(None, 1);
        screen.record(0, 0, 1_000);
        screen.record(1, 0, 1_000);
        let summary = summarize(&[screen], &accepted([0, 1, 3]));
        assert_eq!(
            (summary.expected, summary.delivered, summary.lost),
            (3, 2, 1)
        );
    }

    #[test]
    fn latency_is_never_negative() {
        let mut screen = ScreenTally::new(None, 1);
        screen.record(0, 5_000, 1_000);
        let summary = summarize(&[screen], &accepted([0]));
        assert_eq!(summary.latency_us.max(), 1);
    }
}
