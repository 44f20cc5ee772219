//! Schemas one spec lends another: Docker's stats answer, first described by v1.48.
//!
//! dockerd's stats answer has had the same shape since long before v1.48, but older specs
//! declare it `type: object` and nothing more. Rather than describe it by hand, the older
//! specs borrow v1.48's `ContainerStatsResponse` and every schema it refers to; the
//! lending document is loaded once per process (`build.rs` generates many versions).

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

/// The converted lending document a Docker spec at `file` needs, if it needs one: loaded
/// from [`STATS_LENDER`] beside it, once per process.
pub fn lender_for(
    file: &Path,
    engine: &str,
    document: &Value,
) -> Result<Option<Arc<Value>>, Error> {
    if engine != "docker" || !lacks_stats_schema(document) || !has_stats_operation(document) {
        return Ok(None);
    }
    let lender = file.with_file_name(STATS_LENDER);
    if !lender.exists() {
        return Err(Error::new(
            file,
            "/paths/~1containers~1{id}~1stats",
            format!(
                "the stats answer has no schema here, and {} (the first spec that describes it) is not beside this spec to lend it",
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

/// Copies the lender's stats schema, with the schemas it refers to, into a document that
/// has none; `json-lines-progress` then makes it the stats stream's item.
pub(super) fn stats_schema(document: &mut Value, context: &Context) -> usize {
    let Some(lender) = context.lender else {
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
