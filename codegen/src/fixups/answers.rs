//! Answers and parameters as the engines really have them, where the specs say otherwise:
//! each seen by the conformance sweep (`tests/sweep.rs`), on the engines its reason names.

use serde_json::{json, Value};

use super::{op_id, operations, Context};

/// Operations whose handlers read `X-Registry-Auth` though no spec declares it.
const READS_REGISTRY_AUTH: [(&str, &str); 7] = [
    ("docker", "DistributionInspect"),
    ("docker", "PluginPush"),
    ("docker", "GetPluginPrivileges"),
    ("podman", "ManifestPushLibpod"),
    ("podman", "ManifestPushV3Libpod"),
    ("podman", "ImageSearchLibpod"),
    ("podman", "ImageSearch"),
];

pub(super) fn undeclared_registry_auth(document: &mut Value, context: &Context) -> usize {
    let mut count = 0;
    for op in operations(document) {
        let id = op_id(op).to_string();
        if !READS_REGISTRY_AUTH.contains(&(context.engine, id.as_str())) {
            continue;
        }
        let params = op
            .entry("parameters")
            .or_insert_with(|| json!([]))
            .as_array_mut();
        let Some(params) = params else { continue };
        if params.iter().any(|p| p["name"] == "X-Registry-Auth") {
            continue;
        }
        params.push(json!({
            "name": "X-Registry-Auth",
            "in": "header",
            "required": false,
            "description": "The registry's credentials: the engine reads them, though the spec does not say so.",
            "schema": { "type": "string" }
        }));
        count += 1;
    }
    count
}

/// Plugin pull and upgrade answer 200 with their progress; the specs list 204 alone.
pub(super) fn plugin_progress_answers(document: &mut Value, context: &Context) -> usize {
    if context.engine != "docker" {
        return 0;
    }
    let mut count = 0;
    for op in operations(document) {
        if !matches!(op_id(op), "PluginPull" | "PluginUpgrade") {
            continue;
        }
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        if responses.contains_key("200") {
            continue;
        }
        responses.insert(
            "200".into(),
            json!({
                "description": "the progress of the pull, one JSON object per line",
                "content": { "application/json": { "schema": { "type": "object" } } }
            }),
        );
        count += 1;
    }
    count
}

/// PluginDelete answers 200 with no body; the specs give that answer the Plugin schema.
pub(super) fn plugin_delete_answer(document: &mut Value, context: &Context) -> usize {
    if context.engine != "docker" {
        return 0;
    }
    let mut count = 0;
    for op in operations(document) {
        if op_id(op) != "PluginDelete" {
            continue;
        }
        let ok = op.get_mut("responses").and_then(|r| r.get_mut("200"));
        if let Some(ok) = ok.and_then(Value::as_object_mut) {
            if ok.remove("content").is_some() {
                count += 1;
            }
        }
    }
    count
}

/// A plugin's interface types are strings (`"docker.volumedriver/1.0"`), as v1.55's spec
/// says; earlier specs say PluginInterfaceType objects.
pub(super) fn plugin_interface_types(document: &mut Value, context: &Context) -> usize {
    if context.engine != "docker" {
        return 0;
    }
    let places = [
        "/components/schemas/PluginConfig/properties/Interface/properties/Types/items",
        "/components/schemas/Plugin/properties/Config/properties/Interface/properties/Types/items",
    ];
    let mut count = 0;
    for place in places {
        if let Some(items) = document.pointer_mut(place) {
            if items.get("$ref").is_some() {
                *items = json!({ "type": "string" });
                count += 1;
            }
        }
    }
    count
}

/// Statuses podman's compatible API answers for Docker operations, which the Docker modules
/// are used for too: the operation, the listed status whose answer it shares, the status.
const COMPATIBLE_ANSWERS: [(&str, &str, &str); 1] = [("ExecResize", "200", "201")];

pub(super) fn compatible_answers(document: &mut Value, context: &Context) -> usize {
    if context.engine != "docker" {
        return 0;
    }
    let mut count = 0;
    for op in operations(document) {
        let id = op_id(op).to_string();
        for (_, listed, also) in COMPATIBLE_ANSWERS.iter().filter(|(o, _, _)| *o == id) {
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            if let (Some(shared), false) = (
                responses.get(*listed).cloned(),
                responses.contains_key(*also),
            ) {
                responses.insert((*also).into(), shared);
                count += 1;
            }
        }
    }
    count
}

