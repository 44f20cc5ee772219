//! Schemas one spec lends another: Docker's stats answer, first described by v1.48; and
//! what Podman 4.9's spec dropped, from Podman 5.1.0's.
//!
//! dockerd's stats answer has had the same shape since long before v1.48, but older specs
//! declare it `type: object` and nothing more. Rather than describe it by hand, the older
//! specs borrow v1.48's `ContainerStatsResponse` and every schema it refers to. Podman
//! 4.9's spec names SpecGenerator, PodSpecGenerator and more with no content, and gives
//! most answers no schema; podman 4.3.1 sends what 5.1.0's spec describes (the sweep
//! checks it), so 4.9 borrows those. The lending document is loaded once per process
//! (`build.rs` generates many versions).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use super::Context;
use crate::Error;

/// The spec that lends the stats schema: the first Docker spec that describes it.
pub const STATS_LENDER: &str = "v1.48.yaml";
const STATS_SCHEMA: &str = "ContainerStatsResponse";

fn lacks_stats_schema(document: &Value) -> bool {
    document
        .pointer(&format!("/components/schemas/{STATS_SCHEMA}"))
        .is_none()
}

fn has_stats_operation(document: &Value) -> bool {
    document
        .get("paths")
        .and_then(Value::as_object)
        .is_some_and(|paths| paths.contains_key("/containers/{id}/stats"))
}

/// The spec that lends Podman 4.9 what its spec dropped.
pub const PODMAN_LENDER: &str = "v5.1.0.yaml";

/// The converted lending document a spec at `file` needs, if it needs one: loaded from
/// [`STATS_LENDER`] (Docker) or [`PODMAN_LENDER`] (an older Podman) beside it, once per
/// process.
pub fn lender_for(
    file: &Path,
    engine: &str,
    document: &Value,
) -> Result<Option<Arc<Value>>, Error> {
    let (lender_name, place, why) = match engine {
        "docker" if lacks_stats_schema(document) && has_stats_operation(document) => (
            STATS_LENDER,
            "/paths/~1containers~1{id}~1stats",
            "the stats answer has no schema here",
        ),
        "podman" if older_podman(file) => (
            PODMAN_LENDER,
            "/components/schemas",
            "this Podman spec lacks schemas that 5.1.0's lends",
        ),
        _ => return Ok(None),
    };
    let lender = file.with_file_name(lender_name);
    if !lender.exists() {
        return Err(Error::new(
            file,
            place,
            format!(
                "{why}, and {} is not beside this spec to lend them",
                lender.display()
            ),
        ));
    }
    static LOADED: Mutex<BTreeMap<PathBuf, Arc<Value>>> = Mutex::new(BTreeMap::new());
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(document) = loaded.get(&lender) {
        return Ok(Some(document.clone()));
    }
    let document = Arc::new(crate::load::load_file(&lender)?);
    loaded.insert(lender, document.clone());
    Ok(Some(document))
}

/// A Podman spec older than the lender (`v4.9.yaml`; not `v5.1.0.yaml`, nor a file
/// whose name has no version).
fn older_podman(file: &Path) -> bool {
    let version = |name: &str| -> Vec<u64> {
        name.trim_start_matches('v')
            .trim_end_matches(".gz")
            .trim_end_matches(".yaml")
            .split('.')
            .filter_map(|p| p.parse().ok())
            .collect()
    };
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let own = version(name);
    !own.is_empty() && own < version(PODMAN_LENDER)
}

/// A schema that says nothing (Podman 4.9's SpecGenerator: a description alone).
fn says_nothing(schema: &Value) -> bool {
    schema.as_object().is_some_and(|map| {
        ![
            "type",
            "properties",
            "allOf",
            "oneOf",
            "anyOf",
            "$ref",
            "items",
            "additionalProperties",
            "enum",
        ]
        .iter()
        .any(|key| map.contains_key(*key))
    })
}

/// A response as written, or the shared one its `$ref` names.
fn resolved<'v>(document: &'v Value, response: &'v Value) -> &'v Value {
    match response
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
    {
        Some(pointer) => document.pointer(pointer).unwrap_or(response),
        None => response,
    }
}

