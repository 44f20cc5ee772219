//! `Upgraded`: the hijacked connection of attach and exec start.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{ByteStream, FrameStream};

enum Io {
    Hijacked(crate::http::UpgradedIo),
    /// The engine did not hijack (a detached exec): output only, writes fail.
    ReadOnly(Pin<Box<dyn AsyncRead + Send>>),
}

/// A bidirectional connection to a container's stdio: write stdin (`AsyncWrite`), read the
/// output (`AsyncRead`, or [`Upgraded::split`] then frames), `shutdown` to close stdin.
pub struct Upgraded {
    io: Io,
    /// Named by the frames' errors.
    operation: String,
}

impl std::fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.io {
            Io::Hijacked(_) => "Upgraded(hijacked)",
            Io::ReadOnly(_) => "Upgraded(read-only)",
        })
    }
}

impl Upgraded {
    pub(crate) fn hijacked(io: crate::http::UpgradedIo, operation: String) -> Upgraded {
        Upgraded {
            io: Io::Hijacked(io),
            operation,
        }
    }

    pub(crate) fn from_stream(stream: ByteStream) -> Upgraded {
        Upgraded {
            operation: stream.operation().to_string(),
            io: Io::ReadOnly(Box::pin(stream.into_async_read())),
        }
    }

    /// The read half as a frame stream (no TTY) or raw frames (TTY), and the write half.
    ///
    /// ```no_run
    /// # #[cfg(feature = "docker-v1_55")]
    /// # async fn demo(docker: berth::Client) -> berth::Result<()> {
    /// use berth::docker::v1_55::containers::ContainerAttach;
    /// use tokio::io::AsyncWriteExt;
    /// let attached = docker
    ///     .invoke(ContainerAttach { id: "conny-reader".into(), stream: Some(true), stdin: Some(true), ..Default::default() })
    ///     .await?;
    /// let (_output, mut stdin) = attached.split(false);
    /// stdin.write_all(b"hello").await?;
    /// stdin.shutdown().await?; // closes the container's stdin
    /// # Ok(()) }
    /// ```
    /// More in `examples/attach_stdin.rs`.
    pub fn split(self, tty: bool) -> (FrameStream, UpgradedWriter) {
        let operation = self.operation.clone();
        let (read, write) = tokio::io::split(self);
        let bytes = ByteStream::from_reader(read, operation);
        let frames = super::Multiplexed::new(bytes).output(tty);
        (frames, UpgradedWriter { inner: write })
    }
}

/// The write half of an [`Upgraded`] connection: stdin. `shutdown()` closes stdin.
pub struct UpgradedWriter {
    inner: tokio::io::WriteHalf<Upgraded>,
}

impl AsyncWrite for UpgradedWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl AsyncRead for Upgraded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match &mut self.io {
            Io::Hijacked(io) => Pin::new(io).poll_read(cx, buf),
            Io::ReadOnly(r) => r.as_mut().poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Upgraded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match &mut self.io {
            Io::Hijacked(io) => Pin::new(io).poll_write(cx, buf),
            Io::ReadOnly(_) => Poll::Ready(Err(std::io::Error::other(
                "the engine did not hijack this connection: it is read-only",
            ))),
        }
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match &mut self.io {
            Io::Hijacked(io) => Pin::new(io).poll_flush(cx),
            Io::ReadOnly(_) => Poll::Ready(Ok(())),
        }
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match &mut self.io {
            Io::Hijacked(io) => Pin::new(io).poll_shutdown(cx),
            Io::ReadOnly(_) => Poll::Ready(Ok(())),
        }
    }
}
