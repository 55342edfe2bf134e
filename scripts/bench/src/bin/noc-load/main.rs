//! `noc-load`: the load generator behind `scripts/bench.sh`. It holds many
//! WebSocket screens in one process, posts alerts stamped with their send
//! time to `POST /internal/alerts`, and times and counts every delivery.
//! It speaks only the contract, so it measures any server that keeps it
//! (noc-server and the peers alike).
//!
//! Each scenario prints one JSON line on standard output (for the table) and
//! one line for a person on standard error. A case with any failure (a
//! screen that did not connect, a POST not accepted, a delivery lost,
//! repeated or misrouted, a screen resynced or dropped) is marked on both
//! lines, and the exit status is 3; 1 means no case ran.
//!
//! # Layout
//!
//! - [`scenarios`]: idle, fan-out and storm, ingest, stuck screen.
//! - [`screen`]: the screens, one task per connection.
//! - [`poster`]: the senders, on a schedule or flat out.
//! - [`wire`]: the alert bodies sent and the cheap scan of frames received.
//! - [`tally`]: lost, duplicated and misrouted deliveries; latencies.
//! - [`failures`]: every failure count of a case, and how a failed case is
//!   marked.
//! - [`clock`]: the one monotonic clock both ends of a latency are read from.
//! - [`table`]: the results of a run as one Markdown table.
//!
//! The server's memory and CPU time (`/proc`) and the latency percentiles
//! come from the `noc_bench` library, which noc-tui-storm shares.

mod clock;
mod failures;
mod poster;
mod scenarios;
mod screen;
mod table;
mod tally;
mod wire;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::scenarios::{Load, Outcome, Target};

/// Load generator for the NOC alert contract: WebSocket screens and webhook
/// posters against one server, with latency, loss and server cost.
#[derive(Parser)]
#[command(name = "noc-load")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Server RSS per connection with N idle screens.
    Idle {
        #[command(flatten)]
        target: TargetArgs,
        /// Screens to connect.
        #[arg(long, default_value_t = 1000)]
        screens: usize,
        /// Wait after the last screen connected, before reading RSS.
        #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
        settle: Duration,
    },
    /// N screens over K sites, alerts at a fixed rate: deliveries/s,
    /// POST→screen latency, server CPU per delivery, lost and duplicated.
    Fanout {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        load: LoadArgs,
        /// Alerts to post.
        #[arg(long, default_value_t = 50)]
        alerts: u64,
        /// Alerts per second.
        #[arg(long, default_value_t = 10.0)]
        rate: f64,
        /// Screens to connect.
        #[arg(long, default_value_t = 1000)]
        screens: usize,
        /// Sites the screens and alerts spread over (1: every screen takes all).
        #[arg(long, default_value_t = 1)]
        sites: u32,
    },
    /// An alert storm: many alerts per second to every screen, single POSTs.
    Storm {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        load: LoadArgs,
        /// Alerts per second.
        #[arg(long, default_value_t = 500.0)]
        rate: f64,
        /// How long the storm lasts.
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        duration: Duration,
        /// Screens to connect (each takes every site).
        #[arg(long, default_value_t = 1000)]
        screens: usize,
    },
    /// Posters back to back, no screens: accepted alerts/s and POST latency.
    Ingest {
        #[command(flatten)]
        target: TargetArgs,
        /// Alerts per request (1: a single object; more: an array).
        #[arg(long, default_value_t = 1)]
        batch: u64,
        /// Concurrent posters.
        #[arg(long, default_value_t = 32)]
        posters: usize,
        /// How long to post.
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        duration: Duration,
    },
    /// One screen stops reading during a flood: server RSS over time, and
    /// the healthy screens' deliveries.
    Stuck {
        #[command(flatten)]
        target: TargetArgs,
        #[command(flatten)]
        load: LoadArgs,
        /// Alerts per second in the flood.
        #[arg(long, default_value_t = 500.0)]
        rate: f64,
        /// How long the flood lasts.
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        duration: Duration,
        /// Healthy screens beside the stuck one.
        #[arg(long, default_value_t = 100)]
        screens: usize,
        /// How long to keep sampling RSS after the flood.
        #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
        after: Duration,
    },
    /// Prints the results (JSON lines) of a run as one Markdown table.
    Table {
        /// The file of JSON lines.
        file: std::path::PathBuf,
        /// The server the ratio columns compare against.
        #[arg(long, default_value = "node-ws")]
        baseline: String,
    },
    /// Prints a TCP port free on 127.0.0.1 (for starting a server on it).
    FreePort,
}

