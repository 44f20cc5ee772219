//! The bottom layer: where an engine listens ([`Endpoint`]) and the byte streams to it —
//! unix sockets, TCP, TLS over TCP (`tls.rs`), and `ssh -L` tunnels that end in a local
//! unix socket (`ssh.rs`). It knows nothing of HTTP.

mod endpoint;
pub(crate) mod ssh;
#[cfg(feature = "tls")]
mod tls;

use std::io;
use std::pin::Pin;
#[cfg(feature = "tls")]
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

pub use endpoint::{Endpoint, TlsMaterial};

use crate::error::{Error, Result};

/// Where connections go, ready to dial.
#[derive(Clone)]
pub(crate) enum Target {
    #[cfg(unix)]
    Unix(std::path::PathBuf),
    Tcp(String),
    #[cfg(feature = "tls")]
    Tls {
        authority: String,
        connector: Arc<tls::Connector>,
    },
}

impl Target {
    /// The dialable form of an endpoint; TLS material is checked here, so that bad
    /// material fails when the client is built.
    pub(crate) fn new(endpoint: &Endpoint, tls: Option<&TlsMaterial>) -> Result<Target> {
        let config = |message: String| Error::Config { message };
        match endpoint {
            #[cfg(unix)]
            Endpoint::Unix(path) => Ok(Target::Unix(path.clone())),
            #[cfg(not(unix))]
            Endpoint::Unix(_) => Err(config("unix sockets need a unix system".into())),
            Endpoint::Http { authority } => Ok(Target::Tcp(with_port(authority, 2375))),
            #[cfg(feature = "tls")]
            Endpoint::Https { authority } => Ok(Target::Tls {
                authority: with_port(authority, 2376),
                connector: Arc::new(tls::Connector::new(tls, host_of(authority))?),
            }),
            #[cfg(not(feature = "tls"))]
            Endpoint::Https { .. } => {
                let _ = tls;
                Err(config("https endpoints need berth's `tls` feature".into()))
            }
            // The client gives the tunnel's local socket as a unix endpoint instead.
            Endpoint::Ssh(target) => Err(config(format!(
                "{} needs its ssh tunnel first",
                target.display()
            ))),
        }
    }

    /// What the `Host` header says.
    pub(crate) fn host(&self) -> &str {
        match self {
            #[cfg(unix)]
            Target::Unix(_) => "localhost",
            Target::Tcp(authority) => authority,
            #[cfg(feature = "tls")]
            Target::Tls { authority, .. } => authority,
        }
    }

    /// Opens a stream (for TLS, through the handshake).
    pub(crate) async fn connect(&self) -> io::Result<Stream> {
        Ok(match self {
            #[cfg(unix)]
            Target::Unix(path) => Stream::Unix(tokio::net::UnixStream::connect(path).await?),
            Target::Tcp(authority) => Stream::Tcp(tcp(authority).await?),
            #[cfg(feature = "tls")]
            Target::Tls {
                authority,
                connector,
            } => Stream::Tls(Box::new(connector.connect(tcp(authority).await?).await?)),
        })
    }

    /// A TLS failure among an error's sources, in words (see `tls.rs`).
    pub(crate) fn tls_failure(&self, error: &(dyn std::error::Error + 'static)) -> Option<String> {
        match self {
            #[cfg(feature = "tls")]
            Target::Tls { connector, .. } => connector.failure(error),
            _ => {
                let _ = error;
                None
            }
        }
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

#[cfg_attr(not(feature = "tls"), allow(dead_code))]
fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.split(':').next().unwrap_or(authority)
}

/// A connected byte stream to an engine.
pub(crate) enum Stream {
    #[cfg(unix)]
    Unix(tokio::net::UnixStream),
    Tcp(TcpStream),
    #[cfg(feature = "tls")]
    Tls(Box<tls::Stream>),
}

macro_rules! each_stream {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            #[cfg(unix)]
            Stream::Unix($s) => $e,
            Stream::Tcp($s) => $e,
            #[cfg(feature = "tls")]
            Stream::Tls($s) => {
                let $s = $s.as_mut();
                $e
            }
        }
    };
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each_stream!(self, s => Pin::new(s).poll_read(cx, out))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each_stream!(self, s => Pin::new(s).poll_write(cx, buf))
    }

    /// Vectored writes pass through, so that hyper sends a body's chunks without first
    /// copying them behind the head.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each_stream!(self, s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            #[cfg(unix)]
            Stream::Unix(s) => s.is_write_vectored(),
            Stream::Tcp(s) => s.is_write_vectored(),
            #[cfg(feature = "tls")]
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_stream!(self, s => Pin::new(s).poll_flush(cx))
    }

    /// Closes the write half only (stdin of an attached container); reading goes on.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each_stream!(self, s => Pin::new(s).poll_shutdown(cx))
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
