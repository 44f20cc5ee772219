//! Raw requests and calls by name, blocking: the async client's own, driven to their end.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Client, IntoBlocking, Iter, Multiplexed, Reader, Upgraded};
use crate::dynamic::Data;
use crate::redact::RedactedJson;
use crate::stream::JsonLines;
use crate::tables::{ApiInfo, Method, ResponseKind};
use crate::Headers;

impl Client {
    /// A raw request for an endpoint no spec describes: see [`crate::Client::request`].
    ///
    /// ```no_run
    /// # fn demo(docker: berth::blocking::Client) -> berth::Result<()> {
    /// let answer = docker.request(berth::Method::Get, "/v1.41/containers/conny/checkpoints").send();
    /// if let Err(e) = answer {
    ///     println!("{e}"); // the engine's own message, with the status
    /// }
    /// # Ok(()) }
    /// ```
    pub fn request(&self, method: Method, path: impl Into<String>) -> RawRequest {
        RawRequest {
            inner: self.inner().request(method, path),
            client: self.clone(),
        }
    }

    /// Calls `operation` of `api` by name with JSON `params` and a body: see
    /// [`crate::Client::invoke_by_name`]. A request body from a `std::io::Read` is
    /// `Data::Bytes(Body::from_std_reader(..))`.
    ///
    /// ```no_run
    /// # #[cfg(feature = "docker-v1_55")]
    /// # fn demo(docker: berth::blocking::Client) -> berth::Result<()> {
    /// use berth::blocking::Answer;
    /// use berth::dynamic::Data;
    /// let api = &berth::docker::v1_55::API;
    /// let answer = docker.invoke_by_name(api, "ContainerList", serde_json::json!({ "all": true }), Data::None)?;
    /// if let Answer::Json(list) = answer {
    ///     println!("{} containers", list.as_array().map_or(0, Vec::len));
    /// }
    /// # Ok(()) }
    /// ```
    pub fn invoke_by_name(
        &self,
        api: &'static ApiInfo,
        operation: &str,
        params: Value,
        data: Data,
    ) -> crate::Result<Answer> {
        use crate::dynamic::Answer as Async;
        let call = self.inner().invoke_by_name(api, operation, params, data);
        Ok(match self.block_on(operation, call)?? {
            Async::Empty => Answer::Empty,
            Async::Json(value) => Answer::Json(value),
            Async::Text(text) => Answer::Text(text),
            Async::Bytes(stream) => Answer::Bytes(stream.into_blocking(self)),
            Async::JsonLines(lines) => Answer::JsonLines(lines.into_blocking(self)),
            Async::Frames(frames) => Answer::Frames(frames.into_blocking(self)),
            Async::Upgraded(upgraded) => Answer::Upgraded(upgraded.into_blocking(self)),
            Async::WebSocket(_) => {
                return Err(crate::Error::InvalidRequest {
                    operation: operation.to_string(),
                    message: "attach over WebSocket is async only: use berth::Client".into(),
                })
            }
        })
    }
}

/// What a blocking call by name answers, by the operation's response kind: the
/// blocking counterpart of [`crate::dynamic::Answer`]. Its `Debug` hides the values of
/// keys that may hold credentials.
pub enum Answer {
    /// No body.
    Empty,
    /// A JSON body.
    Json(Value),
    /// A body that is not JSON.
    Text(String),
    /// A byte stream (archives, exports).
    Bytes(Reader),
    /// Progress, events, stats: one JSON value per item.
    JsonLines(Iter<JsonLines<Value>>),
    /// Logs and other multiplexed output.
    Frames(Multiplexed),
    /// A hijacked connection (attach, exec start).
    Upgraded(Upgraded),
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut tuple =
            |name: &str, value: &dyn std::fmt::Debug| f.debug_tuple(name).field(value).finish();
        match self {
            Answer::Empty => f.write_str("Empty"),
            Answer::Json(value) => tuple("Json", &RedactedJson(value)),
            Answer::Text(text) => tuple("Text", text),
            Answer::Bytes(reader) => tuple("Bytes", reader),
            Answer::JsonLines(lines) => tuple("JsonLines", lines),
            Answer::Frames(frames) => tuple("Frames", frames),
            Answer::Upgraded(upgraded) => tuple("Upgraded", upgraded),
        }
    }
}

