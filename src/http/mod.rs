//! The HTTP layer: one exchange on hyper's HTTP/1.1 client connections, under berth's pool
//! (`pool.rs`). Below it, `socket` opens byte streams; above it, `Client` builds requests
//! and reads answers. Its errors are its own (`HttpError`); the client names them.
//!
//! hyper brings what a hand-written client gets wrong at the edges: a connection is reused
//! only once its answer was read to the end, bytes on an idle connection close it, a request
//! hyper did not start writing comes back to be sent elsewhere, bodies flow both ways at
//! once, and an upgrade hands over the connection with the bytes read past the head.

mod incoming;
mod outgoing;
mod pool;

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_util::future::Either;
use http::header::{HeaderValue, HOST, USER_AGENT};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::OwnedSemaphorePermit;

pub(crate) use incoming::Body;
use outgoing::Upload;
pub(crate) use outgoing::{BoxError, ChunkStream, Outgoing};
use pool::{Checkout, Lease, Pool};

use crate::error::TimeoutKind;
use crate::socket::Target;

/// The largest read buffer of a connection, so the largest answer head: a longer head is
/// refused whole (hyper's "message head is too large").
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// How long opening a connection may take when no connect timeout is set.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How many connections a client keeps open at most when not told otherwise.
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 64;

/// What failed in an exchange.
#[derive(Debug)]
pub(crate) enum HttpError {
    /// No connection could be made.
    Connect(io::Error),
    /// TLS failed (the handshake, or the engine's alert later), in words.
    Tls(String),
    /// A timeout fired: `connect`, `read` or `write`.
    Timeout(TimeoutKind),
    /// The streamed request body failed, or was not sent whole.
    Upload(String),
    /// Anything else on an open connection: closed early, a malformed or oversized answer.
    Transport(io::Error),
}

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Timeouts {
    pub(crate) read: Option<Duration>,
    pub(crate) write: Option<Duration>,
}

/// Turns hyper's errors into `HttpError`s, with TLS failures in words.
#[derive(Clone)]
pub(crate) struct Failure {
    target: Arc<Target>,
}

impl Failure {
    fn hyper(&self, error: hyper::Error, upload: Option<&Upload>) -> HttpError {
        // A body that failed says more than the connection hyper closed because of it.
        if let Some((_, Err(message))) = upload.and_then(Upload::outcome) {
            return HttpError::Upload(message);
        }
        if let Some(message) = self.target.tls_failure(&error) {
            return HttpError::Tls(message);
        }
        let message = if error.is_incomplete_message() {
            "the engine closed the connection before its answer was complete".to_string()
        } else if body_cut_short(&error) {
            // hyper's words alone ("unexpected EOF during chunk size line") do not say that
            // the engine went away
            format!(
                "the engine closed the connection before its answer was complete ({})",
                crate::error::chain(&error)
            )
        } else {
            crate::error::chain(&error)
        };
        HttpError::Transport(io::Error::other(message))
    }
}

/// hyper's error for a body that ended early: an end of file among its sources.
fn body_cut_short(error: &hyper::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        if s.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::UnexpectedEof)
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// A request ready for the wire: path and query already encoded, headers checked.
pub(crate) type Request = http::Request<Outgoing>;

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: AnswerBody,
}

pub(crate) enum AnswerBody {
    Body(Body),
    Upgraded(UpgradedIo),
}

