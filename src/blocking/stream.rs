//! Streaming answers made blocking: iterators of items, readers of bytes, and the
//! hijacked connection as `Read + Write`. Each holds the client's runtime, so that it
//! keeps working after the client is dropped, and drives each step with it.

use std::io::{self, BufRead, Read, Write};
use std::sync::Arc;

use bytes::{Buf, Bytes};
use futures_core::Stream;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Client, Runtime};
use crate::stream::{ByteStream, FrameStream, JsonLines};

/// What an async answer becomes when a call is made through the blocking [`Client`]:
/// streams become [`Iter`], [`Reader`], [`Multiplexed`] and [`Upgraded`]; every other
/// answer (a value in memory, which is `Clone`, as every generated answer is) stays as it
/// is. An operation of your own with another output type implements it for that type.
pub trait IntoBlocking: Sized {
    /// The blocking counterpart.
    type Blocking;
    /// Wraps `self`, driven by `client`'s runtime.
    fn into_blocking(self, client: &Client) -> Self::Blocking;
}

impl<T: Clone> IntoBlocking for T {
    type Blocking = T;
    fn into_blocking(self, _: &Client) -> T {
        self
    }
}

impl<T> IntoBlocking for JsonLines<T> {
    type Blocking = Iter<JsonLines<T>>;
    fn into_blocking(self, client: &Client) -> Self::Blocking {
        Iter::new(self, client.runtime())
    }
}

impl IntoBlocking for FrameStream {
    type Blocking = Iter<FrameStream>;
    fn into_blocking(self, client: &Client) -> Self::Blocking {
        Iter::new(self, client.runtime())
    }
}

impl IntoBlocking for ByteStream {
    type Blocking = Reader;
    fn into_blocking(self, client: &Client) -> Reader {
        Reader::new(self, client.runtime())
    }
}

impl IntoBlocking for crate::Multiplexed {
    type Blocking = Multiplexed;
    fn into_blocking(self, client: &Client) -> Multiplexed {
        Multiplexed {
            inner: self,
            runtime: client.runtime(),
        }
    }
}

impl IntoBlocking for crate::Upgraded {
    type Blocking = Upgraded;
    fn into_blocking(self, client: &Client) -> Upgraded {
        Upgraded {
            io: self,
            runtime: client.runtime(),
        }
    }
}

/// A stream as an `Iterator` of its items: [`JsonLines`] (pull, push and build progress,
/// events, stats) gives `Result<T>`, [`FrameStream`] gives `Result<Frame>`. Each `next`
/// blocks until the next item or the end. Like the stream, it ends after its first error.
pub struct Iter<S> {
    stream: S,
    runtime: Arc<Runtime>,
}

impl<S> Iter<S> {
    pub(crate) fn new(stream: S, runtime: Arc<Runtime>) -> Iter<S> {
        Iter { stream, runtime }
    }
}

impl<T: serde::de::DeserializeOwned> Iter<JsonLines<T>> {
    /// The longest line accepted: see [`JsonLines::max_line_length`].
    pub fn max_line_length(self, bytes: usize) -> Self {
        Iter {
            stream: self.stream.max_line_length(bytes),
            runtime: self.runtime,
        }
    }
}

impl<S, T> Iterator for Iter<S>
where
    S: Stream<Item = crate::Result<T>> + Unpin,
{
    type Item = crate::Result<T>;

    fn next(&mut self) -> Option<Self::Item> {
        // A refusal (this thread is inside a runtime) is an item: the stream is intact.
        self.runtime
            .block_on("reading a stream", self.stream.next())
            .unwrap_or_else(|refused| Some(Err(refused)))
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for Iter<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Iter").field(&self.stream).finish()
    }
}

/// A body as it arrives (an archive, an export, a TTY's output) as `std::io::Read` and
/// `BufRead`: chunks are handed out as they come, never read whole. An error is an
/// `io::Error` whose inner error is the [`crate::Error`] (`get_ref()` /
/// `into_inner()` then `downcast`), except [`crate::Error::Io`], which is its own.
pub struct Reader {
    stream: ByteStream,
    /// What is left of the last chunk.
    chunk: Bytes,
    runtime: Arc<Runtime>,
}

impl Reader {
    fn new(stream: ByteStream, runtime: Arc<Runtime>) -> Reader {
        Reader {
            stream,
            chunk: Bytes::new(),
            runtime,
        }
    }

    /// The operation these bytes answer.
    pub fn operation(&self) -> &str {
        self.stream.operation()
    }
}

impl BufRead for Reader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.chunk.is_empty() {
            let next = self.runtime.block_on("reading a body", self.stream.next());
            match next.map_err(io_error)? {
                Some(chunk) => self.chunk = chunk.map_err(io_error)?,
                None => break,
            }
        }
        Ok(&self.chunk)
    }

    fn consume(&mut self, amount: usize) {
        self.chunk.advance(amount);
    }
}

impl Read for Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reader({})", self.stream.operation())
    }
}

