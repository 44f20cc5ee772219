//! The `x-berth-*` extensions: how `fixups` tells `lower` what the spec itself cannot say.

/// On an operation: how the success body is read — `json`, `bytes`, `json-lines`, `frames`,
/// `upgrade` or `websocket`. Absent means `json`.
pub const RESPONSE: &str = "x-berth-response";
/// On an operation with `json-lines`: the schema of one line (a `$ref` object or a schema).
pub const ITEM: &str = "x-berth-item";
/// On a parameter: `json` (a JSON document in one parameter) or `base64-json`.
pub const ENCODING: &str = "x-berth-encoding";
/// On a parameter or a schema: a runtime type under `crate::` to use instead of the
/// schema's type.
pub const RUST_TYPE: &str = "x-berth-rust-type";
/// On a property: other JSON names a daemon uses for it (`["ID"]` beside `Id`).
pub const ALIASES: &str = "x-berth-aliases";
/// On a property a fixup added: why it is deprecated (`only in the API v1.41 to v1.51
/// specs`); emitted as a `#[deprecated]` field.
pub const DEPRECATED: &str = "x-berth-deprecated";
/// On an operation: the API version it is always sent at, whatever its module's and the
/// version policy (`3.4.0`: podman serves its v3 manifest routes under v3 prefixes only).
pub const API_VERSION: &str = "x-berth-api-version";
/// Kept from Swagger 2.0 by `load`: the operation's `produces` and `consumes`.
pub const PRODUCES: &str = "x-produces";
pub const CONSUMES: &str = "x-consumes";
