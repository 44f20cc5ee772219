//! Stage 3: a (fixed) `openapiv3::OpenAPI` becomes berth's model.
//!
//! Named schemas keep their names; inline object and enum schemas are named from their place
//! (`HostConfigLogConfig`, `ContainerCreateBody`), never from `title`, because titles
//! collide. Everything the model cannot type becomes `Ty::Value` and is recorded as a
//! `Fallback` with its reason.

use std::path::Path;

use openapiv3::{
    AdditionalProperties, IntegerFormat, NumberFormat, OpenAPI, Parameter,
    ParameterSchemaOrContent, ReferenceOr, RequestBody, Schema, SchemaKind, StatusCode, Type,
    VariantOrUnknownOrEmpty,
};
use serde_json::Value;
use std::collections::HashMap;

use crate::error::{pointer, Error};
use crate::ext;
use crate::model::*;
use crate::naming::{pascal, snake, Scope};

/// What the manifest says of the spec, beyond the spec itself.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecMeta {
    pub engine: String,
    pub version: String,
    /// `https://.../v{version}/#operation/{operation}`
    pub doc_url: String,
    /// Path segments that start a namespace (`libpod`).
    pub namespaces: Vec<String>,
    /// The same engine's earlier specs `(version, file name beside this spec)`, whose fields
    /// this one dropped are kept (`fixups::earlier`).
    pub earlier: Vec<(String, String)>,
}

/// Builds the model of one spec.
pub fn lower(file: &Path, spec: &OpenAPI, meta: &SpecMeta) -> Result<Api, Error> {
    let mut lowering = Lowering::new(file, spec);
    lowering.named_schemas()?;
    let mut operations = Vec::new();
    for (path, item) in &spec.paths.paths {
        let item_pointer = pointer(["paths", path.as_str()]);
        let ReferenceOr::Item(item) = item else {
            return Err(Error::new(
                file,
                item_pointer,
                "path item references are not supported",
            ));
        };
        for (method, op) in item.iter() {
            let op_pointer = format!("{item_pointer}/{method}");
            operations.push(lowering.operation(
                path,
                method,
                op,
                &item.parameters,
                meta,
                &op_pointer,
            )?);
        }
    }
    let prefix = match meta.engine.as_str() {
        // libpod parses the prefix as semver: `4.9` must be sent as `4.9.0`.
        "podman" if meta.version.matches('.').count() == 1 => format!("/v{}.0", meta.version),
        _ => format!("/v{}", meta.version),
    };
    Ok(Api {
        engine: meta.engine.clone(),
        version: meta.version.clone(),
        prefix,
        title: spec.info.title.clone(),
        description: spec.info.description.clone(),
        types: lowering.types,
        operations,
        fallbacks: lowering.fallbacks,
    })
}

struct Lowering<'a> {
    file: &'a Path,
    spec: &'a OpenAPI,
    names: Scope,
    schema_names: HashMap<String, String>,
    types: Vec<TypeDef>,
    fallbacks: Vec<Fallback>,
}

/// The properties of one object schema among those an `allOf` merges.
struct ObjectPart {
    properties: Vec<(String, ReferenceOr<Schema>)>,
    required: Vec<String>,
    /// The named type it comes from, when it was reached through a `$ref`.
    from: Option<String>,
}

const SCHEMAS: &str = "#/components/schemas/";

impl<'a> Lowering<'a> {
    fn new(file: &'a Path, spec: &'a OpenAPI) -> Self {
        Lowering {
            file,
            spec,
            names: Scope::new(),
            schema_names: HashMap::new(),
            types: Vec::new(),
            fallbacks: Vec::new(),
        }
    }

