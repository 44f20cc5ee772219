//! The static tables of the data-driven API, which generated code fills and the runtime
//! reads: an engine version's operations, their methods, paths, parameters, bodies and
//! answers.

/// One engine version's API: every operation's row.
#[derive(Debug)]
pub struct ApiInfo {
    /// `docker` or `podman`.
    pub engine: &'static str,
    /// The spec's version, `1.41` or `5.1.0`.
    pub version: &'static str,
    /// Sent before every path: `/v1.41`.
    pub prefix: &'static str,
    pub title: &'static str,
    pub operations: &'static [&'static OperationInfo],
}

impl ApiInfo {
    /// The original's categories (`containers`, `libpod/containers`, `_ping`), sorted.
    /// Example: `examples/data_driven.rs`.
    pub fn categories(&self) -> Vec<&'static str> {
        let mut categories: Vec<&'static str> =
            self.operations.iter().map(|op| op.category).collect();
        categories.sort_unstable();
        categories.dedup();
        categories
    }

    /// The operations of a category, in spec order.
    pub fn operations_in<'a>(
        &'a self,
        category: &'a str,
    ) -> impl Iterator<Item = &'static OperationInfo> + 'a {
        self.operations
            .iter()
            .copied()
            .filter(move |op| op.category == category)
    }

    /// An operation by its operationId.
    /// Example: `examples/data_driven.rs` prints its summary and doc URL.
    pub fn operation(&self, id: &str) -> Option<&'static OperationInfo> {
        self.operations.iter().copied().find(|op| op.id == id)
    }
}

/// One operation, as data.
#[derive(Debug)]
pub struct OperationInfo {
    pub api: &'static ApiInfo,
    /// The spec's operationId.
    pub id: &'static str,
    pub category: &'static str,
    pub method: Method,
    /// The path template, without the version prefix: `/containers/{id}/start`.
    pub path: &'static str,
    pub summary: &'static str,
    pub doc_url: &'static str,
    pub params: &'static [ParamInfo],
    pub body: BodyInfo,
    pub response: ResponseKind,
    /// The statuses that are not errors (304 included where the spec lists it).
    pub success: &'static [u16],
    pub deprecated: bool,
    /// The version prefix it is always sent under, whatever its module's and the version
    /// policy: podman serves `ManifestAddLibpod` and `ManifestPushV3Libpod` under v3
    /// prefixes only (`/v3.4.0`).
    pub fixed_prefix: Option<&'static str>,
}

impl OperationInfo {
    pub fn param(&self, name: &str) -> Option<&'static ParamInfo> {
        self.params.iter().find(|p| p.name == name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
    Head,
    Patch,
    Options,
}

impl Method {
    /// The method as HTTP writes it (`GET`).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Patch => "PATCH",
            Method::Options => "OPTIONS",
        }
    }
}

impl Method {
    pub(crate) fn to_http(self) -> http::Method {
        match self {
            Method::Get => http::Method::GET,
            Method::Post => http::Method::POST,
            Method::Put => http::Method::PUT,
            Method::Delete => http::Method::DELETE,
            Method::Head => http::Method::HEAD,
            Method::Patch => http::Method::PATCH,
            Method::Options => http::Method::OPTIONS,
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamInfo {
    /// The name on the wire.
    pub name: &'static str,
    pub location: ParamLocation,
    pub required: bool,
    /// The type in words (`string`, `array of string`, `map of array of string`).
    pub schema: &'static str,
    pub encoding: ParamEncoding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamLocation {
    Path,
    Query,
    Header,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamEncoding {
    /// As text; arrays repeat the parameter.
    Plain,
    /// One JSON document.
    Json,
    /// An array: the parameter repeated, one JSON document each.
    JsonEach,
    /// Base64url of one JSON document (registry auth headers).
    Base64Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyInfo {
    None,
    Json {
        content_type: &'static str,
        required: bool,
    },
    Bytes {
        content_type: &'static str,
        required: bool,
    },
}

/// How a successful answer is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKind {
    /// Read whole, then decoded (JSON, text or nothing).
    Buffered,
    /// Raw bytes as they come.
    Bytes,
    /// One JSON document per line.
    JsonLines,
    /// Multiplexed stdout/stderr frames (raw bytes with a TTY).
    Frames,
    /// A hijacked bidirectional connection.
    Upgrade,
    /// A WebSocket connection (attach over WebSocket; feature `websocket`).
    WebSocket,
}
