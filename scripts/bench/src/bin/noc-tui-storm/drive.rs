//! The storm itself: the feed (the server's side, JSON text on a thread of
//! its own), the stand-in for the network task (decode and queue), the
//! operator's keys and the once-a-second sampler.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use noc_bench::procfs::Proc;
use noc_bench::storm;
use noc_shared::ServerMessage;
use noc_tui::net::NetEvent;
use noc_tui::screen::EVENT_QUEUE;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How long the screen loop may take, after the storm, to take the events
/// still queued for it before the run quits anyway (and reports them as
/// not applied).
const DRAIN_WITHIN: Duration = Duration::from_secs(30);

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

/// The events of a storm of `rate` a second for `duration`.
pub fn planned_events(rate: u32, duration: Duration) -> u64 {
    (f64::from(rate) * duration.as_secs_f64()).round() as u64
}

/// What the stand-in network task did with the feed's text.
#[derive(Debug, Default)]
pub struct Decoded {
    /// Decoded and queued for the screen loop.
    pub queued: u64,
    /// Texts that did not decode as a server message.
    pub failures: u64,
    pub first_failure: Option<String>,
}

/// What the driver measured while the storm blew.
pub struct Driven {
    pub elapsed: Duration,
    /// Events the feed sent (of [`planned_events`]).
    pub sent: u64,
    pub decoded: Decoded,
    pub keys: usize,
    /// CPU time of the whole process over the storm.
    pub cpu: Duration,
    /// CPU time of the feed thread, to be taken off.
    pub feed_cpu: Duration,
    pub samples: Vec<Sample>,
}

/// Lets the snapshot settle, then runs the storm, the keys and the
/// once-a-second sampler together, and ends the loop with `q` once it has
/// taken every event queued for it.
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
    let (text_tx, text_rx) = mpsc::channel::<String>(EVENT_QUEUE);
    let (rate, duration, pool) = (args.rate, args.duration, args.pool);
    let feed = std::thread::Builder::new()
        .name("storm-feed".into())
        .spawn(move || feed(rate, duration, pool, ticks_per_s, &text_tx))?;
    let queue = events_tx.clone();
    let net = spawn_net(text_rx, events_tx);
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = spawn_sampler(started, ticks_per_s, sampling.clone());

    // The operator: a scroll-down key every `key_every` while the storm
    // lasts.
    let down = KeyEvent::new(KeyCode::Down, KeyModifiers::NONE);
    let mut key_tick =
        tokio::time::interval_at(tokio::time::Instant::now() + args.key_every, args.key_every);
    let feed_done = tokio::task::spawn_blocking(move || feed.join());
    tokio::pin!(feed_done);
    // A loop that ended early closes its queues: the feed then stops too,
    // and the check reports how far the storm got.
    let mut loop_gone = false;
    let feed_result = loop {
        tokio::select! {
            done = &mut feed_done => break done,
            _ = key_tick.tick(), if !loop_gone => {
                sent_keys
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(Instant::now());
                loop_gone = keys_tx.send(Ok(Event::Key(down))).await.is_err();
            }
        }
    };
    let (sent, feed_cpu) = feed_result
        .map_err(io::Error::other)?
        .map_err(|_| io::Error::other("the feed thread panicked"))?;
    // Everything sent is decoded and queued before the clock stops.
    let decoded = net.await.map_err(io::Error::other)?;
    let elapsed = started.elapsed();
    let cpu = Proc::Myself
        .cpu_ticks(ticks_per_s)?
        .saturating_sub(cpu_start);
    sampling.store(false, Ordering::Relaxed);
    let samples = sampler
        .await
        .map_err(io::Error::other)?
        .into_iter()
        .map(|s| Sample {
            cpu: s.cpu.saturating_sub(cpu_start),
            ..s
        })
        .collect();

    // Quit as the operator would, once the loop has every event and the
    // last key's frame has come.
    until_taken(&queue, DRAIN_WITHIN).await;
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
    Ok(Driven {
        elapsed,
        sent,
        decoded,
        keys,
        cpu,
        feed_cpu,
        samples,
    })
}

/// The network task's side: decodes each text as `net` does and queues it
/// for the screen; counts what it queued and what did not decode.
fn spawn_net(
    mut texts: mpsc::Receiver<String>,
    events: mpsc::Sender<NetEvent>,
) -> JoinHandle<Decoded> {
    tokio::spawn(async move {
        let mut decoded = Decoded::default();
        while let Some(text) = texts.recv().await {
            match serde_json::from_str::<ServerMessage>(&text) {
                Ok(message) => {
                    if events.send(NetEvent::Message(message)).await.is_err() {
                        break;
                    }
                    decoded.queued += 1;
                }
                Err(e) => {
                    decoded.failures += 1;
                    decoded.first_failure.get_or_insert_with(|| e.to_string());
                }
            }
        }
        decoded
    })
}

/// Reads the process's memory and CPU time once a second while `sampling`.
fn spawn_sampler(
    started: Instant,
    ticks_per_s: u64,
    sampling: Arc<AtomicBool>,
) -> JoinHandle<Vec<Sample>> {
    tokio::spawn(async move {
        let mut samples = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        while sampling.load(Ordering::Relaxed) {
            tick.tick().await;
            samples.push(Sample {
                at: started.elapsed(),
                rss_kib: Proc::Myself.rss_kib().unwrap_or(0),
                cpu: Proc::Myself.cpu_ticks(ticks_per_s).unwrap_or_default(),
            });
        }
        samples
    })
}

/// Waits until the screen loop has taken every event queued on `queue` (it
/// applies each as it takes it), at most `within`.
async fn until_taken(queue: &mpsc::Sender<NetEvent>, within: Duration) {
    let deadline = Instant::now() + within;
    while queue.capacity() < queue.max_capacity() && !queue.is_closed() && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
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
    let total = planned_events(rate, duration);
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
            // An alert always encodes; were it not to, the empty text fails
            // to decode and is counted as such.
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
