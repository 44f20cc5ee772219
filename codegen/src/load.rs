//! Stage 1: a spec file becomes an OpenAPI 3.0 document, then (after `fixups`) an
//! `openapiv3::OpenAPI`.
//!
//! The engines publish Swagger 2.0. It is converted, node by node, into OpenAPI 3.0 so that
//! every later stage reads one model, and a future engine publishing OpenAPI 3.0 passes
//! straight through. The converter is faithful: it fixes nothing (that is `fixups`), but it
//! keeps Swagger's `produces` / `consumes` as `x-produces` / `x-consumes` extensions because
//! the fixups need them to tell streaming operations apart.

use std::path::Path;

use openapiv3::OpenAPI;
use serde_json::{json, Map, Value};

use crate::error::{escape_token, Error};

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// Reads one spec file (YAML or JSON, Swagger 2.0 or OpenAPI 3.0) as an OpenAPI 3.0
/// document, still untyped so that `fixups` can repair it.
pub fn load_file(path: &Path) -> Result<Value, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::new(path, "", format!("cannot read the spec: {e}")))?;
    load_str(path, &text)
}

/// Converts spec text; `file` only labels errors.
pub fn load_str(file: &Path, text: &str) -> Result<Value, Error> {
    let raw: Value = serde_yaml::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!(" (line {}, column {})", l.line(), l.column()));
        Error::new(
            file,
            "",
            format!("not valid YAML or JSON{}: {e}", at.unwrap_or_default()),
        )
    })?;
    to_openapi3(file, raw)
}

/// Turns a Swagger 2.0 document into an OpenAPI 3.0 one; passes OpenAPI 3.0 through.
pub fn to_openapi3(file: &Path, raw: Value) -> Result<Value, Error> {
    let Value::Object(root) = raw else {
        return Err(Error::new(file, "", "the spec is not a mapping"));
    };
    if let Some(v) = root.get("openapi") {
        return match v.as_str() {
            Some(s) if s.starts_with("3.0") => Ok(Value::Object(root)),
            _ => Err(Error::new(
                file,
                "/openapi",
                format!("unsupported OpenAPI version {v}; 2.0 and 3.0.x are"),
            )),
        };
    }
    match root.get("swagger").and_then(Value::as_str) {
        Some("2.0") => Swagger2 { file, root: &root }.convert(),
        Some(other) => Err(Error::new(
            file,
            "/swagger",
            format!("unsupported Swagger version {other:?}; only 2.0 is"),
        )),
        None => Err(Error::new(
            file,
            "",
            "neither `swagger: \"2.0\"` nor `openapi: 3.0.x` at the top",
        )),
    }
}

/// Deserializes the converted document, naming the JSON pointer of a node that does not fit.
pub fn deserialize(file: &Path, document: Value) -> Result<OpenAPI, Error> {
    serde_path_to_error::deserialize(document).map_err(|e| {
        let pointer = path_to_pointer(e.path());
        Error::new(file, pointer, e.into_inner().to_string())
    })
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(format!("/{index}")),
            Segment::Map { key } => Some(format!("/{}", escape_token(key))),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

struct Swagger2<'a> {
    file: &'a Path,
    root: &'a Map<String, Value>,
}

