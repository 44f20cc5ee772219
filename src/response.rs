//! A successful answer before decoding, and the decoders generated code calls.

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::stream::{ByteStream, JsonLines, Multiplexed, Upgraded};
use crate::Error;

/// The headers of an answer; names compare without regard to case, and the values of one
/// name keep the order the engine sent them in.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    map: http::HeaderMap,
}

impl Headers {
    pub(crate) fn new(map: http::HeaderMap) -> Headers {
        Headers { map }
    }

    /// The first value of a header (`headers.get("api-version")`); `None` also when the
    /// value is not UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map
            .get(name)
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
    }

    /// Every value of a header, in order.
    pub fn get_all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.map
            .get_all(name)
            .into_iter()
            .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok())
    }

    /// Every header as `(name, value)`, names in lower case.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().filter_map(|(name, value)| {
            Some((name.as_str(), std::str::from_utf8(value.as_bytes()).ok()?))
        })
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

pub(crate) enum ResponseBody {
    Buffered(Bytes),
    Streaming(ByteStream),
    Upgraded(Upgraded),
}

/// The engine's answer with a success status, its body read whole or still streaming
/// according to the operation's response kind.
pub struct RawResponse {
    /// The operation id (borrowed from the tables), or `METHOD path` for raw requests.
    pub(crate) operation: std::borrow::Cow<'static, str>,
    pub(crate) status: u16,
    pub(crate) headers: Headers,
    pub(crate) body: ResponseBody,
    /// The call's `berth.call` span (none when tracing is off): an error met in the
    /// answer after its head is recorded on it.
    pub(crate) span: tracing::Span,
}

impl std::fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = match &self.body {
            ResponseBody::Buffered(bytes) => format!("{} bytes", bytes.len()),
            ResponseBody::Streaming(_) => "streaming".to_string(),
            ResponseBody::Upgraded(_) => "upgraded".to_string(),
        };
        f.debug_struct("RawResponse")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &body)
            .finish()
    }
}

impl RawResponse {
    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// The headers, moved out (a typed answer keeps them; the rest of the answer no
    /// longer needs them).
    pub(crate) fn take_headers(&mut self) -> Headers {
        std::mem::take(&mut self.headers)
    }

    fn buffered(&self) -> Bytes {
        match &self.body {
            ResponseBody::Buffered(bytes) => bytes.clone(),
            _ => Bytes::new(),
        }
    }

    /// The body as `T`; a failure names the field path and keeps the body.
    pub fn json<T: DeserializeOwned>(self) -> crate::Result<T> {
        let body = self.buffered();
        self.recorded(decode_json(&self.operation, &body))
    }

    /// `result`, its error recorded on the call's span.
    pub(crate) fn recorded<T>(&self, result: crate::Result<T>) -> crate::Result<T> {
        if let Err(error) = &result {
            self.span.record("error", error.kind());
        }
        result
    }

    /// The body as text.
    pub fn text(self) -> crate::Result<String> {
        let body = self.buffered();
        let text = String::from_utf8(Vec::from(body.clone())).map_err(|e| Error::Decode {
            operation: self.operation.to_string(),
            path: String::new(),
            message: e.to_string(),
            body,
        });
        self.recorded(text)
    }

    /// No body is expected; whatever came is ignored, unless it holds an error item (a
    /// JSON line with `error` / `errorDetail`): a failure the engine reports after its 200,
    /// which is then an `Error::Stream`.
    pub fn empty(self) -> crate::Result<()> {
        let body = self.buffered();
        for line in body.split(|b| *b == b'\n') {
            if let Some(message) = crate::stream::error_item(line) {
                return self.recorded(Err(Error::Stream {
                    operation: self.operation.to_string(),
                    message,
                    raw: body.slice_ref(line),
                }));
            }
        }
        Ok(())
    }

    /// The body bytes as they are (raw requests).
    pub async fn bytes(self) -> crate::Result<Bytes> {
        match self.body {
            ResponseBody::Buffered(bytes) => Ok(bytes),
            ResponseBody::Streaming(stream) => stream.collect().await,
            ResponseBody::Upgraded(_) => Ok(Bytes::new()),
        }
    }

