//! Stage 2: every known defect of the engines' specs, corrected in one place.
//!
//! Fixups edit the converted OpenAPI 3.0 document as JSON, before it is typed: any node can
//! be addressed, and a node the typed model would reject can still be repaired. Each fixup
//! has a name and a one-line reason, and reports how many places it changed (the
//! `spec-report` lists them). What the spec cannot say at all (how a body streams, how a
//! parameter is encoded) is said with the `x-berth-*` extensions of `ext`.

use serde_json::{json, Map, Value};

use crate::ext;

/// One correction.
pub struct Fixup {
    pub name: &'static str,
    pub reason: &'static str,
    apply: fn(&mut Value, &str) -> usize,
}

/// A fixup that changed something, and how many places.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Applied {
    pub name: &'static str,
    pub reason: &'static str,
    pub count: usize,
}

/// Every fixup, in the order they run.
pub const FIXUPS: &[Fixup] = &[
    Fixup {
        name: "schema-refs-to-responses",
        reason: "Podman puts `$ref: #/responses/X` where a schema belongs; use that response's schema",
        apply: schema_refs_to_responses,
    },
    Fixup {
        name: "type-lists",
        reason: "old Docker specs say `type: [array, string]` (Cmd, Entrypoint), not Swagger 2.0; the array form is canonical",
        apply: type_lists,
    },
    Fixup {
        name: "typed-allof",
        reason: "`type: object` beside `allOf` (Docker's Swarm) makes openapiv3 read a bare object and drop the allOf",
        apply: typed_allof,
    },
    Fixup {
        name: "id-response-casing",
        reason: "dockerd answers SecretCreate and ConfigCreate with `ID`, where IdResponse says `Id`",
        apply: id_response_casing,
    },
    Fixup {
        name: "invalid-format-string",
        reason: "Podman declares `format: string`, which is no format; drop it",
        apply: invalid_format_string,
    },
    Fixup {
        name: "byte-stream-responses",
        reason: "archives and exports are raw bytes, streamed, whatever `produces` claims (Podman claims JSON)",
        apply: byte_stream_responses,
    },
    Fixup {
        name: "multiplexed-logs",
        reason: "logs come as stdout/stderr frames (`application/vnd.docker.raw-stream`), not as the declared body",
        apply: multiplexed_logs,
    },
    Fixup {
        name: "hijacked-connections",
        reason: "attach and exec start answer 101 and hijack the connection; Podman's exec start does not even list 101",
        apply: hijacked_connections,
    },
    Fixup {
        name: "json-lines-progress",
        reason: "pull, push, build, load, events and stats send one JSON object per line; the spec declares none or one",
        apply: json_lines_progress,
    },
    Fixup {
        name: "undocumented-json-bodies",
        reason: "Podman 4.9's spec drops the schema of many JSON answers (version, info, inspect, create); keep them as JSON values",
        apply: undocumented_json_bodies,
    },
    Fixup {
        name: "tar-request-bodies",
        reason: "tar bodies are `type: string` with JSON or octet-stream content types; dockerd's build wants application/x-tar",
        apply: tar_request_bodies,
    },
    Fixup {
        name: "json-encoded-query",
        reason: "`filters`, `buildargs`, `labels`, `cachefrom`, ... are JSON documents in one query parameter, declared `string`",
        apply: json_encoded_query,
    },
    Fixup {
        name: "registry-auth-headers",
        reason: "X-Registry-Auth / X-Registry-Config are base64url JSON documents, declared `string`",
        apply: registry_auth_headers,
    },
    Fixup {
        name: "empty-auth-config",
        reason: "Podman 4.9 declares AuthConfig (SystemAuth's body) with no properties; it is the registry AuthConfig Podman 5 declares",
        apply: empty_auth_config,
    },
];

/// Runs every fixup on a converted document of `engine`.
pub fn apply_all(document: &mut Value, engine: &str) -> Vec<Applied> {
    FIXUPS
        .iter()
        .filter_map(|f| {
            let count = (f.apply)(document, engine);
            (count > 0).then_some(Applied {
                name: f.name,
                reason: f.reason,
                count,
            })
        })
        .collect()
}

/// Every operation of the document, mutable.
fn operations(document: &mut Value) -> impl Iterator<Item = &mut Map<String, Value>> {
    document
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.iter_mut())
        .filter(|(method, _)| {
            ["get", "put", "post", "delete", "head", "patch", "options"].contains(&method.as_str())
        })
        .filter_map(|(_, op)| op.as_object_mut())
}

