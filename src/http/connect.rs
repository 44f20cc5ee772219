//! Opening connections: unix sockets, TCP, and TLS over TCP (see `tls.rs`), and the
//! connection type the rest of the client reads and writes.

use std::io;
use std::pin::Pin;
#[cfg(any(feature = "tls", feature = "rustls"))]
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::transport::{Endpoint, TlsMaterial};
use crate::Error;

/// Where connections go, ready to dial.
#[derive(Clone)]
pub(crate) enum Target {
    #[cfg(unix)]
    Unix(std::path::PathBuf),
    Tcp(String),
    #[cfg(any(feature = "tls", feature = "rustls"))]
    Tls {
        authority: String,
        connector: Arc<super::tls::Connector>,
    },
}

impl Target {
    /// The dialable form of an endpoint; TLS material is checked here, so that bad
    /// material fails when the client is built.
    pub(crate) fn new(endpoint: &Endpoint, tls: Option<&TlsMaterial>) -> crate::Result<Target> {
        let config = |message: String| Error::Config { message };
        match endpoint {
            #[cfg(unix)]
            Endpoint::Unix(path) => Ok(Target::Unix(path.clone())),
            #[cfg(not(unix))]
            Endpoint::Unix(_) => Err(config("unix sockets need a unix system".into())),
            Endpoint::Http { authority } => Ok(Target::Tcp(with_port(authority, 2375))),
            #[cfg(any(feature = "tls", feature = "rustls"))]
            Endpoint::Https { authority } => Ok(Target::Tls {
                authority: with_port(authority, 2376),
                connector: Arc::new(super::tls::Connector::new(tls, host_of(authority))?),
            }),
            #[cfg(not(any(feature = "tls", feature = "rustls")))]
            Endpoint::Https { .. } => {
                let _ = tls;
                Err(config(
                    "https endpoints need berth's `tls` (or `rustls`) feature".into(),
                ))
            }
            // The client gives the tunnel's local socket as a unix endpoint instead.
            Endpoint::Ssh(target) => Err(config(format!(
                "{} needs its ssh tunnel first",
                target.display()
            ))),
        }
    }

    /// What the `Host` header says.
    pub(crate) fn host(&self) -> String {
        match self {
            #[cfg(unix)]
            Target::Unix(_) => "localhost".to_string(),
            Target::Tcp(authority) => authority.clone(),
            #[cfg(any(feature = "tls", feature = "rustls"))]
            Target::Tls { authority, .. } => authority.clone(),
        }
    }

    pub(crate) async fn connect(&self) -> io::Result<Conn> {
        let io = match self {
            #[cfg(unix)]
            Target::Unix(path) => Io::Unix(tokio::net::UnixStream::connect(path).await?),
            Target::Tcp(authority) => Io::Tcp(tcp(authority).await?),
            #[cfg(any(feature = "tls", feature = "rustls"))]
            Target::Tls {
                authority,
                connector,
            } => Io::Tls(Box::new(connector.connect(tcp(authority).await?).await?)),
        };
        Ok(Conn {
            io,
            buf: BytesMut::new(),
            reused: false,
            idle_since: None,
        })
    }
}

async fn tcp(authority: &str) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(authority).await?;
    // Heads and small bodies go in one write each: waiting to coalesce only adds latency.
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// `host:port`, with the engine's conventional port when none is given (as the docker CLI).
fn with_port(authority: &str, port: u16) -> String {
    let has_port = match authority.rsplit_once(':') {
        Some((host, _)) => !authority.starts_with('[') || host.ends_with(']'),
        None => false,
    };
    if has_port {
        authority.to_string()
    } else {
        format!("{authority}:{port}")
    }
}

#[cfg_attr(not(any(feature = "tls", feature = "rustls")), allow(dead_code))]
fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.split(':').next().unwrap_or(authority)
}

pub(crate) enum Io {
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
    Tcp(TcpStream),
    #[cfg(any(feature = "tls", feature = "rustls"))]
    Tls(Box<super::tls::Stream>),
}

/// One connection and the bytes read from it but not yet used.
pub(crate) struct Conn {
    pub(crate) io: Io,
    pub(crate) buf: BytesMut,
    /// It carried an earlier request (so the engine may have closed it meanwhile).
    pub(crate) reused: bool,
    /// When it went back to the pool.
    pub(crate) idle_since: Option<std::time::Instant>,
}