#[derive(Args)]
struct TargetArgs {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// The ingest token, sent as `Authorization: Bearer`.
    #[arg(long, env = "NOC_INGEST_TOKEN", hide_env_values = true)]
    token: String,
    /// The server's process id, for its RSS and CPU time (/proc).
    #[arg(long)]
    server_pid: Option<u32>,
    /// The server's name in the results.
    #[arg(long, default_value = "server")]
    label: String,
    /// WebSocket handshakes in flight at once while connecting screens.
    #[arg(long, default_value_t = 128)]
    connect_concurrency: usize,
}

#[derive(Args)]
struct LoadArgs {
    /// Concurrent posters (each sends one POST at a time).
    #[arg(long, default_value_t = 16)]
    posters: usize,
    /// Extra bytes in each alert's message.
    #[arg(long, default_value_t = 0)]
    pad: usize,
    /// How long to wait for missing deliveries after the last POST.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    drain: Duration,
    /// Wait after the screens connected, before posting.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    settle: Duration,
}

impl TargetArgs {
    fn target(self) -> anyhow::Result<Target> {
        Target::new(
            &self.url,
            self.token,
            self.server_pid,
            self.label,
            self.connect_concurrency,
        )
    }
}

impl LoadArgs {
    fn load(&self, screens: usize, sites: u32, alerts: u64, rate: f64) -> Load {
        Load {
            screens,
            sites: sites.max(1),
            alerts,
            rate,
            posters: self.posters,
            pad: self.pad,
            drain: self.drain,
            settle: self.settle,
        }
    }
}

fn alerts_in(rate: f64, duration: Duration) -> u64 {
    (rate * duration.as_secs_f64()).round() as u64
}

#[tokio::main]
async fn main() -> ExitCode {
    clock::now_ns(); // starts the clock
    match run(Cli::parse().command).await {
        Ok(Some(outcome)) => {
            println!("{}", outcome.json);
            eprintln!("{}", outcome.human);
            if outcome.failed {
                // Measured, but not a clean run: both lines say why.
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            }
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("noc-load: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<Option<Outcome>> {
    let outcome = match command {
        Command::Idle {
            target,
            screens,
            settle,
        } => scenarios::idle(&target.target()?, screens, settle).await?,
        Command::Fanout {
            target,
            load,
            alerts,
            rate,
            screens,
            sites,
        } => {
            let load = load.load(screens, sites, alerts, rate);
            scenarios::fanout(&target.target()?, "fanout", &load).await?
        }
        Command::Storm {
            target,
            load,
            rate,
            duration,
            screens,
        } => {
            let load = load.load(screens, 1, alerts_in(rate, duration), rate);
            scenarios::fanout(&target.target()?, "storm", &load).await?
        }
        Command::Ingest {
            target,
            batch,
            posters,
            duration,
        } => scenarios::ingest(&target.target()?, batch, posters, duration).await?,
        Command::Stuck {
            target,
            load,
            rate,
            duration,
            screens,
            after,
        } => {
            let load = load.load(screens, 1, alerts_in(rate, duration), rate);
            scenarios::stuck(&target.target()?, &load, after).await?
        }
        Command::Table { file, baseline } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            print!("{}", table::render(&text, &baseline));
            return Ok(None);
        }
        Command::FreePort => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            println!("{}", listener.local_addr()?.port());
            return Ok(None);
        }
    };
    Ok(Some(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_flags_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_storm_posts_rate_times_duration() {
        assert_eq!(alerts_in(500.0, Duration::from_secs(10)), 5000);
        assert_eq!(alerts_in(10.0, Duration::from_millis(250)), 3);
    }
}
