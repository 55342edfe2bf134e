//! The simulated wall screens: one small task per WebSocket connection,
//! connected in bounded concurrent batches, each counting what it receives
//! into its own [`ScreenTally`] (no shared lock on the hot path; one atomic
//! counter tells the scenario when everything has arrived).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpSocket;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

use crate::clock;
use crate::tally::ScreenTally;
use crate::wire::{self, Frame};

/// How long one screen may take to connect and get its first snapshot.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a screen may take to send its pong.
const PONG_TIMEOUT: Duration = Duration::from_secs(1);
/// The kernel receive buffer of a screen that stops reading: small, so that
/// the server feels the stall after a few frames rather than megabytes.
const STUCK_RECEIVE_BUFFER: u32 = 4 * 1024;

/// Where the screens connect and how they behave.
#[derive(Debug, Clone)]
pub struct FleetPlan {
    pub addr: SocketAddr,
    /// `ws://host:port/ws/alerts`.
    pub ws_url: String,
    pub screens: usize,
    /// Sites the screens spread over; with 1 each screen takes every site.
    pub sites: u32,
    /// The run number in the alerts these screens count.
    pub run: u32,
    /// Handshakes in flight at once.
    pub concurrency: usize,
}

/// The connected screens.
pub struct Fleet {
    tasks: Vec<JoinHandle<ScreenTally>>,
    /// Cancelled to end every screen's task.
    stop: CancellationToken,
    /// First, wanted deliveries so far, over all screens.
    pub delivered: Arc<AtomicU64>,
    /// Screens connected per site (index 0 for all-site screens).
    pub per_site: Vec<u64>,
    pub connected: usize,
    /// Why the first few failed connections failed, and how many failed.
    pub failures: (usize, Vec<String>),
}

impl Fleet {
    /// Connects `plan.screens` screens; each has its snapshot when this
    /// returns. Screens that fail to connect are counted, not retried.
    pub async fn connect(plan: &FleetPlan) -> Fleet {
        let stop = CancellationToken::new();
        let delivered = Arc::new(AtomicU64::new(0));
        let gate = Arc::new(Semaphore::new(plan.concurrency.max(1)));
        let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
        let mut tasks = Vec::with_capacity(plan.screens);
        for index in 0..plan.screens {
            let site = (plan.sites > 1).then(|| (index % plan.sites as usize) as u32);
            let screen = Screen {
                tally: ScreenTally::new(site, plan.sites),
                run: plan.run,
                delivered: delivered.clone(),
            };
            let plan = plan.clone();
            let gate = gate.clone();
            let ready = ready_tx.clone();
            let stop = stop.clone();
            tasks.push(tokio::spawn(async move {
                screen.run(&plan, gate, ready, stop).await
            }));
        }
        drop(ready_tx);
        let mut per_site = vec![0; plan.sites.max(1) as usize];
        let mut connected = 0;
        let mut failures = (0, Vec::new());
        // Each task reports once; a task that panicked drops its sender, so
        // this ends after at most `screens` reports.
        while let Some(report) = ready_rx.recv().await {
            match report {
                Ok(site) => {
                    connected += 1;
                    per_site[site.unwrap_or(0) as usize] += 1;
                }
                Err(e) => {
                    failures.0 += 1;
                    if failures.1.len() < 3 {
                        failures.1.push(e);
                    }
                }
            }
        }
        Fleet {
            tasks,
            stop,
            delivered,
            per_site,
            connected,
            failures,
        }
    }

    /// Screens asked for, connected or not.
    pub fn screens(&self) -> usize {
        self.tasks.len()
    }

    /// Ends every screen and collects what each received.
    pub async fn finish(self) -> Vec<ScreenTally> {
        self.stop.cancel();
        let mut tallies = Vec::with_capacity(self.tasks.len());
        for task in self.tasks {
            if let Ok(tally) = task.await {
                tallies.push(tally);
            }
        }
        tallies
    }
}

