//! Where a screen's bytes go. tungstenite writes its frames (pongs, close)
//! into the outlet through an [`OutletWriter`], so that they keep their place
//! among the event frames the hub queues there; the screen's task then
//! writes what the outlet holds to its [`Sink`].

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncWrite, AsyncWriteExt, Join, ReadHalf, WriteHalf};
use tokio::net::tcp::OwnedWriteHalf;
use tokio_tungstenite::WebSocketStream;

use crate::outlet::{Flushed, Outlet};

/// The WebSocket of a screen: read from the connection, written into the
/// outlet.
pub type Ws = WebSocketStream<Join<ReadHalf<TokioIo<Upgraded>>, OutletWriter>>;

/// Where tungstenite writes: into the outlet, so that its pongs and close
/// frames keep their place among the frames the hub writes.
pub struct OutletWriter(pub Arc<Outlet>);

impl AsyncWrite for OutletWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        // Whole frames only: tungstenite writes its buffer until it is
        // empty, and this takes all of it at once.
        self.0.send(Bytes::copy_from_slice(buf));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A pong tungstenite answers by itself must be written too.
        self.0.nudge();
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Where a screen's task writes what its outlet holds.
pub enum Sink {
    /// The plain TCP socket the hub writes to as well.
    Shared(Arc<OwnedWriteHalf>),
    /// The connection's own write side (TLS).
    Stream(WriteHalf<TokioIo<Upgraded>>),
}

/// The socket failed: nothing more can be written.
#[derive(Debug)]
pub struct Broken;

impl From<io::Error> for Broken {
    fn from(_: io::Error) -> Self {
        Broken
    }
}

impl Sink {
    /// Writes everything `outlet` holds, waiting for the socket as long as it
    /// takes. Cancel-safe: the outlet knows at every moment what has been
    /// written, so a write given up (a timeout, shutdown) leaves a queue
    /// that a close frame can still follow.
    pub async fn write_out(&mut self, outlet: &Outlet) -> Result<(), Broken> {
        match self {
            Sink::Shared(socket) => loop {
                match outlet.flush() {
                    Flushed::Done => return Ok(()),
                    Flushed::Blocked => socket.writable().await?,
                    Flushed::Failed => return Err(Broken),
                }
            },
            Sink::Stream(stream) => {
                while let Some(chunk) = outlet.front() {
                    match stream.write(&chunk).await? {
                        0 => return Err(Broken),
                        n => outlet.advance(n),
                    }
                }
                Ok(stream.flush().await?)
            }
        }
    }
}
