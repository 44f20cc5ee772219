//! The floor: a blocking keep-alive HTTP/1.1 loop over the unix socket, with just enough
//! parsing to read whole answers correctly (the status line, Content-Length, chunked bodies
//! with extensions and trailers, bodies that end with the connection) and nothing more: no
//! allocation per request, one `write` per request, bodies read in place from the buffer.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

pub struct Conn {
    socket: String,
    reader: BufReader<UnixStream>,
    writer: UnixStream,
    /// The daemon said `Connection: close` or ended a body with the connection.
    closed: bool,
    request: Vec<u8>,
    line: String,
}

/// How the body of an answer is delimited.
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

impl Conn {
    pub fn connect(socket: &str) -> io::Result<Conn> {
        let stream = UnixStream::connect(socket)?;
        Ok(Conn {
            socket: socket.to_string(),
            writer: stream.try_clone()?,
            reader: BufReader::with_capacity(64 * 1024, stream),
            closed: false,
            request: Vec::with_capacity(512),
            line: String::with_capacity(256),
        })
    }

    /// GET a path; returns the body length. A status other than 2xx is an error.
    pub fn get(&mut self, path: &str) -> io::Result<usize> {
        let mut total = 0;
        self.request(path, &mut |chunk| {
            total += chunk.len();
            Ok(())
        })?;
        Ok(total)
    }

