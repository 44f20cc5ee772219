//! Stage 2: every known defect of the engines' specs, corrected in one place.
//!
//! Fixups edit the converted OpenAPI 3.0 document as JSON, before it is typed: any node can
//! be addressed, and a node the typed model would reject can still be repaired. Each fixup
//! has a name and a one-line reason, and reports how many places it changed (the
//! `spec-report` lists them). What the spec cannot say at all (how a body streams, how a
//! parameter is encoded) is said with the `x-berth-*` extensions of `ext`.

use serde_json::{json, Map, Value};

use crate::ext;

mod answers;
mod borrowed;
pub mod earlier;
mod params;
mod podman;
mod podman_answers;

pub use borrowed::{lender_for, PODMAN_LENDER, STATS_LENDER};

/// One correction.
pub struct Fixup {
    pub name: &'static str,
    pub reason: &'static str,
    apply: fn(&mut Value, &Context) -> usize,
}

/// What a fixup may know beyond the document it corrects.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// `docker`, `podman`, ...
    pub engine: &'a str,
    /// The converted document of the spec that lends schemas this one lacks (Docker
    /// v1.48's, for the stats answer: see [`lender_for`]).
    pub lender: Option<&'a Value>,
    /// The same engine's earlier specs, newest first ([`earlier`]).
    pub earlier: &'a [earlier::Earlier],
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
        name: "earlier-versions-fields",
        reason: "a spec drops fields engines at older API versions still send to a newer module negotiated down to them (dockerd 20.10: ImageInspect.ContainerConfig, NetworkSettings.IPAddress; 28.5: SystemDataUsage.LayersSize, Images): the earlier specs' fields are kept, optional and deprecated",
        // First: what it adds is corrected by the fixups below, as the rest of the spec is.
        apply: earlier::removed_fields,
    },
    Fixup {
        name: "schema-refs-to-responses",
        reason: "Podman puts `$ref: #/responses/X` where a schema belongs; use that response's schema",
        apply: podman::schema_refs_to_responses,
    },
    Fixup {
        name: "podman-borrowed-schemas",
        reason: "Podman 4.9's spec names SpecGenerator, PodSpecGenerator and more with no content and gives most answers no schema; podman 4.3.1 and 5.8.6 send what 5.1.0's spec describes (the sweep checks it): borrow 5.1.0's",
        apply: borrowed::podman_schemas,
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
        reason: "dockerd 20.10 and 28.5 answer SecretCreate and ConfigCreate with `ID`, where IdResponse (IDResponse from v1.44) says `Id`",
        apply: id_response_casing,
    },
    Fixup {
        name: "invalid-format-string",
        reason: "Podman declares `format: string`, which is no format; drop it",
        apply: podman::invalid_format_string,
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
        name: "websocket-attach",
        reason: "dockerd 20.10 and 28.5 answer ContainerAttachWebsocket's plain GET with 400 \"not websocket protocol\": it is a WebSocket handshake (101), then frames",
        apply: websocket_attach,
    },
    Fixup {
        name: "borrowed-stats-schema",
        reason: "Docker specs before v1.48 give the stats answer no schema, though dockerd's answer has not changed shape; v1.48, the first spec to describe it, lends ContainerStatsResponse",
        apply: borrowed::stats_schema,
    },
    Fixup {
        name: "plugin-progress-answers",
        reason: "dockerd 20.10 and 28.5 answer PluginPull and PluginUpgrade with 200 and their progress as JSON lines; the specs list 204 alone",
        apply: answers::plugin_progress_answers,
    },
    Fixup {
        name: "plugin-delete-answer",
        reason: "dockerd 20.10 and 28.5 answer PluginDelete with 200 and no body; the specs give that answer the Plugin schema",
        apply: answers::plugin_delete_answer,
    },
    Fixup {
        name: "plugin-interface-types",
        reason: "dockerd 20.10 and 28.5 send a plugin's Config.Interface.Types as strings (\"docker.volumedriver/1.0\"), as v1.55's spec says; earlier specs say PluginInterfaceType objects",
        apply: answers::plugin_interface_types,
    },
    Fixup {
        name: "path-stat-header",
        reason: "dockerd 20.10 and 28.5 send ContainerArchiveInfo's X-Docker-Container-Path-Stat as base64 JSON {name, size, mode, mtime, linkTarget}; the specs say string",
        apply: answers::path_stat_header,
    },
    Fixup {
        name: "json-lines-progress",
        reason: "pull, push, build, load, events and stats send one JSON object per line, plugin pull, upgrade and push too (dockerd 20.10 and 28.5; a failed plugin push is only an error item); the spec declares none or one",
        apply: json_lines_progress,
    },
    Fixup {
        name: "undocumented-json-bodies",
        reason: "Podman 4.9's spec drops the schema of many JSON answers (version, info, inspect, create); keep them as JSON values",
        apply: podman::undocumented_json_bodies,
    },
    Fixup {
        name: "podman-also-answers",
        reason: "podman 4.3.1 and 5.8.6 answer SecretCreate(Libpod) and ImageCommitLibpod with 200 (specs: 201); podman 5.8.6 NetworkUpdateLibpod with 204 (spec: 200) and ImageResolveLibpod with 200 and the names (spec: 204)",
        apply: podman_answers::also_answers,
    },
    Fixup {
        name: "podman-answer-shapes",
        reason: "podman 4.3.1 and 5.8.6 answer exec create and commit with {Id}, changes with [{Path, Kind}], exec inspect with the session, the compatible prunes with Docker's report objects (specs: arrays), /info and /system/df with Docker's documents (specs: none, or libpod's report), podman 5.8.6 the compatible ContainerUpdate with {Warnings}; the specs give none or another",
        apply: podman_answers::answer_shapes,
    },
    Fixup {
        name: "podman-answer-lists",
        reason: "podman 4.3.1 and 5.8.6 answer image history with a list of layers, podman 5.8.6 a search with a list of results; the specs say one HistoryResponse, one result",
        apply: podman_answers::answer_lists,
    },
    Fixup {
        name: "podman-ipnet-text",
        reason: "podman 5.8.6 sends a network address's `ipnet` as CIDR text (\"10.91.0.2/24\"); the spec says Go's net.IPNet object",
        apply: podman_answers::ipnet_text,
    },
    Fixup {
        name: "podman-removed-containers",
        reason: "podman 5.8.6 answers PodDeleteLibpod with RemovedCtrs {\"<id>\": null} for a container removed without error; the spec says string values",
        apply: podman_answers::removed_containers,
    },
    Fixup {
        name: "podman-kube-yaml-bodies",
        reason: "podman 5.8.6 untars a kube play body sent as application/x-tar (the spec's default) and fails \"unpacking failed\"; kube down reads the YAML too, though its spec declares no body",
        apply: podman_answers::kube_yaml_bodies,
    },
    Fixup {
        name: "podman-mount-point-text",
        reason: "podman 4.3.1 and 5.8.6 answer ContainerMountLibpod with the mount point as text/plain, not a JSON string",
        apply: podman_answers::mount_point_text,
    },
    Fixup {
        name: "podman-stop-signal-forms",
        reason: "podman 4.3.1 sends a container's Config.StopSignal as a number (15), podman 5 as a name; the spec says string",
        apply: podman_answers::stop_signal_forms,
    },
    Fixup {
        name: "podman-manifest-create-path",
        reason: "podman 4.9's spec puts ManifestCreateLibpod at POST /libpod/manifests?name=, which podman 4.3.1 and 5.8.6 answer 404; it is POST /libpod/manifests/{name}",
        apply: podman_answers::manifest_create_path,
    },
    Fixup {
        name: "compatible-answers",
        reason: "podman's compatible API (4.3.1 and 5.8.6), which the Docker modules also drive, answers ExecResize with 201; the Docker specs list 200",
        apply: answers::compatible_answers,
    },
    Fixup {
        name: "libpod-build-body",
        reason: "Podman's libpod build reads a tar build context, but its spec declares no body",
        apply: podman::libpod_build_body,
    },
    Fixup {
        name: "tar-request-bodies",
        reason: "tar bodies are `type: string` with JSON or octet-stream content types; dockerd's build wants application/x-tar",
        apply: params::tar_request_bodies,
    },
    Fixup {
        name: "json-encoded-query",
        reason: "`filters`, `buildargs`, `labels`, `cachefrom`, ... are JSON documents in one query parameter, declared `string`; a declared array (`platform`, multi) stays an array of documents, one per repeated parameter",
        apply: params::json_encoded_query,
    },
    Fixup {
        name: "exec-start-body",
        reason: "dockerd reads ExecStart's body as JSON and answers 400 \"got EOF while reading request body\" without one; the spec says it is optional",
        apply: params::exec_start_body,
    },
    Fixup {
        name: "push-progress-fields",
        reason: "dockerd 20.10 and 28.5 send `id` (the layer) in ImagePush and PluginPush progress items and `aux` {Tag, Digest, Size} in the last; PushImageInfo declares neither",
        apply: answers::push_progress_fields,
    },
    Fixup {
        name: "legacy-event-fields",
        reason: "dockerd 20.10 and 28.5 send `status`, `id` and `from` in every event, beside `Action` and `Actor`; EventMessage does not declare them",
        apply: answers::legacy_event_fields,
    },
    Fixup {
        name: "builder-size-field",
        reason: "dockerd 20.10 (API 1.41) sends `BuilderSize` in SystemDataUsage's answer; no spec declares it",
        apply: answers::builder_size_field,
    },
    Fixup {
        name: "podman-v3-manifest-routes",
        reason: "podman 4.3.1 and 5.8.6 serve ManifestAddLibpod and ManifestPushV3Libpod under a v3 API prefix only: under v4.9.0 or v5.1.0 ManifestCreateLibpod takes them (a list named NAME/add, 201); send them at 3.4.0",
        apply: podman_answers::v3_manifest_routes,
    },
    Fixup {
        name: "undeclared-registry-auth",
        reason: "dockerd reads X-Registry-Auth for DistributionInspect (20.10 and 28.5: 500 \"no basic auth credentials\" without it), PluginPush and GetPluginPrivileges; podman for ManifestPushLibpod and ManifestPushV3Libpod (400 \"authentication required\" without it) and image search; no spec declares it",
        apply: answers::undeclared_registry_auth,
    },
    Fixup {
        name: "registry-auth-headers",
        reason: "X-Registry-Auth / X-Registry-Config are base64url JSON documents, declared `string`",
        apply: params::registry_auth_headers,
    },
    Fixup {
        name: "podman-nullable-port-maps",
        reason: "podman 4.3.1 and 5.8.6 send `NetworkSettings.Ports` / `PortBindings` as `{\"8080/tcp\": null}` for a port exposed, not published; go-swagger never marks a map's list values nullable (Docker's spec does, on PortMap)",
        apply: podman::nullable_port_map_values,
    },
    Fixup {
        name: "empty-auth-config",
        reason: "Podman 4.9 declares AuthConfig (SystemAuth's body) with no properties; it is the registry AuthConfig Podman 5 declares",
        apply: podman::empty_auth_config,
    },
];

