//! The data-driven API of the original: list categories and operations, read an
//! operation's summary and doc URL, and invoke an operation by name with JSON params —
//! through the same request pipeline as typed calls.

use bytes::Bytes;
use serde_json::Value;

use crate::redact::RedactedJson;
use crate::request::{Body, RequestParts};
use crate::stream::{ByteStream, JsonLines, Multiplexed, Upgraded};
use crate::tables::{
    ApiInfo, OperationInfo, ParamEncoding, ParamInfo, ParamLocation, ResponseKind,
};
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
    /// Attach over WebSocket (feature `websocket` for its messages).
    WebSocket(crate::WebSocket),
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
            Answer::WebSocket(socket) => tuple("WebSocket", socket),
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
            ResponseKind::WebSocket => Answer::WebSocket(response.into_websocket()?),
        })
    }
}

/// The parameter a params key names: its spec name (any case), or `path.NAME`,
/// `query.NAME`, `header.NAME` where two parameters share a name (podman's rename: the
/// container in the path, the new name in the query).
fn param_named(info: &'static OperationInfo, key: &str) -> Result<&'static ParamInfo, String> {
    let (location, name) = match key.split_once('.') {
        Some(("path", name)) => (Some(ParamLocation::Path), name),
        Some(("query", name)) => (Some(ParamLocation::Query), name),
        Some(("header", name)) => (Some(ParamLocation::Header), name),
        _ => (None, key),
    };
    let named = |p: &&ParamInfo| {
        (p.name == name || p.name.eq_ignore_ascii_case(name))
            && location.is_none_or(|l| p.location == l)
    };
    let mut matching = info.params.iter().filter(named);
    match (matching.next(), matching.next()) {
        (Some(param), None) => Ok(param),
        (Some(_), Some(_)) => Err(format!(
            "{key:?} names several parameters of {}: write path.{name}, query.{name} or header.{name}",
            info.id
        )),
        (None, _) => {
            let known: Vec<&str> = info.params.iter().map(|p| p.name).collect();
            Err(format!(
                "unknown parameter {key:?}; {} takes {known:?}",
                info.id
            ))
        }
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
        let param = param_named(info, key).map_err(invalid)?;
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
        let given = params.iter().any(|(key, value)| {
            !value.is_null() && param_named(info, key).is_ok_and(|p| std::ptr::eq(p, param))
        });
        if !given {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tables::BodyInfo;
    use crate::Method;

    static API: ApiInfo = ApiInfo {
        engine: "podman",
        version: "5.1.0",
        prefix: "/v5.1.0",
        title: "test",
        operations: &[&RENAME],
    };

    /// Podman's rename: the container in the path, the new name in the query, both `name`.
    static RENAME: OperationInfo = OperationInfo {
        api: &API,
        id: "ContainerRenameLibpod",
        category: "libpod/containers",
        method: Method::Post,
        path: "/libpod/containers/{name}/rename",
        summary: "",
        doc_url: "",
        params: &[
            ParamInfo {
                name: "name",
                location: ParamLocation::Path,
                required: true,
                schema: "string",
                encoding: ParamEncoding::Plain,
            },
            ParamInfo {
                name: "name",
                location: ParamLocation::Query,
                required: true,
                schema: "string",
                encoding: ParamEncoding::Plain,
            },
        ],
        body: BodyInfo::None,
        response: ResponseKind::Buffered,
        success: &[204],
        deprecated: false,
        fixed_prefix: None,
    };

    #[test]
    fn parameters_that_share_a_name_are_told_apart_by_location() {
        let parts = parts_by_name(
            &RENAME,
            serde_json::json!({ "path.name": "old", "query.name": "new" }),
            Data::None,
        )
        .expect("both given");
        assert_eq!(parts.path_values, [("name", "old".to_string())]);
        assert_eq!(parts.query, [("name".into(), "new".to_string())]);

        let ambiguous = parts_by_name(&RENAME, serde_json::json!({ "name": "x" }), Data::None)
            .err()
            .expect("ambiguous");
        assert!(
            ambiguous
                .to_string()
                .contains("write path.name, query.name"),
            "{ambiguous}"
        );
        let missing = parts_by_name(
            &RENAME,
            serde_json::json!({ "path.name": "old" }),
            Data::None,
        )
        .err()
        .expect("the query one is required");
        assert!(missing.to_string().contains("Query"), "{missing}");
    }
}
