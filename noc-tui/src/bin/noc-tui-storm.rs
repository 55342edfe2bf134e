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
//! ```sh
//! cargo run --release -p noc-tui --bin noc-tui-storm -- --rate 1000 --duration 30s
//! ```

use std::fs::File;
use std::io::{self, LineWriter, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use clap::Parser;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use noc_shared::{ServerMessage, Severity, Snapshot, SnapshotReason, Status};
use noc_tui::app::{App, Now};
use noc_tui::net::NetEvent;
use noc_tui::screen::{self, EVENT_QUEUE};
use noc_tui::{Cli, Config, storm};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use serde_json::json;
use tokio::sync::mpsc;

/// The targets the run is judged against.
const CPU_TARGET_PCT: f64 = 15.0;
const KEY_TARGET_MS: f64 = 100.0;
/// Clock ticks per second of `/proc/*/stat` (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Parser, Debug)]
#[command(
    name = "noc-tui-storm",
    about = "The terminal client's screen loop under an alert storm"
)]
struct Args {
    /// Alert events per second.
    #[arg(long, default_value_t = 1000)]
    rate: u32,
    /// How long the storm lasts (`30s`, `2m`, or seconds).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
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

fn parse_duration(s: &str) -> Result<Duration, String> {
    let (number, unit) = match s.strip_suffix("ms") {
        Some(n) => (n, 0.001),
        None => match s.strip_suffix('s') {
            Some(n) => (n, 1.0),
            None => match s.strip_suffix('m') {
                Some(n) => (n, 60.0),
                None => (s, 1.0),
            },
        },
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("not a duration: {s}"))?;
    if !(value.is_finite() && value > 0.0) {
        return Err(format!("not a positive duration: {s}"));
    }
    Ok(Duration::from_secs_f64(value * unit))
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.rate == 0 || args.pool == 0 || args.key_every == 0 {
        eprintln!("noc-tui-storm: --rate, --pool and --key-every must be above 0");
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
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("noc-tui-storm: {e}");
            ExitCode::FAILURE
        }
    }
}

struct Report {
    json: serde_json::Value,
    human: String,
}

/// One reading a second.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Duration,
    rss_kib: u64,
    cpu_ticks: u64,
}

/// What the frame hook sees.
#[derive(Default)]
struct Frames {
    drawn: u64,
    /// Keys answered so far: the scroll position counts the presses.
    answered: usize,
    latencies: Vec<Duration>,
}

async fn run(args: &Args) -> io::Result<Report> {
    let config = Config::from_cli(Cli::parse_from(["noc-tui", "--name", "storm"]))
        .map_err(|e| io::Error::other(e.to_string()))?;
    let mut app = App::new(&config, Now::current());
    app.color = screen::color_enabled();
    app.size = (args.width, args.height);

    let output = Counted::default();
    let written = output.bytes.clone();
    let writes = output.writes.clone();
    let mut terminal = Terminal::with_options(
        CrosstermBackend::new(LineWriter::new(output)),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, args.width, args.height)),
        },
    )?;
    // No `clear()`: it asks a real terminal where its cursor is. The first
    // frame is written in full anyway.

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
        alerts: (0..args.pool)
            .map(|i| storm::alert(i, Severity::ALL[i % 5], Status::Active))
            .collect(),
        truncated: false,
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
        },
        events_tx,
        keys_tx,
        sent_keys.clone(),
    ));

    let mut frames = Frames::default();
    let mut on_frame = |app: &App| {
        frames.drawn += 1;
        let now = Instant::now();
        let sent = sent_keys.lock().unwrap_or_else(PoisonError::into_inner);
        while frames.answered < app.scroll.min(sent.len()) {
            frames.latencies.push(now - sent[frames.answered]);
            frames.answered += 1;
        }
    };
    screen::event_loop(
        &mut terminal,
        &mut app,
        &mut events_rx,
        &commands_tx,
        &mut keys,
        std::future::pending(),
        &mut on_frame,
    )
    .await?;
    let alerts_held = app.alerts.len();
    let driven = driver.await.map_err(io::Error::other)??;
    let final_rss_kib = proc_status("VmRSS:").unwrap_or(0);
    let peak_rss_kib = proc_status("VmHWM:").unwrap_or(0);

    Ok(report(
        args,
        &driven,
        &frames,
        Output {
            bytes: written.load(Ordering::Relaxed),
            writes: writes.load(Ordering::Relaxed),
        },
        alerts_held,
        final_rss_kib,
        peak_rss_kib,
    ))
}

