//! One type per shape (`unify`): bodies that are a definition plus an example, pure
//! references, answers written per status, empty stubs.

use std::path::Path;

use berth_codegen::model::{Api, Body, Ty, TypeKind};
use berth_codegen::{generate_str, SpecMeta};

fn lower(spec: &str) -> Api {
    let meta = SpecMeta {
        engine: "podman".into(),
        version: "1.0".into(),
        doc_url: "https://docs.example/v{version}#{operation}".into(),
        namespaces: vec!["libpod".into()],
        earlier: Vec::new(),
    };
    generate_str(Path::new("unify.yaml"), spec, &meta)
        .expect("the spec generates")
        .api
}

fn kind<'a>(api: &'a Api, name: &str) -> &'a TypeKind {
    &api.types
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("{name} in {:?}", names(api)))
        .kind
}

fn names(api: &Api) -> Vec<&str> {
    api.types.iter().map(|t| t.name.as_str()).collect()
}

const SPEC: &str = r##"
swagger: "2.0"
info: { title: engine, version: "1.0" }
basePath: /v1.0
paths:
  /services/create:
    post:
      operationId: ServiceCreate
      parameters:
        - name: body
          in: body
          required: true
          schema:
            allOf:
              - $ref: "#/definitions/ServiceSpec"
              - type: object
                example: { Name: web }
      responses:
        201: { description: created, schema: { $ref: "#/definitions/IDResponse" } }
  /services/{id}/update:
    post:
      operationId: ServiceUpdate
      parameters:
        - { name: id, in: path, required: true, type: string }
        - name: body
          in: body
          required: true
          schema:
            allOf:
              - $ref: "#/definitions/ServiceSpec"
              - type: object
                example: { Name: web }
      responses:
        200: { description: ok }
  /secrets/create:
    post:
      operationId: SecretCreate
      responses:
        200:
          description: ok
          schema: { type: object, properties: { ID: { type: string } } }
        201:
          description: created
          schema: { type: object, properties: { ID: { type: string } } }
  /images/{name}:
    delete:
      operationId: ImageDelete
      parameters:
        - { name: name, in: path, required: true, type: string }
      responses:
        200:
          description: ok
          schema:
            type: array
            items:
              type: object
              properties:
                Deleted: { type: string }
  /networks/create:
    post:
      operationId: NetworkCreate
      parameters:
        - { name: body, in: body, schema: { $ref: "#/definitions/networkCreate" } }
      responses:
        200:
          description: ok
          schema: { $ref: "#/definitions/NetworkCreate" }
definitions:
  ServiceSpec:
    type: object
    properties:
      Name: { type: string }
      Labels: { type: object, additionalProperties: { type: string } }
  IDResponse:
    $ref: "#/definitions/IdResponse"
  IdResponse:
    type: object
    required: [Id]
    properties:
      Id: { type: string }
  ImageDeleteResponseItem:
    description: a description and nothing else
  networkCreate:
    $ref: "#/definitions/NetworkCreateRequest"
  NetworkCreateRequest:
    type: object
    properties:
      Name: { type: string }
      Driver: { type: string }
  NetworkCreate:
    type: object
    properties:
      Id: { type: string }
      Warning: { type: string }
"##;

#[test]
fn a_body_that_is_a_definition_is_that_type() {
    let api = lower(SPEC);
    assert!(matches!(kind(&api, "ServiceSpec"), TypeKind::Struct(_)));
    for body in ["ServiceCreateBody", "ServiceUpdateBody"] {
        assert_eq!(
            kind(&api, body),
            &TypeKind::Alias(Ty::Named("ServiceSpec".into())),
            "{body}"
        );
    }
    let keeper = api.types.iter().find(|t| t.name == "ServiceSpec").unwrap();
    assert_eq!(keeper.merged, ["ServiceCreateBody", "ServiceUpdateBody"]);
}

