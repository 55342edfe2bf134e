//! Plain TCP connections whose write side can be shared.
//!
//! hyper serves each connection through a [`SharedTcp`]; a WebSocket screen
//! keeps the [`Peer::socket`] half after its upgrade, so that the hub can
//! write an event's frame straight to every idle screen's socket from its
//! own task instead of waking one task per screen (see `outlet`).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::tls::TlsListener;

/// A TCP connection read by hyper and written by whoever holds its
/// shared write half.
pub struct SharedTcp {
    read: OwnedReadHalf,
    write: Arc<OwnedWriteHalf>,
}

impl SharedTcp {
    fn new(tcp: TcpStream) -> Self {
        let (read, write) = tcp.into_split();
        SharedTcp {
            read,
            write: Arc::new(write),
        }
    }

    fn tcp(&self) -> &TcpStream {
        (*self.write).as_ref()
    }

    /// Waits until the socket takes more bytes, then writes with `write`.
    fn poll_write_with(
        &self,
        cx: &mut Context<'_>,
        write: impl Fn(&OwnedWriteHalf) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.tcp().poll_write_ready(cx))?;
            match write(&self.write) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }
}

impl AsyncRead for SharedTcp {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.read).poll_read(cx, buf)
    }
}

impl AsyncWrite for SharedTcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |w| w.try_write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_with(cx, |w| w.try_write_vectored(bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Nothing is buffered here.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(socket2::SockRef::from(self.tcp()).shutdown(std::net::Shutdown::Write))
    }
}

/// A listener that hands hyper [`SharedTcp`] connections.
pub struct SharedTcpListener<L>(pub L);

impl<L> Listener for SharedTcpListener<L>
where
    L: Listener<Io = TcpStream, Addr = SocketAddr>,
{
    type Io = SharedTcp;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (tcp, addr) = self.0.accept().await;
        (SharedTcp::new(tcp), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// What a handler knows of the connection its request came on.
#[derive(Clone)]
pub struct Peer {
    pub addr: SocketAddr,
    /// The shared write half of a plain TCP connection; `None` over TLS,
    /// where every write must go through the encrypting stream.
    pub socket: Option<Arc<OwnedWriteHalf>>,
}

impl<L> Connected<IncomingStream<'_, SharedTcpListener<L>>> for Peer
where
    L: Listener<Io = TcpStream, Addr = SocketAddr>,
{
    fn connect_info(stream: IncomingStream<'_, SharedTcpListener<L>>) -> Self {
        Peer {
            addr: *stream.remote_addr(),
            socket: Some(stream.io().write.clone()),
        }
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        Peer {
            addr: *stream.remote_addr(),
            socket: None,
        }
    }
}