struct DriveArgs {
    rate: u32,
    duration: Duration,
    pool: usize,
    key_every: Duration,
}

/// What the driver measured while the storm blew.
struct Driven {
    elapsed: Duration,
    events: u64,
    keys: usize,
    cpu_ticks: u64,
    feed_cpu_ticks: u64,
    samples: Vec<Sample>,
}

/// Lets the snapshot settle, then runs the storm, the keys and the
/// once-a-second sampler together, and ends the loop with `q`.
async fn drive(
    args: DriveArgs,
    events_tx: mpsc::Sender<NetEvent>,
    keys_tx: mpsc::Sender<io::Result<Event>>,
    sent_keys: Arc<Mutex<Vec<Instant>>>,
) -> io::Result<Driven> {
    tokio::time::sleep(Duration::from_secs(1)).await;

    let started = Instant::now();
    let cpu_start = process_cpu_ticks()?;

    // The server's side: JSON text, made on a thread of its own so that its
    // cost can be told apart.
    let (text_tx, mut text_rx) = mpsc::channel::<String>(EVENT_QUEUE);
    let (rate, duration, pool) = (args.rate, args.duration, args.pool);
    let feed = std::thread::Builder::new()
        .name("storm-feed".into())
        .spawn(move || feed(rate, duration, pool, &text_tx))?;

    // The network task's side: decode, and queue for the screen.
    let decoded = Arc::new(AtomicU64::new(0));
    let net = tokio::spawn({
        let decoded = decoded.clone();
        async move {
            while let Some(text) = text_rx.recv().await {
                let Ok(message) = serde_json::from_str::<ServerMessage>(&text) else {
                    continue;
                };
                if events_tx.send(NetEvent::Message(message)).await.is_err() {
                    break;
                }
                decoded.fetch_add(1, Ordering::Relaxed);
            }
        }
    });

    // The sampler.
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = tokio::spawn({
        let samples = samples.clone();
        let sampling = sampling.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            while sampling.load(Ordering::Relaxed) {
                tick.tick().await;
                let sample = Sample {
                    at: started.elapsed(),
                    rss_kib: proc_status("VmRSS:").unwrap_or(0),
                    cpu_ticks: process_cpu_ticks().unwrap_or(0),
                };
                samples
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(sample);
            }
        }
    });

    // The operator: a scroll-down key every `key_every` while the storm
    // lasts.
    let down = KeyEvent::new(KeyCode::Down, KeyModifiers::NONE);
    let mut key_tick =
        tokio::time::interval_at(tokio::time::Instant::now() + args.key_every, args.key_every);
    let feed_done = tokio::task::spawn_blocking(move || feed.join());
    tokio::pin!(feed_done);
    let feed_result = loop {
        tokio::select! {
            done = &mut feed_done => break done,
            _ = key_tick.tick() => {
                sent_keys
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(Instant::now());
                if keys_tx.send(Ok(Event::Key(down))).await.is_err() {
                    return Err(io::Error::other("the screen loop stopped"));
                }
            }
        }
    };
    let (sent, feed_cpu_ticks) = feed_result
        .map_err(io::Error::other)?
        .map_err(|_| io::Error::other("the feed thread panicked"))?;
    // Everything sent is decoded and queued before the clock stops.
    let _ = net.await;
    let elapsed = started.elapsed();
    let cpu_ticks = process_cpu_ticks()?.saturating_sub(cpu_start);
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    let samples = std::mem::take(&mut *samples.lock().unwrap_or_else(PoisonError::into_inner));
    let samples = samples
        .into_iter()
        .map(|s| Sample {
            cpu_ticks: s.cpu_ticks.saturating_sub(cpu_start),
            ..s
        })
        .collect();

    // Let the last key's frame come, then quit as the operator would.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let keys = sent_keys
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .len();
    let _ = keys_tx
        .send(Ok(Event::Key(KeyEvent::new(
            KeyCode::Char('q'),
            KeyModifiers::NONE,
        ))))
        .await;
    debug_assert_eq!(decoded.load(Ordering::Relaxed), sent);
    Ok(Driven {
        elapsed,
        events: sent,
        keys,
        cpu_ticks,
        feed_cpu_ticks,
        samples,
    })
}