fn op_id(op: &Map<String, Value>) -> &str {
    op.get("operationId")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn list(op: &Map<String, Value>, key: &str) -> Vec<String> {
    op.get(key)
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn set_kind(op: &mut Map<String, Value>, kind: &str) -> usize {
    if op.get(ext::RESPONSE).and_then(Value::as_str) == Some(kind) {
        return 0;
    }
    op.insert(ext::RESPONSE.into(), json!(kind));
    1
}

/// The schema of the first success response, resolving a response `$ref`.
fn success_schema(document: &Value, op: &Map<String, Value>) -> Option<Value> {
    let responses = op.get("responses")?.as_object()?;
    let (_, response) = responses
        .iter()
        .find(|(status, _)| status.starts_with('2'))?;
    let response = match response.get("$ref").and_then(Value::as_str) {
        Some(r) => document.pointer(&r.replacen('#', "", 1))?,
        None => response,
    };
    response
        .get("content")?
        .as_object()?
        .values()
        .find_map(|m| m.get("schema"))
        .cloned()
}

fn schema_refs_to_responses(document: &mut Value, _: &str) -> usize {
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

fn type_lists(document: &mut Value, _: &str) -> usize {
    fn walk(value: &mut Value) -> usize {
        match value {
            Value::Object(map) => {
                let mut n = 0;
                if let Some(Value::Array(types)) = map.get("type") {
                    let array = types.iter().any(|t| t == "array");
                    let other = types
                        .iter()
                        .find(|t| *t != "array")
                        .cloned()
                        .unwrap_or(json!("string"));
                    if array {
                        map.insert("type".into(), json!("array"));
                        map.entry("items")
                            .or_insert_with(|| json!({ "type": other }));
                    } else {
                        map.insert("type".into(), other);
                    }
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

fn typed_allof(document: &mut Value, _: &str) -> usize {
    fn walk(value: &mut Value) -> usize {
        match value {
            Value::Object(map) => {
                let mut n = 0;
                if map.contains_key("allOf") && map.get("type") == Some(&json!("object")) {
                    map.remove("type");
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

fn id_response_casing(document: &mut Value, engine: &str) -> usize {
    if engine != "docker" {
        return 0;
    }
    match document.pointer_mut("/components/schemas/IdResponse/properties/Id") {
        Some(Value::Object(id)) if !id.contains_key(ext::ALIASES) => {
            id.insert(ext::ALIASES.into(), json!(["ID"]));
            1
        }
        _ => 0,
    }
}

fn invalid_format_string(document: &mut Value, _: &str) -> usize {
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

const PODMAN_BYTE_STREAMS: [&str; 4] = [
    "ContainerExportLibpod",
    "ImageExportLibpod",
    "ImageGetLibpod",
    "ContainerArchiveLibpod",
];

fn byte_stream_responses(document: &mut Value, _: &str) -> usize {
    let snapshot = document.clone();
    let mut count = 0;
    for op in operations(document) {
        let produces = list(op, ext::PRODUCES);
        let declared_binary = success_schema(&snapshot, op).is_some_and(|s| {
            s.get("type") == Some(&json!("string")) && s.get("format") == Some(&json!("binary"))
        });
        let tar_produced = matches!(
            produces.first().map(String::as_str),
            Some("application/x-tar" | "application/octet-stream")
        );
        let is_stream = PODMAN_BYTE_STREAMS.contains(&op_id(op)) || tar_produced || declared_binary;
        // ImagePushLibpod declares binary but sends JSON lines (`json_lines_progress`).
        if is_stream && op_id(op) != "ImagePushLibpod" && op.get(ext::RESPONSE).is_none() {
            count += set_kind(op, "bytes");
        }
    }
    count
}

fn multiplexed_logs(document: &mut Value, _: &str) -> usize {
    operations(document)
        .filter(|op| {
            matches!(
                op_id(op),
                "ContainerLogs" | "ContainerLogsLibpod" | "TaskLogs" | "ServiceLogs"
            )
        })
        .map(|op| set_kind(op, "frames"))
        .sum()
}

fn hijacked_connections(document: &mut Value, _: &str) -> usize {
    operations(document)
        .filter(|op| {
            matches!(
                op_id(op),
                "ContainerAttach"
                    | "ContainerAttachLibpod"
                    | "ExecStart"
                    | "ExecStartLibpod"
                    | "Session"
            )
        })
        .map(|op| set_kind(op, "upgrade"))
        .sum()
}

/// The item of each progress stream: a named schema, or `None` for "the declared success
/// schema is the item".
const PROGRESS_ITEMS: [(&str, Option<&str>); 13] = [
    ("ImageCreate", Some("CreateImageInfo")),
    ("ImageBuild", Some("BuildInfo")),
    ("ImagePush", Some("PushImageInfo")),
    ("ImageLoad", Some("BuildInfo")),
    ("SystemEvents", Some("EventMessage")),
    ("ContainerStats", Some("ContainerStatsResponse")),
    ("ImageBuildLibpod", None),
    ("ImagePullLibpod", None),
    ("ContainersStatsAllLibpod", None),
    ("ContainerStatsLibpod", None),
    ("ImagePushLibpod", None),
    ("SystemEventsLibpod", None),
    ("PodStatsAllLibpod", None),
];

/// What Podman's push and events send per line, which its spec does not describe.
fn podman_item(id: &str) -> Option<Value> {
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

fn json_lines_progress(document: &mut Value, _: &str) -> usize {
    let snapshot = document.clone();
    let mut count = 0;
    for op in operations(document) {
        let id = op_id(op).to_string();
        let Some((_, named)) = PROGRESS_ITEMS.iter().find(|(op_id, _)| *op_id == id) else {
            continue;
        };
        let item = match named {
            Some(name)
                if snapshot
                    .pointer(&format!("/components/schemas/{name}"))
                    .is_some() =>
            {
                json!({ "$ref": format!("#/components/schemas/{name}") })
            }
            // Older Docker versions lack the named item (EventMessage before 1.40, stats
            // before 1.48): the declared success schema, else any JSON object.
            _ => podman_item(&id)
                .filter(|item| {
                    let wants_stats = item.pointer("/properties/Stats/items/$ref").is_some();
                    !wants_stats
                        || snapshot
                            .pointer("/components/schemas/ContainerStats")
                            .is_some()
                })
                .or_else(|| {
                    success_schema(&snapshot, op)
                        .filter(|s| s.get("format") != Some(&json!("binary")))
                })
                .unwrap_or(json!({ "type": "object" })),
        };
        op.insert(ext::ITEM.into(), item);
        count += set_kind(op, "json-lines");
    }
    count
}

fn undocumented_json_bodies(document: &mut Value, engine: &str) -> usize {
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

fn tar_request_bodies(document: &mut Value, engine: &str) -> usize {
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

/// Parameters that carry a JSON document, with the type of that document.
fn json_param_schema(name: &str, description: &str) -> Option<Value> {
    let says_json = description.to_ascii_lowercase().contains("json");
    let string_map = json!({ "type": "object", "additionalProperties": { "type": "string" } });
    match name {
        "filters" => Some(
            json!({ "type": "object", "additionalProperties": { "type": "array", "items": { "type": "string" } } }),
        ),
        "buildargs" | "labels" | "annotations" | "rename" if says_json => Some(string_map),
        "cachefrom" if says_json => Some(json!({ "type": "array", "items": { "type": "string" } })),
        "outputs" if says_json => Some(json!({ "type": "array", "items": string_map })),
        "platform" if says_json && description.contains("platform(s)") => {
            Some(json!({ "type": "array", "items": string_map }))
        }
        "platform" if says_json => Some(string_map),
        _ => None,
    }
}

fn json_encoded_query(document: &mut Value, _: &str) -> usize {
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
            let name = param
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let description = param
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if let Some(schema) = json_param_schema(name, description) {
                param.insert("schema".into(), schema);
                param.insert(ext::ENCODING.into(), json!("json"));
                count += 1;
            }
        }
    }
    count
}

fn registry_auth_headers(document: &mut Value, _: &str) -> usize {
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

fn empty_auth_config(document: &mut Value, engine: &str) -> usize {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(ops: Value) -> Value {
        json!({ "openapi": "3.0.3", "paths": { "/x": ops }, "components": { "schemas": { "CreateImageInfo": { "type": "object" } } } })
    }

    #[test]
    fn progress_streams_get_their_item_type() {
        let mut d = doc(
            json!({ "post": { "operationId": "ImageCreate", "responses": { "200": { "description": "ok" } } } }),
        );
        let applied = apply_all(&mut d, "docker");
        assert!(applied
            .iter()
            .any(|a| a.name == "json-lines-progress" && a.count == 1));
        assert_eq!(
            d.pointer("/paths/~1x/post/x-berth-response"),
            Some(&json!("json-lines"))
        );
        assert_eq!(
            d.pointer("/paths/~1x/post/x-berth-item/$ref"),
            Some(&json!("#/components/schemas/CreateImageInfo"))
        );
    }

    #[test]
    fn missing_item_schema_falls_back_to_the_success_schema() {
        let mut d = doc(
            json!({ "get": { "operationId": "SystemEvents", "responses": { "200": { "description": "ok",
            "content": { "application/json": { "schema": { "type": "object", "properties": { "Type": { "type": "string" } } } } } } } } }),
        );
        apply_all(&mut d, "docker");
        assert_eq!(
            d.pointer("/paths/~1x/get/x-berth-item/properties/Type/type"),
            Some(&json!("string"))
        );
    }

    #[test]
    fn filters_become_a_json_map_of_lists() {
        let mut d = doc(
            json!({ "get": { "operationId": "ContainerList", "parameters": [
            { "name": "filters", "in": "query", "schema": { "type": "string" }, "description": "Filters to process, JSON encoded" },
            { "name": "labels", "in": "query", "schema": { "type": "string" }, "description": "Labels on the secret" }
        ], "responses": {} } }),
        );
        apply_all(&mut d, "docker");
        let params = d.pointer("/paths/~1x/get/parameters").unwrap();
        assert_eq!(params[0]["x-berth-encoding"], json!("json"));
        assert_eq!(
            params[0]["schema"]["additionalProperties"]["type"],
            json!("array")
        );
        assert!(
            params[1].get("x-berth-encoding").is_none(),
            "labels that are not JSON stay plain"
        );
    }

    #[test]
    fn podman_tar_endpoints_are_corrected() {
        let mut d = doc(json!({
            "get": { "operationId": "ContainerExportLibpod", "x-produces": ["application/json"], "responses": { "200": { "description": "tarball" } } },
            "put": { "operationId": "PutContainerArchiveLibpod", "x-consumes": ["application/json"],
                     "requestBody": { "content": { "application/json": { "schema": { "type": "string" } } } }, "responses": {} }
        }));
        apply_all(&mut d, "podman");
        assert_eq!(
            d.pointer("/paths/~1x/get/x-berth-response"),
            Some(&json!("bytes"))
        );
        assert_eq!(
            d.pointer("/paths/~1x/put/x-consumes/0"),
            Some(&json!("application/x-tar"))
        );
    }

    #[test]
    fn response_refs_inside_schemas_are_inlined() {
        let mut d = json!({ "paths": {}, "components": {
            "responses": { "ok": { "description": "", "content": { "application/json": { "schema": { "type": "string" } } } } },
            "schemas": { "A": { "type": "object", "properties": { "b": { "$ref": "#/components/responses/ok" } } } }
        } });
        apply_all(&mut d, "podman");
        assert_eq!(
            d.pointer("/components/schemas/A/properties/b"),
            Some(&json!({ "type": "string" }))
        );
    }

    #[test]
    fn typed_allof_keeps_its_parts_and_ids_get_their_alias() {
        let mut d = json!({ "paths": {}, "components": { "schemas": {
            "Swarm": { "type": "object", "allOf": [ { "$ref": "#/components/schemas/ClusterInfo" } ] },
            "IdResponse": { "type": "object", "properties": { "Id": { "type": "string" } } }
        } } });
        apply_all(&mut d, "docker");
        assert_eq!(d.pointer("/components/schemas/Swarm/type"), None);
        assert_eq!(
            d.pointer("/components/schemas/IdResponse/properties/Id/x-berth-aliases/0"),
            Some(&json!("ID"))
        );
    }

    #[test]
    fn fixups_are_idempotent() {
        let mut d = doc(json!({ "post": { "operationId": "ExecStartLibpod", "responses": {} } }));
        assert_eq!(apply_all(&mut d, "podman").len(), 1);
        assert!(apply_all(&mut d, "podman").is_empty());
    }
}
