//! What a measured stretch costs: the server's and the generator's CPU
//! time, and the server's resident memory sampled over time.

use std::time::Duration;

use noc_bench::procfs::{CpuTime, Proc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Target;

/// CPU time of the server and of the generator over a measured stretch.
pub(super) struct Meter {
    server: Option<Proc>,
    ticks_per_s: u64,
    server_cpu: Option<CpuTime>,
    own_cpu: Option<CpuTime>,
    wall: Instant,
}

#[derive(Debug, Default)]
pub(super) struct Usage {
    pub server_cpu: Option<Duration>,
    pub own_cpu_pct: Option<f64>,
}

impl Meter {
    pub fn start(target: &Target) -> Meter {
        Meter {
            server: target.server,
            ticks_per_s: target.ticks_per_s,
            server_cpu: target.server.and_then(|p| p.cpu(target.ticks_per_s).ok()),
            own_cpu: Proc::Myself.cpu(target.ticks_per_s).ok(),
            wall: Instant::now(),
        }
    }

    pub fn stop(&self) -> Usage {
        let since = |before: Option<CpuTime>, p: Option<Proc>| {
            Some(p?.cpu(self.ticks_per_s).ok()?.since(&before?))
        };
        let wall = self.wall.elapsed().as_secs_f64();
        Usage {
            server_cpu: since(self.server_cpu, self.server),
            own_cpu_pct: since(self.own_cpu, Some(Proc::Myself))
                .map(|cpu| 100.0 * cpu.as_secs_f64() / wall.max(1e-9)),
        }
    }
}

/// The server's RSS every 250 ms until `stop`: (ms since start, KiB).
pub(super) async fn sample_rss(server: Option<Proc>, stop: CancellationToken) -> Vec<(u64, u64)> {
    let Some(server) = server else {
        return Vec::new();
    };
    let start = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut samples = Vec::new();
    // Bounded by `stop`, which the scenario always cancels.
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = tick.tick() => {
                if let Ok(kib) = server.rss_kib() {
                    samples.push((start.elapsed().as_millis() as u64, kib));
                }
            }
        }
    }
    if let Ok(kib) = server.rss_kib() {
        samples.push((start.elapsed().as_millis() as u64, kib));
    }
    samples
}