/// ContainerArchiveInfo's path stat header is base64 JSON (name, size, mode, mtime,
/// linkTarget); the specs say string.
pub(super) fn path_stat_header(document: &mut Value, context: &Context) -> usize {
    if context.engine != "docker" {
        return 0;
    }
    let mut count = 0;
    for op in operations(document) {
        if op_id(op) != "ContainerArchiveInfo" {
            continue;
        }
        let schema = op
            .get_mut("responses")
            .and_then(|r| r.get_mut("200"))
            .and_then(|r| r.get_mut("headers"))
            .and_then(|h| h.get_mut("X-Docker-Container-Path-Stat"))
            .and_then(|h| h.get_mut("schema"))
            .and_then(Value::as_object_mut);
        if let Some(schema) = schema {
            if !schema.contains_key(crate::ext::RUST_TYPE) {
                schema.insert(crate::ext::RUST_TYPE.into(), json!("values::PathStat"));
                count += 1;
            }
        }
    }
    count
}

/// Adds `property` to the schema at `pointer` when it is there and lacks it.
fn add_property(document: &mut Value, pointer: &str, property: &str, schema: Value) -> usize {
    let Some(properties) = document
        .pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .map(|s| s.entry("properties").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut)
    else {
        return 0;
    };
    if properties.contains_key(property) {
        return 0;
    }
    properties.insert(property.to_string(), schema);
    1
}

/// A push's progress items name the layer (`id`) and end with the pushed tag's digest and
/// size (`aux`); PushImageInfo declares neither.
pub(super) fn push_progress_fields(document: &mut Value, context: &Context) -> usize {
    if context.engine != "docker" {
        return 0;
    }
    let at = "/components/schemas/PushImageInfo";
    add_property(
        document,
        at,
        "id",
        json!({ "type": "string", "description": "The layer this item is about." }),
    ) + add_property(
        document,
        at,
        "aux",
        json!({
            "type": "object",
            "description": "The last item's: what was pushed.",
            "properties": {
                "Tag": { "type": "string" },
                "Digest": { "type": "string", "description": "The manifest's digest (`sha256:...`)." },
                "Size": { "type": "integer", "format": "int64", "description": "The manifest's size in bytes." }
            }
        }),
    )
}

/// dockerd still sends the event fields Docker deprecated in API 1.22 beside `Action` and
/// `Actor`; EventMessage has not declared them since.
pub(super) fn legacy_event_fields(document: &mut Value, context: &Context) -> usize {
    if context.engine != "docker" {
        return 0;
    }
    let note = "deprecated by Docker since API 1.22, still sent by dockerd 20.10 and 28.5";
    [
        ("status", "The action (`Action` says it)."),
        ("id", "The object's ID (`Actor.ID` says it)."),
        (
            "from",
            "A container's image (`Actor.Attributes.image` says it).",
        ),
    ]
    .into_iter()
    .map(|(name, description)| {
        add_property(
            document,
            "/components/schemas/EventMessage",
            name,
            json!({ "type": "string", "description": description, "x-berth-deprecated": note }),
        )
    })
    .sum()
}

/// `GET /system/df` in its shape before API 1.52 (`LayersSize`, `Images`...), where
/// dockerd 20.10 also sends `BuilderSize`, which no spec declares.
pub(super) fn builder_size_field(document: &mut Value, context: &Context) -> usize {
    if context.engine != "docker" {
        return 0;
    }
    let mut count = 0;
    for op in operations(document) {
        if op_id(op) != "SystemDataUsage" {
            continue;
        }
        let Some(answer) = op
            .get_mut("responses")
            .and_then(|r| r.pointer_mut("/200/content/application~1json/schema"))
            .filter(|s| s.pointer("/properties/LayersSize").is_some())
        else {
            continue;
        };
        count += add_property(
            answer,
            "",
            "BuilderSize",
            json!({
                "type": "integer",
                "format": "int64",
                "description": "The build cache's size in bytes (`BuildCache` details it).",
                "x-berth-deprecated": "sent by dockerd 20.10 (API 1.41), declared by no spec"
            }),
        );
    }
    count
}
