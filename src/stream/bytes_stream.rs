//! `ByteStream`: a body as it comes, never buffered whole.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;

use crate::Error;

type Inner = Pin<Box<dyn Stream<Item = crate::Result<Bytes>> + Send>>;

/// The bytes of a body as they arrive (`Stream<Item = Result<Bytes>>`), with an
/// `AsyncRead` view. The client's read timeout applies between chunks. The stream ends
/// after its first error: the poll after an `Err` gives `None`.
pub struct ByteStream {
    inner: Inner,
    /// The operation the bytes answer: [`FrameStream`](super::FrameStream) and
    /// [`JsonLines`](super::JsonLines) name it in their errors.
    context: String,
    failed: bool,
    /// The call's `berth.call` span: an error met while reading is recorded on it.
    span: tracing::Span,
}

impl ByteStream {
    pub(crate) fn new(inner: Inner, context: String) -> ByteStream {
        ByteStream {
            inner,
            context,
            failed: false,
            span: tracing::Span::none(),
        }
    }

    /// The span of the call these bytes answer.
    pub(crate) fn in_span(mut self, span: tracing::Span) -> ByteStream {
        self.span = span;
        self
    }

    /// Records on the call's span an error met in its answer (a stream's error item, a
    /// line that does not decode).
    pub(crate) fn record_error(&self, error: &Error) {
        self.span.record("error", error.kind());
    }

    /// Bytes from any source (a file, a saved log, a test's chunks) under the name of the
    /// operation they answer, for decoding with [`FrameStream::new`](super::FrameStream::new)
    /// or [`JsonLines::new`](super::JsonLines::new), which name it in their errors.
    ///
    /// ```
    /// use berth::stream::{ByteStream, FrameStream};
    /// use bytes::Bytes;
    /// use futures_util::StreamExt;
    /// # async fn demo() -> berth::Result<()> {
    /// let chunks = [Bytes::from_static(b"\x01\0\0\0\0\0\0\x03hi\n")];
    /// let body = ByteStream::from_stream(futures_util::stream::iter(chunks.map(Ok)), "SavedLogs");
    /// let frame = FrameStream::new(body).next().await.unwrap()?;
    /// assert_eq!(&frame.data[..], b"hi\n");
    /// # Ok(()) }
    /// ```
    pub fn from_stream<S>(stream: S, operation: impl Into<String>) -> ByteStream
    where
        S: Stream<Item = crate::Result<Bytes>> + Send + 'static,
    {
        ByteStream::new(Box::pin(stream), operation.into())
    }

    /// The name of the operation these bytes answer (empty when unknown).
    pub fn operation(&self) -> &str {
        &self.context
    }

    /// Lets the body go (and its connection back to the pool) before this is dropped.
    pub(crate) fn release(&mut self) {
        self.inner = Box::pin(futures_util::stream::empty());
    }

    pub(crate) fn named(mut self, operation: String) -> ByteStream {
        self.context = operation;
        self
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
        if self.failed {
            return Poll::Ready(None);
        }
        let item = self.inner.as_mut().poll_next(cx);
        if let Poll::Ready(Some(Err(error))) = &item {
            // Whatever the source would say next follows a failure: not part of the body.
            self.failed = true;
            self.record_error(error);
        }
        item
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_stream_ends_after_an_error() {
        let parts = vec![
            Ok(Bytes::from_static(b"a")),
            Err(Error::Io(std::io::Error::other("reset"))),
            Ok(Bytes::from_static(b"b")),
        ];
        let mut stream = ByteStream::from_stream(futures_util::stream::iter(parts), "Op");
        assert_eq!(stream.operation(), "Op");
        assert!(stream.next().await.unwrap().is_ok());
        assert!(stream.next().await.unwrap().is_err());
        assert!(stream.next().await.is_none());
        assert!(stream.next().await.is_none());
    }
}
