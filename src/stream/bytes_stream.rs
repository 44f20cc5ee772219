//! `ByteStream`: a body as it comes, never buffered whole.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;

use crate::Error;

type Inner = Pin<Box<dyn Stream<Item = crate::Result<Bytes>> + Send>>;

/// The bytes of a body as they arrive (`Stream<Item = Result<Bytes>>`), with an
/// `AsyncRead` view. The client's read timeout applies between chunks.
pub struct ByteStream {
    inner: Inner,
    idle: Option<(Duration, Pin<Box<tokio::time::Sleep>>)>,
    context: String,
}

impl ByteStream {
    pub(crate) fn new(inner: Inner, idle: Option<Duration>, context: String) -> ByteStream {
        let idle = idle.map(|d| (d, Box::pin(tokio::time::sleep(d))));
        ByteStream {
            inner,
            idle,
            context,
        }
    }

    pub(crate) fn from_response(
        response: reqwest::Response,
        idle: Option<Duration>,
        endpoint: String,
        operation: String,
    ) -> ByteStream {
        let op = operation.clone();
        let inner = response.bytes_stream().map(move |chunk| {
            chunk.map_err(|source| {
                if source.is_timeout() {
                    Error::Timeout {
                        endpoint: endpoint.clone(),
                        operation: op.clone(),
                        which: "read",
                    }
                } else {
                    Error::Transport {
                        endpoint: endpoint.clone(),
                        operation: op.clone(),
                        source,
                    }
                }
            })
        });
        ByteStream::new(Box::pin(inner), idle, operation)
    }

    pub(crate) fn from_reader<R: tokio::io::AsyncRead + Send + 'static>(
        reader: R,
        context: String,
    ) -> ByteStream {
        let inner = tokio_util::io::ReaderStream::new(reader).map(|r| r.map_err(Error::Io));
        ByteStream::new(Box::pin(inner), None, context)
    }

    /// A stream of one chunk.
    pub fn once(bytes: Bytes) -> ByteStream {
        let inner = futures_util::stream::iter((!bytes.is_empty()).then_some(Ok(bytes)));
        ByteStream::new(Box::pin(inner), None, String::new())
    }

    /// Reads everything (for small bodies; archives should be streamed).
    /// Example: `examples/archive_get.rs`.
    pub async fn collect(mut self) -> crate::Result<Bytes> {
        let mut all = BytesMut::new();
        while let Some(chunk) = self.next().await {
            all.extend_from_slice(&chunk?);
        }
        Ok(all.freeze())
    }

    /// Copies the stream into a writer (a file, stdout) chunk by chunk; returns the size.
    pub async fn copy_to<W: tokio::io::AsyncWrite + Unpin>(
        mut self,
        writer: &mut W,
    ) -> crate::Result<u64> {
        use tokio::io::AsyncWriteExt;
        let mut total = 0;
        while let Some(chunk) = self.next().await {
            let chunk = chunk?;
            writer.write_all(&chunk).await?;
            total += chunk.len() as u64;
        }
        writer.flush().await?;
        Ok(total)
    }

    /// An `AsyncRead` over the stream (for `tar::Archive`, `tokio::io::copy`, ...).
    /// Example: `examples/attach_stdin.rs` reads the archive of `/out` with the `tar` crate.
    pub fn into_async_read(self) -> impl tokio::io::AsyncRead + Send + Unpin {
        tokio_util::io::StreamReader::new(self.map(|r| r.map_err(std::io::Error::other)))
    }
}

impl Stream for ByteStream {
    type Item = crate::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match this.inner.as_mut().poll_next(cx) {
            Poll::Ready(item) => {
                if let Some((duration, sleep)) = &mut this.idle {
                    sleep
                        .as_mut()
                        .reset(tokio::time::Instant::now() + *duration);
                }
                Poll::Ready(item)
            }
            Poll::Pending => {
                if let Some((_, sleep)) = &mut this.idle {
                    if sleep.as_mut().poll(cx).is_ready() {
                        this.idle = None;
                        return Poll::Ready(Some(Err(Error::Timeout {
                            endpoint: String::new(),
                            operation: this.context.clone(),
                            which: "read",
                        })));
                    }
                }
                Poll::Pending
            }
        }
    }
}

impl std::fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ByteStream({})", self.context)
    }
}