impl Conn {
    /// Room for a read: 64 KiB more when less than 4 KiB is left.
    fn make_room(&mut self) {
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(64 * 1024);
        }
    }

    /// Reads more bytes into `buf`; 0 at the end of the stream.
    pub(crate) async fn fill(&mut self) -> io::Result<usize> {
        use tokio::io::AsyncReadExt;
        self.make_room();
        match &mut self.io {
            #[cfg(unix)]
            Io::Unix(s) => s.read_buf(&mut self.buf).await,
            Io::Tcp(s) => s.read_buf(&mut self.buf).await,
            #[cfg(any(feature = "tls", feature = "rustls"))]
            Io::Tls(s) => s.read_buf(&mut self.buf).await,
        }
    }

    /// Whether `try_fill` can read (a TLS stream is read only through its own buffers).
    pub(crate) fn can_poll(&self) -> bool {
        match self.io {
            #[cfg(any(feature = "tls", feature = "rustls"))]
            Io::Tls(_) => false,
            _ => true,
        }
    }

    /// Reads what is there without waiting; `None` when nothing is (or for TLS).
    pub(crate) fn try_fill(&mut self) -> Option<io::Result<usize>> {
        self.make_room();
        let read = match &mut self.io {
            #[cfg(unix)]
            Io::Unix(s) => s.try_read_buf(&mut self.buf),
            Io::Tcp(s) => s.try_read_buf(&mut self.buf),
            #[cfg(any(feature = "tls", feature = "rustls"))]
            Io::Tls(_) => return None,
        };
        match read {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
            other => Some(other),
        }
    }

    /// Whether an idle connection still looks open: the engine has not closed it nor sent
    /// anything unasked. (A TLS connection is peeked at, not read, so that no record is
    /// lost.)
    pub(crate) fn looks_open(&self) -> bool {
        let mut byte = [0u8; 1];
        let open =
            |r: io::Result<usize>| matches!(r, Err(e) if e.kind() == io::ErrorKind::WouldBlock);
        match &self.io {
            #[cfg(unix)]
            Io::Unix(s) => open(s.try_read(&mut byte)),
            Io::Tcp(s) => open(s.try_read(&mut byte)),
            #[cfg(any(feature = "tls", feature = "rustls"))]
            Io::Tls(s) => {
                let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
                let mut peek = ReadBuf::new(&mut byte);
                match super::tls::tcp(s).poll_peek(&mut cx, &mut peek) {
                    Poll::Pending => true,
                    // Data waiting on an idle TLS connection is a session ticket or an alert.
                    Poll::Ready(Ok(n)) => n > 0,
                    Poll::Ready(Err(_)) => false,
                }
            }
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // What came with the head of an upgrade is read first.
        if !self.buf.is_empty() {
            let n = self.buf.len().min(out.remaining());
            out.put_slice(&self.buf[..n]);
            self.buf.advance(n);
            return Poll::Ready(Ok(()));
        }
        match &mut self.io {
            #[cfg(unix)]
            Io::Unix(s) => Pin::new(s).poll_read(cx, out),
            Io::Tcp(s) => Pin::new(s).poll_read(cx, out),
            #[cfg(any(feature = "tls", feature = "rustls"))]
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, out),
        }
    }
}

macro_rules! each_io {
    ($self:ident, $s:ident => $e:expr) => {
        match &mut $self.io {
            #[cfg(unix)]
            Io::Unix($s) => $e,
            Io::Tcp($s) => $e,
            #[cfg(any(feature = "tls", feature = "rustls"))]
            Io::Tls($s) => {
                let $s = $s.as_mut();
                $e
            }
        }
    };
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each_io!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_io!(self, s => Pin::new(s).poll_flush(cx))
    }

    /// Closes the write half only (stdin of an attached container); reading goes on.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_io!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_default_like_the_docker_cli() {
        assert_eq!(with_port("example.com", 2376), "example.com:2376");
        assert_eq!(with_port("example.com:1", 2376), "example.com:1");
        assert_eq!(with_port("[::1]", 2375), "[::1]:2375");
        assert_eq!(with_port("[::1]:9", 2375), "[::1]:9");
        assert_eq!(host_of("[::1]:9"), "::1");
        assert_eq!(host_of("docker.example:2376"), "docker.example");
    }
}