    fn components(&self) -> Option<&'a openapiv3::Components> {
        self.spec.components.as_ref()
    }

    /// Every named schema becomes a type of the same (Rust-cased) name; names are reserved
    /// first so that inline types never take them.
    fn named_schemas(&mut self) -> Result<(), Error> {
        let Some(components) = self.components() else {
            return Ok(());
        };
        for name in components.schemas.keys() {
            let rust = self.names.unique(&pascal(name));
            self.schema_names.insert(name.clone(), rust);
        }
        for (name, schema) in &components.schemas {
            let rust = self
                .schema_names
                .get(name)
                .cloned()
                .expect("reserved above");
            let origin = format!("{SCHEMAS}{name}");
            let kind = match schema {
                ReferenceOr::Reference { reference } => {
                    TypeKind::Alias(self.reference(reference, &rust))
                }
                ReferenceOr::Item(schema) => self.type_kind(schema, &rust)?,
            };
            let doc = match schema {
                ReferenceOr::Item(s) => describe(s),
                ReferenceOr::Reference { .. } => None,
            };
            self.types.push(TypeDef {
                name: rust,
                origin,
                merged: Vec::new(),
                doc,
                kind,
            });
        }
        Ok(())
    }

    fn reference(&mut self, reference: &str, place: &str) -> Ty {
        if let Some(name) = reference.strip_prefix(SCHEMAS) {
            if let Some(rust) = self.schema_names.get(name) {
                return Ty::Named(rust.clone());
            }
        }
        self.fallback(place, format!("unresolvable reference {reference}"))
    }

    fn fallback(&mut self, place: &str, reason: impl Into<String>) -> Ty {
        self.fallbacks.push(Fallback {
            place: place.to_string(),
            reason: reason.into(),
        });
        Ty::Value
    }

    /// The kind of a named type (its top-level schema).
    fn type_kind(&mut self, schema: &Schema, name: &str) -> Result<TypeKind, Error> {
        if let Some(fields) = self.struct_fields(schema, name)? {
            return Ok(TypeKind::Struct(fields));
        }
        if let Some(values) = string_enum(schema) {
            return Ok(TypeKind::Enum(enum_values(&values)));
        }
        Ok(TypeKind::Alias(self.ty_of_schema(schema, name)?))
    }

    /// Fields, when the schema is an object with properties or an `allOf` of such.
    fn struct_fields(&mut self, schema: &Schema, name: &str) -> Result<Option<Vec<Field>>, Error> {
        let mut parts = Vec::new();
        self.collect_object_parts(schema, None, &mut parts, 0);
        if parts.is_empty() {
            return Ok(None);
        }
        let mut fields: Vec<Field> = Vec::new();
        let mut scope = Scope::new();
        // Every struct's map of the keys its spec does not name (`emit::types`).
        scope.reserve("extra");
        for part in parts {
            // A referenced definition already lowered lends its fields as they are, so
            // that its inline types are not generated twice.
            let lowered = part
                .from
                .as_ref()
                .and_then(|n| self.types.iter().find(|t| &t.name == n))
                .and_then(|t| match &t.kind {
                    TypeKind::Struct(f) if !f.is_empty() => Some(f.clone()),
                    _ => None,
                });
            if let Some(lowered) = lowered {
                for mut field in lowered {
                    if fields.iter().any(|f| f.name == field.name) {
                        continue;
                    }
                    field.rust_name = scope.unique(&field.rust_name);
                    fields.push(field);
                }
                continue;
            }
            let ObjectPart {
                properties,
                required,
                ..
            } = part;
            for (prop_name, prop) in properties {
                if fields.iter().any(|f| f.name == prop_name) {
                    continue; // allOf parts may repeat a property; the first wins.
                }
                let place = format!("{name}{}", pascal(&prop_name));
                let (ty, nullable, doc, aliases, deprecated) = match &prop {
                    ReferenceOr::Reference { reference } => (
                        self.reference(reference, &place),
                        false,
                        None,
                        Vec::new(),
                        None,
                    ),
                    ReferenceOr::Item(s) => (
                        self.ty_of_schema(s, &place)?,
                        s.schema_data.nullable,
                        describe(s),
                        aliases_of(s),
                        s.schema_data
                            .extensions
                            .get(ext::DEPRECATED)
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    ),
                };
                let rust_name = scope.unique(&snake(&prop_name));
                let optional = nullable || !required.contains(&prop_name);
                let secret = crate::secrets::is_secret(name, &prop_name);
                fields.push(Field {
                    name: prop_name,
                    rust_name,
                    ty,
                    optional,
                    doc,
                    aliases,
                    deprecated,
                    secret,
                });
            }
        }
        Ok(Some(fields))
    }

    /// Gathers `(properties, required)` of an object schema, following `allOf` and the
    /// references inside it.
    fn collect_object_parts(
        &self,
        schema: &Schema,
        from: Option<String>,
        parts: &mut Vec<ObjectPart>,
        depth: usize,
    ) {
        if depth > 16 {
            return;
        }
        match &schema.schema_kind {
            SchemaKind::Type(Type::Object(obj)) if !obj.properties.is_empty() => {
                let properties = obj
                    .properties
                    .iter()
                    .map(|(k, v)| (k.clone(), unbox(v)))
                    .collect();
                parts.push(ObjectPart {
                    properties,
                    required: obj.required.clone(),
                    from,
                });
            }
            // `allOf` beside properties of its own (Docker's NetworkInspect from v1.52): the
            // parts first, then its own.
            SchemaKind::Any(any) if !any.properties.is_empty() || !any.all_of.is_empty() => {
                self.collect_all_of(&any.all_of, parts, depth);
                if !any.properties.is_empty() {
                    let properties = any
                        .properties
                        .iter()
                        .map(|(k, v)| (k.clone(), unbox(v)))
                        .collect();
                    parts.push(ObjectPart {
                        properties,
                        required: any.required.clone(),
                        from: if any.all_of.is_empty() { from } else { None },
                    });
                }
            }
            SchemaKind::AllOf { all_of } => self.collect_all_of(all_of, parts, depth),
            _ => {}
        }
    }

    fn collect_all_of(
        &self,
        all_of: &[ReferenceOr<Schema>],
        parts: &mut Vec<ObjectPart>,
        depth: usize,
    ) {
        for part in all_of {
            match part {
                ReferenceOr::Item(s) => self.collect_object_parts(s, None, parts, depth + 1),
                ReferenceOr::Reference { reference } => {
                    if let Some(s) = self.resolve_schema(reference) {
                        let named = reference
                            .strip_prefix(SCHEMAS)
                            .and_then(|n| self.schema_names.get(n))
                            .cloned();
                        self.collect_object_parts(s, named, parts, depth + 1);
                    }
                }
            }
        }
    }

    /// The declared headers of an answer, as fields (`body` and `headers` are the answer
    /// struct's own).
    fn header_fields(
        &mut self,
        response: &openapiv3::Response,
        place: &str,
    ) -> Result<Vec<HeaderField>, Error> {
        let mut scope = Scope::new();
        scope.reserve("body");
        scope.reserve("headers");
        let mut fields = Vec::new();
        for (name, header) in &response.headers {
            let ReferenceOr::Item(header) = header else {
                continue;
            };
            let ty = match &header.format {
                openapiv3::ParameterSchemaOrContent::Schema(schema) => {
                    self.ty_of(schema, &format!("{place}{}", pascal(name)))?
                }
                openapiv3::ParameterSchemaOrContent::Content(_) => Ty::String,
            };
            fields.push(HeaderField {
                name: name.clone(),
                rust_name: scope.unique(&snake(name)),
                ty,
                doc: header.description.clone(),
            });
        }
        Ok(fields)
    }

    fn resolve_schema(&self, reference: &str) -> Option<&'a Schema> {
        let name = reference.strip_prefix(SCHEMAS)?;
        match self.components()?.schemas.get(name)? {
            ReferenceOr::Item(s) => Some(s),
            ReferenceOr::Reference { reference } => self.resolve_schema(reference),
        }
    }

    /// A type for a schema in some place; inline objects and enums become named types.
    fn ty_of(&mut self, schema: &ReferenceOr<Schema>, place: &str) -> Result<Ty, Error> {
        match schema {
            ReferenceOr::Reference { reference } => Ok(self.reference(reference, place)),
            ReferenceOr::Item(s) => self.ty_of_schema(s, place),
        }
    }

    fn inline_type(&mut self, place: &str, doc: Option<String>, kind: TypeKind) -> Ty {
        let name = self.names.unique(place);
        self.types.push(TypeDef {
            name: name.clone(),
            origin: format!("inline: {place}"),
            merged: Vec::new(),
            doc,
            kind,
        });
        Ty::Named(name)
    }

    fn ty_of_schema(&mut self, schema: &Schema, place: &str) -> Result<Ty, Error> {
        if let Some(runtime) = schema.schema_data.extensions.get(ext::RUST_TYPE) {
            if let Some(runtime) = runtime.as_str() {
                return Ok(Ty::Runtime(runtime.to_string()));
            }
        }
        if let SchemaKind::AllOf { all_of } = &schema.schema_kind {
            if all_of.len() == 1 {
                return self.ty_of(&all_of[0], place);
            }
        }
        if matches!(schema.schema_kind, SchemaKind::AllOf { .. })
            || matches!(&schema.schema_kind, SchemaKind::Type(Type::Object(o)) if !o.properties.is_empty())
            || matches!(&schema.schema_kind, SchemaKind::Any(a) if !a.properties.is_empty() || !a.all_of.is_empty())
        {
            // Reserve the name before the fields so that nested types sort after it.
            let name = self.names.unique(place);
            let index = self.types.len();
            self.types.push(TypeDef {
                name: name.clone(),
                origin: format!("inline: {place}"),
                merged: Vec::new(),
                doc: describe(schema),
                kind: TypeKind::Struct(Vec::new()),
            });
            let fields = self.struct_fields(schema, &name)?.unwrap_or_default();
            self.types[index].kind = TypeKind::Struct(fields);
            return Ok(Ty::Named(name));
        }
        if let Some(values) = string_enum(schema) {
            return Ok(self.inline_type(
                place,
                describe(schema),
                TypeKind::Enum(enum_values(&values)),
            ));
        }
        Ok(match &schema.schema_kind {
            SchemaKind::Type(Type::String(_)) => Ty::String,
            SchemaKind::Type(Type::Boolean(_)) => Ty::Bool,
            SchemaKind::Type(Type::Integer(int)) => integer(match &int.format {
                VariantOrUnknownOrEmpty::Item(IntegerFormat::Int32) => "int32",
                VariantOrUnknownOrEmpty::Item(IntegerFormat::Int64) => "int64",
                VariantOrUnknownOrEmpty::Unknown(s) => s.as_str(),
                VariantOrUnknownOrEmpty::Empty => "",
            }),
            SchemaKind::Type(Type::Number(num)) => match num.format {
                VariantOrUnknownOrEmpty::Item(NumberFormat::Float) => Ty::F32,
                _ => Ty::F64,
            },
            SchemaKind::Type(Type::Array(array)) => match &array.items {
                Some(items) => Ty::Vec(Box::new(
                    self.item_ty(&unbox(items), &format!("{place}Item"))?,
                )),
                None => Ty::Vec(Box::new(Ty::Value)),
            },
            SchemaKind::Type(Type::Object(obj)) => {
                self.map_of(obj.additional_properties.as_ref(), place)?
            }
            SchemaKind::Any(any) => match any.typ.as_deref() {
                Some("string") => Ty::String,
                Some("boolean") => Ty::Bool,
                Some("integer") => integer(any.format.as_deref().unwrap_or("")),
                Some("number") => Ty::F64,
                Some("array") => match &any.items {
                    Some(items) => Ty::Vec(Box::new(
                        self.item_ty(&unbox(items), &format!("{place}Item"))?,
                    )),
                    None => Ty::Vec(Box::new(Ty::Value)),
                },
                Some("object") => self.map_of(any.additional_properties.as_ref(), place)?,
                _ if !any.one_of.is_empty() || !any.any_of.is_empty() => {
                    self.fallback(place, "oneOf/anyOf")
                }
                _ => self.fallback(place, "a schema with no type"),
            },
            SchemaKind::OneOf { .. } | SchemaKind::AnyOf { .. } => {
                self.fallback(place, "oneOf/anyOf")
            }
            SchemaKind::Not { .. } => self.fallback(place, "not"),
            SchemaKind::AllOf { .. } => unreachable!("handled above"),
        })
    }

    /// `type: object` without properties: a map of its `additionalProperties` (or of any
    /// JSON value when the spec says nothing more).
    fn map_of(
        &mut self,
        additional: Option<&AdditionalProperties>,
        place: &str,
    ) -> Result<Ty, Error> {
        let value = match additional {
            Some(AdditionalProperties::Schema(schema)) => {
                self.item_ty(schema, &format!("{place}Value"))?
            }
            _ => Ty::Value,
        };
        Ok(Ty::Map(Box::new(value)))
    }

    /// The type of an array's items or a map's values: `Nullable` when the schema says so
    /// (a property's nullability is its field's `Option` instead).
    fn item_ty(&mut self, schema: &ReferenceOr<Schema>, place: &str) -> Result<Ty, Error> {
        let ty = self.ty_of(schema, place)?;
        Ok(match schema {
            ReferenceOr::Item(s) if s.schema_data.nullable => Ty::Nullable(Box::new(ty)),
            _ => ty,
        })
    }

    fn operation(
        &mut self,
        path: &str,
        method: &str,
        op: &openapiv3::Operation,
        shared: &[ReferenceOr<Parameter>],
        meta: &SpecMeta,
        op_pointer: &str,
    ) -> Result<Operation, Error> {
        let id = op
            .operation_id
            .clone()
            .ok_or_else(|| Error::new(self.file, op_pointer, "an operation without operationId"))?;
        let method = match method {
            "get" => Method::Get,
            "post" => Method::Post,
            "put" => Method::Put,
            "delete" => Method::Delete,
            "head" => Method::Head,
            "patch" => Method::Patch,
            "options" => Method::Options,
            other => {
                return Err(Error::new(
                    self.file,
                    op_pointer,
                    format!("unsupported method {other}"),
                ))
            }
        };
        let type_base = pascal(&id);

        let mut params = Vec::new();
        let mut scope = Scope::new();
        scope.reserve("body");
        let own_names: Vec<Option<String>> = op
            .parameters
            .iter()
            .map(|p| {
                self.parameter(p)
                    .map(|p| p.parameter_data_ref().name.clone())
            })
            .collect();
        let inherited: Vec<&ReferenceOr<Parameter>> = shared
            .iter()
            .filter(|p| {
                !own_names.contains(
                    &self
                        .parameter(p)
                        .map(|p| p.parameter_data_ref().name.clone()),
                )
            })
            .collect();
        for (index, param) in inherited
            .into_iter()
            .chain(op.parameters.iter())
            .enumerate()
        {
            let param_pointer = format!("{op_pointer}/parameters/{index}");
            let param = self.parameter(param).ok_or_else(|| {
                Error::new(
                    self.file,
                    &param_pointer,
                    "unresolvable parameter reference",
                )
            })?;
            params.push(self.param(param, &type_base, &mut scope, &param_pointer)?);
        }

        let body = match &op.request_body {
            Some(body) => {
                let body = self.request_body(body).ok_or_else(|| {
                    Error::new(
                        self.file,
                        format!("{op_pointer}/requestBody"),
                        "unresolvable request body reference",
                    )
                })?;
                Some(self.body(body, op, &type_base)?)
            }
            None => None,
        };

        let mut responses = Vec::new();
        let success_count = op
            .responses
            .responses
            .keys()
            .filter(|s| matches!(s, StatusCode::Code(c) if *c < 400))
            .count();
        for (status, response) in &op.responses.responses {
            let StatusCode::Code(status) = *status else {
                continue;
            };
            let Some(response) = self.response(response) else {
                return Err(Error::new(
                    self.file,
                    format!("{op_pointer}/responses/{status}"),
                    "unresolvable response reference",
                ));
            };
            let media = response.content.iter().next();
            let text = media.is_some_and(|(ct, _)| ct.starts_with("text/"));
            let ty = match media.and_then(|(_, m)| m.schema.as_ref()) {
                // No Content and Not Modified have no body, whatever the spec attaches.
                _ if status == 204 || status == 304 => None,
                Some(schema) if status < 400 => {
                    let place = if success_count == 1 {
                        format!("{type_base}Response")
                    } else {
                        format!("{type_base}Response{status}")
                    };
                    Some(self.ty_of(schema, &place)?)
                }
                // Error bodies are read by the runtime (`message`), not typed per operation.
                _ => None,
            };
            let headers = if status < 400 {
                self.header_fields(response, &format!("{type_base}Response"))?
            } else {
                Vec::new()
            };
            responses.push(Response {
                status,
                description: response.description.clone(),
                ty,
                text,
                headers,
            });
        }

        let kind = match op.extensions.get(ext::RESPONSE).and_then(Value::as_str) {
            None | Some("json") => ResponseKind::Json,
            Some("bytes") => ResponseKind::Bytes,
            Some("frames") => ResponseKind::Frames,
            Some("upgrade") => ResponseKind::Upgrade,
            Some("websocket") => ResponseKind::WebSocket,
            Some("json-lines") => {
                let item = op.extensions.get(ext::ITEM).cloned().unwrap_or(Value::Null);
                let ty = match serde_json::from_value::<ReferenceOr<Schema>>(item) {
                    Ok(schema) => self.ty_of(&schema, &format!("{type_base}Item"))?,
                    Err(e) => {
                        return Err(Error::new(
                            self.file,
                            format!("{op_pointer}/{}", ext::ITEM),
                            format!("bad item schema: {e}"),
                        ))
                    }
                };
                ResponseKind::JsonLines(ty)
            }
            Some(other) => {
                return Err(Error::new(
                    self.file,
                    format!("{op_pointer}/{}", ext::RESPONSE),
                    format!("unknown response kind {other}"),
                ))
            }
        };

        let (namespace, name) = category_of(path, &meta.namespaces);
        Ok(Operation {
            doc_url: meta
                .doc_url
                .replace("{version}", &meta.version)
                .replace("{operation}", &id),
            id,
            category: Category { namespace, name },
            method,
            path: path.to_string(),
            summary: op.summary.clone(),
            description: op.description.clone(),
            deprecated: op.deprecated,
            fixed_prefix: op
                .extensions
                .get(ext::API_VERSION)
                .and_then(Value::as_str)
                .map(|version| format!("/v{version}")),
            params,
            body,
            responses,
            kind,
        })
    }

    fn parameter(&self, param: &'a ReferenceOr<Parameter>) -> Option<&'a Parameter> {
        match param {
            ReferenceOr::Item(p) => Some(p),
            ReferenceOr::Reference { reference } => {
                let name = reference.strip_prefix("#/components/parameters/")?;
                match self.components()?.parameters.get(name)? {
                    ReferenceOr::Item(p) => Some(p),
                    ReferenceOr::Reference { .. } => None,
                }
            }
        }
    }

    fn request_body(&self, body: &'a ReferenceOr<RequestBody>) -> Option<&'a RequestBody> {
        match body {
            ReferenceOr::Item(b) => Some(b),
            ReferenceOr::Reference { reference } => {
                let name = reference.strip_prefix("#/components/requestBodies/")?;
                match self.components()?.request_bodies.get(name)? {
                    ReferenceOr::Item(b) => Some(b),
                    ReferenceOr::Reference { .. } => None,
                }
            }
        }
    }

    fn response(
        &self,
        response: &'a ReferenceOr<openapiv3::Response>,
    ) -> Option<&'a openapiv3::Response> {
        match response {
            ReferenceOr::Item(r) => Some(r),
            ReferenceOr::Reference { reference } => {
                let name = reference.strip_prefix("#/components/responses/")?;
                match self.components()?.responses.get(name)? {
                    ReferenceOr::Item(r) => Some(r),
                    ReferenceOr::Reference { .. } => None,
                }
            }
        }
    }

    fn param(
        &mut self,
        param: &Parameter,
        type_base: &str,
        scope: &mut Scope,
        at: &str,
    ) -> Result<Param, Error> {
        let data = param.parameter_data_ref();
        let location = match param {
            Parameter::Path { .. } => Location::Path,
            Parameter::Query { .. } => Location::Query,
            Parameter::Header { .. } => Location::Header,
            Parameter::Cookie { .. } => {
                return Err(Error::new(
                    self.file,
                    at,
                    "cookie parameters are not supported",
                ))
            }
        };
        let ParameterSchemaOrContent::Schema(schema) = &data.format else {
            return Err(Error::new(
                self.file,
                at,
                "parameters with `content` are not supported",
            ));
        };
        let encoding = match data.extensions.get(ext::ENCODING).and_then(Value::as_str) {
            None => Encoding::Plain,
            Some("json") => Encoding::Json,
            Some("json-each") => Encoding::JsonEach,
            Some("base64-json") => Encoding::Base64Json,
            Some(other) => {
                return Err(Error::new(
                    self.file,
                    format!("{at}/{}", ext::ENCODING),
                    format!("unknown encoding {other}"),
                ))
            }
        };
        let place = format!("{type_base}{}", pascal(&data.name));
        let ty = match data.extensions.get(ext::RUST_TYPE).and_then(Value::as_str) {
            Some(runtime) => Ty::Runtime(runtime.to_string()),
            None => self.ty_of(schema, &place)?,
        };
        // A name two parameters share (podman's rename: path `name`, query `name`): the later
        // one says where it goes (`query_name`).
        let own = snake(&data.name);
        let rust_name = if scope.is_taken(&own) {
            scope.unique(&format!("{}_{own}", location.as_str()))
        } else {
            scope.unique(&own)
        };
        Ok(Param {
            rust_name,
            name: data.name.clone(),
            location,
            schema_text: describe_ty(&ty),
            ty,
            required: data.required || location == Location::Path,
            encoding,
            doc: data.description.clone(),
        })
    }

    fn body(
        &mut self,
        body: &RequestBody,
        op: &openapiv3::Operation,
        type_base: &str,
    ) -> Result<Body, Error> {
        let consumes: Vec<String> = match op.extensions.get(ext::CONSUMES) {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => body.content.keys().cloned().collect(),
        };
        let schema = body.content.values().find_map(|m| m.schema.as_ref());
        let is_bytes = match schema {
            None => true,
            // A string body is a byte stream whatever its format (`binary`, or none in Podman).
            Some(ReferenceOr::Item(s)) => {
                matches!(s.schema_kind, SchemaKind::Type(Type::String(_)))
            }
            Some(ReferenceOr::Reference { .. }) => false,
        };
        let doc = body.description.clone();
        if is_bytes {
            let content_type = ["application/x-tar", "application/octet-stream"]
                .into_iter()
                .find(|ct| consumes.iter().any(|c| c == ct))
                .map(str::to_string)
                .or_else(|| consumes.first().cloned())
                .unwrap_or_else(|| "application/octet-stream".into());
            return Ok(Body::Bytes {
                required: body.required,
                content_type,
                doc,
            });
        }
        let content_type = consumes
            .iter()
            .find(|c| c.contains("json"))
            .cloned()
            .unwrap_or_else(|| "application/json".into());
        let schema = schema.expect("not bytes, so a schema exists");
        let ty = self.ty_of(schema, &format!("{type_base}Body"))?;
        Ok(Body::Json {
            ty,
            required: body.required,
            content_type,
            doc,
        })
    }
}

