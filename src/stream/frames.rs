//! Docker's multiplexed stdout/stderr stream: frames of an 8-byte header (byte 0 the
//! stream, bytes 4..8 the big-endian length) and a payload; raw bytes with a TTY.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;

use super::ByteStream;
use crate::Error;

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

/// One frame of output.
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

    /// The frames of a container without a TTY.
    ///
    /// ```no_run
    /// # #[cfg(feature = "docker-v1_53")]
    /// # async fn demo(docker: berth::Client) -> berth::Result<()> {
    /// use berth::docker::v1_53::containers::ContainerLogs;
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

/// A `Stream` of frames decoded from bytes, correct whatever the chunk boundaries.
pub struct FrameStream {
    body: ByteStream,
    buffer: BytesMut,
    tty: bool,
    done: bool,
}

impl FrameStream {
    pub fn new(body: ByteStream) -> FrameStream {
        FrameStream {
            body,
            buffer: BytesMut::new(),
            tty: false,
            done: false,
        }
    }

    fn tty(body: ByteStream) -> FrameStream {
        FrameStream {
            body,
            buffer: BytesMut::new(),
            tty: true,
            done: false,
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

    fn next_frame(&mut self) -> Option<crate::Result<Frame>> {
        if self.buffer.len() < 8 {
            return None;
        }
        let stream = match self.buffer[0] {
            0 => StreamKind::Stdin,
            1 => StreamKind::Stdout,
            2 => StreamKind::Stderr,
            3 => StreamKind::System,
            other => {
                return Some(Err(Error::Stream {
                    operation: String::new(),
                    message: format!("not a multiplexed stream (stream byte {other}); does the container have a TTY?"),
                    raw: self.buffer.split().freeze(),
                }))
            }
        };
        let length = u32::from_be_bytes([
            self.buffer[4],
            self.buffer[5],
            self.buffer[6],
            self.buffer[7],
        ]) as usize;
        if self.buffer.len() < 8 + length {
            self.buffer.reserve(8 + length - self.buffer.len());
            return None;
        }
        self.buffer.advance(8);
        let data = self.buffer.split_to(length).freeze();
        Some(Ok(Frame { stream, data }))
    }
}

impl Stream for FrameStream {
    type Item = crate::Result<Frame>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.tty {
                return match this.body.poll_next_unpin(cx) {
                    Poll::Ready(Some(Ok(data))) => Poll::Ready(Some(Ok(Frame {
                        stream: StreamKind::Stdout,
                        data,
                    }))),
                    other => other.map(|o| o.map(|r| r.map(|_| unreachable!()))),
                };
            }
            if let Some(frame) = this.next_frame() {
                return Poll::Ready(Some(frame));
            }
            if this.done {
                if this.buffer.is_empty() {
                    return Poll::Ready(None);
                }
                let rest = this.buffer.split().freeze();
                return Poll::Ready(Some(Err(Error::Stream {
                    operation: String::new(),
                    message: format!(
                        "the stream ended inside a frame ({} bytes left)",
                        rest.len()
                    ),
                    raw: rest,
                })));
            }
            match this.body.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(chunk))) => this.buffer.extend_from_slice(&chunk),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => this.done = true,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(stream: u8, data: &[u8]) -> Vec<u8> {
        let mut v = vec![stream, 0, 0, 0];
        v.extend_from_slice(&(data.len() as u32).to_be_bytes());
        v.extend_from_slice(data);
        v
    }

    fn chunks(parts: Vec<Vec<u8>>) -> ByteStream {
        let items: Vec<crate::Result<Bytes>> =
            parts.into_iter().map(|p| Ok(Bytes::from(p))).collect();
        ByteStream::new(Box::pin(futures_util::stream::iter(items)), "test".into())
    }

    #[tokio::test]
    async fn frames_split_across_chunks_decode() {
        let mut all = frame(1, b"hello\n");
        all.extend(frame(2, b"oops\n"));
        all.extend(frame(1, b""));
        // Cut everywhere, one byte per chunk.
        let parts = all.iter().map(|b| vec![*b]).collect();
        let frames: Vec<Frame> = FrameStream::new(chunks(parts))
            .map(|f| f.unwrap())
            .collect()
            .await;
        assert_eq!(frames.len(), 3);
        assert_eq!(
            frames[0],
            Frame {
                stream: StreamKind::Stdout,
                data: Bytes::from_static(b"hello\n")
            }
        );
        assert_eq!(frames[1].stream, StreamKind::Stderr);
        assert!(frames[2].data.is_empty());
    }

    #[tokio::test]
    async fn a_truncated_frame_is_an_error() {
        let mut bytes = frame(1, b"hello");
        bytes.truncate(10);
        let items: Vec<_> = FrameStream::new(chunks(vec![bytes])).collect().await;
        assert!(
            matches!(&items[0], Err(Error::Stream { message, .. }) if message.contains("inside a frame"))
        );
    }

    #[tokio::test]
    async fn tty_output_is_raw() {
        let m = Multiplexed::new(chunks(vec![b"\x01raw".to_vec()]));
        let frames: Vec<Frame> = m.output(true).map(|f| f.unwrap()).collect().await;
        assert_eq!(frames[0].data, Bytes::from_static(b"\x01raw"));
    }
}
