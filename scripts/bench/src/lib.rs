//! `noc-bench`: the benchmarks of the NOC alert system, apart from the
//! product. Three binaries, and what they share:
//!
//! - `noc-load` (`src/bin/noc-load/`): the load generator behind
//!   `scripts/bench.sh`. It holds thousands of WebSocket screens, posts
//!   alerts, and times and counts every delivery; it speaks only the
//!   HTTP/WebSocket contract, so it measures any server that keeps it.
//! - `noc-tui-storm` (`src/bin/noc-tui-storm/`): the terminal client's own
//!   screen loop under an alert storm, with no server.
//! - `noc-soak` (`src/bin/noc-soak/`): a week of a busy NOC compressed
//!   into minutes; the store's size and the server's memory per day.
//!
//! # Layout
//!
//! - [`procfs`]: a process's (or thread's) memory and CPU time from `/proc`.
//! - [`percentile`]: the latency histogram and its quantiles.
//! - [`storm`]: the storm's events, and the plain model of what a screen
//!   holds after them; the benchmark and the storm test
//!   (`tests/storm.rs`) play the same storm.

pub mod percentile;
pub mod procfs;
pub mod storm;