/// Runs every fixup on a converted document.
pub fn apply_all(document: &mut Value, context: &Context) -> Vec<Applied> {
    FIXUPS
        .iter()
        .filter_map(|f| {
            let count = (f.apply)(document, context);
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

fn type_lists(document: &mut Value, _: &Context) -> usize {
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

fn typed_allof(document: &mut Value, _: &Context) -> usize {
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

fn id_response_casing(document: &mut Value, context: &Context) -> usize {
    let engine = context.engine;
    if engine != "docker" {
        return 0;
    }
    // `IDResponse` from v1.44 on.
    ["IdResponse", "IDResponse"]
        .into_iter()
        .map(|name| {
            match document.pointer_mut(&format!("/components/schemas/{name}/properties/Id")) {
                Some(Value::Object(id)) if !id.contains_key(ext::ALIASES) => {
                    id.insert(ext::ALIASES.into(), json!(["ID"]));
                    1
                }
                _ => 0,
            }
        })
        .sum()
}

const PODMAN_BYTE_STREAMS: [&str; 4] = [
    "ContainerExportLibpod",
    "ImageExportLibpod",
    "ImageGetLibpod",
    "ContainerArchiveLibpod",
];

fn byte_stream_responses(document: &mut Value, _: &Context) -> usize {
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

fn multiplexed_logs(document: &mut Value, _: &Context) -> usize {
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

fn hijacked_connections(document: &mut Value, _: &Context) -> usize {
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

fn websocket_attach(document: &mut Value, _: &Context) -> usize {
    operations(document)
        .filter(|op| op_id(op) == "ContainerAttachWebsocket")
        .map(|op| set_kind(op, "websocket"))
        .sum()
}

/// The item of each progress stream: a named schema, or `None` for "the declared success
/// schema is the item".
const PROGRESS_ITEMS: [(&str, Option<&str>); 16] = [
    ("ImageCreate", Some("CreateImageInfo")),
    ("ImageBuild", Some("BuildInfo")),
    ("ImagePush", Some("PushImageInfo")),
    ("ImageLoad", Some("BuildInfo")),
    ("PluginPull", Some("CreateImageInfo")),
    ("PluginUpgrade", Some("CreateImageInfo")),
    ("PluginPush", Some("PushImageInfo")),
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

fn json_lines_progress(document: &mut Value, _: &Context) -> usize {
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
            _ => podman::podman_item(&id)
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

#[cfg(test)]
mod tests;
