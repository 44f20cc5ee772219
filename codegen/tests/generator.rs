//! The generator on small specs: conversion, lowering, emitted code (golden), bad input.

use std::path::{Path, PathBuf};

use berth_codegen::model::{Body, Encoding, ResponseKind, Ty, TypeKind};
use berth_codegen::{generate, generate_str, SpecMeta};

fn meta(engine: &str) -> SpecMeta {
    SpecMeta {
        engine: engine.into(),
        version: "1.0".into(),
        doc_url: "https://docs.example/v{version}#{operation}".into(),
        namespaces: vec!["libpod".into()],
        earlier: Vec::new(),
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn the_small_spec_lowers_as_expected() {
    let generated = generate(&fixture("small.yaml"), &meta("docker")).unwrap();
    let api = &generated.api;
    assert_eq!(api.prefix, "/v1.0");
    let names: Vec<&str> = api.types.iter().map(|t| t.name.as_str()).collect();
    // Definitions keep their names; inline schemas are named after their place, never
    // after `title`.
    assert!(names.contains(&"Widget"));
    assert!(names.contains(&"WidgetState"));
    assert!(names.contains(&"WidgetPortsItem"));
    assert!(names.contains(&"WidgetCreateBody"));
    assert!(names.contains(&"WidgetCreateResponse"));
    assert!(!names.contains(&"Misleading"));

    let widget = api.types.iter().find(|t| t.name == "Widget").unwrap();
    let TypeKind::Struct(fields) = &widget.kind else {
        panic!("Widget is a struct")
    };
    let id = fields.iter().find(|f| f.name == "Id").unwrap();
    assert!(!id.optional, "required stays required");
    let ports = fields.iter().find(|f| f.name == "Ports").unwrap();
    assert!(ports.optional);
    let r#type = fields.iter().find(|f| f.name == "type").unwrap();
    assert_eq!(r#type.rust_name, "r#type");

    let body = api
        .types
        .iter()
        .find(|t| t.name == "WidgetCreateBody")
        .unwrap();
    let TypeKind::Struct(body_fields) = &body.kind else {
        panic!("allOf merges into a struct")
    };
    let merged: Vec<&str> = body_fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        merged,
        ["Id", "State", "Labels", "Ports", "type", "Parent", "Extra"]
    );

    let create = api
        .operations
        .iter()
        .find(|o| o.id == "WidgetCreate")
        .unwrap();
    assert!(
        matches!(&create.body, Some(Body::Json { ty: Ty::Named(n), required: true, .. }) if n == "WidgetCreateBody")
    );
    let filters = create.params.iter().find(|p| p.name == "filters").unwrap();
    assert_eq!(filters.encoding, Encoding::Json);
    assert_eq!(filters.ty, Ty::Map(Box::new(Ty::Vec(Box::new(Ty::String)))));

    let export = api
        .operations
        .iter()
        .find(|o| o.id == "WidgetExport")
        .unwrap();
    assert_eq!(export.kind, ResponseKind::Bytes);
    assert_eq!(export.doc_url, "https://docs.example/v1.0#WidgetExport");
    let start = api
        .operations
        .iter()
        .find(|o| o.id == "WidgetStart")
        .unwrap();
    assert_eq!(
        start.success().iter().map(|r| r.status).collect::<Vec<_>>(),
        [204, 304]
    );
}

/// The emitted code of the small spec, compared with `tests/fixtures/small.rs`.
/// `BLESS=1 cargo test -p berth-codegen` rewrites the expected file after a deliberate change.
#[test]
fn emitted_code_matches_the_golden_file() {
    let generated = generate(&fixture("small.yaml"), &meta("docker")).unwrap();
    let golden = fixture("small.rs");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&golden, &generated.code).unwrap();
    }
    let expected = std::fs::read_to_string(&golden)
        .expect("tests/fixtures/small.rs exists (BLESS=1 writes it)");
    assert!(
        expected == generated.code,
        "emitted code changed; review the diff and re-run with BLESS=1\n{}",
        first_difference(&expected, &generated.code)
    );
    // The golden file is real Rust.
    syn::parse_file(&generated.code).unwrap();
}