/// One endpoint's connections and timeouts.
pub(crate) struct Http {
    target: Arc<Target>,
    host: HeaderValue,
    user_agent: Option<HeaderValue>,
    pool: Arc<Pool>,
    connect_timeout: Duration,
    timeouts: Timeouts,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl Http {
    pub(crate) fn new(
        target: Target,
        connect_timeout: Option<Duration>,
        timeouts: Timeouts,
        max_connections: usize,
        user_agent: Option<&str>,
    ) -> Result<Http, String> {
        let host = HeaderValue::from_str(target.host())
            .map_err(|_| format!("{:?} cannot be a Host header", target.host()))?;
        let user_agent = user_agent
            .map(|agent| {
                HeaderValue::from_str(agent)
                    .map_err(|_| format!("{agent:?} cannot be a User-Agent header"))
            })
            .transpose()?;
        Ok(Http {
            target: Arc::new(target),
            host,
            user_agent,
            pool: Arc::new(Pool::new(max_connections)),
            connect_timeout: connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            timeouts,
        })
    }

    /// Sends a request and waits for the answer's head. `upgrade`: the request asks for the
    /// connection (attach, exec start), and a 101 hands it over; a 101 to any other request
    /// is an answer with no body, for the caller to refuse.
    pub(crate) async fn send(
        &self,
        mut request: Request,
        upgrade: bool,
    ) -> Result<Answer, HttpError> {
        let headers = request.headers_mut();
        headers.insert(HOST, self.host.clone());
        if let Some(agent) = &self.user_agent {
            headers.insert(USER_AGENT, agent.clone());
        }
        let upload = request.body().upload();
        // Only a read timeout needs to know when the request went.
        let sent = self.timeouts.read.map(|_| Instant::now());
        let timed =
            self.timeouts.read.is_some() || upload.is_some() && self.timeouts.write.is_some();
        let (lease, mut response) = loop {
            // An idle connection hyper holds ready is taken without waiting (the common
            // case: no future to build and move).
            let mut lease = match self.pool.take_ready() {
                Some(lease) => lease,
                // Boxed: connecting (TLS included) is a large future, and rare.
                None => Box::pin(self.lease()).await?,
            };
            let reused = lease.reused;
            let exchange = lease.sender.try_send_request(request);
            let answered = if timed {
                self.head(exchange, upload.as_deref(), sent).await
            } else {
                exchange.await.map_err(|e| Waited::Failed(Box::new(e)))
            };
            match answered {
                Ok(response) => break (lease, response),
                Err(Waited::Failed(mut e)) => match e.take_message() {
                    // hyper had not written a byte of it: the engine closed this reused
                    // connection first, so it goes on another, whatever its method.
                    Some(unsent) if reused => request = unsent,
                    _ => {
                        self.pool.forget_idle();
                        return Err(self.failure().hyper(e.into_error(), upload.as_deref()));
                    }
                },
                Err(Waited::Timeout(which)) => return Err(HttpError::Timeout(which)),
            }
        };
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        let body = if status == 101 && upgrade {
            AnswerBody::Upgraded(Box::pin(self.upgraded(lease, response)).await?)
        } else if status == 101 {
            // The connection is no longer HTTP: it closes with the lease.
            AnswerBody::Body(Body::empty(self.failure()))
        } else {
            AnswerBody::Body(Body::new(
                response.into_body(),
                lease,
                self.pool.clone(),
                upload,
                self.timeouts,
                self.failure(),
            ))
        };
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    /// The connection a 101 hands over, once hyper's task has let go of it.
    async fn upgraded(
        &self,
        lease: Lease,
        mut response: http::Response<hyper::body::Incoming>,
    ) -> Result<UpgradedIo, HttpError> {
        let on_upgrade = hyper::upgrade::on(&mut response);
        let upgraded = match self.timeouts.read {
            Some(limit) => tokio::time::timeout(limit, on_upgrade)
                .await
                .map_err(|_| HttpError::Timeout(TimeoutKind::Read))?,
            None => on_upgrade.await,
        }
        .map_err(|e| self.failure().hyper(e, None))?;
        Ok(UpgradedIo {
            io: TokioIo::new(upgraded),
            _slot: lease.permit,
        })
    }

    /// The answer head, within the timeouts (see `head_deadline`).
    async fn head<F>(
        &self,
        exchange: F,
        upload: Option<&Upload>,
        sent: Option<Instant>,
    ) -> Result<http::Response<hyper::body::Incoming>, Waited>
    where
        F: std::future::Future<
            Output = Result<
                http::Response<hyper::body::Incoming>,
                hyper::client::conn::TrySendError<Request>,
            >,
        >,
    {
        let mut exchange = std::pin::pin!(exchange);
        loop {
            let deadline = head_deadline(self.timeouts, upload, sent);
            let finished = std::future::poll_fn(|cx| match upload {
                Some(upload) if upload.outcome().is_none() => upload.poll_outcome(cx).map(|_| ()),
                _ => Poll::Pending,
            });
            let sleep = async {
                match deadline {
                    Some((at, _)) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            let (finished, sleep) = (std::pin::pin!(finished), std::pin::pin!(sleep));
            let waits = futures_util::future::select(finished, sleep);
            match futures_util::future::select(exchange.as_mut(), waits).await {
                Either::Left((answer, _)) => {
                    return answer.map_err(|e| Waited::Failed(Box::new(e)))
                }
                // The body ended, or a deadline passed; but the body may have moved on
                // meanwhile: look again before failing.
                Either::Right(_) => match head_deadline(self.timeouts, upload, sent) {
                    Some((at, which)) if at <= Instant::now() => {
                        return Err(Waited::Timeout(which))
                    }
                    _ => {}
                },
            }
        }
    }

    /// An idle connection, or a new one once the cap allows it.
    async fn lease(&self) -> Result<Lease, HttpError> {
        match self.pool.checkout().await {
            Checkout::Reused(lease) => Ok(lease),
            Checkout::Open(permit) => Ok(Lease {
                sender: self.connect().await?,
                permit,
                reused: false,
                // `connect` spawns hyper's task on the calling task's runtime.
                runtime: pool::current_runtime(),
            }),
        }
    }

    async fn connect(&self) -> Result<http1::SendRequest<Outgoing>, HttpError> {
        let connect = async {
            let stream =
                self.target
                    .connect()
                    .await
                    .map_err(|e| match self.target.tls_failure(&e) {
                        Some(message) => HttpError::Tls(message),
                        None => HttpError::Connect(e),
                    })?;
            let (sender, connection) = http1::Builder::new()
                .max_buf_size(MAX_HEAD)
                .handshake(TokioIo::new(stream))
                .await
                .map_err(|e| self.failure().hyper(e, None))?;
            // hyper's connection task: it writes requests, reads answers, and notices an
            // idle connection's close. It ends with the connection.
            tokio::spawn(async move {
                let _ = connection.with_upgrades().await;
            });
            Ok(sender)
        };
        tokio::time::timeout(self.connect_timeout, connect)
            .await
            .map_err(|_| HttpError::Timeout(TimeoutKind::Connect))?
    }

    fn failure(&self) -> Failure {
        Failure {
            target: self.target.clone(),
        }
    }
}

/// How long to wait for an answer head, seen from the call: the read timeout, which for a
/// streamed request body starts when its last chunk went out (before that, the write timeout
/// watches the body's progress).
pub(crate) fn head_deadline(
    timeouts: Timeouts,
    upload: Option<&Upload>,
    sent: Option<Instant>,
) -> Option<(Instant, TimeoutKind)> {
    match upload {
        Some(upload) => match upload.outcome() {
            None => timeouts
                .write
                .map(|t| (upload.stall_deadline(t), TimeoutKind::Write)),
            Some((at, _)) => timeouts.read.map(|t| (at + t, TimeoutKind::Read)),
        },
        None => timeouts
            .read
            .zip(sent)
            .map(|(t, sent)| (sent + t, TimeoutKind::Read)),
    }
}

enum Waited {
    /// Boxed: it carries the request, and failing is the rare path.
    Failed(Box<hyper::client::conn::TrySendError<Request>>),
    Timeout(TimeoutKind),
}

/// A connection handed over by a 101 (attach, exec start): the bytes that came with the
/// head first, then the socket. It holds its slot under the client's connection cap.
pub(crate) struct UpgradedIo {
    io: TokioIo<hyper::upgrade::Upgraded>,
    _slot: OwnedSemaphorePermit,
}

impl AsyncRead for UpgradedIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for UpgradedIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    /// Closes the write half only (the container's stdin); reading goes on.
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
