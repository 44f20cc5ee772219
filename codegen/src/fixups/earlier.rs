//! What earlier versions of a schema had and this version's spec dropped: fields an engine
//! at an older API version still sends to a newer module negotiated down to it.
//!
//! A module speaking to an older engine gets that engine's answers: dockerd 20.10 (API 1.41)
//! sends `ImageInspect.ContainerConfig` and `NetworkSettings.IPAddress`, 28.5 (API 1.51)
//! sends `SystemDataUsage`'s `LayersSize` and `Images`, which v1.55's spec no longer names.
//! Each property an earlier spec of the same engine gives a schema (a named definition, or an
//! operation's answer) and this one does not is added to this one, optional, with
//! `x-berth-deprecated` naming the versions whose specs have it (the field is emitted
//! `#[deprecated]`). Only what can be typed safely is added: a property whose schema refers
//! to a definition this spec lacks, or has reshaped into something that is no object, stays
//! in the struct's `extra`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};

use super::Context;
use crate::{ext, Error};

const SCHEMAS: &str = "#/components/schemas/";

/// An earlier spec of the same engine, converted.
#[derive(Debug, Clone)]
pub struct Earlier {
    pub version: String,
    pub document: Arc<Value>,
}

/// The converted documents of `files` (`(version, path)`, any order), newest first; each
/// loaded once per process (`build.rs` generates many versions), in parallel (parsing YAML
/// is most of the cost: 30 Docker specs take 0.4 s one after the other).
pub fn load_earlier(files: &[(String, PathBuf)]) -> Result<Vec<Earlier>, Error> {
    static LOADED: Mutex<BTreeMap<PathBuf, Arc<Value>>> = Mutex::new(BTreeMap::new());
    let cached = |path: &PathBuf| {
        LOADED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .cloned()
    };
    let missing: Vec<&PathBuf> = files
        .iter()
        .map(|(_, path)| path)
        .filter(|path| cached(path).is_none())
        .collect();
    let loaded: Vec<(PathBuf, Result<Value, Error>)> = std::thread::scope(|scope| {
        let threads: Vec<_> = missing
            .iter()
            .map(|path| scope.spawn(move || ((*path).clone(), crate::load::load_file(path))))
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("a spec loader panicked"))
            .collect()
    });
    for (path, document) in loaded {
        LOADED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path, Arc::new(document?));
    }
    let mut earlier: Vec<Earlier> = files
        .iter()
        .filter_map(|(version, path)| {
            Some(Earlier {
                version: version.clone(),
                document: cached(path)?,
            })
        })
        .collect();
    earlier.sort_by(|a, b| crate::manifest::compare_versions(&b.version, &a.version));
    Ok(earlier)
}

/// A property to add: its schema (from the newest earlier spec that has it), and the
/// versions whose specs have it.
struct Removed {
    schema: Value,
    newest: String,
    oldest: String,
}

/// The fixup: every property earlier specs have and this one lacks, added where it is safe.
pub fn removed_fields(document: &mut Value, context: &Context) -> usize {
    // (pointer of the schema in this document, property) → what to add
    let mut found: BTreeMap<(String, String), Removed> = BTreeMap::new();
    for earlier in context.earlier {
        let old = &*earlier.document;
        for (v_pointer, u_schema) in matching_schemas(document, old) {
            let Some(v_schema) = document.pointer(&v_pointer) else {
                continue;
            };
            collect(
                document,
                &v_pointer,
                v_schema,
                old,
                u_schema,
                &earlier.version,
                &mut found,
                0,
            );
        }
    }
    let count = found.len();
    for ((pointer, property), removed) in found {
        let Some(schema) = document
            .pointer_mut(&pointer)
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        // Properties that are no map: the spec is malformed there, and the typed load
        // after the fixups names the place.
        let Some(properties) = schema
            .entry("properties")
            .or_insert_with(|| json!({}))
            .as_object_mut()
        else {
            continue;
        };
        let mut added = match removed.schema {
            // A bare reference cannot carry the note: it becomes a one-part allOf.
            Value::Object(map) if map.contains_key("$ref") => {
                let mut wrapper = Map::new();
                wrapper.insert("allOf".into(), json!([{ "$ref": map["$ref"] }]));
                wrapper
            }
            Value::Object(map) => map,
            _ => continue,
        };
        let versions = if removed.oldest == removed.newest {
            format!("v{}", removed.newest)
        } else {
            format!("v{} to v{}", removed.oldest, removed.newest)
        };
        added.insert(
            ext::DEPRECATED.into(),
            Value::String(format!(
                "only in the API {versions} specs: an engine at those versions sends it to a \
                 newer module negotiated down to it"
            )),
        );
        properties.insert(property, Value::Object(added));
    }
    count
}

