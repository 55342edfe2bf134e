//! A screen's outgoing bytes, in order.
//!
//! The hub offers each event frame to every screen that wants it. When
//! nothing waits before it, the frame goes straight to the socket from the
//! hub's task: the screen's own task does not wake, and an idle wall of
//! screens costs one `write` per screen per event. Only what the socket does
//! not take at once is queued; then the screen's task is woken to wait for
//! the socket and write the rest, and later frames queue behind it so the
//! order holds. Over TLS there is no shared socket: everything queues and
//! the screen's task writes it through the encrypting stream.
//!
//! A screen whose queue overflows is marked *lagged*: its queued events are
//! dropped and it sends a fresh snapshot instead. While a screen waits for a
//! snapshot (connect, resubscribe, lag) it is *paused*: events are held,
//! and those the snapshot already contains are dropped when it resumes.

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::Notify;

use crate::event::Frame;

/// The most queued chunks written with one system call.
const WRITE_BATCH: usize = 64;

/// One screen's outgoing bytes; see the module documentation.
pub struct Outlet {
    pending: Mutex<Pending>,
    /// Wakes the screen's task: bytes the socket did not take, or a resync.
    wake: Notify,
    /// The shared socket, when frames may be written from outside the
    /// screen's task.
    socket: Option<Arc<OwnedWriteHalf>>,
    /// Events a screen may have waiting before it counts as lagged.
    capacity: usize,
}

/// Bytes to write; `event` ones may be dropped for a snapshot.
struct Chunk {
    bytes: Bytes,
    event: bool,
}

struct Pending {
    queue: VecDeque<Chunk>,
    /// Bytes of the queue's front already written.
    written: usize,
    /// Event chunks in `queue` and `held`.
    events: usize,
    /// Events that came while paused, with their seq.
    held: Vec<(u64, Bytes)>,
    paused: bool,
    lagged: bool,
    /// A write failed: the connection is gone.
    failed: bool,
    /// The connection is closing: no more events.
    closed: bool,
    /// The highest seq the screen has or will get; older events are repeats.
    floor: u64,
}

/// What [`Outlet::flush`] achieved.
#[derive(Debug, PartialEq, Eq)]
pub enum Flushed {
    /// Everything is written.
    Done,
    /// The socket takes no more for now: wait until it is writable.
    Blocked,
    /// The socket failed.
    Failed,
}

