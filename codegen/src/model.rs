//! Stage 3: berth's intermediate model of one engine version.
//!
//! Everything the emitters need and nothing of OpenAPI's generality: named types with Rust
//! names already chosen, operations grouped by category, each parameter placed and encoded,
//! each response kind decided. `lower` builds it; `emit` only prints it.

use std::collections::BTreeMap;

/// One engine version's API.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Api {
    pub engine: String,
    /// The spec's own version, e.g. `1.41` or `5.1.0`.
    pub version: String,
    /// The path prefix sent before every operation path, e.g. `/v1.41`.
    pub prefix: String,
    pub title: String,
    pub description: Option<String>,
    /// Named types, in a stable order, names unique across the version.
    pub types: Vec<TypeDef>,
    /// Operations in spec order.
    pub operations: Vec<Operation>,
    /// Schemas that could not be typed and became `serde_json::Value`, with why.
    pub fallbacks: Vec<Fallback>,
}

impl Api {
    /// Categories in a stable order (sorted by namespace then name) with their operations.
    pub fn categories(&self) -> BTreeMap<Category, Vec<&Operation>> {
        let mut map: BTreeMap<Category, Vec<&Operation>> = BTreeMap::new();
        for op in &self.operations {
            map.entry(op.category.clone()).or_default().push(op);
        }
        map
    }
}

/// A schema that fell back to `serde_json::Value`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fallback {
    /// Where: a type and field, or an operation's body or response.
    pub place: String,
    pub reason: String,
}

/// The original's category: the first path segment, under an optional namespace
/// (`containers`, `libpod/containers`, `_ping`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Category {
    pub namespace: Option<String>,
    pub name: String,
}

impl Category {
    /// `libpod/containers` or `containers`.
    pub fn qualified(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeDef {
    /// Rust name, unique in the version.
    pub name: String,
    /// Where it comes from in the spec (`#/components/schemas/HostConfig`, or a place).
    pub origin: String,
    /// The other places of the same shape that `unify` made this one type.
    pub merged: Vec<String>,
    pub doc: Option<String>,
    pub kind: TypeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeKind {
    Struct(Vec<Field>),
    /// A string enum that keeps values it does not know.
    Enum(Vec<EnumValue>),
    /// `pub type Name = Ty;`
    Alias(Ty),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The JSON name.
    pub name: String,
    pub rust_name: String,
    pub ty: Ty,
    /// Emitted as `Option<ty>` unless required and not nullable.
    pub optional: bool,
    /// Other JSON names accepted when decoding.
    pub aliases: Vec<String>,
    pub doc: Option<String>,
    /// Why a field a fixup added is deprecated (only earlier versions' specs have it, or
    /// an engine sends it undeclared); emitted `#[deprecated]`.
    pub deprecated: Option<String>,
    /// It holds a credential (`secrets`): its `Debug` prints `<redacted>`.
    pub secret: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumValue {
    pub value: String,
    pub variant: String,
    pub doc: Option<String>,
}

/// A Rust type as the emitters print it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ty {
    String,
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
    /// Any JSON value: a schema berth cannot type (each one is a `Fallback`).
    Value,
    /// A named type of this version's `models`.
    Named(String),
    Vec(Box<Ty>),
    /// A JSON object with string keys.
    Map(Box<Ty>),
    /// A map's value or an array's item that the spec marks nullable (`x-nullable`), where
    /// no field's `Option` can say it: `Option<T>`, so that `null` decodes and is written
    /// back as `null` (PortMap's values: `"8080/tcp": null` for a port exposed, not
    /// published).
    Nullable(Box<Ty>),
    /// A type of the runtime, by path under `crate::` (`auth::RegistryAuth`).
    Runtime(String),
}

impl Ty {
    pub fn is_collection(&self) -> bool {
        matches!(self, Ty::Vec(_) | Ty::Map(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The spec's operationId, also the request struct's name.
    pub id: String,
    pub category: Category,
    pub method: Method,
    /// The path template without the namespace-free prefix, e.g. `/containers/{id}/start`.
    pub path: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub doc_url: String,
    pub deprecated: bool,
    /// The version prefix it is always sent under (`/v3.4.0`), when not its module's.
    pub fixed_prefix: Option<String>,
    pub params: Vec<Param>,
    pub body: Option<Body>,
    pub responses: Vec<Response>,
    pub kind: ResponseKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
    Header,
}

impl Location {
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Text as the engine expects it: strings as-is, booleans `true`/`false`, numbers;
    /// arrays repeat the parameter.
    Plain,
    /// A JSON document in one parameter (`filters`, `buildargs`, ...).
    Json,
    /// An array: the parameter repeated, one JSON document each (`platform`).
    JsonEach,
    /// Base64url of a JSON document (`X-Registry-Auth`, `X-Registry-Config`).
    Base64Json,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub rust_name: String,
    pub location: Location,
    pub ty: Ty,
    pub required: bool,
    pub encoding: Encoding,
    pub doc: Option<String>,
    /// The spec's type in words, for the data-driven tables (`array of string`).
    pub schema_text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Json {
        ty: Ty,
        required: bool,
        content_type: String,
        doc: Option<String>,
    },
    /// A byte stream (tar archives, build contexts).
    Bytes {
        required: bool,
        content_type: String,
        doc: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// An HTTP status; `default` responses are not kept.
    pub status: u16,
    pub description: String,
    /// `None`: no body to decode.
    pub ty: Option<Ty>,
    /// The body is text (`text/plain`), not JSON.
    pub text: bool,
    /// The headers the spec declares for this answer (success answers only).
    pub headers: Vec<HeaderField>,
}

/// A response header the spec declares: a field of the typed answer.
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderField {
    /// The header's name, as the spec writes it (compared without regard to case).
    pub name: String,
    pub rust_name: String,
    pub ty: Ty,
    pub doc: Option<String>,
}

/// How the runtime reads a successful answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseKind {
    /// One JSON document (or nothing), decoded per status.
    Json,
    /// Raw bytes streamed as they come (archives, exports).
    Bytes,
    /// One JSON document per line, each of this type.
    JsonLines(Ty),
    /// Docker's multiplexed stdout/stderr frames (raw bytes when the container has a TTY).
    Frames,
    /// A hijacked bidirectional connection (`Upgrade: tcp`).
    Upgrade,
    /// A WebSocket handshake, then frames (`crate::WebSocket`).
    WebSocket,
}

impl Operation {
    /// Statuses below 400 (and 304), the ones that are not errors.
    pub fn success(&self) -> Vec<&Response> {
        self.responses.iter().filter(|r| r.status < 400).collect()
    }
}