/// Pairs of (pointer of a schema of this document, the same schema in `old`): definitions of
/// the same name, and the JSON answers of the same operation and status.
fn matching_schemas<'o>(document: &Value, old: &'o Value) -> Vec<(String, &'o Value)> {
    let mut pairs = Vec::new();
    if let (Some(own), Some(theirs)) = (
        document
            .pointer("/components/schemas")
            .and_then(Value::as_object),
        old.pointer("/components/schemas")
            .and_then(Value::as_object),
    ) {
        for (name, schema) in theirs {
            // One name, one thing: v1.25's `Config` is a container's, v1.55's a swarm
            // config's; definitions that share no property are not versions of each other.
            let shares_a_property = own.get(name).is_some_and(|ours| {
                let ours = property_names(document, ours, 0);
                old_properties(old, schema, 0)
                    .iter()
                    .any(|(p, _)| ours.contains(&p.to_lowercase()))
            });
            if shares_a_property {
                pairs.push((format!("/components/schemas/{}", escape(name)), schema));
            }
        }
    }
    let Some(old_paths) = old.get("paths").and_then(Value::as_object) else {
        return pairs;
    };
    for (path, item) in old_paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let Some(responses) = op.get("responses").and_then(Value::as_object) else {
                continue;
            };
            for (status, response) in responses {
                let Some(u_schema) = answer_schema(response) else {
                    continue;
                };
                let at = format!("/paths/{}/{method}/responses/{status}", escape(path));
                let Some((v_schema, v_pointer)) = answer_schema_at(document, &at) else {
                    continue;
                };
                // A list answer: its items (NetworkList's `Network` then, `NetworkSummary` now).
                let (u_schema, v_schema, v_pointer) =
                    match (u_schema.get("items"), v_schema.get("items")) {
                        (Some(u_items), Some(v_items)) => {
                            (u_items, v_items, format!("{v_pointer}/items"))
                        }
                        _ => (u_schema, v_schema, v_pointer),
                    };
                let (Some(own), theirs) = (
                    definition_pointer(document, v_schema, v_pointer),
                    definition_name(u_schema),
                ) else {
                    continue;
                };
                // Two references to one definition name: the definitions pass did it.
                if theirs.is_some() && theirs == definition_name(v_schema) {
                    continue;
                }
                pairs.push((own, resolve(old, u_schema)));
            }
        }
    }
    pairs
}

/// The JSON schema of a response (its first content's), if it has one.
fn answer_schema(response: &Value) -> Option<&Value> {
    response
        .get("content")?
        .as_object()?
        .values()
        .next()?
        .get("schema")
}

fn definition_name(schema: &Value) -> Option<&str> {
    schema.get("$ref")?.as_str()?.strip_prefix(SCHEMAS)
}

/// The JSON schema of the response at `pointer` in this document, and its own pointer.
fn answer_schema_at<'d>(document: &'d Value, pointer: &str) -> Option<(&'d Value, String)> {
    let content = document
        .pointer(&format!("{pointer}/content"))?
        .as_object()?;
    let (media, body) = content.iter().next()?;
    Some((
        body.get("schema")?,
        format!("{pointer}/content/{}/schema", escape(media)),
    ))
}

/// Where a schema lives in this document: the definition it refers to, or its own place.
fn definition_pointer(document: &Value, schema: &Value, own_pointer: String) -> Option<String> {
    match definition_name(schema) {
        Some(name) => {
            let pointer = format!("/components/schemas/{}", escape(name));
            document.pointer(&pointer).map(|_| pointer)
        }
        None => Some(own_pointer),
    }
}

/// A schema as written, or the definition its `$ref` names.
fn resolve<'d>(document: &'d Value, schema: &'d Value) -> &'d Value {
    match definition_name(schema) {
        Some(name) => document
            .pointer(&format!("/components/schemas/{}", escape(name)))
            .unwrap_or(schema),
        None => schema,
    }
}