/// A response's JSON schema, unless it says nothing (nor its items or values do).
fn typed_schema(response: &Value) -> Option<&Value> {
    let says_nothing_in = |schema: &Value| {
        says_nothing(schema)
            || schema.get("items").is_some_and(says_nothing)
            || schema.get("properties").is_none()
                && schema.get("additionalProperties").is_some_and(says_nothing)
    };
    response
        .get("content")?
        .as_object()?
        .values()
        .find_map(|m| m.get("schema"))
        .filter(|schema| !says_nothing_in(schema))
}

/// Podman 4.9 borrows from 5.1.0 the definitions it names with no content, and the answers
/// of operations it leaves untyped, with every schema those refer to.
pub(super) fn podman_schemas(document: &mut Value, context: &Context) -> usize {
    let (Some(lender), "podman") = (context.lender, context.engine) else {
        return 0;
    };
    let lent_schemas = lender
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    // Every schema the borrower refers to, so that one it lacks is lent too.
    let mut wanted = Vec::new();
    refs(document, &mut wanted);
    let mut count = 0;
    // Definitions with no content.
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        for (name, schema) in schemas.iter_mut() {
            if let Some(lent) = lent_schemas.get(name).filter(|l| !says_nothing(l)) {
                if says_nothing(schema) {
                    refs(lent, &mut wanted);
                    *schema = lent.clone();
                    count += 1;
                }
            }
        }
    }
    // Answers with no schema.
    let lent_answers: BTreeMap<(String, String), Value> = lender_answers(lender);
    let snapshot = document.clone();
    for op in super::operations(document) {
        let id = super::op_id(op).to_string();
        let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
            continue;
        };
        for (status, response) in responses.iter_mut() {
            if !status.starts_with('2') || typed_schema(resolved(&snapshot, response)).is_some() {
                continue;
            }
            if let Some(lent) = lent_answers.get(&(id.clone(), status.clone())) {
                refs(lent, &mut wanted);
                *response = lent.clone();
                count += 1;
            }
        }
    }
    // Every schema those refer to that the borrower lacks or names with no content.
    let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return count;
    };
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = wanted.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(lent) = lent_schemas.get(&name) else {
            continue;
        };
        let lacking = schemas.get(&name).is_none_or(says_nothing);
        if lacking {
            refs(lent, &mut wanted);
            schemas.insert(name, lent.clone());
            count += 1;
        } else if let Some(own) = schemas.get(&name) {
            refs(own, &mut wanted);
        }
    }
    count
}

/// The lender's typed success answers, resolved: (operation, status) → response.
fn lender_answers(lender: &Value) -> BTreeMap<(String, String), Value> {
    let mut answers = BTreeMap::new();
    let paths = lender.get("paths").and_then(Value::as_object);
    for item in paths.into_iter().flat_map(|p| p.values()) {
        for op in item.as_object().into_iter().flat_map(|i| i.values()) {
            let Some(id) = op.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let responses = op.get("responses").and_then(Value::as_object);
            for (status, response) in responses.into_iter().flatten() {
                let response = resolved(lender, response);
                if status.starts_with('2') && typed_schema(response).is_some() {
                    answers.insert((id.to_string(), status.clone()), response.clone());
                }
            }
        }
    }
    answers
}

/// Copies the lender's stats schema, with the schemas it refers to, into a document that
/// has none; `json-lines-progress` then makes it the stats stream's item.
pub(super) fn stats_schema(document: &mut Value, context: &Context) -> usize {
    let (Some(lender), "docker") = (context.lender, context.engine) else {
        return 0;
    };
    if !lacks_stats_schema(document) {
        return 0;
    }
    let Some(lent) = lender
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    else {
        return 0;
    };
    let mut wanted = vec![STATS_SCHEMA.to_string()];
    let mut borrowed = Map::new();
    while let Some(name) = wanted.pop() {
        if borrowed.contains_key(&name) {
            continue;
        }
        let Some(schema) = lent.get(&name) else {
            continue;
        };
        refs(schema, &mut wanted);
        borrowed.insert(name, schema.clone());
    }
    let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return 0;
    };
    let mut count = 0;
    for (name, schema) in borrowed {
        // A name the borrower already defines keeps its own definition.
        if !schemas.contains_key(&name) {
            schemas.insert(name, schema);
            count += 1;
        }
    }
    count
}

/// The schema names `value` refers to.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value.as_str()) {
                    ("$ref", Some(target)) => {
                        if let Some(name) = target.strip_prefix("#/components/schemas/") {
                            out.push(name.to_string());
                        }
                    }
                    _ => refs(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}
