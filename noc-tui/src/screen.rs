//! The full-screen loop: one task that owns the [`App`] and the terminal and
//! waits on the keyboard, the network task's channel, a once-a-second clock
//! and, only when something changed, the next frame. It draws at most
//! [`FRAME_RATE`] times a second however fast alerts arrive, and not at all
//! between clock ticks when nothing happens.
//!
//! [`event_loop`] takes its terminal, key source and stop signal as
//! arguments, so that the storm benchmark (`noc-tui-storm`) drives this very
//! loop with a synthetic feed, injected keys and a terminal that writes to
//! nowhere.

use std::future::Future;
use std::io::{self, Write};
use std::time::Duration;

use crossterm::event::{Event, EventStream};
use futures_util::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until, timeout};

use crate::api::{ApiClient, Reply, Request};
use crate::app::{App, Effects, Msg, Now, update};
use crate::cli::Config;
use crate::input;
use crate::net::{self, Command, NetEvent, NetOptions};
use crate::terminal;

/// Frames per second at most.
pub const FRAME_RATE: u32 = 30;

/// Events the network task may queue before it waits for the screen.
pub const EVENT_QUEUE: usize = 1024;

/// Network events applied in one go before the loop looks at the keyboard
/// and the frame timer again, so a storm cannot starve either.
const DRAIN_BATCH: usize = 512;

/// True unless `NO_COLOR` is set to a non-empty value (no-color.org).
pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Runs the full-screen view until a quit key, SIGTERM/SIGHUP/SIGINT, or an
/// error. The terminal is restored in every case.
pub async fn run(config: Config) -> io::Result<()> {
    let (events_tx, mut events_rx) = mpsc::channel(EVENT_QUEUE);
    // Owned here: dropping it on the way out tells the network task to close
    // the socket and end.
    let (commands_tx, commands_rx) = mpsc::channel(4);
    let network = tokio::spawn(net::run(
        config.clone(),
        NetOptions::default(),
        events_tx,
        commands_rx,
    ));

    let api = ApiClient::new(&config).map_err(io::Error::other)?;
    let mut guard = terminal::enter()?;
    let mut app = App::new(&config, Now::current());
    app.color = color_enabled();
    let size = guard.terminal.size()?;
    app.size = (size.width, size.height);

    let result = match StopSignals::new() {
        Ok(mut stop) => {
            event_loop(
                &mut guard.terminal,
                &mut app,
                Server {
                    events: &mut events_rx,
                    commands: &commands_tx,
                    api: Some(&api),
                },
                &mut EventStream::new(),
                async move { stop.recv().await },
                &mut |_| {},
            )
            .await
        }
        Err(e) => Err(e),
    };

    drop(commands_tx);
    drop(events_rx);
    let _ = timeout(Duration::from_secs(2), network).await;
    drop(guard);
    result
}

/// The loop's ways to the server: the network task's events and commands,
/// and the API client for the operator's actions (`None` in the benchmark,
/// whose requests are then answered with an error at once).
pub struct Server<'a> {
    pub events: &'a mut mpsc::Receiver<NetEvent>,
    pub commands: &'a mpsc::Sender<Command>,
    pub api: Option<&'a ApiClient>,
}