/// Sends the storm's events at `rate` for `duration` as JSON text; returns
/// how many it sent and this thread's CPU ticks.
fn feed(rate: u32, duration: Duration, pool: usize, out: &mpsc::Sender<String>) -> (u64, u64) {
    let total = (f64::from(rate) * duration.as_secs_f64()).round() as u64;
    let started = Instant::now();
    let mut n = 0;
    while n < total {
        let due = started + Duration::from_secs_f64(n as f64 / f64::from(rate));
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        // Whatever is due by now goes out together, as a socket read would
        // bring it.
        let now = started.elapsed().as_secs_f64();
        let due_by_now = ((now * f64::from(rate)) as u64 + 1).min(total);
        while n < due_by_now {
            let (kind, alert) = storm::event(n as usize, pool);
            let text = serde_json::to_string(&ServerMessage::alert(kind, n + 1, alert))
                .unwrap_or_default();
            if out.blocking_send(text).is_err() {
                return (n, thread_cpu_ticks());
            }
            n += 1;
        }
    }
    (n, thread_cpu_ticks())
}

/// Where the frames go: `/dev/null`, counting bytes and `write` calls.
struct Counted {
    file: Option<File>,
    bytes: Arc<AtomicU64>,
    writes: Arc<AtomicU64>,
}

impl Default for Counted {
    fn default() -> Self {
        Counted {
            file: File::options().write(true).open("/dev/null").ok(),
            bytes: Arc::default(),
            writes: Arc::default(),
        }
    }
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        let n = match &mut self.file {
            Some(file) => file.write(buf)?,
            None => buf.len(),
        };
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct Output {
    bytes: u64,
    writes: u64,
}

/// User + system ticks of a `/proc/.../stat` file.
fn stat_ticks(path: &str) -> io::Result<u64> {
    let text = std::fs::read_to_string(path)?;
    // After the command name in parentheses: state is field 3, utime 14 and
    // stime 15.
    let rest = text
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| io::Error::other(format!("unexpected {path}")))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| -> io::Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| io::Error::other(format!("unexpected {path}")))
    };
    Ok(field(11)? + field(12)?)
}

fn process_cpu_ticks() -> io::Result<u64> {
    stat_ticks("/proc/self/stat")
}

fn thread_cpu_ticks() -> u64 {
    stat_ticks("/proc/thread-self/stat").unwrap_or(0)
}

