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

/// A `Stream` of typed items. An item carrying `error` / `errorDetail` (how the engines
/// report a failed pull, push or build mid-stream) comes out as `Err(Error::Stream)`.
///
/// ```no_run
/// # #[cfg(feature = "docker-v1_53")]
/// # async fn demo(docker: berth::Client) -> berth::Result<()> {
/// use berth::docker::v1_53::images::ImageCreate;
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
    buffer: BytesMut,
    done: bool,
    item: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for JsonLines<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JsonLines({})", self.operation)
    }
}

#[derive(serde::Deserialize)]
struct ErrorProbe {
    error: Option<serde_json::Value>,
    #[serde(rename = "errorDetail")]
    error_detail: Option<serde_json::Value>,
}

impl<T: DeserializeOwned> JsonLines<T> {
    pub(crate) fn new(operation: String, body: ByteStream) -> JsonLines<T> {
        JsonLines {
            operation,
            body,
            buffer: BytesMut::new(),
            done: false,
            item: PhantomData,
        }
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
        if let Ok(probe) = serde_json::from_slice::<ErrorProbe>(&line) {
            let detail = probe
                .error_detail
                .as_ref()
                .and_then(|d| d.get("message"))
                .and_then(|m| m.as_str());
            let message = match (&probe.error, detail) {
                (_, Some(m)) => Some(m.to_string()),
                (Some(serde_json::Value::String(s)), None) if !s.is_empty() => Some(s.clone()),
                (Some(v), None) if !v.is_null() && v != "" => Some(v.to_string()),
                _ => None,
            };
            if let Some(message) = message {
                return Err(Error::Stream {
                    operation: self.operation.clone(),
                    message,
                    raw: line,
                });
            }
        }
        crate::response::decode_json(&self.operation, &line)
    }

    fn next_line(&mut self) -> Option<Bytes> {
        loop {
            let end = self.buffer.iter().position(|b| *b == b'\n')?;
            let mut line = self.buffer.split_to(end + 1);
            line.truncate(end);
            if line.last() == Some(&b'\r') {
                line.truncate(end - 1);
            }
            if line.iter().any(|b| !b.is_ascii_whitespace()) {
                return Some(line.freeze());
            }
        }
    }
}

impl<T: DeserializeOwned> Stream for JsonLines<T> {
    type Item = crate::Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(line) = this.next_line() {
                return Poll::Ready(Some(this.decode(line)));
            }
            if this.done {
                if this.buffer.iter().all(|b| b.is_ascii_whitespace()) {
                    return Poll::Ready(None);
                }
                let rest = this.buffer.split().freeze();
                return Poll::Ready(Some(this.decode(rest)));
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
        JsonLines::new(
            "Test".into(),
            ByteStream::new(Box::pin(futures_util::stream::iter(items)), "t".into()),
        )
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
    async fn error_items_become_errors() {
        let items: Vec<_> = lines(&[
            "{\"status\":\"a\"}\n{\"errorDetail\":{\"message\":\"denied\"},\"error\":\"denied\"}\n",
        ])
        .collect()
        .await;
        assert!(items[0].is_ok());
        assert!(matches!(&items[1], Err(Error::Stream { message, .. }) if message == "denied"));
    }
}