impl Swagger2<'_> {
    fn err(&self, pointer: String, message: impl Into<String>) -> Error {
        Error::new(self.file, pointer, message)
    }

    fn convert(&self) -> Result<Value, Error> {
        let root = self.root;
        let info = root
            .get("info")
            .cloned()
            .ok_or_else(|| self.err(String::new(), "missing `info`"))?;
        let mut out = Map::new();
        out.insert("openapi".into(), json!("3.0.3"));
        out.insert("info".into(), info);
        if let Some(base) = root.get("basePath").and_then(Value::as_str) {
            out.insert("servers".into(), json!([{ "url": base }]));
        }
        if let Some(tags) = root.get("tags") {
            out.insert("tags".into(), tags.clone());
        }
        for (key, value) in root {
            if key.starts_with("x-") {
                out.insert(key.clone(), value.clone());
            }
        }
        out.insert("components".into(), Value::Object(self.components()?));
        out.insert("paths".into(), Value::Object(self.paths()?));
        let mut document = Value::Object(out);
        rewrite_refs(&mut document);
        Ok(document)
    }

    fn components(&self) -> Result<Map<String, Value>, Error> {
        let mut components = Map::new();
        let mut schemas = Map::new();
        for (name, schema) in self.object_at("definitions")? {
            schemas.insert(name.clone(), convert_schema(schema));
        }
        components.insert("schemas".into(), Value::Object(schemas));

        let mut parameters = Map::new();
        let mut bodies = Map::new();
        for (name, param) in self.object_at("parameters")? {
            let pointer = format!("/parameters/{}", escape_token(name));
            if param.get("in").and_then(Value::as_str) == Some("body") {
                bodies.insert(
                    name.clone(),
                    request_body(param, &self.global_list("consumes")),
                );
            } else {
                parameters.insert(name.clone(), self.parameter(param, &pointer)?);
            }
        }
        components.insert("parameters".into(), Value::Object(parameters));
        components.insert("requestBodies".into(), Value::Object(bodies));

        let mut responses = Map::new();
        for (name, response) in self.object_at("responses")? {
            responses.insert(
                name.clone(),
                response_object(response, &self.global_list("produces")),
            );
        }
        components.insert("responses".into(), Value::Object(responses));
        Ok(components)
    }

    fn object_at(&self, key: &str) -> Result<&Map<String, Value>, Error> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        match self.root.get(key) {
            None => Ok(EMPTY.get_or_init(Map::new)),
            Some(Value::Object(map)) => Ok(map),
            Some(_) => Err(self.err(format!("/{key}"), format!("`{key}` is not a mapping"))),
        }
    }

    fn global_list(&self, key: &str) -> Vec<String> {
        string_list(self.root.get(key)).unwrap_or_else(|| vec!["application/json".to_string()])
    }

    fn paths(&self) -> Result<Map<String, Value>, Error> {
        let mut paths = Map::new();
        for (path, item) in self.object_at("paths")? {
            let pointer = format!("/paths/{}", escape_token(path));
            let Value::Object(item) = item else {
                return Err(self.err(pointer, "a path item is not a mapping"));
            };
            let shared = item
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut out = Map::new();
            for (key, value) in item {
                if METHODS.contains(&key.as_str()) {
                    let op_pointer = format!("{pointer}/{key}");
                    out.insert(key.clone(), self.operation(value, &shared, &op_pointer)?);
                } else if key.starts_with("x-") || key == "summary" || key == "description" {
                    out.insert(key.clone(), value.clone());
                } else if key != "parameters" {
                    return Err(self.err(
                        format!("{pointer}/{}", escape_token(key)),
                        format!("unknown path item key `{key}`"),
                    ));
                }
            }
            paths.insert(path.clone(), Value::Object(out));
        }
        Ok(paths)
    }

    fn operation(&self, op: &Value, shared: &[Value], pointer: &str) -> Result<Value, Error> {
        let Value::Object(op) = op else {
            return Err(self.err(pointer.to_string(), "an operation is not a mapping"));
        };
        let consumes =
            string_list(op.get("consumes")).unwrap_or_else(|| self.global_list("consumes"));
        let produces =
            string_list(op.get("produces")).unwrap_or_else(|| self.global_list("produces"));
        let mut out = Map::new();
        for key in [
            "operationId",
            "summary",
            "description",
            "tags",
            "deprecated",
            "security",
        ] {
            if let Some(v) = op.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
        for (key, value) in op {
            if key.starts_with("x-") {
                out.insert(key.clone(), value.clone());
            }
        }
        out.insert("x-consumes".into(), json!(consumes));
        out.insert("x-produces".into(), json!(produces));

        // Operation-level parameters override path-level ones with the same name and place.
        let own = op
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut merged: Vec<(usize, Value)> = Vec::new();
        for (index, param) in shared.iter().chain(own.iter()).enumerate() {
            let resolved = self.resolve_parameter(param);
            let key = (resolved.get("name").cloned(), resolved.get("in").cloned());
            merged.retain(|(_, p)| {
                let r = self.resolve_parameter(p);
                (r.get("name").cloned(), r.get("in").cloned()) != key
            });
            merged.push((index, param.clone()));
        }

        let mut parameters = Vec::new();
        let mut form_fields = Map::new();
        let mut form_required = Vec::new();
        for (index, param) in merged {
            let own_index = index.checked_sub(shared.len());
            let param_pointer = match own_index {
                Some(i) => format!("{pointer}/parameters/{i}"),
                None => format!(
                    "{}/parameters/{index}",
                    pointer.rsplit_once('/').map_or("", |p| p.0)
                ),
            };
            let resolved = self.resolve_parameter(&param);
            match resolved.get("in").and_then(Value::as_str) {
                Some("body") => {
                    let body = match param.get("$ref").and_then(Value::as_str) {
                        Some(r) => {
                            json!({ "$ref": r.replace("#/parameters/", "#/components/requestBodies/") })
                        }
                        None => request_body(&param, &consumes),
                    };
                    out.insert("requestBody".into(), body);
                }
                Some("formData") => {
                    let name = resolved
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    if resolved.get("required").and_then(Value::as_bool) == Some(true) {
                        form_required.push(json!(name));
                    }
                    form_fields.insert(name, param_schema(resolved));
                }
                Some(_) if param.get("$ref").is_some() => parameters.push(param.clone()),
                Some(_) => parameters.push(self.parameter(&param, &param_pointer)?),
                None => return Err(self.err(param_pointer, "a parameter without `in`")),
            }
        }
        if !form_fields.is_empty() {
            let media = if consumes.iter().any(|c| c == "multipart/form-data") {
                "multipart/form-data"
            } else {
                "application/x-www-form-urlencoded"
            };
            let schema =
                json!({ "type": "object", "properties": form_fields, "required": form_required });
            out.insert(
                "requestBody".into(),
                json!({ "content": { media: { "schema": schema } } }),
            );
        }
        out.insert("parameters".into(), Value::Array(parameters));

        let mut responses = Map::new();
        let Some(Value::Object(given)) = op.get("responses") else {
            return Err(self.err(
                format!("{pointer}/responses"),
                "an operation without `responses`",
            ));
        };
        for (status, response) in given {
            responses.insert(status.clone(), response_object(response, &produces));
        }
        out.insert("responses".into(), Value::Object(responses));
        Ok(Value::Object(out))
    }

    fn resolve_parameter<'v>(&'v self, param: &'v Value) -> &'v Value {
        param
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/parameters/"))
            .and_then(|name| self.root.get("parameters")?.get(name))
            .unwrap_or(param)
    }

    /// A non-body Swagger parameter: its type facets move into `schema`.
    fn parameter(&self, param: &Value, pointer: &str) -> Result<Value, Error> {
        let Value::Object(p) = param else {
            return Err(self.err(pointer.to_string(), "a parameter is not a mapping"));
        };
        let location = p.get("in").and_then(Value::as_str).unwrap_or_default();
        if !["query", "header", "path", "cookie"].contains(&location) {
            return Err(self.err(
                format!("{pointer}/in"),
                format!("unknown parameter location `{location}`"),
            ));
        }
        let name = p.get("name").and_then(Value::as_str);
        if name.is_none() {
            return Err(self.err(pointer.to_string(), "a parameter without `name`"));
        }
        let mut out = Map::new();
        for key in [
            "name",
            "in",
            "description",
            "required",
            "deprecated",
            "allowEmptyValue",
        ] {
            if let Some(v) = p.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
        for (key, value) in p {
            if key.starts_with("x-") {
                out.insert(key.clone(), value.clone());
            }
        }
        if location == "path" {
            out.insert("required".into(), json!(true));
        }
        if location == "query" && p.get("type").and_then(Value::as_str) == Some("array") {
            let multi = p.get("collectionFormat").and_then(Value::as_str) == Some("multi");
            out.insert("style".into(), json!("form"));
            out.insert("explode".into(), json!(multi));
        }
        out.insert("schema".into(), param_schema(param));
        Ok(Value::Object(out))
    }
}

/// The schema facets of a Swagger non-body parameter, as an OpenAPI schema.
fn param_schema(param: &Value) -> Value {
    const FACETS: [&str; 16] = [
        "type",
        "format",
        "items",
        "default",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "enum",
        "multipleOf",
    ];
    let mut schema = Map::new();
    if let Value::Object(p) = param {
        for key in FACETS {
            if let Some(v) = p.get(key) {
                schema.insert(key.into(), v.clone());
            }
        }
    }
    convert_schema(&Value::Object(schema))
}

fn request_body(param: &Value, consumes: &[String]) -> Value {
    let schema = convert_schema(param.get("schema").unwrap_or(&json!({})));
    let content: Map<String, Value> = consumes
        .iter()
        .map(|ct| (ct.clone(), json!({ "schema": schema })))
        .collect();
    let mut body = json!({ "content": content, "required": param.get("required").and_then(Value::as_bool).unwrap_or(false) });
    if let Some(d) = param.get("description") {
        body["description"] = d.clone();
    }
    if let Some(name) = param.get("name") {
        body["x-body-name"] = name.clone();
    }
    body
}

fn response_object(response: &Value, produces: &[String]) -> Value {
    if let Some(r) = response.get("$ref") {
        return json!({ "$ref": r });
    }
    let mut out = Map::new();
    out.insert(
        "description".into(),
        response.get("description").cloned().unwrap_or(json!("")),
    );
    if let Some(schema) = response.get("schema") {
        let schema = convert_schema(schema);
        let content: Map<String, Value> = produces
            .iter()
            .map(|ct| (ct.clone(), json!({ "schema": schema })))
            .collect();
        out.insert("content".into(), Value::Object(content));
    }
    if let Some(Value::Object(headers)) = response.get("headers") {
        let converted: Map<String, Value> = headers
            .iter()
            .map(|(name, h)| {
                let mut header = json!({ "schema": param_schema(h) });
                if let Some(d) = h.get("description") {
                    header["description"] = d.clone();
                }
                (name.clone(), header)
            })
            .collect();
        out.insert("headers".into(), Value::Object(converted));
    }
    for (key, value) in response.as_object().into_iter().flatten() {
        if key.starts_with("x-") {
            out.insert(key.clone(), value.clone());
        }
    }
    Value::Object(out)
}

/// Swagger 2.0 schema → OpenAPI 3.0 schema: `x-nullable` becomes `nullable`, `type: file`
/// becomes binary, the string `discriminator` becomes an object, recursively.
pub fn convert_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                let converted = match key.as_str() {
                    "properties" | "definitions" => match value {
                        Value::Object(props) => Value::Object(
                            props
                                .iter()
                                .map(|(k, v)| (k.clone(), convert_schema(v)))
                                .collect(),
                        ),
                        other => other.clone(),
                    },
                    "items" | "additionalProperties" | "not" => convert_schema(value),
                    "allOf" | "anyOf" | "oneOf" => match value {
                        Value::Array(parts) => {
                            Value::Array(parts.iter().map(convert_schema).collect())
                        }
                        other => other.clone(),
                    },
                    "discriminator" if value.is_string() => json!({ "propertyName": value }),
                    "type" if value == "file" => {
                        out.insert("format".into(), json!("binary"));
                        json!("string")
                    }
                    "x-nullable" => {
                        out.insert("nullable".into(), value.clone());
                        value.clone()
                    }
                    _ => value.clone(),
                };
                out.insert(key.clone(), converted);
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Swagger reference targets → OpenAPI component targets, wherever a `$ref` stands.
fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "$ref" {
                    if let Value::String(s) = v {
                        *s = s
                            .replacen("#/definitions/", "#/components/schemas/", 1)
                            .replacen("#/parameters/", "#/components/parameters/", 1)
                            .replacen("#/responses/", "#/components/responses/", 1);
                    }
                } else {
                    rewrite_refs(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

fn string_list(value: Option<&Value>) -> Option<Vec<String>> {
    let list: Vec<String> = value?
        .as_array()?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    (!list.is_empty()).then_some(list)
}
