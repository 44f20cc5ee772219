//! `ByteStream`: a body as it comes, never buffered whole.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;

use crate::Error;

type Inner = Pin<Box<dyn Stream<Item = crate::Result<Bytes>> + Send>>;

/// The bytes of a body as they arrive (`Stream<Item = Result<Bytes>>`), with an
/// `AsyncRead` view. The client's read timeout applies between chunks.
pub struct ByteStream {
    inner: Inner,
    context: String,
}

impl ByteStream {
    pub(crate) fn new(inner: Inner, context: String) -> ByteStream {
        ByteStream { inner, context }
    }

    /// An answer's body being read; the read timeout applies between its pieces.
    pub(crate) fn from_body(
        body: crate::http::Body,
        endpoint: String,
        operation: String,
    ) -> ByteStream {
        let context = operation.clone();
        ByteStream::new(
            Box::pin(BodyStream {
                body,
                endpoint,
                operation,
            }),
            context,
        )
    }

    pub(crate) fn from_reader<R: tokio::io::AsyncRead + Send + 'static>(
        reader: R,
        context: String,
    ) -> ByteStream {
        let inner = tokio_util::io::ReaderStream::new(reader).map(|r| r.map_err(Error::Io));
        ByteStream::new(Box::pin(inner), context)
    }

    /// A stream of one chunk.
    pub fn once(bytes: Bytes) -> ByteStream {
        let inner = futures_util::stream::iter((!bytes.is_empty()).then_some(Ok(bytes)));
        ByteStream::new(Box::pin(inner), String::new())
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
        self.inner.as_mut().poll_next(cx)
    }
}

/// A body as a `Stream` of the SDK's results.
struct BodyStream {
    body: crate::http::Body,
    endpoint: String,
    operation: String,
}

impl Stream for BodyStream {
    type Item = crate::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        this.body.poll_chunk(cx).map(|item| {
            item.map(|r| {
                r.map_err(|e| crate::failure::from_http(e, &this.endpoint, &this.operation))
            })
        })
    }
}

impl std::fmt::Debug for ByteStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ByteStream({})", self.context)
    }
}
