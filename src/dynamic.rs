//! The data-driven API of the original: list categories and operations, read an
//! operation's summary and doc URL, and invoke an operation by name with JSON params —
//! through the same request pipeline as typed calls.

use bytes::Bytes;
use serde_json::Value;

use crate::redact::RedactedJson;
use crate::request::{Body, RequestParts};
use crate::stream::{ByteStream, JsonLines, Multiplexed, Upgraded};
use crate::tables::{ApiInfo, OperationInfo, ParamEncoding, ParamLocation, ResponseKind};
use crate::{Client, Error};

/// A request body for a call by name. Its `Debug` hides the values of keys that may hold
/// credentials (`password`, `identitytoken`, `auth`, ...).
#[derive(Default)]
pub enum Data {
    #[default]
    None,
    Json(Value),
    Bytes(Body),
}

/// What a call by name answers, by the operation's response kind. Its `Debug` hides the
/// values of keys that may hold credentials (`IdentityToken`, ...).
pub enum Answer {
    Empty,
    Json(Value),
    Text(String),
    Bytes(ByteStream),
    JsonLines(JsonLines<Value>),
    Frames(Multiplexed),
    Upgraded(Upgraded),
}

/// An answer decoded as berth's typed answer and written back as JSON (each version
/// module's `round_trip`): what a typed call keeps of what the engine sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoundTrip {
    /// The typed answer, written back (`null` for an answer typed `()`).
    pub json: Value,
    /// The keys that only the `extra` maps kept, as `Type.Key`: the engine sent them, and
    /// this version's spec does not name them.
    pub untyped: Vec<String>,
}

impl std::fmt::Debug for Data {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Data::None => f.write_str("None"),
            Data::Json(value) => f.debug_tuple("Json").field(&RedactedJson(value)).finish(),
            Data::Bytes(body) => f.debug_tuple("Bytes").field(body).finish(),
        }
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut tuple =
            |name: &str, value: &dyn std::fmt::Debug| f.debug_tuple(name).field(value).finish();
        match self {
            Answer::Empty => f.write_str("Empty"),
            Answer::Json(value) => tuple("Json", &RedactedJson(value)),
            Answer::Text(text) => tuple("Text", text),
            Answer::Bytes(stream) => tuple("Bytes", stream),
            Answer::JsonLines(lines) => tuple("JsonLines", lines),
            Answer::Frames(frames) => tuple("Frames", frames),
            Answer::Upgraded(upgraded) => tuple("Upgraded", upgraded),
        }
    }
}

impl Client {
    /// Calls `operation` of `api` with `params` (a JSON object: each key a path, query or
    /// header parameter of the operation) and `data` (the body).
    ///
    /// ```no_run
    /// # #[cfg(feature = "docker-v1_55")]
    /// # async fn demo(docker: berth::Client) -> berth::Result<()> {
    /// use berth::dynamic::{Answer, Data};
    /// let api = &berth::docker::v1_55::API;
    /// let answer = docker
    ///     .invoke_by_name(api, "ContainerList", serde_json::json!({ "all": true }), Data::None)
    ///     .await?;
    /// if let Answer::Json(list) = answer {
    ///     println!("{} containers", list.as_array().map_or(0, Vec::len));
    /// }
    /// # Ok(()) }
    /// ```
    /// More in `examples/data_driven.rs`.
    pub async fn invoke_by_name(
        &self,
        api: &'static ApiInfo,
        operation: &str,
        params: Value,
        data: Data,
    ) -> crate::Result<Answer> {
        let info = api
            .operation(operation)
            .ok_or_else(|| Error::InvalidRequest {
                operation: operation.to_string(),
                message: format!(
                    "no such operation in the {} API {}",
                    api.engine, api.version
                ),
            })?;
        let parts = parts_by_name(info, params, data)?;
        let kind = info.response;
        let response = self.execute(parts).await?;
        Ok(match kind {
            ResponseKind::Buffered => {
                let body: Bytes = response.bytes().await?;
                if body.iter().all(u8::is_ascii_whitespace) {
                    Answer::Empty
                } else if let Ok(json) = serde_json::from_slice(&body) {
                    Answer::Json(json)
                } else {
                    Answer::Text(String::from_utf8_lossy(&body).into_owned())
                }
            }
            ResponseKind::Bytes => Answer::Bytes(response.into_byte_stream()),
            ResponseKind::JsonLines => Answer::JsonLines(response.into_json_lines()),
            ResponseKind::Frames => Answer::Frames(response.into_multiplexed()),
            ResponseKind::Upgrade => Answer::Upgraded(response.into_upgraded()?),
        })
    }
}

/// Routes JSON params to path, query and header by the operation's table row.
pub fn parts_by_name(
    info: &'static OperationInfo,
    params: Value,
    data: Data,
) -> crate::Result<RequestParts> {
    let invalid = |message: String| Error::InvalidRequest {
        operation: info.id.to_string(),
        message,
    };
    let params = match params {
        Value::Null => serde_json::Map::new(),
        Value::Object(map) => map,
        other => {
            // The value is not shown: it may hold a credential.
            let kind = match other {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                _ => "a boolean",
            };
            return Err(invalid(format!("params must be a JSON object, not {kind}")));
        }
    };
    let mut parts = RequestParts::for_operation(info);
    for (key, value) in &params {
        let param = info
            .params
            .iter()
            .find(|p| p.name == key || p.name.eq_ignore_ascii_case(key))
            .ok_or_else(|| {
                let known: Vec<&str> = info.params.iter().map(|p| p.name).collect();
                invalid(format!(
                    "unknown parameter {key:?}; {} takes {known:?}",
                    info.id
                ))
            })?;
        if value.is_null() {
            continue;
        }
        match (param.location, param.encoding) {
            (ParamLocation::Path, _) => parts.path(param.name, value),
            (ParamLocation::Query, ParamEncoding::Json) => parts.query_json(param.name, value),
            (ParamLocation::Query, ParamEncoding::JsonEach) => match value.as_array() {
                Some(values) => parts.query_json_each(param.name, values),
                None => parts.query_json(param.name, value),
            },
            (ParamLocation::Query, _) => parts.query(param.name, value),
            (ParamLocation::Header, ParamEncoding::Base64Json) if value.is_object() => {
                parts.header(param.name, &crate::auth::encode_json(value))
            }
            (ParamLocation::Header, _) => parts.header(param.name, value),
        }
    }
    for param in info.params.iter().filter(|p| p.required) {
        if !params
            .iter()
            .any(|(k, v)| !v.is_null() && k.eq_ignore_ascii_case(param.name))
        {
            return Err(invalid(format!(
                "missing required {:?} parameter {:?}",
                param.location, param.name
            )));
        }
    }
    match data {
        Data::None => {}
        Data::Json(value) => parts.json_body(&value),
        Data::Bytes(body) => parts.body(body),
    }
    Ok(parts)
}