fn first_difference(a: &str, b: &str) -> String {
    for (n, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}:\n- {x}\n+ {y}", n + 1);
        }
    }
    format!(
        "lengths differ: {} vs {} lines",
        a.lines().count(),
        b.lines().count()
    )
}

#[test]
fn a_self_referencing_type_is_boxed() {
    let generated = generate(&fixture("small.yaml"), &meta("docker")).unwrap();
    assert!(
        generated
            .code
            .contains("pub parent: Option<Box<self::Widget>>"),
        "{}",
        generated.code
    );
}

#[test]
fn openapi_3_passes_through() {
    let spec = r##"
openapi: 3.0.3
info: { title: future engine, version: "9.0" }
paths:
  /things/{name}:
    get:
      operationId: ThingInspect
      parameters:
        - { name: name, in: path, required: true, schema: { type: string } }
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Thing" }
components:
  schemas:
    Thing:
      type: object
      properties:
        Name: { type: string }
        Size: { type: integer, format: int32 }
"##;
    let generated = generate_str(Path::new("future.yaml"), spec, &meta("future")).unwrap();
    let op = &generated.api.operations[0];
    assert_eq!(op.id, "ThingInspect");
    assert_eq!(op.category.name, "things");
    assert_eq!(op.responses[0].ty, Some(Ty::Named("Thing".into())));
    assert!(generated.code.contains("pub struct Thing"));
}

#[test]
fn podman_namespaces_make_categories() {
    let spec = r##"
swagger: "2.0"
info: { title: podman, version: "0.0.0" }
paths:
  /libpod/containers/{name}/start:
    post:
      operationId: ContainerStartLibpod
      parameters: [{ name: name, in: path, required: true, type: string }]
      responses: { 204: { description: ok } }
  /libpod/_ping:
    get:
      operationId: SystemPing
      responses: { 200: { description: ok, schema: { type: string } } }
"##;
    let generated = generate_str(Path::new("podman.yaml"), spec, &meta("podman")).unwrap();
    let categories: Vec<String> = generated
        .api
        .categories()
        .keys()
        .map(|c| c.qualified())
        .collect();
    assert_eq!(categories, ["libpod/_ping", "libpod/containers"]);
    assert!(generated.code.contains("pub mod libpod"));
    assert_eq!(
        generated.api.prefix, "/v1.0.0",
        "libpod wants a semver prefix"
    );
}

#[test]
fn bad_specs_fail_with_file_and_pointer() {
    let file = Path::new("broken.yaml");
    let cases = [
        ("swagger: '2.0'\ninfo: {title: t, version: v}\npaths: {/x: {get: {operationId: X}}}", "/paths/~1x/get/responses", "without `responses`"),
        ("swagger: '2.0'\ninfo: {title: t, version: v}\npaths: {/x: {get: {operationId: X, parameters: [{name: a, in: nowhere}], responses: {}}}}", "/paths/~1x/get/parameters/0/in", "unknown parameter location"),
        ("swagger: '1.2'\n", "/swagger", "unsupported Swagger version"),
        ("openapi: 3.1.0\n", "/openapi", "unsupported OpenAPI version"),
        ("swagger: '2.0'\ninfo: {title: t, version: v}\npaths: {/x: {get: {responses: {}}}}", "/paths/~1x/get", "without operationId"),
        ("swagger: '2.0'\ninfo: {title: t, version: 3}\npaths: {}", "/info/version", "invalid type"),
        ("key: [unclosed", "", "not valid YAML"),
    ];
    for (text, pointer, message) in cases {
        let error = generate_str(file, text, &meta("docker")).expect_err(text);
        assert_eq!(error.pointer, pointer, "{error}");
        assert!(error.message.contains(message), "{error}");
        assert!(error.to_string().starts_with("broken.yaml: at "), "{error}");
    }
}

