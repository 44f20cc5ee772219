//! `JsonLines<T>`: one JSON document per line (progress of pull, push, build; events;
//! stats), whatever the chunk boundaries and line endings.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::ByteStream;
use crate::Error;

/// The longest line [`JsonLines`] accepts unless told otherwise: 16 MiB.
///
/// The engines' lines are small: a pull or build progress item, an event or a stats sample
/// is a few KiB; the largest are BuildKit's `aux` trace items, which batch a build's
/// output. 16 MiB leaves a wide margin over those while bounding what one stream can make
/// berth hold when a body never sends its newline.
const DEFAULT_MAX_LINE_LENGTH: usize = 16 << 20;

/// A `Stream` of typed items, one JSON document per line. An item carrying `error` /
/// `errorDetail` (how the engines report a failed pull, push or build mid-stream) comes
/// out as `Err(Error::Stream)`; a line that does not decode as `T` as `Err(Error::Decode)`.
///
/// The stream ends after its first error: the poll after an `Err` gives `None`.
///
/// A line (every byte before its `\n`) may be at most 16 MiB long, or what
/// [`max_line_length`](JsonLines::max_line_length) says: a longer one ends the stream with
/// `Error::Decode` naming the limit, so that a body without newlines cannot make berth
/// buffer without bound. Lines end with `\n` or `\r\n`; blank lines are skipped; the last
/// line needs no newline.
///
/// ```no_run
/// # #[cfg(feature = "docker-v1_55")]
/// # async fn demo(docker: berth::Client) -> berth::Result<()> {
/// use berth::docker::v1_55::images::ImageCreate;
/// use futures_util::StreamExt;
/// let mut progress = docker
///     .invoke(ImageCreate { from_image: Some("127.0.0.1:5000/busybox:latest".into()), ..Default::default() })
///     .await?;
/// while let Some(item) = progress.next().await {
///     println!("{:?}", item?.status);
/// }
/// # Ok(()) }
/// ```
/// More in `examples/pull_image.rs` and `examples/build_image.rs`.
pub struct JsonLines<T> {
    operation: String,
    body: ByteStream,
    /// The start of a line whose newline has not come yet.
    buffer: BytesMut,
    /// How much of `buffer` is known to hold no newline: each byte is scanned once.
    scanned: usize,
    max_line_length: usize,
    /// The body has ended.
    done: bool,
    /// The stream has given its last item (the end, or an error).
    over: bool,
    item: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for JsonLines<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JsonLines({})", self.operation)
    }
}

/// How an error item's key starts: a line without it is not probed for one.
static ERROR_KEY: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
    std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"error"));

#[derive(serde::Deserialize)]
struct ErrorProbe {
    error: Option<serde_json::Value>,
    #[serde(rename = "errorDetail")]
    error_detail: Option<serde_json::Value>,
}

/// The message of a line that is an error item (`error` / `errorDetail`), if it is one.
/// Only a line that names `error` pays for a second parse.
pub(crate) fn error_item(line: &[u8]) -> Option<String> {
    ERROR_KEY.find(line)?;
    let probe = serde_json::from_slice::<ErrorProbe>(line).ok()?;
    let detail = probe
        .error_detail
        .as_ref()
        .and_then(|d| d.get("message"))
        .and_then(|m| m.as_str());
    match (&probe.error, detail) {
        (_, Some(m)) => Some(m.to_string()),
        (Some(serde_json::Value::String(s)), None) if !s.is_empty() => Some(s.clone()),
        (Some(v), None) if !v.is_null() && v != "" => Some(v.to_string()),
        _ => None,
    }
}

impl<T: DeserializeOwned> JsonLines<T> {
    /// Items decoded from `body`; errors name the body's
    /// [`operation`](ByteStream::operation). For bytes from elsewhere, see
    /// [`ByteStream::from_stream`].
    pub fn new(body: ByteStream) -> JsonLines<T> {
        JsonLines {
            operation: body.operation().to_string(),
            body,
            buffer: BytesMut::new(),
            scanned: 0,
            max_line_length: DEFAULT_MAX_LINE_LENGTH,
            done: false,
            over: false,
            item: PhantomData,
        }
    }

