//! The storm itself: the feed (the server's side, JSON text on a thread of
//! its own), the stand-in for the network task (decode and queue), the
//! operator's keys and the once-a-second sampler.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use noc_bench::procfs::Proc;
use noc_bench::storm;
use noc_shared::ServerMessage;
use noc_tui::net::NetEvent;
use noc_tui::screen::EVENT_QUEUE;
use tokio::sync::mpsc;

/// One reading a second.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: Duration,
    pub rss_kib: u64,
    /// CPU time of the whole process since the storm began.
    pub cpu: Duration,
}

pub struct DriveArgs {
    pub rate: u32,
    pub duration: Duration,
    pub pool: usize,
    pub key_every: Duration,
    /// Clock ticks per second of `/proc/*/stat`.
    pub ticks_per_s: u64,
}

/// What the driver measured while the storm blew.
pub struct Driven {
    pub elapsed: Duration,
    pub events: u64,
    pub keys: usize,
    /// CPU time of the whole process over the storm.
    pub cpu: Duration,
    /// CPU time of the feed thread, to be taken off.
    pub feed_cpu: Duration,
    pub samples: Vec<Sample>,
}

/// Lets the snapshot settle, then runs the storm, the keys and the
/// once-a-second sampler together, and ends the loop with `q`.
pub async fn drive(
    args: DriveArgs,
    events_tx: mpsc::Sender<NetEvent>,
    keys_tx: mpsc::Sender<io::Result<Event>>,
    sent_keys: Arc<Mutex<Vec<Instant>>>,
) -> io::Result<Driven> {
    tokio::time::sleep(Duration::from_secs(1)).await;

    let started = Instant::now();
    let ticks_per_s = args.ticks_per_s;
    let cpu_start = Proc::Myself.cpu_ticks(ticks_per_s)?;

    // The server's side: JSON text, made on a thread of its own so that its
    // cost can be told apart.
    let (text_tx, mut text_rx) = mpsc::channel::<String>(EVENT_QUEUE);
    let (rate, duration, pool) = (args.rate, args.duration, args.pool);
    let feed = std::thread::Builder::new()
        .name("storm-feed".into())
        .spawn(move || feed(rate, duration, pool, ticks_per_s, &text_tx))?;

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
                    rss_kib: Proc::Myself.rss_kib().unwrap_or(0),
                    cpu: Proc::Myself.cpu_ticks(ticks_per_s).unwrap_or_default(),
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
    let (sent, feed_cpu) = feed_result
        .map_err(io::Error::other)?
        .map_err(|_| io::Error::other("the feed thread panicked"))?;
    // Everything sent is decoded and queued before the clock stops.
    let _ = net.await;
    let elapsed = started.elapsed();
    let cpu = Proc::Myself
        .cpu_ticks(ticks_per_s)?
        .saturating_sub(cpu_start);
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    let samples = std::mem::take(&mut *samples.lock().unwrap_or_else(PoisonError::into_inner));
    let samples = samples
        .into_iter()
        .map(|s| Sample {
            cpu: s.cpu.saturating_sub(cpu_start),
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
        cpu,
        feed_cpu,
        samples,
    })
}

/// Sends the storm's events at `rate` for `duration` as JSON text; returns
/// how many it sent and this thread's CPU time.
fn feed(
    rate: u32,
    duration: Duration,
    pool: usize,
    ticks_per_s: u64,
    out: &mpsc::Sender<String>,
) -> (u64, Duration) {
    let own_cpu = || Proc::ThisThread.cpu_ticks(ticks_per_s).unwrap_or_default();
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
                return (n, own_cpu());
            }
            n += 1;
        }
    }
    (n, own_cpu())
}
