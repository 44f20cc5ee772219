//! One connection of a fake engine: reading request heads and bodies (by Content-Length or
//! chunks) as a server must, and writing answers.

use std::io;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{Seen, Stats};

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A request head longer than this is refused.
const MAX_HEAD: usize = 64 * 1024;

/// A request head as the fake read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target: path and query.
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// Which connection (1 for the first accepted).
    pub conn: usize,
    /// Which request (1 for the first read by this fake, over all connections).
    pub seq: usize,
    framing: Framing,
}

#[derive(Debug, Clone, Copy)]
enum Framing {
    Length(u64),
    Chunked,
}

impl Request {
    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        let mut found = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name));
        found.next().map(|(_, v)| v.as_str())
    }

    /// The path without its query.
    pub fn route(&self) -> &str {
        self.path.split('?').next().unwrap_or_default()
    }

    /// The body, to read with [`Wire::body_data`].
    pub fn body(&self) -> Body {
        Body(match self.framing {
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::ChunkSize,
        })
    }
}

/// A request body being read.
#[derive(Debug)]
pub struct Body(State);

#[derive(Debug, Clone, Copy)]
enum State {
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    Done,
}

fn invalid(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

fn eof(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, message.to_string())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One accepted connection and the bytes read from it but not yet used.
pub struct Wire {
    io: Box<dyn Io>,
    buf: Vec<u8>,
    pub conn: usize,
    pub(super) stats: Arc<Stats>,
    /// A request was read whose answer has not started.
    unanswered: bool,
}

impl Drop for Wire {
    fn drop(&mut self) {
        self.answering();
    }
}

impl Wire {
    pub(super) fn new(io: Box<dyn Io>, conn: usize, stats: Arc<Stats>) -> Wire {
        Wire {
            io,
            buf: Vec::new(),
            conn,
            stats,
            unanswered: false,
        }
    }

    async fn fill(&mut self) -> io::Result<usize> {
        self.buf.reserve(64 * 1024);
        self.io.read_buf(&mut self.buf).await
    }

    /// The next request head; `None` when the client closed the connection between
    /// requests. Every complete head is counted as seen, even one that does not parse.
    pub async fn read_head(&mut self) -> io::Result<Option<Request>> {
        let end = loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                break end;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(invalid("a request head over 64 KiB"));
            }
            if self.fill().await? == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Err(eof(
                    "the client closed the connection inside a request head",
                ));
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let line = lines.next().unwrap_or_default();
        let parts: Vec<&str> = line.split(' ').collect();
        let (method, path) = match parts[..] {
            [method, path, version] if version.starts_with("HTTP/1.") => (method, path),
            _ => ("?", line),
        };
        let seq = self.stats.record(Seen {
            conn: self.conn,
            seq: 0,
            method: method.to_string(),
            path: path.to_string(),
        });
        self.unanswered = true;
        if method == "?" || !path.starts_with('/') {
            return Err(invalid(format!("bad request line {line:?}")));
        }
        let mut headers = Vec::new();
        for line in lines {
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| invalid(format!("a header line without a colon: {line:?}")))?;
            headers.push((name.to_string(), value.trim().to_string()));
        }
        let mut request = Request {
            method: method.to_string(),
            path: path.to_string(),
            headers,
            conn: self.conn,
            seq,
            framing: Framing::Length(0),
        };
        if let Some(coding) = request.header("transfer-encoding") {
            let last = coding.rsplit(',').next().unwrap_or_default().trim();
            if !last.eq_ignore_ascii_case("chunked") {
                return Err(invalid(format!("Transfer-Encoding {coding:?}")));
            }
            request.framing = Framing::Chunked;
        } else {
            let lengths = request.headers.iter();
            let mut lengths = lengths.filter(|(n, _)| n.eq_ignore_ascii_case("content-length"));
            if let Some((_, first)) = lengths.next() {
                if lengths.any(|(_, other)| other != first) {
                    return Err(invalid("two different Content-Length headers"));
                }
                let n = first.parse().map_err(|_| invalid("a bad Content-Length"))?;
                request.framing = Framing::Length(n);
            }
        }
        Ok(Some(request))
    }

    /// The whole request body.
    pub async fn read_body(&mut self, request: &Request) -> io::Result<Vec<u8>> {
        let mut body = request.body();
        let mut all = Vec::new();
        while let Some(data) = self.body_data(&mut body, 1 << 20).await? {
            all.extend_from_slice(&data);
        }
        Ok(all)
    }

    /// Up to `max` bytes more of a body (at least one); `None` at its end.
    pub async fn body_data(&mut self, body: &mut Body, max: usize) -> io::Result<Option<Vec<u8>>> {
        loop {
            match body.0 {
                State::Done => return Ok(None),
                State::Length(0) => body.0 = State::Done,
                State::Length(left) => {
                    let data = self.take(left.min(max as u64)).await?;
                    body.0 = State::Length(left - data.len() as u64);
                    return Ok(Some(data));
                }
                State::ChunkSize => {
                    let line = self.line().await?;
                    let digits = line.split(';').next().unwrap_or_default().trim();
                    let size = u64::from_str_radix(digits, 16).map_err(|_| {
                        invalid(format!(
                            "connection {}: bad chunk size line {:?} (another request's bytes inside a body?)",
                            self.conn,
                            line.chars().take(60).collect::<String>()
                        ))
                    })?;
                    if size == 0 {
                        // Trailers, up to the empty line.
                        while !self.line().await?.is_empty() {}
                        body.0 = State::Done;
                    } else {
                        body.0 = State::ChunkData(size);
                    }
                }
                State::ChunkData(left) => {
                    let data = self.take(left.min(max as u64)).await?;
                    let left = left - data.len() as u64;
                    body.0 = State::ChunkData(left);
                    if left == 0 {
                        if !self.line().await?.is_empty() {
                            return Err(invalid("a chunk longer than its size line says"));
                        }
                        body.0 = State::ChunkSize;
                    }
                    return Ok(Some(data));
                }
            }
        }
    }

    /// Up to `n` buffered bytes (reading when none are).
    async fn take(&mut self, n: u64) -> io::Result<Vec<u8>> {
        if self.buf.is_empty() && self.fill().await? == 0 {
            return Err(eof(
                "the client closed the connection inside a request body",
            ));
        }
        let n = self.buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
        let data = self.buf[..n].to_vec();
        self.buf.drain(..n);
        Ok(data)
    }

    /// One line of the chunked framing, without its CRLF.
    async fn line(&mut self) -> io::Result<String> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n") {
                let line = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                self.buf.drain(..end + 2);
                return Ok(line);
            }
            if self.buf.len() > 4096 {
                return Err(invalid(format!(
                    "connection {}: a chunk line over 4 KiB",
                    self.conn
                )));
            }
            if self.fill().await? == 0 {
                return Err(eof(
                    "the client closed the connection inside a chunked body",
                ));
            }
        }
    }

    /// The answer to the request read last starts now (for [`Stats::max_in_flight`]).
    pub fn answering(&mut self) {
        if std::mem::take(&mut self.unanswered) {
            self.stats.answered();
        }
    }

    /// Writes bytes as they are (no answer to anything).
    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.io.write_all(bytes).await?;
        self.io.flush().await
    }

    /// Writes the answer to the request read last, as given.
    pub async fn answer(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.answering();
        self.write(bytes).await
    }

    /// A whole answer with a Content-Length (none for 204 and 304).
    pub async fn respond(
        &mut self,
        status: u16,
        content_type: &str,
        body: &[u8],
    ) -> io::Result<()> {
        let reason = match status {
            200 => "OK",
            201 => "Created",
            204 => "No Content",
            404 => "Not Found",
            _ => "Whatever",
        };
        let mut head = format!("HTTP/1.1 {status} {reason}\r\nApi-Version: 1.41\r\n");
        if status != 204 && status != 304 {
            if !content_type.is_empty() {
                head.push_str(&format!("Content-Type: {content_type}\r\n"));
            }
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut all = head.into_bytes();
        all.extend_from_slice(body);
        self.answer(&all).await
    }

    /// Reads and drops whatever comes until the client closes the connection.
    pub async fn until_eof(&mut self) {
        loop {
            self.buf.clear();
            if !matches!(self.fill().await, Ok(n) if n > 0) {
                return;
            }
        }
    }

    /// Records a read error that broke the framing.
    pub(super) fn note(&self, error: io::Error) {
        if error.kind() == io::ErrorKind::InvalidData {
            self.stats
                .problem(format!("connection {}: {error}", self.conn));
        }
    }
}