    /// The body as it comes; its [`operation`](ByteStream::operation) is this answer's.
    pub fn into_byte_stream(self) -> ByteStream {
        let operation = self.operation.into_owned();
        let stream = match self.body {
            ResponseBody::Streaming(stream) => stream,
            ResponseBody::Buffered(bytes) => ByteStream::once(bytes),
            ResponseBody::Upgraded(_) => ByteStream::once(Bytes::new()),
        };
        stream.named(operation).in_span(self.span)
    }

    pub fn into_json_lines<T: DeserializeOwned>(self) -> JsonLines<T> {
        JsonLines::new(self.into_byte_stream())
    }

    pub fn into_multiplexed(self) -> Multiplexed {
        Multiplexed::new(self.into_byte_stream())
    }

    /// The WebSocket the engine accepted (attach over WebSocket); an answer that did not
    /// switch protocols is an error keeping its body.
    pub fn into_websocket(self) -> crate::Result<crate::WebSocket> {
        match self.body {
            ResponseBody::Upgraded(upgraded) => Ok(crate::WebSocket::client(upgraded)),
            _ => Err(Error::UnexpectedStatus {
                operation: self.operation.to_string(),
                status: self.status,
                body: self.buffered(),
            }),
        }
    }

    pub fn into_upgraded(self) -> crate::Result<Upgraded> {
        match self.body {
            ResponseBody::Upgraded(upgraded) => Ok(upgraded),
            // Not hijacked (a detached exec start answers 200): the body is the output.
            other => Ok(Upgraded::from_stream(
                RawResponse {
                    body: other,
                    ..self
                }
                .into_byte_stream(),
            )),
        }
    }

    /// The error for a success status the operation does not list.
    pub fn unexpected_status(self) -> Error {
        let body = self.buffered();
        Error::UnexpectedStatus {
            operation: self.operation.into_owned(),
            status: self.status,
            body,
        }
    }
}

/// Decodes JSON, naming the path of the field that failed and keeping the body.
pub(crate) fn decode_json<T: DeserializeOwned>(operation: &str, body: &Bytes) -> crate::Result<T> {
    // An empty body is read as `null`: a JSON value or an `Option` decodes, a struct fails.
    let input: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        body
    };
    // The fast path first; only a failure pays for tracking the field path, decoding again
    // to name where it broke.
    if let Ok(value) = serde_json::from_slice(input) {
        return Ok(value);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(input);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Ok(value) => Ok(value),
        Err(e) => Err(Error::Decode {
            operation: operation.to_string(),
            path: e.path().to_string(),
            message: e.into_inner().to_string(),
            body: body.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(body: &'static str) -> RawResponse {
        RawResponse {
            span: tracing::Span::none(),
            operation: "PluginPush".into(),
            status: 200,
            headers: Headers::new(http::HeaderMap::new()),
            body: ResponseBody::Buffered(Bytes::from_static(body.as_bytes())),
        }
    }

    /// dockerd answers a failed plugin push with 200 and progress ending in an error item:
    /// an answer typed `()` is then an error, not `Ok(())`.
    #[test]
    fn an_empty_answer_holding_an_error_item_is_an_error() {
        let failed = "{\"status\":\"The push refers to repository [r/p]\"}\n\
                      {\"errorDetail\":{\"message\":\"unauthorized: authentication required\"},\"error\":\"unauthorized: authentication required\"}\n";
        match answered(failed).empty() {
            Err(Error::Stream { message, raw, .. }) => {
                assert_eq!(message, "unauthorized: authentication required");
                assert!(raw.starts_with(b"{\"errorDetail\""));
            }
            other => panic!("{other:?}"),
        }
        assert!(answered("").empty().is_ok());
        assert!(answered("{\"status\":\"Pushed\"}\n").empty().is_ok());
        assert!(
            answered("{\"error\":\"\"}").empty().is_ok(),
            "an empty error is none"
        );
    }
}