/// One screen that connects and then stops reading, to stand for a wall
/// screen on a dead link. Dropped (and so disconnected) by `stop`.
pub async fn stuck_screen(
    plan: &FleetPlan,
    stop: CancellationToken,
) -> anyhow::Result<JoinHandle<()>> {
    let mut ws = handshake(plan, None, Some(STUCK_RECEIVE_BUFFER)).await?;
    tokio::time::timeout(CONNECT_TIMEOUT, ws.next())
        .await
        .context("no snapshot")?;
    Ok(tokio::spawn(async move {
        stop.cancelled().await;
        drop(ws);
    }))
}

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

struct Screen {
    tally: ScreenTally,
    run: u32,
    delivered: Arc<AtomicU64>,
}

impl Screen {
    async fn run(
        mut self,
        plan: &FleetPlan,
        gate: Arc<Semaphore>,
        ready: mpsc::UnboundedSender<Result<Option<u32>, String>>,
        stop: CancellationToken,
    ) -> ScreenTally {
        let connected = {
            // The permit bounds handshakes in flight; it is held until the
            // snapshot is in, so the server is never flooded with upgrades.
            let Ok(_permit) = gate.acquire().await else {
                self.tally.connected = false;
                return self.tally;
            };
            tokio::time::timeout(CONNECT_TIMEOUT, self.connect(plan))
                .await
                .unwrap_or_else(|_| Err(anyhow::anyhow!("timed out after {CONNECT_TIMEOUT:?}")))
        };
        let mut ws = match connected {
            Ok(ws) => {
                let _ = ready.send(Ok(self.tally.site));
                ws
            }
            Err(e) => {
                let _ = ready.send(Err(format!("{e:#}")));
                self.tally.connected = false;
                return self.tally;
            }
        };
        drop(ready);
        let stopped = stop.cancelled();
        tokio::pin!(stopped);
        loop {
            let message = tokio::select! {
                biased;
                () = &mut stopped => break,
                message = ws.next() => message,
            };
            match message {
                Some(Ok(Message::Text(text))) => self.on_text(&mut ws, text.as_str()).await,
                Some(Ok(Message::Close(_)) | Err(_)) | None => {
                    self.tally.ended_early = true;
                    break;
                }
                Some(Ok(_)) => {}
            }
        }
        self.tally
    }

    /// Connects and waits for the first snapshot: from then on the server
    /// delivers every event to this screen.
    async fn connect(&self, plan: &FleetPlan) -> anyhow::Result<Socket> {
        let mut ws = handshake(plan, self.tally.site, None).await?;
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    if let Frame::Snapshot { .. } = wire::scan(text.as_str()) {
                        return Ok(ws);
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e).context("reading the snapshot"),
                None => anyhow::bail!("closed before the snapshot"),
            }
        }
    }

    async fn on_text(&mut self, ws: &mut Socket, text: &str) {
        match observe(&mut self.tally, self.run, text, clock::now_ns()) {
            Seen::Delivery => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Seen::Heartbeat => {
                // Keeps the screen alive past three heartbeat intervals.
                let ts = chrono::Utc::now().timestamp();
                let pong = format!(r#"{{"event":"pong","ts":{ts}}}"#);
                // Bounded: a server that stopped reading must not hold the
                // screen (and so the end of the run) forever.
                let _ = tokio::time::timeout(PONG_TIMEOUT, ws.send(Message::text(pong))).await;
            }
            Seen::Nothing => {}
        }
    }
}

/// What a text frame meant to a screen.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// A first, wanted delivery of this run's alert.
    Delivery,
    /// A heartbeat, to answer.
    Heartbeat,
    /// Anything else (a repeat, another run's alert, a snapshot).
    Nothing,
}

/// Counts one received text frame into `tally`; the socket-free half of a
/// screen, so that the counting can be tested on a made-up stream.
fn observe(tally: &mut ScreenTally, run: u32, text: &str, now_ns: u64) -> Seen {
    match wire::scan(text) {
        Frame::Alert { run: r, n, sent_ns } if r == run && tally.record(n, sent_ns, now_ns) => {
            Seen::Delivery
        }
        Frame::Snapshot { reason: "lagged" } => {
            tally.lagged_snapshots += 1;
            Seen::Nothing
        }
        Frame::Heartbeat => Seen::Heartbeat,
        _ => Seen::Nothing,
    }
}