/// Every property name a schema has, its `allOf` parts' and its aliases included,
/// lowercased (Go reads JSON keys ignoring case: `ID` and `Id` are one field).
fn property_names(document: &Value, schema: &Value, depth: usize) -> Vec<String> {
    let schema = resolve(document, schema);
    let mut names = Vec::new();
    if depth > 8 {
        return names;
    }
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in properties {
            names.push(name.to_lowercase());
            for alias in property
                .get(ext::ALIASES)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                names.push(alias.to_lowercase());
            }
        }
    }
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        names.extend(property_names(document, part, depth + 1));
    }
    names
}

/// The properties of an old schema, its `allOf` parts' included.
fn old_properties<'o>(
    old: &'o Value,
    schema: &'o Value,
    depth: usize,
) -> Vec<(&'o str, &'o Value)> {
    let schema = resolve(old, schema);
    let mut properties: Vec<(&str, &Value)> = schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    if depth < 8 {
        for part in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            properties.extend(old_properties(old, part, depth + 1));
        }
    }
    properties
}

fn is_object_schema(schema: &Value) -> bool {
    schema.get("properties").is_some() || schema.get("allOf").is_some()
}

/// Gathers what `old`'s schema has and this document's, at `v_pointer`, lacks; descends
/// into inline objects both have.
#[allow(clippy::too_many_arguments)]
fn collect(
    document: &Value,
    v_pointer: &str,
    v_schema: &Value,
    old: &Value,
    u_schema: &Value,
    version: &str,
    found: &mut BTreeMap<(String, String), Removed>,
    depth: usize,
) {
    if depth > 8 || !is_object_schema(v_schema) || !is_object_schema(resolve(old, u_schema)) {
        return;
    }
    let known = property_names(document, v_schema, 0);
    let own = v_schema.get("properties").and_then(Value::as_object);
    for (name, u_property) in old_properties(old, u_schema, 0) {
        if let Some(v_property) = own.and_then(|own| own.get(name)) {
            // Both inline objects: the old one's inner fields may be gone from the new one.
            if v_property.get("$ref").is_none() && u_property.get("$ref").is_none() {
                let inner = format!("{v_pointer}/properties/{}", escape(name));
                collect(
                    document,
                    &inner,
                    v_property,
                    old,
                    u_property,
                    version,
                    found,
                    depth + 1,
                );
            }
            continue;
        }
        if known.contains(&name.to_lowercase()) || !transplantable(document, old, u_property, 0) {
            continue;
        }
        found
            .entry((v_pointer.to_string(), name.to_string()))
            .and_modify(|r| r.oldest = version.to_string())
            .or_insert_with(|| Removed {
                schema: u_property.clone(),
                newest: version.to_string(),
                oldest: version.to_string(),
            });
    }
}

/// Whether an old property's schema means the same here: each definition it refers to
/// exists in this document, equal or still an object (a definition that grew fields).
fn transplantable(document: &Value, old: &Value, schema: &Value, depth: usize) -> bool {
    if depth > 32 {
        return false;
    }
    match schema {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref") {
                let Some(name) = reference.as_str().and_then(|r| r.strip_prefix(SCHEMAS)) else {
                    return false; // a shared response or parameter: not a schema to type
                };
                let pointer = format!("/components/schemas/{}", escape(name));
                return match (document.pointer(&pointer), old.pointer(&pointer)) {
                    (Some(ours), Some(theirs)) => {
                        ours == theirs || is_object_schema(ours) && is_object_schema(theirs)
                    }
                    _ => false,
                };
            }
            map.values()
                .all(|v| transplantable(document, old, v, depth + 1))
        }
        Value::Array(items) => items
            .iter()
            .all(|v| transplantable(document, old, v, depth + 1)),
        _ => true,
    }
}

/// A JSON pointer token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// `(version, path)` of the same engine's specs older than `version`, beside `file`.
pub fn earlier_files(file: &Path, earlier: &[(String, String)]) -> Vec<(String, PathBuf)> {
    earlier
        .iter()
        .map(|(version, name)| (version.clone(), file.with_file_name(name)))
        .collect()
}