impl Outlet {
    /// An outlet that holds events until its first [`Outlet::resume`].
    pub fn new(socket: Option<Arc<OwnedWriteHalf>>, capacity: usize) -> Self {
        Outlet {
            pending: Mutex::new(Pending {
                queue: VecDeque::new(),
                written: 0,
                events: 0,
                held: Vec::new(),
                paused: true,
                lagged: false,
                failed: false,
                closed: false,
                floor: 0,
            }),
            wake: Notify::new(),
            socket,
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        // Every change below leaves `Pending` consistent before it can panic.
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Resolves when the screen's task has something to do.
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Wakes the screen's task to write what is queued.
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    /// Hands the screen `frames` (in seq order, each wanted by its filter).
    /// Returns how many it took, and whether this offer made it lagged.
    pub fn offer(&self, frames: &[&Frame]) -> (usize, bool) {
        let mut p = self.lock();
        if p.lagged || p.failed || p.closed {
            return (0, false);
        }
        let fresh = frames.partition_point(|f| f.seq <= p.floor);
        let frames = &frames[fresh..];
        let Some(last) = frames.last() else {
            return (0, false);
        };
        p.floor = last.seq;
        if p.paused {
            if p.events + frames.len() > self.capacity {
                return (0, self.lag(&mut p));
            }
            p.held
                .extend(frames.iter().map(|f| (f.seq, f.wire.clone())));
            p.events += frames.len();
            return (frames.len(), false);
        }
        if let (true, Some(socket)) = (p.queue.is_empty(), &self.socket) {
            let written = match frames {
                [one] => socket.try_write(&one.wire),
                _ => {
                    let slices: Vec<_> = frames.iter().map(|f| IoSlice::new(&f.wire)).collect();
                    socket.try_write_vectored(&slices)
                }
            };
            match written {
                Ok(n) => p.queue_unwritten(frames, n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => p.queue_unwritten(frames, 0),
                Err(_) => p.failed = true,
            }
            if p.failed || !p.queue.is_empty() {
                self.wake.notify_one();
            }
            return if p.failed {
                (0, false)
            } else {
                (frames.len(), false)
            };
        }
        if p.events + frames.len() > self.capacity {
            return (0, self.lag(&mut p));
        }
        p.queue_unwritten(frames, 0);
        self.wake.notify_one();
        (frames.len(), false)
    }

    /// Drops the waiting events and asks the screen's task for a snapshot.
    /// Returns true (for the caller's count) unless it was lagged already.
    fn lag(&self, p: &mut Pending) -> bool {
        p.drop_events();
        self.wake.notify_one();
        !std::mem::replace(&mut p.lagged, true)
    }

    /// Marks the screen lagged as if its queue had overflowed (the hub may
    /// have missed events). Returns true unless it was lagged already.
    pub fn force_lag(&self) -> bool {
        let mut p = self.lock();
        self.lag(&mut p)
    }

    /// True once after the screen lagged; it is paused from then until the
    /// snapshot it must now send ([`Outlet::resume`]).
    pub fn take_lagged(&self) -> bool {
        let mut p = self.lock();
        let lagged = std::mem::replace(&mut p.lagged, false);
        if lagged {
            p.paused = true;
        }
        lagged
    }

    /// Holds events until [`Outlet::resume`]; drops those still waiting,
    /// which the coming snapshot replaces.
    pub fn pause(&self) {
        let mut p = self.lock();
        p.paused = true;
        p.drop_events();
    }

    /// Takes no more events: the connection is closing, and nothing may
    /// follow its close frame. What is queued already is dropped too.
    pub fn close(&self) {
        let mut p = self.lock();
        p.closed = true;
        p.drop_events();
    }

    /// Like [`Outlet::close`], for a screen that does not read: its own
    /// frames (snapshot, heartbeats) are dropped as well, so that the close
    /// frame queued next is not stuck behind them. Only the rest of a frame
    /// already partly written stays (cutting it would break the stream).
    pub fn abandon(&self) {
        let mut p = self.lock();
        p.closed = true;
        p.drop_unwritten(false);
    }

    /// Queues `snapshot` (taken at `seq`), then the held events it does not
    /// contain, and lets events through again. Write with [`Outlet::flush`].
    pub fn resume(&self, snapshot: Bytes, seq: u64) {
        let mut p = self.lock();
        p.push(snapshot, false);
        let held = std::mem::take(&mut p.held);
        p.events -= held.len();
        for (_, wire) in held.into_iter().filter(|(s, _)| *s > seq) {
            p.push(wire, true);
        }
        p.floor = p.floor.max(seq);
        p.paused = false;
    }

    /// Queues a frame of the screen's own (snapshot, heartbeat, error,
    /// control); it is written by the next [`Outlet::flush`].
    pub fn send(&self, bytes: Bytes) {
        self.lock().push(bytes, false);
    }

    /// Writes what is queued to the shared socket, as far as it takes it.
    pub fn flush(&self) -> Flushed {
        let Some(socket) = &self.socket else {
            return Flushed::Failed;
        };
        let mut p = self.lock();
        while !p.queue.is_empty() {
            let skip = p.written;
            let slices: Vec<_> = p
                .queue
                .iter()
                .take(WRITE_BATCH)
                .enumerate()
                .map(|(i, c)| IoSlice::new(if i == 0 { &c.bytes[skip..] } else { &c.bytes }))
                .collect();
            match socket.try_write_vectored(&slices) {
                Ok(n) => p.advance(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Flushed::Blocked,
                Err(_) => {
                    p.failed = true;
                    return Flushed::Failed;
                }
            }
        }
        Flushed::Done
    }

    /// The unwritten bytes of the oldest queued frame, for a screen that
    /// writes through its own stream (TLS); mark what the stream took with
    /// [`Outlet::advance`]. Written a piece at a time like this, a write
    /// that is given up leaves the queue exact.
    pub fn front(&self) -> Option<Bytes> {
        let p = self.lock();
        let front = p.queue.front()?;
        Some(front.bytes.slice(p.written..))
    }

    /// Marks `n` more bytes of [`Outlet::front`] as written.
    pub fn advance(&self, n: usize) {
        self.lock().advance(n);
    }

    /// Takes everything queued (for tests).
    #[cfg(test)]
    pub fn take_queued(&self) -> Vec<Bytes> {
        let mut p = self.lock();
        let written = std::mem::take(&mut p.written);
        let mut chunks: Vec<Bytes> = p.queue.drain(..).map(|c| c.bytes).collect();
        if let Some(front) = chunks.first_mut() {
            *front = front.slice(written..);
        }
        p.events = p.held.len();
        chunks
    }
}

impl Pending {
    fn push(&mut self, bytes: Bytes, event: bool) {
        self.events += usize::from(event);
        self.queue.push_back(Chunk { bytes, event });
    }

    /// Queues what of `frames` the first `written` bytes did not cover.
    fn queue_unwritten(&mut self, frames: &[&Frame], mut written: usize) {
        for frame in frames {
            let len = frame.wire.len();
            if written >= len {
                written -= len;
                continue;
            }
            if self.queue.is_empty() {
                self.written = written;
            }
            written = 0;
            self.push(frame.wire.clone(), true);
        }
    }

    /// Marks `n` more bytes of the queue as written.
    fn advance(&mut self, mut n: usize) {
        while let Some(front) = self.queue.front() {
            let left = front.bytes.len() - self.written;
            if n < left {
                self.written += n;
                return;
            }
            n -= left;
            self.written = 0;
            if let Some(done) = self.queue.pop_front() {
                self.events -= usize::from(done.event);
            }
        }
        // A screen that was behind does not keep its longest queue.
        if self.queue.is_empty() && self.queue.capacity() > 2 * WRITE_BATCH {
            self.queue.shrink_to(WRITE_BATCH);
        }
    }

    /// Drops held and queued events, except a frame already partly
    /// written (cutting it would break the stream).
    fn drop_events(&mut self) {
        self.drop_unwritten(true);
    }

    /// Drops held and queued events, and the screen's own frames too unless
    /// `keep_own`; never the rest of a frame already partly written.
    fn drop_unwritten(&mut self, keep_own: bool) {
        let partial = self.written > 0;
        let mut index = 0;
        self.queue.retain(|c| {
            let keep = (keep_own && !c.event) || (partial && index == 0);
            index += 1;
            keep
        });
        self.held.clear();
        self.events = self.queue.iter().filter(|c| c.event).count();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::{TcpListener, TcpStream};

    fn frame(seq: u64, body: &str) -> Frame {
        Frame::from_parts(seq, Bytes::from(body.to_owned()))
    }

    fn bytes_of(chunks: Vec<Bytes>) -> String {
        chunks
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    }

    #[test]
    fn holds_until_the_snapshot_and_drops_what_it_contains() {
        let outlet = Outlet::new(None, 8);
        let (a, b, c) = (frame(1, "a"), frame(2, "b"), frame(3, "c"));
        assert_eq!(outlet.offer(&[&a, &b]), (2, false));
        outlet.resume(Bytes::from_static(b"S"), 1);
        assert_eq!(
            outlet.offer(&[&b, &c]),
            (1, false),
            "seq 2 is not sent twice"
        );
        assert_eq!(bytes_of(outlet.take_queued()), "Sbc");
    }

    #[test]
    fn an_overflow_drops_events_and_asks_for_a_snapshot_once() {
        let outlet = Outlet::new(None, 2);
        outlet.resume(Bytes::from_static(b"S"), 0);
        let frames: Vec<_> = (1..=3).map(|s| frame(s, "e")).collect();
        assert_eq!(outlet.offer(&[&frames[0], &frames[1]]), (2, false));
        assert_eq!(outlet.offer(&[&frames[2]]), (0, true));
        assert_eq!(
            outlet.offer(&[&frame(4, "e")]),
            (0, false),
            "dropped while lagged"
        );
        assert!(outlet.take_lagged());
        assert!(!outlet.take_lagged(), "reported once");
        assert_eq!(
            outlet.offer(&[&frame(5, "f")]),
            (1, false),
            "held while paused"
        );
        outlet.resume(Bytes::from_static(b"L"), 4);
        assert_eq!(
            bytes_of(outlet.take_queued()),
            "SLf",
            "the first snapshot was not an event"
        );
    }

    #[test]
    fn pausing_drops_waiting_events_but_not_the_screens_own_frames() {
        let outlet = Outlet::new(None, 8);
        outlet.resume(Bytes::from_static(b"S"), 0);
        outlet.offer(&[&frame(1, "a")]);
        outlet.send(Bytes::from_static(b"H"));
        outlet.pause();
        outlet.resume(Bytes::from_static(b"T"), 1);
        assert_eq!(bytes_of(outlet.take_queued()), "SHT");
    }

    #[test]
    fn abandoning_keeps_only_the_rest_of_a_partly_written_frame() {
        let outlet = Outlet::new(None, 8);
        outlet.resume(Bytes::from_static(b"SNAP"), 0);
        outlet.offer(&[&frame(1, "event")]);
        outlet.send(Bytes::from_static(b"H"));
        outlet.advance(2);
        assert_eq!(outlet.front().as_deref(), Some(&b"AP"[..]));
        outlet.abandon();
        outlet.send(Bytes::from_static(b"C"));
        assert_eq!(bytes_of(outlet.take_queued()), "APC");
        assert_eq!(outlet.offer(&[&frame(2, "late")]), (0, false), "closed");
    }

    /// A connected pair with small kernel buffers, so that the socket fills.
    async fn pair() -> (Arc<OwnedWriteHalf>, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr"))
            .await
            .expect("connect");
        let (server, _) = listener.accept().await.expect("accept");
        socket2::SockRef::from(&server)
            .set_send_buffer_size(4096)
            .expect("sndbuf");
        socket2::SockRef::from(&client)
            .set_recv_buffer_size(4096)
            .expect("rcvbuf");
        let (_read, write) = server.into_split();
        (Arc::new(write), client)
    }

    #[tokio::test]
    async fn writes_straight_to_the_socket_and_queues_what_it_does_not_take() {
        let (socket, mut client) = pair().await;
        let outlet = Outlet::new(Some(socket.clone()), 100_000);
        outlet.resume(Bytes::from_static(b"S"), 0);
        assert_eq!(outlet.flush(), Flushed::Done);
        // 1,000 frames of 1 KB, far beyond what the kernel buffers hold.
        let frames: Vec<_> = (1..=1000)
            .map(|seq| frame(seq, &format!("{seq:0>1000}|")))
            .collect();
        let mut expected = String::from("S");
        for f in &frames {
            assert_eq!(outlet.offer(&[f]), (1, false));
            expected.push_str(std::str::from_utf8(&f.wire).expect("utf8"));
        }
        assert!(!outlet.lock().queue.is_empty(), "the socket filled up");
        let reader = tokio::spawn(async move {
            let mut got = vec![0; expected.len()];
            client.read_exact(&mut got).await.expect("read");
            assert_eq!(String::from_utf8(got).expect("utf8"), expected);
        });
        while outlet.flush() == Flushed::Blocked {
            socket.writable().await.expect("writable");
        }
        reader.await.expect("every byte arrives once, in order");
    }
}
