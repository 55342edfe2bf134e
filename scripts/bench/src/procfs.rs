//! What a process costs, read from `/proc`: resident memory (`VmRSS` and its
//! peak `VmHWM` in `status`) and CPU time. noc-load reads the server under
//! test and itself; noc-tui-storm reads itself and its feed thread.
//!
//! CPU time is read two ways. `utime` + `stime` in `/proc/<pid>/stat` counts
//! every thread the process ever had, but only in clock ticks (10 ms): too
//! coarse for a run that costs the server 0.1 s. The scheduler's own
//! nanosecond count, the first field of each `/proc/<pid>/task/*/schedstat`,
//! is exact but misses threads that ended meanwhile. [`CpuTime::since`] takes
//! the exact count unless threads evidently ended, then the ticks.

use std::io;
use std::process::Command;
use std::time::Duration;

/// A process to watch: a pid, this process, or the calling thread.
#[derive(Debug, Clone, Copy)]
pub enum Proc {
    Pid(u32),
    Myself,
    /// The calling thread alone (`/proc/thread-self`).
    ThisThread,
}

impl Proc {
    fn path(self, file: &str) -> String {
        match self {
            Proc::Pid(pid) => format!("/proc/{pid}/{file}"),
            Proc::Myself => format!("/proc/self/{file}"),
            Proc::ThisThread => format!("/proc/thread-self/{file}"),
        }
    }

    /// Resident memory in KiB.
    pub fn rss_kib(self) -> io::Result<u64> {
        self.status_kib("VmRSS:")
    }

    /// The peak of the resident memory in KiB.
    pub fn peak_rss_kib(self) -> io::Result<u64> {
        self.status_kib("VmHWM:")
    }

    /// A `kB` line of `status`, by its key (`VmRSS:`).
    fn status_kib(self, key: &str) -> io::Result<u64> {
        let status = std::fs::read_to_string(self.path("status"))?;
        parse_status_kib(&status, key).ok_or_else(|| io::Error::other(format!("no {key} line")))
    }

    /// User and system time so far, all threads (or the thread), in whole
    /// clock ticks of `1 / ticks_per_s` seconds.
    pub fn cpu_ticks(self, ticks_per_s: u64) -> io::Result<Duration> {
        let stat = std::fs::read_to_string(self.path("stat"))?;
        let ticks = parse_cpu_ticks(&stat).ok_or_else(|| io::Error::other("bad stat"))?;
        Ok(tick(ticks_per_s) * u32::try_from(ticks).unwrap_or(u32::MAX))
    }

    /// CPU time (user and system) so far, both ways (see the module).
    pub fn cpu(self, ticks_per_s: u64) -> io::Result<CpuTime> {
        let ticks = self.cpu_ticks(ticks_per_s)?;
        let mut threads = Duration::ZERO;
        for task in std::fs::read_dir(self.path("task"))? {
            // A thread that ended since the listing has nothing to add.
            if let Ok(text) = std::fs::read_to_string(task?.path().join("schedstat")) {
                threads += Duration::from_nanos(parse_schedstat(&text).unwrap_or(0));
            }
        }
        Ok(CpuTime {
            ticks,
            tick: tick(ticks_per_s),
            threads,
        })
    }
}

fn tick(ticks_per_s: u64) -> Duration {
    Duration::from_nanos(1_000_000_000 / ticks_per_s.max(1))
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

fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
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
        let status =
            "Name:\tnoc-server\nVmPeak:\t  99999 kB\nVmHWM:\t 23456 kB\nVmRSS:\t   12345 kB\n";
        assert_eq!(parse_status_kib(status, "VmRSS:"), Some(12345));
        assert_eq!(parse_status_kib(status, "VmHWM:"), Some(23456));
        assert_eq!(parse_status_kib(status, "VmSwap:"), None);
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
        let rss = Proc::Myself.rss_kib().expect("VmRSS");
        assert!(rss > 0);
        assert!(Proc::Myself.peak_rss_kib().expect("VmHWM") >= rss);
        let before = Proc::Myself.cpu(ticks_per_second()).expect("CPU time");
        let after = Proc::Myself.cpu(ticks_per_second()).expect("CPU time");
        assert!(after.since(&before) < Duration::from_secs(1));
    }

    #[test]
    fn reads_this_thread() {
        let before = Proc::ThisThread.cpu_ticks(100).expect("thread CPU");
        let started = std::time::Instant::now();
        let mut x = 0u64;
        // Busy until a tick (10 ms of CPU) shows, at most 5 s.
        let after = loop {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            let now = Proc::ThisThread.cpu_ticks(100).expect("thread CPU");
            if now > before || started.elapsed() > Duration::from_secs(5) {
                break now;
            }
        };
        assert!(
            after > before,
            "5 s of work never showed in the thread's time"
        );
        let process = Proc::Myself.cpu_ticks(100).expect("process CPU");
        assert!(process >= after, "the process counts every thread");
    }
}
