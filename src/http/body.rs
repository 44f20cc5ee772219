//! Reading a response body as it comes (fixed length, chunked, or until the connection
//! closes), handing the connection back to the pool once the body has been read to its end.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use super::connect::Conn;
use super::wire::{invalid_data, Framing};
use super::{timed, Pool};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    /// The CRLF after a chunk's data.
    ChunkEnd,
    Trailers,
    UntilClose,
    Done,
}

/// A response body being read.
pub(crate) struct BodyReader {
    conn: Option<Conn>,
    state: State,
    keep_alive: bool,
    pool: Arc<Pool>,
    read_timeout: Option<Duration>,
}

impl BodyReader {
    pub(crate) fn new(
        conn: Conn,
        framing: Framing,
        keep_alive: bool,
        pool: Arc<Pool>,
        read_timeout: Option<Duration>,
    ) -> BodyReader {
        let state = match framing {
            Framing::Empty | Framing::Upgrade => State::Length(0),
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::ChunkSize,
            Framing::UntilClose => State::UntilClose,
        };
        BodyReader {
            conn: Some(conn),
            state,
            keep_alive,
            pool,
            read_timeout,
        }
    }

    /// The next piece of the body; `None` at its end. After an error, the body is over.
    pub(crate) async fn chunk(&mut self) -> io::Result<Option<Bytes>> {
        let result = self.next_piece().await;
        if result.is_err() {
            self.state = State::Done;
            self.conn = None;
        }
        result
    }

    /// The whole body (one piece is returned as it is, without a copy).
    pub(crate) async fn collect(mut self) -> io::Result<Bytes> {
        let Some(first) = self.chunk().await? else {
            return Ok(Bytes::new());
        };
        let Some(second) = self.chunk().await? else {
            return Ok(first);
        };
        let mut all = BytesMut::with_capacity(first.len() + second.len());
        all.extend_from_slice(&first);
        all.extend_from_slice(&second);
        while let Some(piece) = self.chunk().await? {
            all.extend_from_slice(&piece);
        }
        Ok(all.freeze())
    }

    async fn next_piece(&mut self) -> io::Result<Option<Bytes>> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Length(0) => {
                    self.finish();
                    return Ok(None);
                }
                State::Length(left) => {
                    let piece = self.take_up_to(left).await?;
                    self.state = State::Length(left - piece.len() as u64);
                    return Ok(Some(piece));
                }
                State::ChunkData(left) => {
                    let piece = self.take_up_to(left).await?;
                    let left = left - piece.len() as u64;
                    self.state = if left == 0 {
                        State::ChunkEnd
                    } else {
                        State::ChunkData(left)
                    };
                    return Ok(Some(piece));
                }
                State::UntilClose => {
                    let conn = self.conn_mut();
                    if conn.buf.is_empty() && self.fill().await? == 0 {
                        self.state = State::Done;
                        self.conn = None;
                        return Ok(None);
                    }
                    return Ok(Some(self.conn_mut().buf.split().freeze()));
                }
                State::ChunkSize => {
                    let line = self.line().await?;
                    let digits = line.split(|b| *b == b';').next().unwrap_or_default();
                    let digits = std::str::from_utf8(digits).unwrap_or("").trim();
                    let size = u64::from_str_radix(digits, 16).map_err(|_| {
                        invalid_data(format!(
                            "bad chunk size line {:?}",
                            String::from_utf8_lossy(&line)
                        ))
                    })?;
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::ChunkData(size)
                    };
                }
                State::ChunkEnd => {
                    if !self.line().await?.is_empty() {
                        return Err(invalid_data("a chunk is longer than its size line says"));
                    }
                    self.state = State::ChunkSize;
                }
                State::Trailers => {
                    if self.line().await?.is_empty() {
                        self.finish();
                        return Ok(None);
                    }
                }
            }
        }
    }

    fn conn_mut(&mut self) -> &mut Conn {
        self.conn
            .as_mut()
            .expect("a body being read has its connection")
    }

    async fn fill(&mut self) -> io::Result<usize> {
        let timeout = self.read_timeout;
        timed(timeout, "read", self.conn_mut().fill()).await
    }

    /// Up to `limit` bytes, reading when none are buffered.
    async fn take_up_to(&mut self, limit: u64) -> io::Result<Bytes> {
        if self.conn_mut().buf.is_empty() && self.fill().await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the engine closed the connection in the middle of a body",
            ));
        }
        let buf = &mut self.conn_mut().buf;
        let n = buf.len().min(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(buf.split_to(n).freeze())
    }

    /// One line of the chunked framing, without its CRLF.
    async fn line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            let buf = &mut self.conn_mut().buf;
            if let Some(end) = buf.windows(2).position(|w| w == b"\r\n") {
                let line = buf.split_to(end + 2);
                return Ok(line[..end].to_vec());
            }
            if buf.len() > 4096 {
                return Err(invalid_data("a chunk size line is longer than 4 KiB"));
            }
            if self.fill().await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the engine closed the connection in the middle of a chunked body",
                ));
            }
        }
    }

    /// The body is read: the connection serves the next request, unless the engine said
    /// otherwise or sent more than the body.
    fn finish(&mut self) {
        self.state = State::Done;
        if let Some(mut conn) = self.conn.take() {
            if self.keep_alive && conn.buf.is_empty() {
                conn.reused = true;
                self.pool.put(conn);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// Reads `wire` (sent in `pieces`-byte writes) with the given framing.
    async fn read(
        wire: &'static [u8],
        framing: Framing,
        pieces: usize,
    ) -> (io::Result<Vec<u8>>, usize) {
        let (client, mut server) = tokio::net::UnixStream::pair().unwrap();
        tokio::spawn(async move {
            for piece in wire.chunks(pieces) {
                server.write_all(piece).await.unwrap();
                tokio::task::yield_now().await;
            }
            // Held open: a body must end by its framing, not by the close.
            tokio::time::sleep(Duration::from_millis(200)).await;
        });
        let conn = Conn {
            io: super::super::connect::Io::Unix(client),
            buf: BytesMut::new(),
            reused: false,
        };
        let pool = Arc::new(Pool::new(4));
        let reader = BodyReader::new(conn, framing, true, pool.clone(), None);
        let body = reader.collect().await.map(|b| b.to_vec());
        (body, pool.idle_count())
    }

    #[tokio::test]
    async fn chunked_bodies_with_extensions_and_trailers() {
        let wire = b"5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n";
        for pieces in [1, 3, 1000] {
            let (body, idle) = read(wire, Framing::Chunked, pieces).await;
            assert_eq!(body.unwrap(), b"hello world", "pieces of {pieces}");
            assert_eq!(idle, 1, "the connection goes back to the pool");
        }
    }

    #[tokio::test]
    async fn lengths_and_bad_framing() {
        let (body, idle) = read(b"0123456789", Framing::Length(10), 4).await;
        assert_eq!((body.unwrap(), idle), (b"0123456789".to_vec(), 1));
        let (body, _) = read(b"zz\r\nhello\r\n", Framing::Chunked, 100).await;
        assert!(body.unwrap_err().to_string().contains("chunk size"));
        let (body, _) = read(b"2\r\nhello\r\n", Framing::Chunked, 100).await;
        assert!(body.unwrap_err().to_string().contains("longer than"));
    }
}