fn unbox(schema: &ReferenceOr<Box<Schema>>) -> ReferenceOr<Schema> {
    match schema {
        ReferenceOr::Reference { reference } => ReferenceOr::Reference {
            reference: reference.clone(),
        },
        ReferenceOr::Item(s) => ReferenceOr::Item((**s).clone()),
    }
}

/// Other JSON names a fixup recorded for a property (`x-berth-aliases`).
fn aliases_of(schema: &Schema) -> Vec<String> {
    let aliases = schema
        .schema_data
        .extensions
        .get(ext::ALIASES)
        .and_then(Value::as_array);
    aliases
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

fn describe(schema: &Schema) -> Option<String> {
    schema
        .schema_data
        .description
        .clone()
        .filter(|d| !d.trim().is_empty())
}

fn integer(format: &str) -> Ty {
    match format {
        "int8" => Ty::I8,
        "int16" => Ty::I16,
        "int32" => Ty::I32,
        "uint8" => Ty::U8,
        "uint16" => Ty::U16,
        "uint32" => Ty::U32,
        "uint64" | "uint" => Ty::U64,
        _ => Ty::I64,
    }
}

/// The values of a string enum (`""` included), if the schema is one.
fn string_enum(schema: &Schema) -> Option<Vec<String>> {
    let values: Vec<String> = match &schema.schema_kind {
        SchemaKind::Type(Type::String(s)) => s.enumeration.iter().flatten().cloned().collect(),
        SchemaKind::Any(any) if any.typ.as_deref() == Some("string") => any
            .enumeration
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => return None,
    };
    let mut unique = Vec::new();
    for v in values {
        if !unique.contains(&v) {
            unique.push(v);
        }
    }
    (!unique.is_empty()).then_some(unique)
}

fn enum_values(values: &[String]) -> Vec<EnumValue> {
    let mut scope = Scope::new();
    scope.reserve("Unknown");
    values
        .iter()
        .map(|v| EnumValue {
            value: v.clone(),
            variant: scope.unique(&pascal(v)),
            doc: None,
        })
        .collect()
}

/// The original's category: first path segment, under a namespace segment if any.
pub fn category_of(path: &str, namespaces: &[String]) -> (Option<String>, String) {
    let mut segments = path
        .trim_start_matches('/')
        .split('/')
        .filter(|s| !s.is_empty());
    let first = segments.next().unwrap_or("root").to_string();
    if namespaces.contains(&first) {
        let name = segments.next().unwrap_or("root").to_string();
        (Some(first), name)
    } else {
        (None, first)
    }
}

/// A type in words, for the data-driven tables.
pub fn describe_ty(ty: &Ty) -> String {
    match ty {
        Ty::String => "string".into(),
        Ty::Bool => "boolean".into(),
        Ty::I8 | Ty::I16 | Ty::I32 | Ty::I64 | Ty::U8 | Ty::U16 | Ty::U32 | Ty::U64 => {
            "integer".into()
        }
        Ty::F32 | Ty::F64 => "number".into(),
        Ty::Value => "any".into(),
        Ty::Named(name) => name.clone(),
        Ty::Vec(inner) => format!("array of {}", describe_ty(inner)),
        Ty::Map(inner) => format!("map of {}", describe_ty(inner)),
        Ty::Nullable(inner) => format!("{} or null", describe_ty(inner)),
        Ty::Runtime(path) => path.rsplit("::").next().unwrap_or(path).to_string(),
    }
}