/// Opens the TCP connection and upgrades it, with small buffers: the
/// generator holds thousands of these, and frames are a few hundred bytes.
async fn handshake(
    plan: &FleetPlan,
    site: Option<u32>,
    receive_buffer: Option<u32>,
) -> anyhow::Result<Socket> {
    let socket = if plan.addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .context("socket")?;
    if let Some(size) = receive_buffer {
        socket.set_recv_buffer_size(size).context("SO_RCVBUF")?;
    }
    let tcp = socket
        .connect(plan.addr)
        .await
        .with_context(|| format!("connecting to {}", plan.addr))?;
    tcp.set_nodelay(true).context("TCP_NODELAY")?;
    let url = match site {
        Some(k) => format!("{}?sites=site-{k}", plan.ws_url),
        None => plan.ws_url.clone(),
    };
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(64 * 1024)
        .max_message_size(Some(64 << 20));
    let (ws, _) = tokio_tungstenite::client_async_with_config(url, tcp, Some(config))
        .await
        .context("WebSocket handshake")?;
    Ok(ws)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tally::{AlertSet, summarize};
    use noc_bench::percentile::quantile_ms;

    fn event(run: u32, n: u64, site: u32, sent_ns: u64) -> String {
        format!(
            r#"{{"event":"alert.created","seq":{n},"id":"bench-{run}-{n}","site":"site-{site}","severity":"critical","message":"bench {run} {n} {sent_ns}","host":null}}"#
        )
    }

    #[test]
    fn a_made_up_stream_is_counted_exactly() {
        // A screen of site 1 of 2, in run 7. Alerts 0..6 were accepted; the
        // stream repeats 3, skips 5, carries alert 2 of site 0 (misrouted),
        // an alert of another run, a heartbeat and a lagged snapshot.
        let mut tally = ScreenTally::new(Some(1), 2);
        let ms = 1_000_000;
        let stream = [
            (
                r#"{"event":"snapshot","reason":"connect","seq":0,"alerts":[]}"#.to_owned(),
                0,
            ),
            (event(7, 1, 1, 10 * ms), 12 * ms),
            (event(7, 3, 1, 20 * ms), 25 * ms),
            (event(7, 3, 1, 20 * ms), 26 * ms),
            (event(7, 2, 0, 30 * ms), 31 * ms),
            (event(8, 5, 1, 30 * ms), 31 * ms),
            (
                r#"{"event": "heartbeat", "ts": 1764358800}"#.to_owned(),
                40 * ms,
            ),
            (
                r#"{"event":"snapshot","reason":"lagged","seq":9,"alerts":[]}"#.to_owned(),
                50 * ms,
            ),
        ];
        let seen: Vec<Seen> = stream
            .iter()
            .map(|(text, now)| observe(&mut tally, 7, text, *now))
            .collect();
        assert_eq!(
            seen,
            [
                Seen::Nothing,
                Seen::Delivery,
                Seen::Delivery,
                Seen::Nothing,
                Seen::Nothing,
                Seen::Nothing,
                Seen::Heartbeat,
                Seen::Nothing,
            ]
        );
        let mut accepted = AlertSet::default();
        for n in 0..6 {
            accepted.insert(n);
        }
        let summary = summarize(&[tally], &accepted);
        // Site 1 takes 1, 3 and 5: 5 is lost.
        assert_eq!(
            (summary.expected, summary.delivered, summary.lost),
            (3, 2, 1)
        );
        assert_eq!((summary.duplicates, summary.misrouted), (1, 1));
        assert_eq!(summary.lagged_snapshots, 1);
        // Latencies 2 ms and 5 ms.
        let near = |q: f64, ms: f64| {
            quantile_ms(&summary.latency_us, q).is_some_and(|v| (v - ms).abs() < 0.01)
        };
        assert!(near(0.0, 2.0) && near(1.0, 5.0));
    }
}