    /// GET a path; returns the whole body (for checking answers, not for timing).
    pub fn get_body(&mut self, path: &str) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        self.request(path, &mut |chunk| {
            body.extend_from_slice(chunk);
            Ok(())
        })?;
        Ok(body)
    }

    /// GET a multiplexed stream (logs without a TTY); returns the number of payload bytes
    /// (frame headers excluded), checking the framing as it goes.
    pub fn stream(&mut self, path: &str) -> io::Result<u64> {
        let mut frames = FrameCounter::default();
        self.request(path, &mut |chunk| frames.feed(chunk))?;
        frames.finish()
    }

    fn request(
        &mut self,
        path: &str,
        body: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        if self.closed {
            *self = Conn::connect(&self.socket)?;
        }
        self.request.clear();
        self.request.extend_from_slice(b"GET ");
        self.request.extend_from_slice(path.as_bytes());
        self.request
            .extend_from_slice(b" HTTP/1.1\r\nHost: localhost\r\n\r\n");
        self.writer.write_all(&self.request)?;

        // Status line and headers.
        self.read_line()?;
        let status: u16 = self
            .line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(format!("bad status line {:?}", self.line.trim_end())))?;
        let (mut length, mut chunked) = (None, false);
        loop {
            self.read_line()?;
            let header = self.line.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else {
                return Err(bad(format!("bad header line {header:?}")));
            };
            let (name, value) = (name.trim(), value.trim());
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<usize>().map_err(bad)?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value
                    .rsplit(',')
                    .next()
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("chunked"));
            } else if name.eq_ignore_ascii_case("connection") {
                self.closed |= value.eq_ignore_ascii_case("close");
            }
        }
        let framing = match (status, chunked, length) {
            (100..=199 | 204 | 304, _, _) => Framing::Length(0),
            (_, true, _) => Framing::Chunked,
            (_, false, Some(n)) => Framing::Length(n),
            (_, false, None) => Framing::UntilClose,
        };

        // A status that is not 2xx: read the body whole, then fail with it.
        let mut failure = Vec::new();
        let ok = (200..300).contains(&status);
        let mut sink = |chunk: &[u8]| {
            if ok {
                body(chunk)
            } else {
                failure.extend_from_slice(chunk);
                Ok(())
            }
        };
        match framing {
            Framing::Length(n) => self.read_exact_into(n, &mut sink)?,
            Framing::Chunked => loop {
                self.read_line()?;
                let size = self.line.trim_end();
                let size = size.split(';').next().unwrap_or_default().trim();
                let size = usize::from_str_radix(size, 16)
                    .map_err(|e| bad(format!("bad chunk size {size:?}: {e}")))?;
                if size == 0 {
                    // Trailers, if any, up to the empty line.
                    loop {
                        self.read_line()?;
                        if self.line.trim_end().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                self.read_exact_into(size, &mut sink)?;
                self.read_line()?;
                if !self.line.trim_end().is_empty() {
                    return Err(bad("no CRLF after a chunk".to_string()));
                }
            },
            Framing::UntilClose => {
                self.closed = true;
                loop {
                    let available = self.reader.fill_buf()?;
                    if available.is_empty() {
                        break;
                    }
                    let n = available.len();
                    sink(available)?;
                    self.reader.consume(n);
                }
            }
        }
        if !ok {
            return Err(io::Error::other(format!(
                "GET {path}: HTTP {status}: {}",
                String::from_utf8_lossy(&failure).trim_end()
            )));
        }
        Ok(())
    }

    fn read_line(&mut self) -> io::Result<()> {
        self.line.clear();
        if self.reader.read_line(&mut self.line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    /// Hands exactly `n` bytes to `sink`, straight from the read buffer.
    fn read_exact_into(
        &mut self,
        mut n: usize,
        sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> io::Result<()> {
        while n > 0 {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let take = available.len().min(n);
            sink(&available[..take])?;
            self.reader.consume(take);
            n -= take;
        }
        Ok(())
    }
}

fn bad(message: impl ToString) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}

/// Counts the payload of multiplexed frames across chunk boundaries (every client's log
/// follow that sees the raw stream counts through this one).
#[derive(Default)]
pub struct FrameCounter {
    header: [u8; 8],
    have: usize,
    left: usize,
    payload: u64,
}

impl FrameCounter {
    pub fn feed(&mut self, mut chunk: &[u8]) -> io::Result<()> {
        while !chunk.is_empty() {
            if self.left == 0 {
                let take = (8 - self.have).min(chunk.len());
                self.header[self.have..self.have + take].copy_from_slice(&chunk[..take]);
                self.have += take;
                chunk = &chunk[take..];
                if self.have == 8 {
                    if self.header[0] > 2 || self.header[1..4] != [0, 0, 0] {
                        return Err(bad(format!(
                            "not a multiplexed frame header: {:?}",
                            self.header
                        )));
                    }
                    let [_, _, _, _, a, b, c, d] = self.header;
                    self.left = u32::from_be_bytes([a, b, c, d]) as usize;
                    self.have = 0;
                }
            } else {
                let take = self.left.min(chunk.len());
                self.payload += take as u64;
                self.left -= take;
                chunk = &chunk[take..];
            }
        }
        Ok(())
    }

    pub fn finish(self) -> io::Result<u64> {
        if self.have != 0 || self.left != 0 {
            return Err(bad(format!(
                "the stream ended inside a frame ({} header bytes, {} payload bytes missing)",
                self.have, self.left
            )));
        }
        Ok(self.payload)
    }
}

#[cfg(test)]
mod tests {
    use super::FrameCounter;

    #[test]
    fn frames_split_anywhere_count_the_same() {
        let mut all = Vec::new();
        for (stream, data) in [(1u8, &b"hello\n"[..]), (2, b""), (1, b"world")] {
            all.extend_from_slice(&[stream, 0, 0, 0]);
            all.extend_from_slice(&(data.len() as u32).to_be_bytes());
            all.extend_from_slice(data);
        }
        for size in 1..all.len() {
            let mut counter = FrameCounter::default();
            for chunk in all.chunks(size) {
                counter.feed(chunk).unwrap();
            }
            assert_eq!(counter.finish().unwrap(), 11, "chunks of {size}");
        }
        let mut cut = FrameCounter::default();
        cut.feed(&all[..10]).unwrap();
        assert!(cut.finish().is_err());
        assert!(FrameCounter::default().feed(b"not a frame").is_err());
    }
}
