//! Podman's own spec defects: schemas where references belong, invalid formats, answers
//! and items it does not describe.

use serde_json::{json, Value};

use super::{list, operations, Context};
use crate::ext;

pub(super) fn schema_refs_to_responses(document: &mut Value, _: &Context) -> usize {
    let snapshot = document.clone();
    let mut count = 0;
    fn walk(value: &mut Value, snapshot: &Value, in_schema: bool, count: &mut usize) {
        match value {
            Value::Object(map) => {
                if in_schema {
                    if let Some(target) = map
                        .get("$ref")
                        .and_then(Value::as_str)
                        .and_then(|r| r.strip_prefix("#/components/responses/"))
                    {
                        let schema = snapshot
                            .pointer(&format!("/components/responses/{target}/content"))
                            .and_then(Value::as_object)
                            .and_then(|c| c.values().find_map(|m| m.get("schema")))
                            .cloned()
                            .unwrap_or(json!({}));
                        *value = schema;
                        *count += 1;
                        return;
                    }
                }
                for (key, v) in map.iter_mut() {
                    let schema_here = in_schema || key == "schema" || key == "schemas";
                    walk(v, snapshot, schema_here, count);
                }
            }
            Value::Array(items) => items
                .iter_mut()
                .for_each(|v| walk(v, snapshot, in_schema, count)),
            _ => {}
        }
    }
    walk(document, &snapshot, false, &mut count);
    count
}

pub(super) fn invalid_format_string(document: &mut Value, _: &Context) -> usize {
    fn walk(value: &mut Value) -> usize {
        match value {
            Value::Object(map) => {
                let mut n = 0;
                if map.get("format").and_then(Value::as_str) == Some("string") {
                    map.remove("format");
                    n += 1;
                }
                n + map.values_mut().map(walk).sum::<usize>()
            }
            Value::Array(items) => items.iter_mut().map(walk).sum(),
            _ => 0,
        }
    }
    walk(document)
}

/// What Podman's push and events send per line, which its spec does not describe.
pub(super) fn podman_item(id: &str) -> Option<Value> {
    match id {
        "ImagePushLibpod" => Some(json!({
            "type": "object",
            "description": "One line of push progress.",
            "properties": {
                "stream": { "type": "string", "description": "Progress text." },
                "error": { "type": "string", "description": "Set when the push failed." },
                "manifestdigest": { "type": "string", "description": "The pushed manifest's digest, in the last line." }
            }
        })),
        "SystemEventsLibpod" => Some(json!({
            "type": "object",
            "description": "One event, in Docker's event format.",
            "properties": {
                "Type": { "type": "string" },
                "Action": { "type": "string" },
                "Actor": { "type": "object", "properties": {
                    "ID": { "type": "string" },
                    "Attributes": { "type": "object", "additionalProperties": { "type": "string" } }
                } },
                "status": { "type": "string" },
                "id": { "type": "string" },
                "from": { "type": "string" },
                "scope": { "type": "string" },
                "time": { "type": "integer", "format": "int64" },
                "timeNano": { "type": "integer", "format": "int64" }
            }
        })),
        "ContainersStatsAllLibpod" => Some(json!({
            "type": "object",
            "description": "One stats report: every container's stats at one time.",
            "properties": {
                "Error": { "description": "Set when the stats could not be read." },
                "Stats": { "type": "array", "items": { "$ref": "#/components/schemas/ContainerStats" } }
            }
        })),
        _ => None,
    }
}

