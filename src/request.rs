//! Building a request: path values (percent-encoded, one segment each), query pairs,
//! headers and the body. Typed calls, calls by name and raw requests all fill a
//! `RequestParts`, and `Client::execute` sends it: one pipeline.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::tables::{BodyInfo, Method, OperationInfo, ResponseKind};

/// Everything but unreserved characters is escaped, so a value holding `/` or `?` stays in
/// its segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A value that goes into a path, query or header parameter as text.
pub trait ParamValue {
    /// Calls `out` once per value (arrays repeat the parameter).
    fn each_value(&self, out: &mut dyn FnMut(Cow<'_, str>));
}

impl<T: ParamValue + ?Sized> ParamValue for &T {
    fn each_value(&self, out: &mut dyn FnMut(Cow<'_, str>)) {
        (**self).each_value(out)
    }
}

impl ParamValue for str {
    fn each_value(&self, out: &mut dyn FnMut(Cow<'_, str>)) {
        out(Cow::Borrowed(self))
    }
}

impl ParamValue for String {
    fn each_value(&self, out: &mut dyn FnMut(Cow<'_, str>)) {
        out(Cow::Borrowed(self))
    }
}

impl ParamValue for bool {
    fn each_value(&self, out: &mut dyn FnMut(Cow<'_, str>)) {
        out(Cow::Borrowed(if *self { "true" } else { "false" }))
    }
}

macro_rules! display_param {
    ($($t:ty),*) => {$(
        impl ParamValue for $t {
            fn each_value(&self, out: &mut dyn FnMut(Cow<'_, str>)) {
                out(Cow::Owned(self.to_string()))
            }
        }
    )*};
}
display_param!(i8, i16, i32, i64, u8, u16, u32, u64, f32, f64);

impl<T: ParamValue> ParamValue for Vec<T> {
    fn each_value(&self, out: &mut dyn FnMut(Cow<'_, str>)) {
        for item in self {
            item.each_value(out);
        }
    }
}

impl ParamValue for serde_json::Value {
    fn each_value(&self, out: &mut dyn FnMut(Cow<'_, str>)) {
        match self {
            serde_json::Value::Null => {}
            serde_json::Value::String(s) => out(Cow::Borrowed(s)),
            serde_json::Value::Bool(b) => b.each_value(out),
            serde_json::Value::Array(items) => items.iter().for_each(|i| i.each_value(out)),
            other => out(Cow::Owned(other.to_string())),
        }
    }
}

use crate::http::{BoxError, ChunkStream, Outgoing};

/// A request body: bytes in memory, or a stream (file, reader) that is never read whole.
#[derive(Default)]
pub struct Body {
    inner: BodyInner,
}

#[derive(Default)]
enum BodyInner {
    #[default]
    Empty,
    Bytes(Bytes),
    Stream(ChunkStream),
}

impl Body {
    /// A body from a stream of chunks.
    pub fn wrap_stream<S, B, E>(stream: S) -> Body
    where
        S: futures_core::Stream<Item = Result<B, E>> + Send + 'static,
        Bytes: From<B>,
        B: 'static,
        E: Into<BoxError> + 'static,
    {
        use futures_util::StreamExt;
        let stream = stream.map(|chunk| chunk.map(Bytes::from).map_err(Into::into));
        Body {
            inner: BodyInner::Stream(Box::pin(stream)),
        }
    }

    /// A body read from any `AsyncRead` (a file, a pipe, a tar builder) as it is sent.
    /// Example: `examples/archive_put.rs` streams a tar into a container.
    pub fn from_reader<R: tokio::io::AsyncRead + Send + 'static>(reader: R) -> Body {
        Body::wrap_stream(tokio_util::io::ReaderStream::new(reader))
    }

    /// A file streamed from disk.
    pub async fn from_file(path: impl AsRef<std::path::Path>) -> std::io::Result<Body> {
        Ok(Body::from_reader(tokio::fs::File::open(path).await?))
    }

    pub(crate) fn into_outgoing(self) -> Outgoing {
        match self.inner {
            BodyInner::Empty => Outgoing::Empty,
            BodyInner::Bytes(bytes) => Outgoing::Full(Some(bytes)),
            BodyInner::Stream(stream) => Outgoing::stream(stream),
        }
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            BodyInner::Empty => f.write_str("Body(empty)"),
            BodyInner::Bytes(bytes) => write!(f, "Body({} bytes)", bytes.len()),
            BodyInner::Stream(_) => f.write_str("Body(stream)"),
        }
    }
}

macro_rules! body_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Body {
            fn from(value: $t) -> Body {
                Body { inner: BodyInner::Bytes(Bytes::from(value)) }
            }
        }
    )*};
}
body_from!(Bytes, Vec<u8>, String, &'static [u8], &'static str);

pub(crate) enum PartsBody {
    None,
    Json(Result<Vec<u8>, String>),
    Stream(Body),
}

/// A request being built: what `Operation::write` fills, and what raw requests fill by hand.
pub struct RequestParts {
    pub(crate) operation: Cow<'static, str>,
    pub(crate) info: Option<&'static OperationInfo>,
    pub(crate) method: Method,
    pub(crate) path: Cow<'static, str>,
    pub(crate) path_values: Vec<(&'static str, String)>,
    pub(crate) query: Vec<(Cow<'static, str>, String)>,
    pub(crate) headers: Vec<(Cow<'static, str>, String)>,
    pub(crate) body: PartsBody,
    pub(crate) content_type: Option<Cow<'static, str>>,
    pub(crate) response: ResponseKind,
    pub(crate) error: Option<String>,
    /// This request's own limit, in place of the client's call timeout.
    pub(crate) timeout: Option<(std::time::Duration, crate::TimeoutKind)>,
}

impl RequestParts {
    /// A copy to send again, for a body-less GET or HEAD (reading twice changes nothing).
    pub(crate) fn replay(&self) -> Option<RequestParts> {
        let idempotent = matches!(self.method, Method::Get | Method::Head);
        (idempotent && matches!(self.body, PartsBody::None)).then(|| RequestParts {
            operation: self.operation.clone(),
            info: self.info,
            method: self.method,
            path: self.path.clone(),
            path_values: self.path_values.clone(),
            query: self.query.clone(),
            headers: self.headers.clone(),
            body: PartsBody::None,
            content_type: self.content_type.clone(),
            response: self.response,
            error: self.error.clone(),
            timeout: self.timeout,
        })
    }

    /// Parts for a generated operation.
    pub fn for_operation(info: &'static OperationInfo) -> RequestParts {
        let content_type = match info.body {
            BodyInfo::None => None,
            BodyInfo::Json { content_type, .. } | BodyInfo::Bytes { content_type, .. } => {
                Some(Cow::Borrowed(content_type))
            }
        };
        RequestParts {
            operation: Cow::Borrowed(info.id),
            info: Some(info),
            method: info.method,
            path: Cow::Borrowed(info.path),
            path_values: Vec::new(),
            query: Vec::new(),
            headers: Vec::new(),
            body: PartsBody::None,
            content_type,
            response: info.response,
            error: None,
            timeout: None,
        }
    }

    /// Parts for a raw request: the path is sent as given (with its own version prefix).
    pub fn raw(method: Method, path: impl Into<String>) -> RequestParts {
        let path = path.into();
        RequestParts {
            operation: Cow::Owned(format!("{method} {path}")),
            info: None,
            method,
            path: Cow::Owned(path),
            path_values: Vec::new(),
            query: Vec::new(),
            headers: Vec::new(),
            body: PartsBody::None,
            content_type: None,
            response: ResponseKind::Buffered,
            error: None,
            timeout: None,
        }
    }

    /// A path value for `{name}`.
    pub fn path(&mut self, name: &'static str, value: &(impl ParamValue + ?Sized)) {
        let mut text = String::new();
        value.each_value(&mut |v| text.push_str(&v));
        self.path_values.push((name, text));
    }

    /// A query parameter (repeated for arrays).
    pub fn query(&mut self, name: &'static str, value: &(impl ParamValue + ?Sized)) {
        value.each_value(&mut |v| self.query.push((Cow::Borrowed(name), v.into_owned())));
    }

    /// A query parameter holding one JSON document (`filters`, `buildargs`, ...).
    pub fn query_json(&mut self, name: &'static str, value: &impl serde::Serialize) {
        match serde_json::to_string(value) {
            Ok(json) => self.query.push((Cow::Borrowed(name), json)),
            Err(e) => self.error = Some(format!("parameter {name}: {e}")),
        }
    }

    /// An array parameter repeated, one JSON document each (`platform=` per platform).
    pub fn query_json_each<T: serde::Serialize>(&mut self, name: &'static str, values: &[T]) {
        for value in values {
            self.query_json(name, value);
        }
    }

    /// A header.
    pub fn header(&mut self, name: &'static str, value: &(impl ParamValue + ?Sized)) {
        value.each_value(&mut |v| self.headers.push((Cow::Borrowed(name), v.into_owned())));
    }

    /// A JSON body.
    pub fn json_body(&mut self, value: &impl serde::Serialize) {
        self.body = PartsBody::Json(serde_json::to_vec(value).map_err(|e| e.to_string()));
        if self.content_type.is_none() {
            self.content_type = Some(Cow::Borrowed("application/json"));
        }
    }

    /// A byte body (streamed when it is a stream).
    pub fn body(&mut self, body: Body) {
        self.body = PartsBody::Stream(body);
    }

    /// Writes the path with every `{name}` replaced by its encoded value.
    pub(crate) fn render_path(&self, out: &mut String) -> Result<(), String> {
        let mut rest: &str = &self.path;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
            let name = rest[open + 1..close].trim_end_matches('}');
            let Some((_, value)) = self.path_values.iter().find(|(n, _)| *n == name) else {
                return Err(format!("path parameter {{{name}}} has no value"));
            };
            if value.is_empty() || value == "." || value == ".." {
                return Err(format!("path parameter {name} cannot be {value:?}"));
            }
            out.extend(utf8_percent_encode(value, SEGMENT));
            rest = rest.get(close + 1..).unwrap_or("");
        }
        out.push_str(rest);
        Ok(())
    }
}

/// Headers berth sets itself: the body's framing and the connection's use are the
/// transport's to say, and a second, different one would make the request ambiguous.
const TRANSPORT_HEADERS: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "upgrade",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    // Set once for the client (`ClientBuilder::user_agent`).
    "user-agent",
];

/// A request ready for the HTTP layer, with what the answer is checked against.
pub(crate) struct Built {
    pub(crate) request: http::Request<Outgoing>,
    pub(crate) kind: ResponseKind,
    /// The statuses the operation lists (`None` for raw requests).
    pub(crate) success: Option<&'static [u16]>,
}

/// Turns parts into a request: the path under its version prefix with its values encoded,
/// the query, the headers (checked), the body and its content type.
pub(crate) fn build_request(parts: RequestParts, prefix: &str) -> Result<Built, String> {
    use http::header::{self, HeaderName, HeaderValue};
    if let Some(message) = parts.error {
        return Err(message);
    }
    let mut target = String::with_capacity(prefix.len() + parts.path.len() + 64);
    target.push_str(prefix);
    parts.render_path(&mut target)?;
    if !parts.query.is_empty() {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &parts.query {
            query.append_pair(name, value);
        }
        target.push('?');
        target.push_str(&query.finish());
    }
    if !target.starts_with('/') || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(format!(
            "the request path {target:?} must start with / and hold no spaces or control characters"
        ));
    }
    // The path's buffer becomes the URI's, without a copy.
    let uri = http::Uri::from_maybe_shared(Bytes::from(target))
        .map_err(|e| format!("the request path cannot be sent: {e}"))?;
    let body = match parts.body {
        PartsBody::None => Outgoing::Empty,
        PartsBody::Json(json) => Outgoing::Full(Some(json?.into())),
        PartsBody::Stream(body) => body.into_outgoing(),
    };
    let empty = matches!(body, Outgoing::Empty);
    let mut request = http::Request::new(body);
    *request.method_mut() = parts.method.to_http();
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    let mut has_content_type = false;
    for (name, value) in &parts.headers {
        if TRANSPORT_HEADERS
            .iter()
            .any(|t| name.eq_ignore_ascii_case(t))
        {
            return Err(format!(
                "header {name} cannot be given: berth sets the framing and connection headers itself"
            ));
        }
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name:?}"))?;
        // Any control character is refused, tab included: a value is one line of text.
        if value.bytes().any(|b| b < b' ' || b == 0x7f) {
            return Err(format!(
                "the value of header {name} holds a line break or another control character"
            ));
        }
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("the value of header {name} cannot be sent"))?;
        has_content_type |= name == header::CONTENT_TYPE;
        headers.append(name, value);
    }
    // A Content-Type given as a header (an operation's own `Content-type` parameter, a raw
    // request's header) replaces the body's default instead of doubling it.
    let bodiless = matches!(parts.method, Method::Get | Method::Head | Method::Delete);
    if let (Some(content_type), false, false) = (&parts.content_type, has_content_type, bodiless) {
        let value = HeaderValue::from_str(content_type)
            .map_err(|_| format!("content type {content_type:?} cannot be sent"))?;
        headers.insert(header::CONTENT_TYPE, value);
    }
    // A bodiless GET says nothing; POST and PUT say 0, as Go's client does.
    if empty && !bodiless {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    }
    if parts.response == ResponseKind::Upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        // dockerd's session endpoint speaks HTTP/2 on the connection it takes over and
        // refuses any other protocol (20.10 and 28.5: 400 "protocol tcp not supported").
        let protocol = if parts.path.trim_end_matches('/').ends_with("/session") {
            "h2c"
        } else {
            "tcp"
        };
        headers.insert(header::UPGRADE, HeaderValue::from_static(protocol));
    }
    if parts.response == ResponseKind::WebSocket {
        let key = crate::stream::handshake_key()?;
        headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        headers.insert(
            header::SEC_WEBSOCKET_VERSION,
            HeaderValue::from_static("13"),
        );
        headers.insert(
            header::SEC_WEBSOCKET_KEY,
            HeaderValue::from_str(&key).map_err(|e| e.to_string())?,
        );
        // dockerd's WebSocket server (golang.org/x/net/websocket) refuses a handshake
        // without an Origin.
        headers.insert(header::ORIGIN, HeaderValue::from_static("http://localhost"));
    }
    Ok(Built {
        request,
        kind: parts.response,
        success: parts.info.map(|info| info.success),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(parts: &RequestParts) -> Result<String, String> {
        let mut path = String::new();
        parts.render_path(&mut path).map(|()| path)
    }

    #[test]
    fn path_values_stay_in_their_segment() {
        let mut parts = RequestParts::raw(Method::Get, "/containers/{id}/json");
        parts.path("id", "a/b?c d");
        assert_eq!(rendered(&parts).unwrap(), "/containers/a%2Fb%3Fc%20d/json");
        let mut parts = RequestParts::raw(Method::Get, "/containers/{id}/json");
        parts.path("id", "..");
        assert!(rendered(&parts).unwrap_err().contains("cannot be"));
        let parts = RequestParts::raw(Method::Get, "/containers/{id}/json");
        assert!(rendered(&parts).unwrap_err().contains("{id}"));
    }

    #[test]
    fn raw_requests_are_named_method_and_path_as_sent() {
        let parts = RequestParts::raw(Method::Get, "/v1.41/containers/Conny_1/checkpoints");
        assert_eq!(parts.operation, "GET /v1.41/containers/Conny_1/checkpoints");
    }

    #[test]
    fn arrays_repeat_and_booleans_are_words() {
        let mut parts = RequestParts::raw(Method::Get, "/x");
        parts.query("containers", &vec!["a".to_string(), "b".to_string()]);
        parts.query("all", &true);
        parts.query_json(
            "filters",
            &std::collections::HashMap::from([("label", vec!["x=y"])]),
        );
        let q: Vec<(String, String)> = parts
            .query
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        assert_eq!(
            q,
            vec![
                ("containers".into(), "a".into()),
                ("containers".into(), "b".into()),
                ("all".into(), "true".into()),
                ("filters".into(), r#"{"label":["x=y"]}"#.into())
            ]
        );
    }
}