    /// The longest line accepted, in bytes before its `\n` (default 16 MiB). A longer line
    /// ends the stream with `Error::Decode`, as soon as the line's bytes in hand pass the
    /// limit: berth buffers at most this plus one chunk of a line.
    pub fn max_line_length(mut self, bytes: usize) -> JsonLines<T> {
        self.max_line_length = bytes;
        self
    }

    /// Reads the whole stream; fails on the first error item.
    /// Example: `examples/build_image.rs`.
    pub async fn collect_all(mut self) -> crate::Result<Vec<T>> {
        let mut items = Vec::new();
        while let Some(item) = self.next().await {
            items.push(item?);
        }
        Ok(items)
    }

    fn decode(&self, line: Bytes) -> crate::Result<T> {
        let decoded = match error_item(&line) {
            Some(message) => Err(Error::Stream {
                operation: self.operation.clone(),
                message,
                raw: line,
            }),
            None => crate::response::decode_json(&self.operation, &line),
        };
        if let Err(error) = &decoded {
            self.body.record_error(error);
        }
        decoded
    }

    /// The next complete, non-blank line in the buffer, without its line ending.
    fn next_line(&mut self) -> Option<crate::Result<Bytes>> {
        loop {
            let Some(found) = memchr::memchr(b'\n', &self.buffer[self.scanned..]) else {
                self.scanned = self.buffer.len();
                return self.too_long(self.buffer.len()).map(Err);
            };
            let end = self.scanned + found;
            if let Some(error) = self.too_long(end) {
                return Some(Err(error));
            }
            let mut line = self.buffer.split_to(end + 1);
            self.scanned = 0;
            line.truncate(end);
            if line.last() == Some(&b'\r') {
                line.truncate(end - 1);
            }
            if !is_blank(&line) {
                return Some(Ok(line.freeze()));
            }
        }
    }

    /// The error for a line of `length` bytes so far, if that is over the limit; it keeps
    /// the line's first `max_line_length` bytes (the same whatever the chunks were).
    fn too_long(&mut self, length: usize) -> Option<Error> {
        if length <= self.max_line_length {
            return None;
        }
        let mut start = self.buffer.split();
        self.scanned = 0;
        start.truncate(self.max_line_length);
        Some(Error::Decode {
            operation: self.operation.clone(),
            path: String::new(),
            message: format!(
                "a line is longer than the limit of {} bytes (JsonLines::max_line_length)",
                self.max_line_length
            ),
            body: start.freeze(),
        })
    }

    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<crate::Result<T>>> {
        loop {
            match self.next_line() {
                Some(Ok(line)) => return Poll::Ready(Some(self.decode(line))),
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                None => {}
            }
            if self.done {
                if is_blank(&self.buffer) {
                    return Poll::Ready(None);
                }
                // The last line, without a newline.
                let mut rest = self.buffer.split();
                self.scanned = 0;
                if rest.last() == Some(&b'\r') {
                    rest.truncate(rest.len() - 1);
                }
                return Poll::Ready(Some(self.decode(rest.freeze())));
            }
            match self.body.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(chunk))) => self.buffer.extend_from_slice(&chunk),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => self.done = true,
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

impl<T: DeserializeOwned> Stream for JsonLines<T> {
    type Item = crate::Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.over {
            return Poll::Ready(None);
        }
        let item = this.poll_item(cx);
        if super::is_last(&item) {
            this.over = true;
            this.buffer = BytesMut::new();
            this.body.release();
        }
        item
    }
}

