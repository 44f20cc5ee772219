//! Docker's multiplexed stdout/stderr stream: frames of an 8-byte header (byte 0 the
//! stream, bytes 4..8 the big-endian length) and a payload; raw bytes with a TTY.
//!
//! Payloads are cut off the incoming chunks without a copy; only a piece cut across
//! chunks is copied together, and nothing is ever allocated from a header's length beyond
//! [`MAX_PIECE`].

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;

use super::ByteStream;
use crate::Error;

/// The most payload one [`Frame`] carries: a longer frame comes out in pieces of this
/// size (the last one shorter). The engines write much smaller frames: Docker splits log
/// lines at 16 KiB and copies attach output in 32 KiB reads, Podman's conmon in 8 KiB ones.
const MAX_PIECE: usize = 64 << 10;

/// Which stream a frame belongs to.
/// Example: `examples/stream_logs.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    Stdin,
    Stdout,
    Stderr,
    /// The engine reports an error inside the stream (stream type 3).
    System,
}

/// One frame of output, or a piece of one: a frame of up to 64 KiB comes out whole (the
/// engines write none larger in normal use); a longer one as consecutive `Frame`s of the
/// same stream, 64 KiB each and the last one shorter. The pieces are the same whatever the
/// chunks the bytes came in. A frame is what the engine wrote at once: a log line longer
/// than 16 KiB already spans several, so join by `stream` to read lines.
/// Example: `examples/stream_logs.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub stream: StreamKind,
    pub data: Bytes,
}

/// Output that is multiplexed unless the container has a TTY. Only the caller knows which
/// (the container's `Config.Tty`): berth never guesses from the bytes.
#[derive(Debug)]
pub struct Multiplexed {
    body: ByteStream,
}

impl Multiplexed {
    pub(crate) fn new(body: ByteStream) -> Multiplexed {
        Multiplexed { body }
    }

    /// The frames of a container without a TTY: each [`Frame`] whole up to 64 KiB, longer
    /// ones in 64 KiB pieces (see [`Frame`]), so memory stays bounded whatever a header
    /// claims. Bytes that are not frame headers (a TTY's output) end the stream with
    /// `Error::Decode`.
    ///
    /// ```no_run
    /// # #[cfg(feature = "docker-v1_55")]
    /// # async fn demo(docker: berth::Client) -> berth::Result<()> {
    /// use berth::docker::v1_55::containers::ContainerLogs;
    /// use futures_util::StreamExt;
    /// let logs = docker
    ///     .invoke(ContainerLogs { id: "conny".into(), follow: Some(true), stdout: Some(true), ..Default::default() })
    ///     .await?;
    /// let mut frames = logs.frames();
    /// while let Some(frame) = frames.next().await {
    ///     print!("{}", String::from_utf8_lossy(&frame?.data));
    /// }
    /// # Ok(()) }
    /// ```
    /// More in `examples/stream_logs.rs`.
    pub fn frames(self) -> FrameStream {
        FrameStream::new(self.body)
    }

    /// The output of a container with a TTY: raw bytes, one terminal stream.
    pub fn raw(self) -> ByteStream {
        self.body
    }

    /// Frames when `tty` is false; with a TTY, every chunk as one stdout frame.
    pub fn output(self, tty: bool) -> FrameStream {
        if tty {
            FrameStream::tty(self.body)
        } else {
            FrameStream::new(self.body)
        }
    }
}

/// A `Stream` of [`Frame`]s decoded from bytes, the same whatever the chunk boundaries:
/// frames of up to 64 KiB whole, longer ones in 64 KiB pieces, each handed out as soon as
/// its bytes are in. It holds at most one piece and one chunk, whatever a header claims.
///
/// The stream ends after its first error (`None` after an `Err`): a transport error, bytes
/// that are not a frame header (`Error::Decode`: the container probably has a TTY), or an
/// end inside a frame (`Error::Decode`, keeping the bytes of the unfinished piece).
pub struct FrameStream {
    body: ByteStream,
    operation: String,
    /// What is left of the chunk being decoded.
    chunk: Bytes,
    /// A header cut across chunks, `header_len` bytes of it so far.
    header: [u8; 8],
    header_len: usize,
    /// The frame being read: its stream and how much of its payload is still to come.
    frame: Option<(StreamKind, usize)>,
    /// A piece cut across chunks, copied together (at most [`MAX_PIECE`] bytes).
    piece: BytesMut,
    tty: bool,
    /// The body has ended.
    done: bool,
    /// The stream has given its last item (the end, or an error).
    over: bool,
}

impl std::fmt::Debug for FrameStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FrameStream({})", self.operation)
    }
}

impl FrameStream {
    /// The frames of a multiplexed `body`; errors name the body's
    /// [`operation`](ByteStream::operation). For bytes from elsewhere, see
    /// [`ByteStream::from_stream`].
    pub fn new(body: ByteStream) -> FrameStream {
        FrameStream {
            operation: body.operation().to_string(),
            body,
            chunk: Bytes::new(),
            header: [0; 8],
            header_len: 0,
            frame: None,
            piece: BytesMut::new(),
            tty: false,
            done: false,
            over: false,
        }
    }