pub(super) fn undocumented_json_bodies(document: &mut Value, context: &Context) -> usize {
    let engine = context.engine;
    if engine != "podman" {
        return 0;
    }
    let responses = document
        .pointer("/components/responses")
        .cloned()
        .unwrap_or(json!({}));
    let mut count = 0;
    for op in operations(document) {
        if op.contains_key(ext::RESPONSE)
            || list(op, ext::PRODUCES).first().map(String::as_str) != Some("application/json")
        {
            continue;
        }
        let Some(statuses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        for (status, response) in statuses.iter_mut() {
            if status != "200" && status != "201" {
                continue;
            }
            // Only a named answer (`$ref: #/responses/infoResponse`) promises a body; an
            // inline "no error" or the shared `ok` does not.
            let Some(target) = response
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/responses/"))
            else {
                continue;
            };
            let Some(shared) = responses
                .get(target)
                .filter(|r| r.get("content").is_none() && target != "ok")
            else {
                continue;
            };
            let mut inlined = shared.clone();
            inlined["content"] = json!({ "application/json": { "schema": {} } });
            *response = inlined;
            count += 1;
        }
    }
    count
}

pub(super) fn empty_auth_config(document: &mut Value, context: &Context) -> usize {
    let engine = context.engine;
    if engine != "podman" {
        return 0;
    }
    match document.pointer_mut("/components/schemas/AuthConfig") {
        Some(Value::Object(schema)) if !schema.contains_key("properties") => {
            let text = |description: &str| json!({"type": "string", "description": description});
            schema.insert("type".into(), json!("object"));
            schema.insert(
                "properties".into(),
                json!({
                    "username": text("The registry user."),
                    "password": text("The user's password."),
                    "auth": text("base64 of `username:password`, instead of the two."),
                    "email": text("Deprecated, ignored."),
                    "serveraddress": text("The registry's address."),
                    "identitytoken": text("A token to get an access token for the registry with."),
                    "registrytoken": text("A bearer token to send to the registry."),
                }),
            );
            1
        }
        _ => 0,
    }
}

/// Podman's libpod build reads a tar build context from the body, as Docker's does, but
/// its spec declares no body at all.
pub(super) fn libpod_build_body(document: &mut Value, context: &Context) -> usize {
    if context.engine != "podman" {
        return 0;
    }
    let mut count = 0;
    for op in operations(document) {
        if op.get("operationId").and_then(Value::as_str) == Some("ImageBuildLibpod")
            && !op.contains_key("requestBody")
        {
            op.insert(
                "requestBody".into(),
                json!({
                    "description": "The build context: a tar archive, optionally compressed (gzip, bzip2, xz).",
                    "content": { "application/x-tar": { "schema": { "type": "string", "format": "binary" } } }
                }),
            );
            count += 1;
        }
    }
    count
}

/// Podman's specs are made by go-swagger from Go types, which never mark a map's slice
/// values nullable; Go writes a nil slice as `null`, and podman sends one for every port
/// that is exposed but not published (`NetworkSettings.Ports`, `PortBindings`:
/// `{"8080/tcp": null}` from podman 4.3.1 and 5.8.6, on the compatible and libpod APIs).
/// Only the port maps, where the engines were seen sending it: a filter map stays a map
/// of lists for the programs that fill it.
pub(super) fn nullable_port_map_values(document: &mut Value, context: &Context) -> usize {
    const PORT_MAPS: [&str; 3] = ["PortMap", "Ports", "PortBindings"];
    fn walk(value: &mut Value) -> usize {
        match value {
            Value::Object(map) => map
                .iter_mut()
                .map(|(key, child)| {
                    let here = match child
                        .get_mut("additionalProperties")
                        .and_then(Value::as_object_mut)
                    {
                        Some(values)
                            if PORT_MAPS.contains(&key.as_str())
                                && values.get("type").and_then(Value::as_str) == Some("array")
                                && values.get("nullable") != Some(&Value::Bool(true)) =>
                        {
                            values.insert("nullable".into(), Value::Bool(true));
                            1
                        }
                        _ => 0,
                    };
                    here + walk(child)
                })
                .sum(),
            Value::Array(items) => items.iter_mut().map(walk).sum(),
            _ => 0,
        }
    }
    if context.engine != "podman" {
        return 0;
    }
    walk(document)
}
