//! The one clock of the generator. The send time written into an alert and
//! the receive time of each delivery are both read here, from a monotonic
//! clock, so that their difference is a latency even if the wall clock is
//! stepped during a run. Both ends live in this process, so no clock needs
//! to be shared with the server.

use std::sync::OnceLock;
use std::time::Instant;

static EPOCH: OnceLock<Instant> = OnceLock::new();

/// Nanoseconds since the generator started (the first call).
pub fn now_ns() -> u64 {
    let epoch = EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}
