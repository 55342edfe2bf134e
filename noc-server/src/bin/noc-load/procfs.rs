//! What the server under test costs, read from `/proc`: resident memory
//! (`VmRSS` in `/proc/<pid>/status`) and CPU time.
//!
//! CPU time is read two ways. `utime` + `stime` in `/proc/<pid>/stat` counts
//! every thread the process ever had, but only in clock ticks (10 ms): too
//! coarse for a run that costs the server 0.1 s. The scheduler's own
//! nanosecond count, the first field of each `/proc/<pid>/task/*/schedstat`,
//! is exact but misses threads that ended meanwhile. [`CpuTime::since`] takes
//! the exact count unless threads evidently ended, then the ticks.

use std::process::Command;
use std::time::Duration;

/// A process to watch: a pid, or this process itself.
#[derive(Debug, Clone, Copy)]
pub enum Proc {
    Pid(u32),
    Myself,
}

impl Proc {
    fn path(self, file: &str) -> String {
        match self {
            Proc::Pid(pid) => format!("/proc/{pid}/{file}"),
            Proc::Myself => format!("/proc/self/{file}"),
        }
    }

    /// Resident memory in KiB.
    pub fn rss_kib(self) -> std::io::Result<u64> {
        let status = std::fs::read_to_string(self.path("status"))?;
        parse_vm_rss(&status).ok_or_else(|| std::io::Error::other("no VmRSS line"))
    }

    /// CPU time (user and system) so far.
    pub fn cpu(self, ticks_per_s: u64) -> std::io::Result<CpuTime> {
        let stat = std::fs::read_to_string(self.path("stat"))?;
        let ticks = parse_cpu_ticks(&stat).ok_or_else(|| std::io::Error::other("bad stat"))?;
        let tick = Duration::from_nanos(1_000_000_000 / ticks_per_s.max(1));
        let mut threads = Duration::ZERO;
        for task in std::fs::read_dir(self.path("task"))? {
            // A thread that ended since the listing has nothing to add.
            if let Ok(text) = std::fs::read_to_string(task?.path().join("schedstat")) {
                threads += Duration::from_nanos(parse_schedstat(&text).unwrap_or(0));
            }
        }
        Ok(CpuTime {
            ticks: tick * u32::try_from(ticks).unwrap_or(u32::MAX),
            tick,
            threads,
        })
    }
}

/// One reading of a process's CPU time.
#[derive(Debug, Clone, Copy)]
pub struct CpuTime {
    /// `utime` + `stime`: every thread, whole ticks.
    ticks: Duration,
    tick: Duration,
    /// The sum of the live threads' exact run times.
    threads: Duration,
}

impl CpuTime {
    /// CPU time spent between `earlier` and this reading.
    pub fn since(&self, earlier: &CpuTime) -> Duration {
        let coarse = self.ticks.saturating_sub(earlier.ticks);
        let exact = self.threads.saturating_sub(earlier.threads);
        // The tick count rounds each reading down by less than a tick; more
        // missing than that means threads ended and took their time along.
        if exact + 2 * self.tick < coarse {
            coarse
        } else {
            exact
        }
    }
}

/// The kernel's clock ticks per second (`getconf CLK_TCK`), the unit of
/// `utime` and `stime`. It is 100 on every Linux this runs on; asking costs
/// one process start and needs no `unsafe` call to `sysconf`.
pub fn ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `utime` + `stime`, fields 14 and 15 of `stat`. The command name (field 2)
/// may hold spaces and parentheses, so fields are counted after its last `)`.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The run time in nanoseconds, the first field of `schedstat`.
fn parse_schedstat(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rss_and_cpu_ticks() {
        let status = "Name:\tnoc-server\nVmPeak:\t  99999 kB\nVmRSS:\t   12345 kB\n";
        assert_eq!(parse_vm_rss(status), Some(12345));
        let stat = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 750 250 0 0 20 0 2 0";
        assert_eq!(parse_cpu_ticks(stat), Some(1000));
        assert_eq!(parse_schedstat("597536 68862 1\n"), Some(597_536));
    }

    #[test]
    fn exact_time_unless_threads_ended() {
        let tick = Duration::from_millis(10);
        let at = |ticks: u64, threads_ms: u64| CpuTime {
            ticks: tick * ticks as u32,
            tick,
            threads: Duration::from_millis(threads_ms),
        };
        // 123 ms of thread time shows as 12 ticks: the exact count wins.
        assert_eq!(
            at(22, 1123).since(&at(10, 1000)),
            Duration::from_millis(123)
        );
        // A thread that used 500 ms ended: only the ticks still count it.
        assert_eq!(
            at(62, 1123).since(&at(10, 1000)),
            Duration::from_millis(520)
        );
    }

    #[test]
    fn reads_this_process() {
        assert!(Proc::Myself.rss_kib().expect("VmRSS") > 0);
        let before = Proc::Myself.cpu(ticks_per_second()).expect("CPU time");
        let after = Proc::Myself.cpu(ticks_per_second()).expect("CPU time");
        assert!(after.since(&before) < Duration::from_secs(1));
    }
}
