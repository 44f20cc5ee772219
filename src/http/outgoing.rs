//! Request bodies as hyper sends them, and how a streamed one went: a body's own error, or a
//! body hyper stopped taking, must end the call, even when the engine answered already.

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::task::AtomicWaker;
use http_body::{Frame, SizeHint};

use crate::error::chain;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type ChunkStream =
    Pin<Box<dyn futures_core::Stream<Item = Result<Bytes, BoxError>> + Send>>;

/// A request body on its way out.
pub(crate) enum Outgoing {
    Empty,
    /// Sent with its `Content-Length`; `None` once handed out.
    Full(Option<Bytes>),
    /// Sent chunked, as the stream yields, with its progress reported to `upload`.
    Stream {
        stream: ChunkStream,
        upload: Arc<Upload>,
    },
}

impl Outgoing {
    pub(crate) fn stream(stream: ChunkStream) -> Outgoing {
        Outgoing::Stream {
            stream,
            upload: Arc::new(Upload::new()),
        }
    }

    pub(crate) fn upload(&self) -> Option<Arc<Upload>> {
        match self {
            Outgoing::Stream { upload, .. } => Some(upload.clone()),
            _ => None,
        }
    }
}

impl http_body::Body for Outgoing {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            Outgoing::Empty => Poll::Ready(None),
            Outgoing::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Outgoing::Stream { stream, upload } => loop {
                return match stream.as_mut().poll_next(cx) {
                    // An empty chunk would read as the chunked body's end.
                    Poll::Ready(Some(Ok(chunk))) if chunk.is_empty() => continue,
                    Poll::Ready(Some(Ok(chunk))) => {
                        upload.progressed();
                        Poll::Ready(Some(Ok(Frame::data(chunk))))
                    }
                    Poll::Ready(Some(Err(e))) => {
                        upload.finish(Err(format!(
                            "the request body failed: {}",
                            chain(e.as_ref())
                        )));
                        Poll::Ready(Some(Err(e)))
                    }
                    Poll::Ready(None) => {
                        upload.finish(Ok(()));
                        Poll::Ready(None)
                    }
                    Poll::Pending => Poll::Pending,
                };
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Outgoing::Empty => true,
            Outgoing::Full(bytes) => bytes.is_none(),
            Outgoing::Stream { .. } => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Outgoing::Empty => SizeHint::with_exact(0),
            Outgoing::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Outgoing::Stream { .. } => SizeHint::default(),
        }
    }
}

impl Drop for Outgoing {
    /// hyper drops a body it stops sending (the connection failed, the call was dropped).
    fn drop(&mut self) {
        if let Outgoing::Stream { upload, .. } = self {
            upload.finish(Err(
                "the request body was not sent whole: the connection ended while sending it".into(),
            ));
        }
    }
}

/// The progress of a streamed request body, shared between hyper's connection task (which
/// pulls the body) and the call (which must not end before the body did).
pub(crate) struct Upload {
    start: Instant,
    /// When hyper last took a chunk, in nanoseconds since `start`.
    last_chunk: AtomicU64,
    outcome: Mutex<Option<(Instant, Result<(), String>)>>,
    waker: AtomicWaker,
}

impl Upload {
    fn new() -> Upload {
        Upload {
            start: Instant::now(),
            last_chunk: AtomicU64::new(0),
            outcome: Mutex::new(None),
            waker: AtomicWaker::new(),
        }
    }

    fn progressed(&self) {
        let nanos = u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last_chunk.store(nanos, Ordering::Relaxed);
    }

    /// The first outcome stays: a drop after the end changes nothing.
    fn finish(&self, outcome: Result<(), String>) {
        let mut slot = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some((Instant::now(), outcome));
            drop(slot);
            self.waker.wake();
        }
    }

    /// How the body ended and when, once it has.
    pub(crate) fn outcome(&self) -> Option<(Instant, Result<(), String>)> {
        self.outcome
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The outcome, or `Pending` with the task woken when it comes.
    pub(crate) fn poll_outcome(&self, cx: &mut Context<'_>) -> Poll<Result<(), String>> {
        if let Some((_, outcome)) = self.outcome() {
            return Poll::Ready(outcome);
        }
        self.waker.register(cx.waker());
        match self.outcome() {
            Some((_, outcome)) => Poll::Ready(outcome),
            None => Poll::Pending,
        }
    }

    /// When the body stalls past `limit` (hyper took no chunk for that long), if it does.
    pub(crate) fn stall_deadline(&self, limit: Duration) -> Instant {
        let last = Duration::from_nanos(self.last_chunk.load(Ordering::Relaxed));
        self.start + last + limit
    }
}
