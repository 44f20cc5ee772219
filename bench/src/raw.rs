//! The floor: a blocking keep-alive HTTP/1.1 loop over the unix socket, with just enough
//! parsing (Content-Length and chunked bodies) to read whole answers.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;

pub struct Conn {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Conn {
    pub fn connect(socket: &str) -> std::io::Result<Conn> {
        let stream = UnixStream::connect(socket)?;
        Ok(Conn {
            writer: stream.try_clone()?,
            reader: BufReader::with_capacity(64 * 1024, stream),
        })
    }

    /// GET a path; returns the body length.
    pub fn get(&mut self, path: &str) -> std::io::Result<usize> {
        let mut total = 0;
        self.request(path, &mut |chunk| total += chunk.len())?;
        Ok(total)
    }

    /// GET a streaming path; returns the number of payload bytes (frame headers excluded).
    pub fn stream(&mut self, path: &str) -> std::io::Result<u64> {
        let mut frames = FrameCounter::default();
        self.request(path, &mut |chunk| frames.feed(chunk))?;
        Ok(frames.payload)
    }

    fn request(&mut self, path: &str, body: &mut dyn FnMut(&[u8])) -> std::io::Result<()> {
        write!(
            self.writer,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n"
        )?;
        let (mut length, mut chunked, mut line) = (None, false, String::new());
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let lower = header.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse::<usize>().ok();
            } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        let mut buf = vec![0u8; 64 * 1024];
        let cap = buf.len();
        if chunked {
            loop {
                line.clear();
                self.reader.read_line(&mut line)?;
                let size = usize::from_str_radix(line.trim(), 16).map_err(std::io::Error::other)?;
                let mut left = size;
                while left > 0 {
                    let n = self.reader.read(&mut buf[..left.min(cap)])?;
                    if n == 0 {
                        return Err(std::io::ErrorKind::UnexpectedEof.into());
                    }
                    body(&buf[..n]);
                    left -= n;
                }
                line.clear();
                self.reader.read_line(&mut line)?;
                if size == 0 {
                    return Ok(());
                }
            }
        }
        let mut left = length.unwrap_or(0);
        while left > 0 {
            let n = self.reader.read(&mut buf[..left.min(cap)])?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            body(&buf[..n]);
            left -= n;
        }
        Ok(())
    }
}

/// Counts the payload of multiplexed frames across chunk boundaries.
#[derive(Default)]
struct FrameCounter {
    header: Vec<u8>,
    left: usize,
    payload: u64,
}

impl FrameCounter {
    fn feed(&mut self, mut chunk: &[u8]) {
        while !chunk.is_empty() {
            if self.left == 0 {
                let need = 8 - self.header.len();
                let take = need.min(chunk.len());
                self.header.extend_from_slice(&chunk[..take]);
                chunk = &chunk[take..];
                if self.header.len() == 8 {
                    self.left = u32::from_be_bytes([
                        self.header[4],
                        self.header[5],
                        self.header[6],
                        self.header[7],
                    ]) as usize;
                    self.header.clear();
                }
            } else {
                let take = self.left.min(chunk.len());
                self.payload += take as u64;
                self.left -= take;
                chunk = &chunk[take..];
            }
        }
    }
}