/// The SDK's error as an `io::Error` (an I/O error stays itself).
fn io_error(error: crate::Error) -> io::Error {
    match error {
        crate::Error::Io(e) => e,
        other => io::Error::other(other),
    }
}

/// Output that is multiplexed unless the container has a TTY (logs, a non-hijacked
/// attach): see [`crate::Multiplexed`]; only the caller knows which.
///
/// ```no_run
/// # #[cfg(feature = "docker-v1_55")]
/// # fn demo(docker: berth::blocking::Client) -> berth::Result<()> {
/// use berth::docker::v1_55::containers::ContainerLogs;
/// let logs = docker.invoke(ContainerLogs { id: "conny".into(), follow: Some(true), stdout: Some(true), ..Default::default() })?;
/// for frame in logs.frames() {
///     print!("{}", String::from_utf8_lossy(&frame?.data));
/// }
/// # Ok(()) }
/// ```
pub struct Multiplexed {
    inner: crate::Multiplexed,
    runtime: Arc<Runtime>,
}

impl Multiplexed {
    /// The frames of a container without a TTY: see [`crate::Multiplexed::frames`].
    pub fn frames(self) -> Iter<FrameStream> {
        Iter::new(self.inner.frames(), self.runtime)
    }

    /// The output of a container with a TTY: raw bytes.
    pub fn raw(self) -> Reader {
        Reader::new(self.inner.raw(), self.runtime)
    }

    /// Frames when `tty` is false; with a TTY, every chunk as one stdout frame.
    pub fn output(self, tty: bool) -> Iter<FrameStream> {
        Iter::new(self.inner.output(tty), self.runtime)
    }
}

impl std::fmt::Debug for Multiplexed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Multiplexed").field(&self.inner).finish()
    }
}

/// The hijacked connection of attach and exec start: write the container's stdin
/// (`Write`), read its output (`Read`: multiplexed frames unless it has a TTY, so usually
/// through [`split`](Upgraded::split)), and [`close_write`](Upgraded::close_write) to
/// close stdin.
///
/// ```no_run
/// # #[cfg(feature = "docker-v1_55")]
/// # fn demo(docker: berth::blocking::Client) -> berth::Result<()> {
/// use berth::docker::v1_55::containers::ContainerAttach;
/// use std::io::Write;
/// let attach = ContainerAttach { id: "cat".into(), stream: Some(true), stdin: Some(true), stdout: Some(true), ..Default::default() };
/// let (output, mut stdin) = docker.invoke(attach)?.split(false);
/// stdin.write_all(b"hello\n")?;
/// stdin.close()?; // the container's stdin ends
/// for frame in output {
///     print!("{}", String::from_utf8_lossy(&frame?.data));
/// }
/// # Ok(()) }
/// ```
pub struct Upgraded {
    io: crate::Upgraded,
    runtime: Arc<Runtime>,
}

impl Upgraded {
    /// Closes the write half (the container's stdin) once what was written went out; the
    /// output can still be read.
    pub fn close_write(&mut self) -> io::Result<()> {
        self.runtime
            .block_on("closing stdin", self.io.shutdown())
            .map_err(io_error)?
    }

    /// The output as frames (see [`crate::Upgraded::split`]) and stdin, which may go to
    /// another thread: a program that writes much while the container answers should
    /// read on one thread and write on another.
    pub fn split(self, tty: bool) -> (Iter<FrameStream>, UpgradedWriter) {
        let (frames, writer) = self.io.split(tty);
        let writer = UpgradedWriter {
            inner: writer,
            runtime: self.runtime.clone(),
        };
        (Iter::new(frames, self.runtime), writer)
    }
}

impl Read for Upgraded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.runtime
            .block_on("reading a connection", self.io.read(buf))
            .map_err(io_error)?
    }
}

impl Write for Upgraded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.runtime
            .block_on("writing a connection", self.io.write(buf))
            .map_err(io_error)?
    }

    fn flush(&mut self) -> io::Result<()> {
        self.runtime
            .block_on("writing a connection", self.io.flush())
            .map_err(io_error)?
    }
}

impl std::fmt::Debug for Upgraded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Upgraded").field(&self.io).finish()
    }
}

/// The write half of a split [`Upgraded`]: the container's stdin, as `Write`;
/// [`close`](UpgradedWriter::close) ends it.
pub struct UpgradedWriter {
    inner: crate::stream::UpgradedWriter,
    runtime: Arc<Runtime>,
}

impl UpgradedWriter {
    /// Closes the container's stdin once what was written went out.
    pub fn close(&mut self) -> io::Result<()> {
        self.runtime
            .block_on("closing stdin", self.inner.shutdown())
            .map_err(io_error)?
    }
}

impl Write for UpgradedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.runtime
            .block_on("writing stdin", self.inner.write(buf))
            .map_err(io_error)?
    }

    fn flush(&mut self) -> io::Result<()> {
        self.runtime
            .block_on("writing stdin", self.inner.flush())
            .map_err(io_error)?
    }
}

impl std::fmt::Debug for UpgradedWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UpgradedWriter")
    }
}
