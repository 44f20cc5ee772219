//! An answer's body as it arrives: hyper's frames with the read timeout between them. When
//! the body has been read to its end, and a streamed request body was sent whole, the
//! connection goes back to the pool; a body dropped or failed earlier closes it.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use std::future::Future;

use http_body::Body as _;
use tokio::time::{Instant, Sleep};

use super::outgoing::Upload;
use super::pool::{Lease, Pool};
use super::{Failure, HttpError, Timeouts};
use crate::error::TimeoutKind;

pub(crate) struct Body {
    incoming: Option<hyper::body::Incoming>,
    /// The connection, until it goes back to the pool or is closed.
    lease: Option<(Lease, Arc<Pool>)>,
    /// A streamed request body still being sent.
    upload: Option<Arc<Upload>>,
    timeouts: Timeouts,
    timer: Option<Pin<Box<Sleep>>>,
    failure: Failure,
    state: State,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Reading,
    /// The answer is read; the request body is still going out.
    Uploading,
    Done,
}

impl Body {
    pub(crate) fn new(
        incoming: hyper::body::Incoming,
        lease: Lease,
        pool: Arc<Pool>,
        upload: Option<Arc<Upload>>,
        timeouts: Timeouts,
        failure: Failure,
    ) -> Body {
        Body {
            incoming: Some(incoming),
            lease: Some((lease, pool)),
            upload,
            timeouts,
            timer: None,
            failure,
            state: State::Reading,
        }
    }

    /// A body with nothing in it and no connection behind it.
    pub(crate) fn empty(failure: Failure) -> Body {
        Body {
            incoming: None,
            lease: None,
            upload: None,
            timeouts: Timeouts::default(),
            timer: None,
            failure,
            state: State::Done,
        }
    }

    /// The next piece of the body; `None` at its end. After an error the body is over and
    /// its connection closed.
    pub(crate) fn poll_chunk(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, HttpError>>> {
        let result = self.poll_inner(cx);
        if let Poll::Ready(Some(Err(_))) = result {
            self.close();
        }
        result
    }

    pub(crate) async fn chunk(&mut self) -> Option<Result<Bytes, HttpError>> {
        poll_fn(|cx| self.poll_chunk(cx)).await
    }

    /// The whole body (one piece is kept as it is, without a copy).
    pub(crate) async fn collect(mut self) -> Result<Bytes, HttpError> {
        let Some(first) = self.chunk().await.transpose()? else {
            return Ok(Bytes::new());
        };
        let Some(second) = self.chunk().await.transpose()? else {
            return Ok(first);
        };
        let mut all = BytesMut::with_capacity(first.len() + second.len());
        all.extend_from_slice(&first);
        all.extend_from_slice(&second);
        while let Some(piece) = self.chunk().await.transpose()? {
            all.extend_from_slice(&piece);
        }
        Ok(all.freeze())
    }

    /// The answer alone (an error the engine sent): a request body still going out is
    /// not waited for, and its connection is closed rather than reused.
    pub(crate) async fn collect_answer(mut self) -> Result<Bytes, HttpError> {
        if self.upload.as_ref().is_some_and(|u| u.outcome().is_none()) {
            self.lease = None;
            self.upload = None;
        }
        self.collect().await
    }

    fn poll_inner(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, HttpError>>> {
        loop {
            match self.state {
                State::Done => return Poll::Ready(None),
                State::Reading => {
                    let Some(incoming) = self.incoming.as_mut() else {
                        self.state = State::Done;
                        continue;
                    };
                    match Pin::new(incoming).poll_frame(cx) {
                        Poll::Ready(Some(Ok(frame))) => {
                            if let Ok(data) = frame.into_data() {
                                self.rearm();
                                return Poll::Ready(Some(Ok(data)));
                            }
                        }
                        Poll::Ready(Some(Err(e))) => {
                            if let Some((_, pool)) = &self.lease {
                                pool.forget_idle();
                            }
                            return Poll::Ready(Some(Err(self
                                .failure
                                .hyper(e, self.upload.as_deref()))));
                        }
                        Poll::Ready(None) => {
                            self.incoming = None;
                            self.timer = None;
                            self.state = State::Uploading;
                        }
                        Poll::Pending => return self.poll_timer(cx, TimeoutKind::Read),
                    }
                }
                State::Uploading => {
                    let Some(upload) = self.upload.clone() else {
                        self.finish();
                        continue;
                    };
                    match upload.poll_outcome(cx) {
                        Poll::Ready(Ok(())) => {
                            self.finish();
                        }
                        Poll::Ready(Err(message)) => {
                            return Poll::Ready(Some(Err(HttpError::Upload(message))))
                        }
                        Poll::Pending => match self.timeouts.write {
                            Some(limit) => {
                                let deadline = Instant::from_std(upload.stall_deadline(limit));
                                let timer = self.timer.get_or_insert_with(|| {
                                    Box::pin(tokio::time::sleep_until(deadline))
                                });
                                if timer.deadline() != deadline {
                                    timer.as_mut().reset(deadline);
                                }
                                if timer.as_mut().poll(cx).is_pending() {
                                    return Poll::Pending;
                                }
                                if Instant::now() >= Instant::from_std(upload.stall_deadline(limit))
                                {
                                    return Poll::Ready(Some(Err(HttpError::Timeout(
                                        TimeoutKind::Write,
                                    ))));
                                }
                            }
                            None => return Poll::Pending,
                        },
                    }
                }
            }
        }
    }

    /// The read timeout starts again after each piece.
    fn rearm(&mut self) {
        if let (Some(limit), Some(timer)) = (self.timeouts.read, self.timer.as_mut()) {
            timer.as_mut().reset(Instant::now() + limit);
        }
    }

    fn poll_timer(
        &mut self,
        cx: &mut Context<'_>,
        which: TimeoutKind,
    ) -> Poll<Option<Result<Bytes, HttpError>>> {
        let Some(limit) = self.timeouts.read else {
            return Poll::Pending;
        };
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(HttpError::Timeout(which)))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Read to the end, request body sent: the connection serves the next call.
    fn finish(&mut self) {
        self.state = State::Done;
        self.timer = None;
        if let Some((lease, pool)) = self.lease.take() {
            pool.give_back(lease);
        }
    }

    fn close(&mut self) {
        self.state = State::Done;
        self.incoming = None;
        self.lease = None;
        self.timer = None;
    }
}
