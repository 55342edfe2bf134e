//! `noc-soak`: a week of a busy NOC compressed into minutes, against one
//! running server (`scripts/bench.sh --scenarios soak` starts it with
//! `--keep-resolved` scaled the same way). Each simulated day it sends the
//! traffic of [`traffic`] at a steady rate and, at the day's end, samples
//! what must stay flat: the database's size and the alerts in it (a shell
//! command, `--probe`, prints both: the generator does not know the store),
//! the server's resident memory, and the day's ingest latency.
//!
//! Standard output: a Markdown table, one row per simulated day. Standard
//! error: the same rows as they come. Exit status 3 when any request
//! failed (a 404 or 409 on an ack or note of an alert resolved meanwhile is
//! the NOC's ordinary race, counted apart).
//!
//! # Layout
//!
//! - [`traffic`]: the mix of operations.
//! - [`send`]: one operation over HTTP.

mod send;
mod traffic;

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use hdrhistogram::Histogram;
use noc_bench::percentile::{self, histogram};
use noc_bench::procfs::Proc;
use rand::SeedableRng;
use tokio::sync::Semaphore;

use crate::send::{Sender, Sent};
use crate::traffic::Traffic;

/// A week of NOC traffic, compressed, with the store's size, the server's
/// memory and the ingest latency sampled per simulated day.
#[derive(Parser)]
#[command(name = "noc-soak")]
struct Cli {
    /// The server's base URL.
    #[arg(long)]
    url: String,
    /// The ingest token.
    #[arg(long, env = "NOC_INGEST_TOKEN", hide_env_values = true)]
    token: String,
    /// A user's token, for acks and notes.
    #[arg(long)]
    user_token: String,
    /// The server's process id, for its resident memory.
    #[arg(long)]
    server_pid: u32,
    /// A shell command printing the database's bytes on disk and the
    /// alerts in it, as two whole numbers.
    #[arg(long)]
    probe: String,
    /// Simulated days.
    #[arg(long, default_value_t = 7)]
    days: u32,
    /// How long one simulated day lasts.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    day: Duration,
    /// Operations per second.
    #[arg(long, default_value_t = 200.0)]
    rate: f64,
    /// Alerts open at once at most.
    #[arg(long, default_value_t = 2000)]
    open: usize,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
}

/// One simulated day's counts.
struct Day {
    ingest: Histogram<u64>,
    acted: u64,
    raced: u64,
    failed: u64,
    first_failure: Option<String>,
}

impl Day {
    fn new() -> Self {
        Day {
            ingest: histogram(),
            acted: 0,
            raced: 0,
            failed: 0,
            first_failure: None,
        }
    }

    fn count(&mut self, sent: Sent) {
        match sent {
            Sent::Ingested(latency) => percentile::record(&mut self.ingest, latency),
            Sent::Acted => self.acted += 1,
            Sent::Raced => self.raced += 1,
            Sent::Failed(why) => {
                self.failed += 1;
                self.first_failure.get_or_insert(why);
            }
        }
    }
}

const HEADER: &str = "| day | posts | ingest p50 ms | ingest p99 ms | acks+notes (raced) | failed | alerts in store | database MiB | server RSS MiB | load 1m |\n|---|---|---|---|---|---|---|---|---|---|";

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(3),
        Err(e) => {
            eprintln!("noc-soak: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the week; answers the number of failed requests.
async fn run(cli: Cli) -> anyhow::Result<u64> {
    let sender = Sender::new(&cli.url, &cli.token, &cli.user_token)?;
    let mut traffic = Traffic::new(rand::rngs::StdRng::seed_from_u64(42), cli.open);
    let permits = Arc::new(Semaphore::new(cli.concurrency));
    let every = Duration::from_secs_f64(1.0 / cli.rate);
    let mut failed = 0;
    println!("{HEADER}");
    eprintln!("{HEADER}");
    let mut n = 0u64;
    for day in 1..=cli.days {
        let stats = Arc::new(Mutex::new(Day::new()));
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let end = tokio::time::Instant::now() + cli.day;
        while tokio::time::Instant::now() < end {
            tick.tick().await;
            n += 1;
            let op = traffic.next_op();
            let permit = permits.clone().acquire_owned().await?;
            let (sender, stats) = (sender.clone(), stats.clone());
            tokio::spawn(async move {
                let sent = sender.send(op, n).await;
                stats.lock().expect("no panics under the lock").count(sent);
                drop(permit);
            });
        }
        // The day's last requests answered before it is sampled.
        let all = u32::try_from(cli.concurrency).unwrap_or(u32::MAX);
        drop(permits.acquire_many(all).await?);
        let stats = std::mem::replace(&mut *stats.lock().expect("no panics"), Day::new());
        let row = sample(&cli, day, &stats)?;
        println!("{row}");
        eprintln!("{row}");
        if let Some(why) = &stats.first_failure {
            eprintln!(
                "noc-soak: day {day}: {} failed, the first: {why}",
                stats.failed
            );
        }
        failed += stats.failed;
    }
    Ok(failed)
}

/// The day's row: its counts, and the store and server as they are now.
fn sample(cli: &Cli, day: u32, stats: &Day) -> anyhow::Result<String> {
    let (bytes, alerts) = probe(&cli.probe)?;
    let rss = Proc::Pid(cli.server_pid).rss_kib().context("server RSS")?;
    let load = std::fs::read_to_string("/proc/loadavg")?;
    let ms =
        |q| percentile::quantile_ms(&stats.ingest, q).map_or("-".into(), |v| format!("{v:.1}"));
    Ok(format!(
        "| {day} | {} | {} | {} | {} ({}) | {} | {alerts} | {:.1} | {:.1} | {} |",
        stats.ingest.len(),
        ms(0.5),
        ms(0.99),
        stats.acted + stats.raced,
        stats.raced,
        stats.failed,
        bytes as f64 / 1_048_576.0,
        rss as f64 / 1024.0,
        load.split(' ').next().unwrap_or("?"),
    ))
}

/// Runs the probe command: the database's bytes and its alerts.
fn probe(command: &str) -> anyhow::Result<(u64, u64)> {
    let out = std::process::Command::new("sh")
        .args(["-c", command])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut numbers = text.split_whitespace().map(str::parse::<u64>);
    match (out.status.success(), numbers.next(), numbers.next()) {
        (true, Some(Ok(bytes)), Some(Ok(alerts))) => Ok((bytes, alerts)),
        _ => anyhow::bail!(
            "--probe printed {text:?} ({}), not two numbers: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}