/// A blocking raw request being built; see [`Client::request`]. The options are those of
/// [`crate::RawRequest`].
pub struct RawRequest {
    inner: crate::RawRequest,
    client: Client,
}

impl RawRequest {
    fn with(self, inner: impl FnOnce(crate::RawRequest) -> crate::RawRequest) -> Self {
        RawRequest {
            inner: inner(self.inner),
            client: self.client,
        }
    }

    /// A query parameter (repeat it for several values).
    pub fn query(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.with(|r| r.query(name, value))
    }

    /// A header.
    pub fn header(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.with(|r| r.header(name, value))
    }

    /// A JSON body.
    pub fn json(self, value: &impl serde::Serialize) -> Self {
        self.with(|r| r.json(value))
    }

    /// A byte body with its content type; a `std::io::Read` is sent as it is read with
    /// [`Body::from_std_reader`](crate::Body::from_std_reader).
    pub fn body(self, body: impl Into<crate::Body>, content_type: &'static str) -> Self {
        self.with(|r| r.body(body, content_type))
    }

    /// How to read the answer (default: whole).
    pub fn response(self, kind: ResponseKind) -> Self {
        self.with(|r| r.response(kind))
    }

    /// Sends the request and waits for the answer (for a stream: until it starts).
    pub fn send(self) -> crate::Result<RawResponse> {
        let response = self.client.block_on("raw request", self.inner.send())??;
        Ok(RawResponse::new(response, self.client))
    }
}

impl std::fmt::Debug for RawRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawRequest")
    }
}

/// The engine's successful answer to a blocking raw request: see [`crate::RawResponse`].
/// Its streams are read as [`Reader`], [`Iter`], [`Multiplexed`] and [`Upgraded`].
#[derive(Debug)]
pub struct RawResponse {
    inner: crate::RawResponse,
    client: Client,
}

impl RawResponse {
    pub(super) fn new(inner: crate::RawResponse, client: Client) -> RawResponse {
        RawResponse { inner, client }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.inner.status()
    }

    /// The answer's headers.
    pub fn headers(&self) -> &Headers {
        self.inner.headers()
    }

    /// The operation id, or `METHOD path` for a raw request.
    pub fn operation(&self) -> &str {
        self.inner.operation()
    }

    /// The body as `T` (a whole answer).
    pub fn json<T: DeserializeOwned>(self) -> crate::Result<T> {
        self.inner.json()
    }

    /// The body as text (a whole answer).
    pub fn text(self) -> crate::Result<String> {
        self.inner.text()
    }

    /// The body's bytes, read to the end if it is a stream.
    pub fn bytes(self) -> crate::Result<Bytes> {
        self.client.block_on("reading a body", self.inner.bytes())?
    }

    /// The body as it comes, as `std::io::Read`.
    pub fn into_reader(self) -> Reader {
        self.inner.into_byte_stream().into_blocking(&self.client)
    }

    /// The body as JSON lines.
    pub fn into_json_lines<T: DeserializeOwned>(self) -> Iter<JsonLines<T>> {
        self.inner.into_json_lines().into_blocking(&self.client)
    }

    /// The body as multiplexed output.
    pub fn into_multiplexed(self) -> Multiplexed {
        self.inner.into_multiplexed().into_blocking(&self.client)
    }

    /// The hijacked connection (or, if the engine did not hijack, its output, read-only).
    pub fn into_upgraded(self) -> crate::Result<Upgraded> {
        Ok(self.inner.into_upgraded()?.into_blocking(&self.client))
    }
}