/// `x-nullable` on a map's values (Docker's PortMap) and on an array's items is kept: the
/// value is `Option<T>`, so `null` decodes (an exposed port that is not published).
#[test]
fn nullable_map_values_and_array_items() {
    let spec = r##"
swagger: "2.0"
info: { title: engine, version: "1.0" }
basePath: /v1.0
paths:
  /ports:
    get:
      operationId: PortsInspect
      responses:
        200:
          description: ok
          schema: { $ref: "#/definitions/Settings" }
definitions:
  PortBinding:
    type: object
    properties:
      HostIp: { type: string }
  PortMap:
    type: object
    additionalProperties:
      type: array
      x-nullable: true
      items: { $ref: "#/definitions/PortBinding" }
  Settings:
    type: object
    properties:
      Ports: { $ref: "#/definitions/PortMap" }
      Plain:
        type: object
        additionalProperties: { type: string }
      Maybe:
        type: array
        items: { type: string, x-nullable: true }
"##;
    let generated = generate_str(Path::new("nullable.yaml"), spec, &meta("docker")).unwrap();
    let alias = |name: &str| {
        let def = generated
            .api
            .types
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("{name}"));
        def.kind.clone()
    };
    assert_eq!(
        alias("PortMap"),
        TypeKind::Alias(Ty::Map(Box::new(Ty::Nullable(Box::new(Ty::Vec(
            Box::new(Ty::Named("PortBinding".into()))
        ))))))
    );
    let TypeKind::Struct(fields) = alias("Settings") else {
        panic!("Settings is a struct")
    };
    let ty = |name: &str| fields.iter().find(|f| f.name == name).unwrap().ty.clone();
    assert_eq!(ty("Plain"), Ty::Map(Box::new(Ty::String)), "not nullable");
    assert_eq!(
        ty("Maybe"),
        Ty::Vec(Box::new(Ty::Nullable(Box::new(Ty::String))))
    );
    assert!(
        generated.code.contains(
            "pub type PortMap = std::collections::HashMap<String, Option<Vec<self::PortBinding>>>"
        ),
        "{}",
        generated.code
    );
}

/// A schema with `allOf` and properties of its own (Docker's NetworkInspect from v1.52) has
/// the fields of both: the parts' first, then its own.
#[test]
fn all_of_beside_own_properties_keeps_both() {
    let spec = r##"
swagger: "2.0"
info: { title: engine, version: "1.0" }
basePath: /v1.0
paths:
  /networks/{id}:
    get:
      operationId: NetworkInspect
      parameters:
        - { name: id, in: path, required: true, type: string }
      responses:
        200:
          description: ok
          schema: { $ref: "#/definitions/NetworkInspect" }
definitions:
  Network:
    type: object
    properties:
      Id: { type: string }
      Name: { type: string }
  NetworkInspect:
    type: object
    allOf:
      - $ref: "#/definitions/Network"
    properties:
      Containers:
        type: object
        additionalProperties: { type: string }
"##;
    let generated = generate_str(Path::new("allof.yaml"), spec, &meta("docker")).unwrap();
    let def = generated
        .api
        .types
        .iter()
        .find(|t| t.name == "NetworkInspect")
        .expect("NetworkInspect");
    let TypeKind::Struct(fields) = &def.kind else {
        panic!("NetworkInspect is a struct: {:?}", def.kind)
    };
    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["Id", "Name", "Containers"]);
}

/// The headers a success answer declares are fields of the typed answer, beside the body
/// and every header as sent; `body` and `headers` stay the answer's own names.
#[test]
fn declared_response_headers_are_typed_fields() {
    let spec = r##"
swagger: "2.0"
info: { title: engine, version: "1.0" }
basePath: /v1.0
paths:
  /_ping:
    get:
      operationId: SystemPing
      produces: [text/plain]
      responses:
        200:
          description: ok
          schema: { type: string }
          headers:
            Api-Version: { type: string, description: "Max API version" }
            Docker-Experimental: { type: boolean }
            Body: { type: string }
"##;
    let generated = generate_str(Path::new("ping.yaml"), spec, &meta("docker")).unwrap();
    let ping = &generated.api.operations[0];
    let names: Vec<(&str, &str)> = ping.responses[0]
        .headers
        .iter()
        .map(|h| (h.name.as_str(), h.rust_name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("Api-Version", "api_version"),
            ("Docker-Experimental", "docker_experimental"),
            ("Body", "body2")
        ]
    );
    for wanted in [
        "pub body: String",
        "pub api_version: Option<String>",
        "pub docker_experimental: Option<bool>",
        "pub headers: crate::Headers",
    ] {
        assert!(
            generated.code.contains(wanted),
            "{wanted}:\n{}",
            generated.code
        );
    }
}
