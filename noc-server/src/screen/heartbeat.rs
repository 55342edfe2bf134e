//! The heartbeats a screen has not answered yet, so that an answer is timed
//! from the heartbeat it answers: a pong carries the heartbeat's `ts`, a
//! Pong frame the Ping's payload (the same seconds, 8 bytes big-endian).
//!
//! An answer that matches no heartbeat waiting (a wrong `ts`, one answered
//! already, one forgotten) measures nothing: it is still a sign of life.
//! Heartbeats less than a second apart share their `ts`; they are answered
//! in the order they were sent, so the oldest one waiting with that `ts` is
//! the one answered.

use std::time::Duration;

use tokio::time::Instant;

/// Heartbeats remembered: as many as a screen may leave unanswered before
/// it is closed for silence.
const KEPT: usize = 3;

/// The heartbeats sent and not answered yet, oldest first.
#[derive(Debug, Default)]
pub struct Unanswered {
    /// `(ts, sent at)`; the taken slots come first.
    sent: [Option<(i64, Instant)>; KEPT],
}

impl Unanswered {
    /// A heartbeat with `ts` is being sent; its clock starts `at` (taken
    /// before it is written, so a slow write counts in its time).
    pub fn sent(&mut self, ts: i64, at: Instant) {
        match self.sent.iter().position(Option::is_none) {
            Some(free) => self.sent[free] = Some((ts, at)),
            None => {
                // Full: the oldest is forgotten.
                self.sent.rotate_left(1);
                self.sent[KEPT - 1] = Some((ts, at));
            }
        }
    }

    /// An answer carrying `ts` came `now`: the time since the heartbeat it
    /// answers was sent, or `None` when it answers none that waits. That
    /// heartbeat and those before it stop waiting (answers come in order).
    pub fn answered(&mut self, ts: i64, now: Instant) -> Option<Duration> {
        let index = self
            .sent
            .iter()
            .position(|s| s.is_some_and(|(t, _)| t == ts))?;
        let (_, at) = self.sent[index]?;
        self.sent.rotate_left(index + 1);
        for slot in &mut self.sent[KEPT - (index + 1)..] {
            *slot = None;
        }
        Some(now.saturating_duration_since(at))
    }
}

/// The seconds a Pong frame carries, if its payload is what the server's
/// Ping sent (8 bytes, big-endian).
pub fn ping_seconds(payload: &[u8]) -> Option<i64> {
    payload.try_into().ok().map(i64::from_be_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn an_answer_is_timed_from_the_heartbeat_it_answers() {
        let t0 = Instant::now();
        let mut waiting = Unanswered::default();
        waiting.sent(100, t0);
        waiting.sent(130, t0 + ms(30_000));
        // A late answer to the first one, after the second was sent.
        assert_eq!(waiting.answered(100, t0 + ms(30_500)), Some(ms(30_500)));
        assert_eq!(waiting.answered(130, t0 + ms(30_020)), Some(ms(20)));
    }

    #[test]
    fn an_answer_to_nothing_waiting_measures_nothing() {
        let t0 = Instant::now();
        let mut waiting = Unanswered::default();
        assert_eq!(waiting.answered(100, t0), None, "nothing sent yet");
        waiting.sent(100, t0);
        assert_eq!(waiting.answered(99, t0 + ms(5)), None, "a wrong ts");
        assert_eq!(waiting.answered(100, t0 + ms(10)), Some(ms(10)));
        assert_eq!(
            waiting.answered(100, t0 + ms(20)),
            None,
            "the Pong frame after the pong: answered already"
        );
    }

    #[test]
    fn heartbeats_of_one_second_are_answered_oldest_first() {
        let t0 = Instant::now();
        let mut waiting = Unanswered::default();
        waiting.sent(7, t0);
        waiting.sent(7, t0 + ms(200));
        assert_eq!(waiting.answered(7, t0 + ms(250)), Some(ms(250)));
        assert_eq!(waiting.answered(7, t0 + ms(260)), Some(ms(60)));
        assert_eq!(waiting.answered(7, t0 + ms(270)), None);
    }

    #[test]
    fn answering_one_forgets_the_older_ones_and_the_oldest_is_forgotten_when_full() {
        let t0 = Instant::now();
        let mut waiting = Unanswered::default();
        for ts in 1..=4 {
            waiting.sent(ts, t0 + ms(ts as u64));
        }
        assert_eq!(waiting.answered(1, t0 + ms(10)), None, "forgotten");
        assert_eq!(waiting.answered(3, t0 + ms(10)), Some(ms(7)));
        assert_eq!(
            waiting.answered(2, t0 + ms(10)),
            None,
            "older than one answered"
        );
        assert_eq!(waiting.answered(4, t0 + ms(10)), Some(ms(6)));
    }

    #[test]
    fn a_pong_frame_carries_eight_bytes_of_seconds() {
        assert_eq!(
            ping_seconds(&1_764_358_800i64.to_be_bytes()),
            Some(1_764_358_800)
        );
        assert_eq!(ping_seconds(b"hello"), None);
    }
}