/// A `kB` line of `/proc/self/status`.
fn proc_status(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    ms(sorted[rank - 1])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn report(
    args: &Args,
    driven: &Driven,
    frames: &Frames,
    output: Output,
    alerts_held: usize,
    final_rss_kib: u64,
    peak_rss_kib: u64,
) -> Report {
    let secs = driven.elapsed.as_secs_f64();
    let cpu_total_pct = driven.cpu_ticks as f64 / TICKS_PER_SECOND / secs * 100.0;
    let feed_pct = driven.feed_cpu_ticks as f64 / TICKS_PER_SECOND / secs * 100.0;
    let cpu_pct = (cpu_total_pct - feed_pct).max(0.0);
    let mut latencies = frames.latencies.clone();
    latencies.sort();
    let (p50, p99) = (percentile(&latencies, 0.50), percentile(&latencies, 0.99));
    let max = latencies.last().copied().map_or(f64::NAN, ms);
    let unanswered = driven.keys.saturating_sub(latencies.len());

    // Bounded memory: the resident set over the second half of the storm
    // against the first.
    let rss: Vec<u64> = driven.samples.iter().map(|s| s.rss_kib).collect();
    let half = rss.len() / 2;
    let rss_mid = rss.get(half).copied().unwrap_or(0);
    let rss_last = rss.last().copied().unwrap_or(0);
    let growth_second_half_kib = rss_last as i64 - rss_mid as i64;
    let rss_max_during = rss.iter().copied().max().unwrap_or(0);
    // Flat: the second half adds less than 1 MiB and less than 5 %.
    let memory_bounded =
        growth_second_half_kib < 1024 && (growth_second_half_kib as f64) < 0.05 * rss_mid as f64;
    let cpu_met = cpu_pct <= CPU_TARGET_PCT;
    let keys_met = unanswered == 0 && max <= KEY_TARGET_MS;
    let fps = frames.drawn as f64 / secs;

    let json = json!({
        "scenario": "tui",
        "case": format!("storm {}/s {}s", args.rate, args.duration.as_secs_f64()),
        "rate": args.rate,
        "duration_s": args.duration.as_secs_f64(),
        "elapsed_s": secs,
        "events": driven.events,
        "achieved_rate": driven.events as f64 / secs,
        "pool": args.pool,
        "alerts_held": alerts_held,
        "terminal": format!("{}x{}", args.width, args.height),
        "frames": frames.drawn,
        "fps": fps,
        "output_bytes_per_s": output.bytes as f64 / secs,
        "writes_per_s": output.writes as f64 / secs,
        "cpu_pct": cpu_pct,
        "cpu_total_pct": cpu_total_pct,
        "feed_cpu_pct": feed_pct,
        "rss_kib_per_second": rss,
        "sample_at_s": driven.samples.iter().map(|s| s.at.as_secs_f64()).collect::<Vec<_>>(),
        "cpu_pct_per_second": driven.samples.windows(2).map(|w| {
            let ticks = w[1].cpu_ticks.saturating_sub(w[0].cpu_ticks) as f64;
            ticks / TICKS_PER_SECOND / (w[1].at - w[0].at).as_secs_f64().max(1e-3) * 100.0
        }).collect::<Vec<_>>(),
        "rss_peak_kib": peak_rss_kib,
        "rss_max_during_kib": rss_max_during,
        "rss_final_kib": final_rss_kib,
        "rss_growth_second_half_kib": growth_second_half_kib,
        "keys": driven.keys,
        "keys_unanswered": unanswered,
        "key_p50_ms": p50,
        "key_p99_ms": p99,
        "key_max_ms": max,
        "targets": {
            "cpu_le_15_pct": cpu_met,
            "memory_bounded": memory_bounded,
            "keys_within_100_ms": keys_met,
        },
    });
    let at = |i: usize| driven.samples.get(i).map_or(0.0, |s| s.at.as_secs_f64());
    let verdict = |met: bool| if met { "met" } else { "NOT met" };
    let human = format!(
        "tui storm: {events} events in {secs:.1} s ({achieved:.0}/s of {rate}/s), {held} alerts held, \
         {frames} frames ({fps:.1}/s, {kb:.0} KB/s of ANSI); \
         CPU {cpu:.1} % of a core ({total:.1} % with the feed's {feed:.1} %) [≤ 15 %: {cpu_v}]; \
         RSS {first:.1} MiB at {first_s:.0} s, {mid:.1} at {mid_s:.0} s, {last:.1} at {last_s:.0} s, final {fin:.1}, peak {peak:.1} [bounded: {mem_v}]; \
         keys {keys}: p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms, {unanswered} unanswered [≤ 100 ms: {key_v}]",
        events = driven.events,
        achieved = driven.events as f64 / secs,
        rate = args.rate,
        held = alerts_held,
        frames = frames.drawn,
        kb = output.bytes as f64 / secs / 1000.0,
        cpu = cpu_pct,
        total = cpu_total_pct,
        feed = feed_pct,
        cpu_v = verdict(cpu_met),
        first = mib(rss.first().copied().unwrap_or(0)),
        mid = mib(rss_mid),
        first_s = at(0),
        mid_s = at(half),
        last = mib(rss_last),
        last_s = at(rss.len().saturating_sub(1)),
        fin = mib(final_rss_kib),
        peak = mib(peak_rss_kib),
        mem_v = verdict(memory_bounded),
        keys = driven.keys,
        key_v = verdict(keys_met),
    );
    Report { json, human }
}
