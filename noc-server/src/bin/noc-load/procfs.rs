//! What the server under test costs, read from `/proc`: resident memory
//! (`VmRSS` in `/proc/<pid>/status`) and CPU time (`utime` + `stime` in
//! `/proc/<pid>/stat`, summed over all its threads by the kernel).

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

    /// User plus system CPU time so far.
    pub fn cpu(self, ticks_per_s: u64) -> std::io::Result<Duration> {
        let stat = std::fs::read_to_string(self.path("stat"))?;
        let ticks = parse_cpu_ticks(&stat).ok_or_else(|| std::io::Error::other("bad stat"))?;
        Ok(Duration::from_nanos(
            ticks.saturating_mul(1_000_000_000) / ticks_per_s.max(1),
        ))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rss_and_cpu_ticks() {
        let status = "Name:\tnoc-server\nVmPeak:\t  99999 kB\nVmRSS:\t   12345 kB\n";
        assert_eq!(parse_vm_rss(status), Some(12345));
        let stat = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 750 250 0 0 20 0 2 0";
        assert_eq!(parse_cpu_ticks(stat), Some(1000));
    }

    #[test]
    fn reads_this_process() {
        assert!(Proc::Myself.rss_kib().expect("VmRSS") > 0);
        assert!(Proc::Myself.cpu(ticks_per_second()).is_ok());
    }
}
