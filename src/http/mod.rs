//! berth's own HTTP/1.1 client, the transport under every call.
//!
//! Engines speak plain HTTP/1.1 to one local client, so what is needed is small: one
//! request at a time per connection, bodies by length, chunks or close, a keep-alive pool,
//! and hijacked connections. Doing it here, in the caller's task, keeps a `_ping` near
//! the cost of a raw socket loop (a general client, reqwest, measured about 1.6× raw on
//! these machines, from its per-request URL parsing and the hand-off to a connection
//! task), and keeps hyper, url and their trees out of berth's build.

mod body;
mod connect;
mod polling;
#[cfg(any(feature = "tls", feature = "rustls"))]
mod tls;
mod wire;

use std::borrow::Cow;
use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;

pub(crate) use body::BodyReader;
pub(crate) use connect::{Conn, Target};
use polling::Wait;
pub(crate) use polling::{AnswerPolling, DEFAULT_ANSWER_POLLING};
pub use wire::Headers;
pub(crate) use wire::RequestHead;
use wire::{parse_head, Framing};

/// Idle connections kept for the next requests.
pub(crate) struct Pool {
    idle: Mutex<Vec<Conn>>,
    max_idle: usize,
}

impl Pool {
    pub(crate) fn new(max_idle: usize) -> Pool {
        Pool {
            idle: Mutex::new(Vec::new()),
            max_idle,
        }
    }

    fn take(&self) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        // A connection back for less than a second is taken as it is (engines close idle
        // connections after minutes, if ever): checking costs a system call per request.
        // If the engine did close it, a request that can be sent again is.
        while let Some(conn) = idle.pop() {
            let recent = conn
                .idle_since
                .is_some_and(|t| t.elapsed() < Duration::from_secs(1));
            if recent || conn.looks_open() {
                return Some(conn);
            }
        }
        None
    }

    pub(crate) fn put(&self, conn: Conn) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
    }

    #[cfg(test)]
    pub(crate) fn idle_count(&self) -> usize {
        self.idle.lock().unwrap().len()
    }
}

/// The payload of the `io::Error` a berth timeout makes: which timeout fired.
#[derive(Debug)]
struct Elapsed(&'static str);

impl std::fmt::Display for Elapsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} timeout", self.0)
    }
}

impl std::error::Error for Elapsed {}

/// Which berth timeout an error is, if it is one (`connect`, `read`, `write`).
pub(crate) fn elapsed(error: &io::Error) -> Option<&'static str> {
    error
        .get_ref()
        .and_then(|e| e.downcast_ref::<Elapsed>())
        .map(|e| e.0)
}

/// Runs `io` within `limit`, failing with the named timeout.
pub(crate) async fn timed<T>(
    limit: Option<Duration>,
    which: &'static str,
    io: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    match limit {
        None => io.await,
        Some(limit) => match tokio::time::timeout(limit, io).await {
            Ok(result) => result,
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, Elapsed(which))),
        },
    }
}

type ChunkStream = std::pin::Pin<
    Box<
        dyn futures_core::Stream<Item = Result<Bytes, Box<dyn std::error::Error + Send + Sync>>>
            + Send,
    >,
>;

/// A request body on its way out.
pub(crate) enum Outgoing {
    Empty,
    Bytes(Bytes),
    /// Sent chunked; taken when sending starts, so an unsent stream can still be sent on
    /// another connection.
    Stream(Option<ChunkStream>),
}

impl Outgoing {
    pub(crate) fn length(&self) -> Option<u64> {
        match self {
            Outgoing::Empty => Some(0),
            Outgoing::Bytes(bytes) => Some(bytes.len() as u64),
            Outgoing::Stream(_) => None,
        }
    }

    fn can_be_sent_again(&self) -> bool {
        !matches!(self, Outgoing::Stream(None))
    }
}

pub(crate) enum Incoming {
    Body(BodyReader),
    Upgraded(Conn),
}

pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Headers,
    pub(crate) body: Incoming,
}

/// A failed exchange: whether it failed while connecting, and why.
pub(crate) struct Failure {
    pub(crate) connecting: bool,
    pub(crate) error: io::Error,
}

enum Attempt {
    /// A reused connection failed before any answer came: the engine had closed it.
    Stale(io::Error),
    Failed(io::Error),
}

