//! `noc-tui-storm`: the terminal client under an alert storm, measured.
//!
//! It runs the client's own screen loop ([`noc_tui::screen::event_loop`],
//! the code `noc-tui` runs) on the same two-worker runtime, and feeds it:
//!
//! - a storm of `--rate` alert events a second for `--duration`, generated
//!   on a thread of its own as the JSON text a server sends, then decoded
//!   and queued by a task that stands in for the network task (the same
//!   `serde_json` decode, the same bounded channel), after a snapshot of
//!   `--pool` alerts;
//! - a scroll-down key every `--key-every` milliseconds through the key
//!   stream the loop reads;
//! - a terminal of `--width`×`--height` cells whose ANSI output goes through
//!   a line-buffered writer, as standard output is, to `/dev/null`, so that
//!   the encoding and the `write` calls are paid but no terminal draws.
//!
//! It measures the process's CPU (user + system from `/proc/self/stat`),
//! less the feed thread's own (`/proc/thread-self/stat`), as a percentage of
//! one core; the resident memory every second (`VmRSS`, and `VmHWM` for the
//! peak); and for every key the time from sending it to the end of writing
//! the first frame drawn from a state that includes it. One JSON line goes
//! to standard output, one line for a person to standard error.
//!
//! It checks, in every build, that the client applied the whole storm: every
//! event sent was decoded, queued and taken by the loop, and the alerts the
//! screen holds at the end are those the events make. Any shortfall marks
//! both lines (`"failed": true`, `FAILED:`) and the exit status is 3.
//!
//! # Layout
//!
//! - [`drive`]: the feed, the stand-in network task, the keys, the sampler.
//! - [`check`]: whether the client applied what was sent.
//! - [`sink`]: the terminal that writes into `/dev/null`.
//! - [`report`]: the JSON line and the human line, against the targets.
//!
//! ```sh
//! cargo run --release -p noc-bench --bin noc-tui-storm -- --rate 1000 --duration 30s
//! ```

mod check;
mod drive;
mod report;
mod sink;

use std::io;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use clap::Parser;
use crossterm::event::Event;
use noc_bench::procfs::{self, Proc};
use noc_bench::storm::{self, Model};
use noc_shared::{ServerMessage, Severity, Snapshot, SnapshotReason};
use noc_tui::app::{App, Now};
use noc_tui::net::NetEvent;
use noc_tui::screen::{self, EVENT_QUEUE};
use noc_tui::{Cli, Config};
use tokio::sync::mpsc;

use crate::check::Flow;
use crate::drive::{DriveArgs, drive, planned_events};
use crate::report::{Client, Frames, Memory, Report, report};

#[derive(Parser, Debug)]
#[command(
    name = "noc-tui-storm",
    about = "The terminal client's screen loop under an alert storm"
)]
pub struct Args {
    /// Alert events per second.
    #[arg(long, default_value_t = 1000)]
    rate: u32,
    /// How long the storm lasts (`30s`, `2m`, `1m 30s`).
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Distinct alerts in play (the snapshot holds all of them).
    #[arg(long, default_value_t = 3000)]
    pool: usize,
    /// Milliseconds between injected key presses.
    #[arg(long, default_value_t = 500)]
    key_every: u64,
    /// Terminal width in cells.
    #[arg(long, default_value_t = 160)]
    width: u16,
    /// Terminal height in cells.
    #[arg(long, default_value_t = 50)]
    height: u16,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.rate == 0 || args.pool == 0 || args.key_every == 0 || args.duration.is_zero() {
        eprintln!("noc-tui-storm: --rate, --pool, --key-every and --duration must be above 0");
        return ExitCode::from(2);
    }
    let runtime = match noc_tui::runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("noc-tui-storm: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args)) {
        Ok(report) => {
            println!("{}", report.json);
            eprintln!("{}", report.human);
            if report.failed {
                // The run measured something other than the storm it claims.
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("noc-tui-storm: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> io::Result<Report> {
    let config = Config::from_cli(Cli::parse_from(["noc-tui", "--name", "storm"]))
        .map_err(|e| io::Error::other(e.to_string()))?;
    let mut app = App::new(&config, Now::current());
    app.color = screen::color_enabled();
    app.size = (args.width, args.height);
    let (mut terminal, written) = sink::terminal(args.width, args.height)?;

    // The channels of the real client: network events, commands, and here
    // the keys too.
    let (events_tx, mut events_rx) = mpsc::channel(EVENT_QUEUE);
    let (commands_tx, _commands_rx) = mpsc::channel(4);
    let (keys_tx, mut keys_rx) = mpsc::channel::<io::Result<Event>>(16);
    let mut keys = futures_util::stream::poll_fn(move |cx| keys_rx.poll_recv(cx));

    // What a connect brings: the link is up, then the snapshot.
    let url = config
        .urls
        .first()
        .map(|u| u.to_string())
        .unwrap_or_default();
    let _ = events_tx.send(NetEvent::Connected { url }).await;
    let snapshot = Snapshot {
        reason: SnapshotReason::Connect,
        seq: 0,
        sites: None,
        min_severity: Severity::Info,
        heartbeat_ms: 30_000,
        alerts: storm::snapshot_alerts(args.pool),
        truncated: false,
        profile: None,
    };
    let _ = events_tx
        .send(NetEvent::Message(ServerMessage::Snapshot(snapshot)))
        .await;

    // Held until the loop ends: the loop takes a closed channel for a
    // network task that died.
    let _events_open = events_tx.clone();
    let sent_keys: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let driver = tokio::spawn(drive(
        DriveArgs {
            rate: args.rate,
            duration: args.duration,
            pool: args.pool,
            key_every: Duration::from_millis(args.key_every),
            ticks_per_s: procfs::ticks_per_second(),
        },
        events_tx,
        keys_tx,
        sent_keys.clone(),
    ));

    let mut frames = Frames::new();
    let mut on_frame = |app: &App| {
        let now = Instant::now();
        let sent = sent_keys.lock().unwrap_or_else(PoisonError::into_inner);
        frames.drawn(app, &sent, now);
    };
    screen::event_loop(
        &mut terminal,
        &mut app,
        screen::Server {
            events: &mut events_rx,
            commands: &commands_tx,
            api: None,
        },
        &mut keys,
        std::future::pending(),
        &mut on_frame,
    )
    .await?;
    // Events still queued when the loop ended were never applied. Closing
    // the queues lets a storm the loop left early stop.
    let left = events_rx.len() as u64;
    drop(events_rx);
    drop(keys);
    let driven = driver.await.map_err(io::Error::other)??;
    let memory = Memory {
        final_rss_kib: Proc::Myself.rss_kib().unwrap_or(0),
        peak_rss_kib: Proc::Myself.peak_rss_kib().unwrap_or(0),
    };
    // After the memory readings: the model is the checker's, not the client's.
    let differences = Model::replay(args.pool, driven.sent).differences(app.alerts.iter());
    let taken = driven.decoded.queued.saturating_sub(left);
    let failures = check::failures(&Flow {
        planned: planned_events(args.rate, args.duration),
        sent: driven.sent,
        decoded: &driven.decoded,
        taken,
        differences: &differences,
    });
    let client = Client {
        alerts_held: app.alerts.len(),
        taken,
        state_matches: differences.is_empty(),
        failures,
    };
    Ok(report(
        args,
        &driven,
        &frames,
        written.read(),
        memory,
        client,
    ))
}