/// The screen's loop: applies keys from `keys`, network events from
/// `server.events`, the replies of the API calls it makes through
/// `server.api`, and clock ticks to `app`, and draws it on `terminal` at most
/// [`FRAME_RATE`] times a second, until a quit key, the end of `keys`, or
/// `stop` resolves. `on_frame` sees the state each frame was drawn from,
/// right after the frame is written (the benchmark times keys with it; the
/// client passes a no-op).
pub async fn event_loop<W, K, S>(
    terminal: &mut Terminal<CrosstermBackend<W>>,
    app: &mut App,
    server: Server<'_>,
    keys: &mut K,
    stop: S,
    on_frame: &mut dyn FnMut(&App),
) -> io::Result<()>
where
    W: Write,
    K: Stream<Item = io::Result<Event>> + Unpin,
    S: Future<Output = ()>,
{
    let Server {
        events,
        commands,
        api,
    } = server;
    let frame_time = Duration::from_secs(1) / FRAME_RATE;
    // API replies come back here; the loop holds a sender for the tasks it
    // spawns, so the channel never closes while it runs.
    let (replies_tx, mut replies) = mpsc::channel::<Reply>(16);
    let mut clock = clock_tick();
    let mut stop = std::pin::pin!(stop);
    let mut dirty = true;
    let mut next_frame = Instant::now();
    loop {
        let effects = tokio::select! {
            key = keys.next() => match key {
                Some(Ok(event)) => match to_msg(app, event) {
                    Some(msg) => update(app, msg, Now::current()),
                    None => Effects::default(),
                },
                Some(Err(e)) => return Err(e),
                // The terminal is gone (e.g. the console was closed).
                None => return Ok(()),
            },
            event = events.recv() => match event {
                Some(event) => apply_burst(app, event, events),
                None => return Err(io::Error::other("the network task stopped")),
            },
            Some(reply) = replies.recv() => update(app, Msg::Api(reply), Now::current()),
            _ = clock.tick() => update(app, Msg::Tick, Now::current()),
            () = sleep_until(next_frame), if dirty => {
                terminal.draw(|frame| frame.render_widget(&*app, frame.area()))?;
                on_frame(app);
                dirty = false;
                next_frame = Instant::now() + frame_time;
                continue;
            }
            () = &mut stop => return Ok(()),
        };
        dirty |= effects.redraw;
        if effects.bell {
            ring_bell(terminal)?;
        }
        if effects.reconnect_now {
            // A full queue already holds a request; one is enough.
            let _ = commands.try_send(Command::ReconnectNow);
        }
        for request in effects.requests {
            spawn_request(api, app.link.url(), request, &replies_tx);
        }
        if app.quit {
            return Ok(());
        }
    }
}

/// Sends `request` on a task of its own; the reply comes back on
/// `replies`. Without a client (the benchmark), the reply says so.
fn spawn_request(
    api: Option<&ApiClient>,
    ws_url: &str,
    request: Request,
    replies: &mpsc::Sender<Reply>,
) {
    let replies = replies.clone();
    let Some(api) = api.cloned() else {
        let _ = replies.try_send(Reply::Done {
            request,
            result: Err("no API client".to_owned()),
        });
        return;
    };
    let ws_url = ws_url.to_owned();
    tokio::spawn(async move {
        let reply = api.send(&ws_url, request).await;
        // The screen may have quit meanwhile; then nobody needs the reply.
        let _ = replies.send(reply).await;
    });
}

/// Applies `first` and whatever else is already queued, up to a batch, and
/// merges their effects.
fn apply_burst(app: &mut App, first: NetEvent, events: &mut mpsc::Receiver<NetEvent>) -> Effects {
    let now = Now::current();
    let mut effects = update(app, Msg::Net(first), now);
    for _ in 1..DRAIN_BATCH {
        let Ok(event) = events.try_recv() else { break };
        effects.merge(update(app, Msg::Net(event), now));
    }
    effects
}

/// The terminal events the screen cares about, keys read through the key
/// map of whatever has the keyboard.
fn to_msg(app: &App, event: Event) -> Option<Msg> {
    match event {
        Event::Key(key) => input::action(app.mode, key).map(Msg::Action),
        Event::Resize(width, height) => Some(Msg::Resize { width, height }),
        _ => None,
    }
}

/// A tick on every whole second of the wall clock, so the clock on screen
/// changes when the second does.
fn clock_tick() -> tokio::time::Interval {
    let into_second = chrono::Utc::now().timestamp_subsec_millis();
    let to_next = Duration::from_millis(u64::from(1000 - into_second.min(999)));
    let mut tick = interval_at(Instant::now() + to_next, Duration::from_secs(1));
    // After a stall, one tick is enough: the clock reads the time anyway.
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    tick
}

/// Rings the terminal bell (BEL), which a Linux console sounds or flashes.
fn ring_bell<W: Write>(terminal: &mut Terminal<CrosstermBackend<W>>) -> io::Result<()> {
    let out = terminal.backend_mut();
    out.write_all(b"\x07")?;
    out.flush()
}

/// The signals that end the screen cleanly: SIGTERM (systemd stop), SIGHUP
/// (the terminal went away) and SIGINT (raw mode turns Ctrl-C into a key,
/// but `kill -INT` still arrives as a signal).
pub struct StopSignals {
    #[cfg(unix)]
    signals: [tokio::signal::unix::Signal; 3],
}

impl StopSignals {
    /// Starts listening.
    pub fn new() -> io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignals {
                signals: [
                    signal(SignalKind::terminate())?,
                    signal(SignalKind::hangup())?,
                    signal(SignalKind::interrupt())?,
                ],
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignals {})
    }

    /// Resolves when any of the signals arrives.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        {
            let [term, hup, int] = &mut self.signals;
            tokio::select! {
                _ = term.recv() => {}
                _ = hup.recv() => {}
                _ = int.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