/// One endpoint's connections and timeouts.
pub(crate) struct Http {
    target: Target,
    host: String,
    pool: Arc<Pool>,
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) write_timeout: Option<Duration>,
    pub(crate) answer_polling: AnswerPolling,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl Http {
    pub(crate) fn new(target: Target) -> Http {
        Http {
            host: target.host(),
            target,
            pool: Arc::new(Pool::new(16)),
            connect_timeout: None,
            read_timeout: None,
            write_timeout: None,
            answer_polling: AnswerPolling::new(DEFAULT_ANSWER_POLLING),
        }
    }

    /// What the `Host` header of a request says.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// Sends a request and reads the response head. `route` names what is asked (an
    /// operation), for the polling (see `polling`).
    pub(crate) async fn send(
        &self,
        head: RequestHead,
        mut body: Outgoing,
        route: &str,
    ) -> Result<Response, Failure> {
        let failed = |error| Failure {
            connecting: false,
            error,
        };
        if let Some(conn) = self.pool.take() {
            match self.exchange(conn, &head, &mut body, route).await {
                Ok(response) => return Ok(response),
                // The engine closed the idle connection: the request goes on a new one.
                Err(Attempt::Stale(_)) if body.can_be_sent_again() => {}
                Err(Attempt::Stale(e) | Attempt::Failed(e)) => return Err(failed(e)),
            }
        }
        let conn = timed(self.connect_timeout, "connect", self.target.connect())
            .await
            .map_err(|error| Failure {
                connecting: true,
                error,
            })?;
        match self.exchange(conn, &head, &mut body, route).await {
            Ok(response) => Ok(response),
            Err(Attempt::Stale(e) | Attempt::Failed(e)) => Err(failed(e)),
        }
    }

    async fn exchange(
        &self,
        mut conn: Conn,
        head: &RequestHead,
        body: &mut Outgoing,
        route: &str,
    ) -> Result<Response, Attempt> {
        let reused = conn.reused;
        let before_answer = |e: io::Error| {
            if reused && elapsed(&e).is_none() {
                Attempt::Stale(e)
            } else {
                Attempt::Failed(e)
            }
        };
        // A small body rides in the head's write.
        let rides = matches!(body, Outgoing::Bytes(bytes) if bytes.len() <= 16 * 1024);
        let first = match &*body {
            Outgoing::Bytes(bytes) if rides => Cow::Owned([head.bytes.as_slice(), bytes].concat()),
            _ => Cow::Borrowed(head.bytes.as_slice()),
        };
        let write_timeout = self.write_timeout;
        timed(write_timeout, "write", conn.write_all(&first))
            .await
            .map_err(before_answer)?;
        if let Err(e) = self.write_body(&mut conn, body, !rides).await {
            // The engine may have answered early (an error) and stopped reading: its answer
            // says more than a broken pipe.
            if elapsed(&e).is_some() {
                return Err(Attempt::Failed(e));
            }
            let grace = self.read_timeout.unwrap_or(Duration::from_secs(2));
            return match timed(Some(grace), "read", self.read_head(&mut conn, head, None)).await {
                Ok(Some(response)) => {
                    Ok(response.into_response(conn, &self.pool, self.read_timeout))
                }
                _ => Err(Attempt::Failed(e)),
            };
        }
        let wait = self.answer_polling.wait(route);
        match self.read_head(&mut conn, head, Some(&wait)).await {
            Ok(Some(response)) => {
                wait.answered();
                Ok(response.into_response(conn, &self.pool, self.read_timeout))
            }
            Ok(None) => Err(before_answer(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the engine closed the connection without answering",
            ))),
            Err(e) if conn.buf.is_empty() => Err(before_answer(e)),
            Err(e) => Err(Attempt::Failed(e)),
        }
    }

    async fn write_body(
        &self,
        conn: &mut Conn,
        body: &mut Outgoing,
        unsent: bool,
    ) -> io::Result<()> {
        use futures_util::StreamExt;
        let limit = self.write_timeout;
        match body {
            Outgoing::Empty => {}
            Outgoing::Bytes(bytes) if unsent => {
                timed(limit, "write", conn.write_all(bytes)).await?
            }
            Outgoing::Bytes(_) => {}
            Outgoing::Stream(stream) => {
                let Some(mut stream) = stream.take() else {
                    return Ok(());
                };
                let mut frame = Vec::with_capacity(16 * 1024 + 16);
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk
                        .map_err(|e| io::Error::other(format!("the request body failed: {e}")))?;
                    if chunk.is_empty() {
                        continue;
                    }
                    frame.clear();
                    frame.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    frame.extend_from_slice(&chunk);
                    frame.extend_from_slice(b"\r\n");
                    timed(limit, "write", conn.write_all(&frame)).await?;
                }
                timed(limit, "write", conn.write_all(b"0\r\n\r\n")).await?;
            }
        }
        timed(limit, "write", conn.flush()).await
    }

    /// Reads the response head, past any 1xx but 101; `None` when the connection ended
    /// before a byte of it.
    async fn read_head(
        &self,
        conn: &mut Conn,
        request: &RequestHead,
        mut wait: Option<&Wait<'_>>,
    ) -> io::Result<Option<ParsedHead>> {
        loop {
            if let Some(head) = parse_head(&mut conn.buf, request.method)? {
                if head.status < 200 && head.framing != Framing::Upgrade {
                    continue;
                }
                return Ok(Some(ParsedHead(head)));
            }
            // The first read may poll before it sleeps; both are within one read timeout.
            let wait = wait.take();
            let read = timed(self.read_timeout, "read", async {
                if let Some(wait) = wait {
                    if let Some(read) = wait.poll(conn).await {
                        return read;
                    }
                }
                conn.fill().await
            })
            .await?;
            if read == 0 {
                if conn.buf.is_empty() {
                    return Ok(None);
                }
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the engine closed the connection in the middle of its answer's head",
                ));
            }
        }
    }
}

struct ParsedHead(wire::Head);

impl ParsedHead {
    fn into_response(
        self,
        conn: Conn,
        pool: &Arc<Pool>,
        read_timeout: Option<Duration>,
    ) -> Response {
        let head = self.0;
        let body = match head.framing {
            Framing::Upgrade => Incoming::Upgraded(conn),
            framing => Incoming::Body(BodyReader::new(
                conn,
                framing,
                head.keep_alive,
                pool.clone(),
                read_timeout,
            )),
        };
        Response {
            status: head.status,
            headers: head.headers,
            body,
        }
    }
}

/// The message of a TLS failure among an error's sources, if there is one.
pub(crate) fn tls_failure(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    #[cfg(any(feature = "tls", feature = "rustls"))]
    return tls::failure(error);
    #[cfg(not(any(feature = "tls", feature = "rustls")))]
    {
        let _ = error;
        None
    }
}