impl<T> Unpin for JsonLines<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Item {
        status: String,
    }

    fn lines(parts: &[&str]) -> JsonLines<Item> {
        let items: Vec<crate::Result<Bytes>> = parts
            .iter()
            .map(|p| Ok(Bytes::from(p.to_string())))
            .collect();
        JsonLines::new(ByteStream::from_stream(
            futures_util::stream::iter(items),
            "Test",
        ))
    }

    #[tokio::test]
    async fn objects_across_chunks_and_crlf() {
        let items: Vec<_> = lines(&[
            "{\"status\":\"a\"}\r\n{\"sta",
            "tus\":\"b\"}\n\n{\"status\":\"c\"}",
        ])
        .collect()
        .await;
        let items: Vec<Item> = items.into_iter().map(|i| i.unwrap()).collect();
        assert_eq!(
            items.iter().map(|i| i.status.as_str()).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
    }

    #[tokio::test]
    async fn an_error_item_is_the_last_item() {
        let items: Vec<_> = lines(&[
            "{\"status\":\"a\"}\n{\"errorDetail\":{\"message\":\"denied\"},\"error\":\"denied\"}\n",
            "{\"status\":\"after\"}\n",
        ])
        .collect()
        .await;
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(items[0].is_ok());
        assert!(matches!(&items[1], Err(Error::Stream { message, .. }) if message == "denied"));
    }

    #[tokio::test]
    async fn a_line_that_does_not_decode_is_the_last_item() {
        let items: Vec<_> = lines(&["{\"status\":1}\n{\"status\":\"b\"}\n"])
            .collect()
            .await;
        assert_eq!(items.len(), 1, "{items:?}");
        match &items[0] {
            Err(Error::Decode {
                operation, body, ..
            }) => {
                assert_eq!(operation, "Test");
                assert_eq!(&body[..], b"{\"status\":1}");
            }
            other => panic!("expected a decode error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_transport_error_is_the_last_item() {
        let items: Vec<crate::Result<Bytes>> = vec![
            Ok(Bytes::from_static(b"{\"status\":\"a\"}\n{\"sta")),
            Err(Error::Io(std::io::Error::other("cut"))),
            Ok(Bytes::from_static(b"tus\":\"b\"}\n")),
        ];
        let body = ByteStream::from_stream(futures_util::stream::iter(items), "Test");
        let items: Vec<_> = JsonLines::<Item>::new(body).collect().await;
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(matches!(items[1], Err(Error::Io(_))));
    }

    #[tokio::test]
    async fn a_line_over_the_limit_ends_the_stream() {
        // With a newline, and without one (the limit applies before the newline comes).
        for tail in ["\n{\"status\":\"b\"}\n", ""] {
            let long = format!("{{\"status\":\"{}\"}}{tail}", "x".repeat(100));
            let mut stream =
                lines(&["{\"status\":\"a\"}\n", &long[..50], &long[50..]]).max_line_length(64);
            assert_eq!(stream.next().await.unwrap().unwrap().status, "a");
            match stream.next().await {
                Some(Err(Error::Decode {
                    operation,
                    message,
                    body,
                    ..
                })) => {
                    assert_eq!(operation, "Test");
                    assert!(message.contains("limit of 64 bytes"), "{message}");
                    assert_eq!(&body[..], &long.as_bytes()[..64]);
                }
                other => panic!("expected the line-length error, got {other:?}"),
            }
            assert!(stream.next().await.is_none());
        }
    }

    #[tokio::test]
    async fn a_line_of_the_limit_passes() {
        let line = format!("{{\"status\":\"{}\"}}", "x".repeat(50));
        let items: Vec<_> = lines(&[&format!("{line}\r\n"), &line])
            .max_line_length(line.len() + 1) // the \r counts
            .collect()
            .await;
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(items.iter().all(|i| i.is_ok()));
    }

    #[test]
    fn the_scan_resumes_where_it_stopped() {
        let mut stream = lines(&[]);
        for piece in [&b"{\"status\":"[..], b"\"abc", b"\"}\r", b"\n"] {
            let before = stream.buffer.len();
            stream.buffer.extend_from_slice(piece);
            assert_eq!(
                stream.scanned, before,
                "only the new bytes are left to scan"
            );
            if piece != b"\n" {
                assert!(stream.next_line().is_none());
            }
        }
        let line = stream.next_line().unwrap().unwrap();
        assert_eq!(&line[..], b"{\"status\":\"abc\"}");
        assert_eq!((stream.scanned, stream.buffer.len()), (0, 0));
    }
}