#[test]
fn no_name_is_numbered_for_a_collision_that_was_no_difference() {
    let api = lower(SPEC);
    let numbered: Vec<&str> = names(&api)
        .into_iter()
        .filter(|n| n.ends_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert!(numbered.is_empty(), "{numbered:?}");
    // `IDResponse` was only a reference to `IdResponse`: one type, its name unnumbered.
    assert!(matches!(kind(&api, "IdResponse"), TypeKind::Struct(_)));
    let create = api
        .operations
        .iter()
        .find(|o| o.id == "ServiceCreate")
        .unwrap();
    assert_eq!(create.responses[0].ty, Some(Ty::Named("IdResponse".into())));
    // `networkCreate` asked for the name of a definition of its own: it goes, the body
    // names its target; `NetworkCreate` keeps its name.
    let network = api
        .operations
        .iter()
        .find(|o| o.id == "NetworkCreate")
        .unwrap();
    let Some(Body::Json { ty, .. }) = &network.body else {
        panic!("a JSON body: {:?}", network.body)
    };
    assert_eq!(ty, &Ty::Named("NetworkCreateRequest".into()));
    assert!(matches!(kind(&api, "NetworkCreate"), TypeKind::Struct(f) if f.len() == 2));
}

#[test]
fn answers_written_per_status_are_one_type_named_for_the_operation() {
    let api = lower(SPEC);
    assert!(matches!(
        kind(&api, "SecretCreateResponse"),
        TypeKind::Struct(_)
    ));
    let create = api
        .operations
        .iter()
        .find(|o| o.id == "SecretCreate")
        .unwrap();
    for response in &create.responses {
        assert_eq!(
            response.ty,
            Some(Ty::Named("SecretCreateResponse".into())),
            "{}",
            response.status
        );
    }
}

#[test]
fn an_unused_empty_definition_gives_its_name_to_the_written_out_item() {
    let api = lower(SPEC);
    let TypeKind::Struct(fields) = kind(&api, "ImageDeleteResponseItem") else {
        panic!("ImageDeleteResponseItem is the written-out item");
    };
    assert_eq!(fields[0].name, "Deleted");
}

/// Two definitions of one shape: one struct, the other its alias (both names stay, one
/// type); a shape that differs only by optionality or secrecy stays its own type.
#[test]
fn definitions_of_one_shape_are_one_type_and_differences_stay() {
    let api = lower(
        r##"
swagger: "2.0"
info: { title: engine, version: "1.0" }
basePath: /v1.0
paths: {}
definitions:
  PodStopReport:
    type: object
    properties:
      Id: { type: string }
      Errs: { type: array, items: { type: string } }
  PodKillReport:
    type: object
    properties:
      Id: { type: string }
      Errs: { type: array, items: { type: string } }
  PodKillReports:
    type: object
    properties:
      Reports: { type: array, items: { $ref: "#/definitions/PodKillReport" } }
  PodStopReports:
    type: object
    properties:
      Reports: { type: array, items: { $ref: "#/definitions/PodStopReport" } }
  Required:
    type: object
    required: [Id]
    properties:
      Id: { type: string }
      Errs: { type: array, items: { type: string } }
  AuthConfig:
    type: object
    properties:
      auth: { type: string }
  Token:
    type: object
    properties:
      auth: { type: string }
"##,
    );
    assert!(matches!(kind(&api, "PodKillReport"), TypeKind::Struct(_)));
    assert_eq!(
        kind(&api, "PodStopReport"),
        &TypeKind::Alias(Ty::Named("PodKillReport".into()))
    );
    // Alike once their items are one type: merged on the second round.
    assert!(matches!(kind(&api, "PodKillReports"), TypeKind::Struct(_)));
    assert_eq!(
        kind(&api, "PodStopReports"),
        &TypeKind::Alias(Ty::Named("PodKillReports".into()))
    );
    assert!(matches!(kind(&api, "Required"), TypeKind::Struct(_)));
    // `auth` is a credential in AuthConfig only: its Debug redacts it, Token's does not.
    assert!(matches!(kind(&api, "AuthConfig"), TypeKind::Struct(_)));
    assert!(matches!(kind(&api, "Token"), TypeKind::Struct(_)));
}