    fn tty(body: ByteStream) -> FrameStream {
        FrameStream {
            tty: true,
            ..FrameStream::new(body)
        }
    }

    /// Reads every frame; returns (stdout, stderr) concatenated. For short outputs.
    pub async fn collect_output(mut self) -> crate::Result<(Vec<u8>, Vec<u8>)> {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        while let Some(frame) = self.next().await {
            let frame = frame?;
            match frame.stream {
                StreamKind::Stderr => err.extend_from_slice(&frame.data),
                _ => out.extend_from_slice(&frame.data),
            }
        }
        Ok((out, err))
    }

    /// The next frame or piece from the current chunk, or `None` once the chunk is used up.
    fn next_frame(&mut self) -> Option<crate::Result<Frame>> {
        loop {
            let Some((stream, remaining)) = self.frame else {
                let header = self.next_header()?;
                match self.start_frame(header) {
                    Ok(Some(empty)) => return Some(Ok(empty)),
                    Ok(None) => continue,
                    Err(error) => return Some(Err(error)),
                }
            };
            let size = remaining.min(MAX_PIECE);
            let data = if self.piece.is_empty() && self.chunk.len() >= size {
                self.chunk.split_to(size)
            } else {
                if self.chunk.is_empty() {
                    return None;
                }
                // Cut across chunks: copied together, never more than one piece's worth.
                self.piece.reserve(size - self.piece.len());
                let take = (size - self.piece.len()).min(self.chunk.len());
                self.piece.extend_from_slice(&self.chunk[..take]);
                self.chunk.advance(take);
                if self.piece.len() < size {
                    return None;
                }
                self.piece.split().freeze()
            };
            self.frame = (remaining > size).then_some((stream, remaining - size));
            return Some(Ok(Frame { stream, data }));
        }
    }

    /// A whole header, from the chunk or gathered across chunks.
    fn next_header(&mut self) -> Option<[u8; 8]> {
        if self.header_len == 0 && self.chunk.len() >= 8 {
            let mut header = [0; 8];
            self.chunk.copy_to_slice(&mut header);
            return Some(header);
        }
        let take = (8 - self.header_len).min(self.chunk.len());
        self.header[self.header_len..self.header_len + take].copy_from_slice(&self.chunk[..take]);
        self.chunk.advance(take);
        self.header_len += take;
        if self.header_len < 8 {
            return None;
        }
        self.header_len = 0;
        Some(self.header)
    }

    /// Starts the frame of `header`; an empty frame is given at once.
    fn start_frame(&mut self, header: [u8; 8]) -> crate::Result<Option<Frame>> {
        let stream = match header[0] {
            0 => StreamKind::Stdin,
            1 => StreamKind::Stdout,
            2 => StreamKind::Stderr,
            3 => StreamKind::System,
            other => {
                let mut raw = BytesMut::from(&header[..]);
                raw.extend_from_slice(&self.chunk);
                return Err(self.error(
                    format!(
                        "not a multiplexed stream: a frame header starts with byte {other} \
                         where 0 to 3 (the stream) was expected; the container probably has \
                         a TTY, whose output is raw (read it with `raw()` or `output(true)`)"
                    ),
                    raw.freeze(),
                ));
            }
        };
        let length = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
        if length == 0 {
            return Ok(Some(Frame {
                stream,
                data: Bytes::new(),
            }));
        }
        self.frame = Some((stream, length));
        Ok(None)
    }

    /// What the end of the body means: the end of the frames, or of a frame cut short.
    fn at_end(&mut self) -> Option<crate::Result<Frame>> {
        let message = match self.frame {
            Some((stream, remaining)) => format!(
                "the stream ended inside a {stream:?} frame: {remaining} of its bytes did not \
                 come ({} came after the last piece handed out, kept here)",
                self.piece.len()
            ),
            None if self.header_len > 0 => format!(
                "the stream ended inside a frame header ({} of its 8 bytes came)",
                self.header_len
            ),
            None => return None,
        };
        let raw = match self.frame {
            Some(_) => self.piece.split().freeze(),
            None => Bytes::copy_from_slice(&self.header[..self.header_len]),
        };
        Some(Err(self.error(message, raw)))
    }

    fn error(&self, message: String, body: Bytes) -> Error {
        Error::Decode {
            operation: self.operation.clone(),
            path: String::new(),
            message,
            body,
        }
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<crate::Result<Frame>>> {
        if self.tty {
            let chunk = self.body.poll_next_unpin(cx);
            return chunk.map_ok(|data| Frame {
                stream: StreamKind::Stdout,
                data,
            });
        }
        loop {
            if let Some(frame) = self.next_frame() {
                return Poll::Ready(Some(frame));
            }
            if self.done {
                return Poll::Ready(self.at_end());
            }
            match self.body.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(chunk))) => self.chunk = chunk,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => self.done = true,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl Stream for FrameStream {
    type Item = crate::Result<Frame>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.over {
            return Poll::Ready(None);
        }
        let item = this.poll_item(cx);
        if super::is_last(&item) {
            this.over = true;
            this.chunk = Bytes::new();
            this.piece = BytesMut::new();
            this.body.release();
        }
        item
    }
}

#[cfg(test)]
#[path = "frames_tests.rs"]
mod tests;
