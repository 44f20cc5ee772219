//! Podman's answers as podman 4.3.1 and 5.8.6 send them, where its specs say otherwise:
//! each seen by the conformance sweep (`tests/sweep.rs`) on both engines unless a reason
//! names one.

use serde_json::{json, Value};

use super::{op_id, operations, Context};
use crate::ext;

/// Success statuses the engines answer beside (or instead of) the one the spec lists: the
/// operation, the listed status whose answer the new one shares, the new status.
const ALSO_ANSWERS: [(&str, &str, &str); 5] = [
    ("SecretCreateLibpod", "201", "200"),
    ("SecretCreate", "201", "200"),
    ("ImageCommitLibpod", "201", "200"),
    ("NetworkUpdateLibpod", "200", "204"),
    ("ImageResolveLibpod", "204", "200"),
];

pub(super) fn also_answers(document: &mut Value, context: &Context) -> usize {
    if context.engine != "podman" {
        return 0;
    }
    let mut count = 0;
    for op in operations(document) {
        let id = op_id(op).to_string();
        for (_, listed, also) in ALSO_ANSWERS.iter().filter(|(o, _, _)| *o == id) {
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

/// The answers the specs leave without a schema (or give the wrong one), as the engines
/// send them: the operation, the statuses, the schema.
fn answer_schemas() -> Vec<(&'static str, &'static [&'static str], Value)> {
    let id = json!({ "type": "object", "properties": { "Id": { "type": "string" } } });
    let changes = json!({ "type": "array", "items": {
        "type": "object",
        "properties": { "Path": { "type": "string" }, "Kind": { "type": "integer" } }
    }});
    let exec = json!({ "type": "object", "properties": {
        "ID": { "type": "string" },
        "ContainerID": { "type": "string" },
        "Running": { "type": "boolean" },
        "ExitCode": { "type": "integer" },
        "Pid": { "type": "integer" },
        "CanRemove": { "type": "boolean" },
        "DetachKeys": { "type": "string" },
        "OpenStdin": { "type": "boolean" },
        "OpenStdout": { "type": "boolean" },
        "OpenStderr": { "type": "boolean" },
        "ProcessConfig": { "type": "object", "properties": {
            "arguments": { "type": "array", "items": { "type": "string" } },
            "entrypoint": { "type": "string" },
            "privileged": { "type": "boolean" },
            "tty": { "type": "boolean" },
            "user": { "type": "string" }
        }}
    }});
    // Docker's answers, which the compatible API sends.
    let containers_pruned = json!({ "type": "object", "properties": {
        "ContainersDeleted": { "type": "array", "items": { "type": "string" } },
        "SpaceReclaimed": { "type": "integer", "format": "int64" }
    }});
    let images_pruned = json!({ "type": "object", "properties": {
        "ImagesDeleted": { "type": "array", "items": { "type": "object", "properties": {
            "Untagged": { "type": "string" },
            "Deleted": { "type": "string" }
        }}},
        "SpaceReclaimed": { "type": "integer", "format": "int64" }
    }});
    // Docker's SystemInfo and disk usage, which podman's specs do not describe.
    let docker_document = json!({ "type": "object", "additionalProperties": true });
    let names = json!({ "type": "object", "properties": {
        "Names": { "type": "array", "items": { "type": "string" } }
    }});
    vec![
        ("ContainerExecLibpod", &["201"], id.clone()),
        ("ContainerExec", &["201"], id.clone()),
        ("ImageCommitLibpod", &["200", "201"], id.clone()),
        ("ImageCommit", &["201"], id),
        ("ExecInspectLibpod", &["200"], exec),
        ("ContainerChangesLibpod", &["200"], changes.clone()),
        ("ImageChangesLibpod", &["200"], changes),
        ("ContainerPrune", &["200"], containers_pruned),
        ("ImagePrune", &["200"], images_pruned),
        ("SystemInfo", &["200"], docker_document.clone()),
        ("SystemDataUsage", &["200"], docker_document),
        ("ImageResolveLibpod", &["200"], names),
        (
            "ContainerUpdate",
            &["200"],
            json!({ "type": "object", "properties": {
                "Warnings": { "type": "array", "items": { "type": "string" } }
            }}),
        ),
    ]
}

pub(super) fn answer_shapes(document: &mut Value, context: &Context) -> usize {
    if context.engine != "podman" {
        return 0;
    }
    let schemas = answer_schemas();
    let mut count = 0;
    for op in operations(document) {
        let id = op_id(op).to_string();
        let Some((_, statuses, schema)) = schemas.iter().find(|(o, _, _)| *o == id) else {
            continue;
        };
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        for status in *statuses {
            let Some(response) = responses.get_mut(*status) else {
                continue;
            };
            let description = response["description"].as_str().unwrap_or("").to_string();
            *response = json!({
                "description": description,
                "content": { "application/json": { "schema": schema } }
            });
            count += 1;
        }
    }
    count
}

/// Image history is a list of layers, a search a list of results; the specs say one.
/// (Wrapped where the operations use them: 4.9 borrows these answers inline.)
pub(super) fn answer_lists(document: &mut Value, context: &Context) -> usize {
    if context.engine != "podman" {
        return 0;
    }
    let listed = [
        "ImageHistory",
        "ImageHistoryLibpod",
        "ImageSearch",
        "ImageSearchLibpod",
    ];
    let mut count = 0;
    for response in ["history", "registrySearchResponse"] {
        let place = format!("/components/responses/{response}/content/application~1json/schema");
        count += document.pointer_mut(&place).map_or(0, wrap_in_list);
    }
    for op in operations(document) {
        if !listed.contains(&op_id(op)) {
            continue;
        }
        let ok = op.get_mut("responses").and_then(|r| r.get_mut("200"));
        let schema = ok.and_then(|r| r.pointer_mut("/content/application~1json/schema"));
        count += schema.map_or(0, wrap_in_list);
    }
    count
}

fn wrap_in_list(schema: &mut Value) -> usize {
    if schema.get("type") == Some(&json!("array")) {
        return 0;
    }
    *schema = json!({ "type": "array", "items": schema.clone() });
    1
}

/// An address's `ipnet` is CIDR text (`"10.91.0.2/24"`: libnetwork's IPNet writes itself
/// as text); the spec says Go's `net.IPNet` object.
pub(super) fn ipnet_text(document: &mut Value, context: &Context) -> usize {
    if context.engine != "podman" {
        return 0;
    }
    match document.pointer_mut("/components/schemas/NetAddress/properties/ipnet") {
        Some(ipnet) if ipnet.get("$ref").is_some() => {
            *ipnet = json!({ "type": "string", "description": "The address and its network, as CIDR text." });
            1
        }
        _ => 0,
    }
}

/// `RemovedCtrs` maps each container removed to its error, `null` when there was none.
pub(super) fn removed_containers(document: &mut Value, context: &Context) -> usize {
    if context.engine != "podman" {
        return 0;
    }
    fn walk(value: &mut Value) -> usize {
        match value {
            Value::Object(map) => {
                let mut n = 0;
                if let Some(values) = map
                    .get_mut("RemovedCtrs")
                    .and_then(|r| r.get_mut("additionalProperties"))
                    .and_then(Value::as_object_mut)
                {
                    if values.get("nullable") != Some(&json!(true)) {
                        values.insert("nullable".into(), json!(true));
                        n += 1;
                    }
                }
                n + map.values_mut().map(walk).sum::<usize>()
            }
            Value::Array(items) => items.iter_mut().map(walk).sum(),
            _ => 0,
        }
    }
    walk(document)
}

/// Kube play reads YAML unless told `application/x-tar` (podman 5.8.6 then untars it and
/// fails); the spec's default content type is that. Kube down reads the same YAML to know
/// what to remove, though the spec declares no body.
pub(super) fn kube_yaml_bodies(document: &mut Value, context: &Context) -> usize {
    if context.engine != "podman" {
        return 0;
    }
    let yaml = json!({
        "description": "The kube YAML: pods, deployments, volumes ...",
        "content": { "application/yaml": { "schema": { "type": "string", "format": "binary" } } }
    });
    let mut count = 0;
    for op in operations(document) {
        if !matches!(op_id(op), "PlayKubeLibpod" | "PlayKubeDownLibpod") {
            continue;
        }
        if op
            .get("requestBody")
            .and_then(|b| b.pointer("/content/application~1yaml"))
            .is_none()
        {
            op.insert("requestBody".into(), yaml.clone());
            op.insert(ext::CONSUMES.into(), json!(["application/yaml"]));
            count += 1;
        }
    }
    count
}

/// ContainerMountLibpod answers the mount point as plain text.
pub(super) fn mount_point_text(document: &mut Value, context: &Context) -> usize {
    if context.engine != "podman" {
        return 0;
    }
    let mut count = 0;
    for op in operations(document) {
        if op_id(op) != "ContainerMountLibpod" {
            continue;
        }
        let ok = op.get_mut("responses").and_then(|r| r.get_mut("200"));
        if let Some(content) = ok
            .and_then(|r| r.get_mut("content"))
            .and_then(Value::as_object_mut)
        {
            if !content.contains_key("text/plain") {
                content.clear();
                content.insert(
                    "text/plain".into(),
                    json!({ "schema": { "type": "string" } }),
                );
                count += 1;
            }
        }
    }
    count
}

/// A container's stop signal: podman 4.3.1 sends the number (15), podman 5 the name.
pub(super) fn stop_signal_forms(document: &mut Value, context: &Context) -> usize {
    if context.engine != "podman" {
        return 0;
    }
    let place = "/components/schemas/InspectContainerConfig/properties/StopSignal";
    match document.pointer_mut(place).and_then(Value::as_object_mut) {
        Some(signal) if !signal.contains_key(ext::RUST_TYPE) => {
            signal.insert(ext::RUST_TYPE.into(), json!("values::Signal"));
            1
        }
        _ => 0,
    }
}

/// Podman 4.9's spec puts ManifestCreateLibpod at `POST /libpod/manifests?name=`, which both
/// engines answer 404; it is `POST /libpod/manifests/{name}`, as 5.1.0's spec says.
pub(super) fn manifest_create_path(document: &mut Value, context: &Context) -> usize {
    if context.engine != "podman" {
        return 0;
    }
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return 0;
    };
    let is_create = |op: &Value| op["operationId"] == "ManifestCreateLibpod";
    let Some(mut post) = paths
        .get_mut("/libpod/manifests")
        .and_then(Value::as_object_mut)
        .filter(|item| item.get("post").is_some_and(is_create))
        .and_then(|item| item.remove("post"))
    else {
        return 0;
    };
    if paths["/libpod/manifests"]
        .as_object()
        .is_some_and(|item| item.is_empty())
    {
        paths.remove("/libpod/manifests");
    }
    if let Some(params) = post.get_mut("parameters").and_then(Value::as_array_mut) {
        for param in params.iter_mut().filter(|p| p["name"] == "name") {
            param["in"] = json!("path");
            param["required"] = json!(true);
        }
    }
    let target = paths
        .entry("/libpod/manifests/{name}")
        .or_insert_with(|| json!({}));
    target["post"] = post;
    1
}

/// Podman's v3 manifest routes, with the version prefix podman serves them under.
const V3_ROUTES: [&str; 2] = ["ManifestAddLibpod", "ManifestPushV3Libpod"];

/// Podman 4.3.1 and 5.8.6 serve ManifestAddLibpod and ManifestPushV3Libpod under a v3 prefix
/// only: under a v4 or v5 one, `POST /libpod/manifests/{name:.*}` (ManifestCreateLibpod)
/// takes them, making a list named `NAME/add`.
pub(super) fn v3_manifest_routes(document: &mut Value, context: &Context) -> usize {
    if context.engine != "podman" {
        return 0;
    }
    let mut count = 0;
    for op in operations(document) {
        if V3_ROUTES.contains(&op_id(op)) && !op.contains_key(ext::API_VERSION) {
            op.insert(ext::API_VERSION.into(), json!("3.4.0"));
            count += 1;
        }
    }
    count
}
