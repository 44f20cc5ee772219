//! Request parameters and bodies: how the engines really read them.

use serde_json::{json, Value};

use super::{list, op_id, operations, Context};
use crate::ext;

pub(super) fn tar_request_bodies(document: &mut Value, context: &Context) -> usize {
    let engine = context.engine;
    let mut count = 0;
    for op in operations(document) {
        let id = op_id(op).to_string();
        let Some(content) = op
            .get("requestBody")
            .and_then(|b| b.get("content"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        let string_body = content
            .values()
            .any(|m| m.pointer("/schema/type") == Some(&json!("string")));
        let consumes = list(op, ext::CONSUMES);
        let wanted = match id.as_str() {
            // dockerd reads a tar build context; the seed had to set this by hand.
            "ImageBuild" | "ImageBuildLibpod" => Some("application/x-tar"),
            "PlayKubeLibpod" | "KubeApplyLibpod" => None,
            _ if engine == "podman"
                && string_body
                && !consumes.iter().any(|c| c == "application/x-tar") =>
            {
                Some("application/x-tar")
            }
            _ => None,
        };
        if let Some(ct) = wanted {
            if consumes.first().map(String::as_str) != Some(ct) {
                op.insert(ext::CONSUMES.into(), json!([ct]));
                count += 1;
            }
        }
    }
    count
}

/// The JSON document a query parameter carries, by its name and its description saying
/// JSON (`labels` are plain text in some operations).
fn json_document(name: &str, description: &str) -> Option<Value> {
    let says_json = description.to_ascii_lowercase().contains("json");
    let string_map = json!({ "type": "object", "additionalProperties": { "type": "string" } });
    match name {
        "filters" => Some(
            json!({ "type": "object", "additionalProperties": { "type": "array", "items": { "type": "string" } } }),
        ),
        "buildargs" | "labels" | "annotations" | "rename" if says_json => Some(string_map),
        "cachefrom" if says_json => Some(json!({ "type": "array", "items": { "type": "string" } })),
        "outputs" if says_json => Some(json!({ "type": "array", "items": string_map })),
        // An OCI platform: `{"os": "linux", "architecture": "arm64", "variant": "v8"}`.
        "platform" | "platforms" if says_json => Some(string_map),
        _ => None,
    }
}

/// A parameter declared `string` holds one JSON document (`json`); one declared as an
/// array is repeated, one document each (`json-each`: moby reads every `platform=`).
pub(super) fn json_encoded_query(document: &mut Value, _: &Context) -> usize {
    let mut count = 0;
    for op in operations(document) {
        let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
            continue;
        };
        for param in params.iter_mut().filter_map(Value::as_object_mut) {
            if param.get("in").and_then(Value::as_str) != Some("query")
                || param.contains_key(ext::ENCODING)
            {
                continue;
            }
            let text = |key: &str| param.get(key).and_then(Value::as_str).unwrap_or_default();
            let Some(document) = json_document(text("name"), text("description")) else {
                continue;
            };
            let declared_array =
                param.get("schema").and_then(|s| s.get("type")) == Some(&json!("array"));
            let (schema, encoding) = if declared_array {
                (json!({ "type": "array", "items": document }), "json-each")
            } else {
                (document, "json")
            };
            param.insert("schema".into(), schema);
            param.insert(ext::ENCODING.into(), json!(encoding));
            count += 1;
        }
    }
    count
}

/// ExecStart's body, declared optional, is required with its default (`{}`) where the
/// engine decodes it unconditionally.
pub(super) fn exec_start_body(document: &mut Value, _: &Context) -> usize {
    let mut count = 0;
    for op in operations(document) {
        if !matches!(op_id(op), "ExecStart" | "ExecStartLibpod") {
            continue;
        }
        match op.get_mut("requestBody").and_then(Value::as_object_mut) {
            Some(body) if body.get("required") != Some(&json!(true)) => {
                body.insert("required".into(), json!(true));
                count += 1;
            }
            _ => {}
        }
    }
    count
}

pub(super) fn registry_auth_headers(document: &mut Value, _: &Context) -> usize {
    let mut count = 0;
    for op in operations(document) {
        let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
            continue;
        };
        for param in params.iter_mut().filter_map(Value::as_object_mut) {
            let runtime = match param.get("name").and_then(Value::as_str) {
                Some("X-Registry-Auth") => "auth::RegistryAuth",
                Some("X-Registry-Config") => "auth::RegistryConfig",
                _ => continue,
            };
            if param.get(ext::RUST_TYPE).and_then(Value::as_str) != Some(runtime) {
                param.insert(ext::RUST_TYPE.into(), json!(runtime));
                param.insert(ext::ENCODING.into(), json!("base64-json"));
                count += 1;
            }
        }
    }
    count
}
