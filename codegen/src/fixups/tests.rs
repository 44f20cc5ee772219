//! The fixups on small documents.

use super::*;

fn on(engine: &str) -> Context<'_> {
    Context {
        engine,
        ..Default::default()
    }
}

fn doc(ops: Value) -> Value {
    json!({ "openapi": "3.0.3", "paths": { "/x": ops }, "components": { "schemas": { "CreateImageInfo": { "type": "object" } } } })
}

#[test]
fn progress_streams_get_their_item_type() {
    let mut d = doc(
        json!({ "post": { "operationId": "ImageCreate", "responses": { "200": { "description": "ok" } } } }),
    );
    let applied = apply_all(&mut d, &on("docker"));
    assert!(applied
        .iter()
        .any(|a| a.name == "json-lines-progress" && a.count == 1));
    assert_eq!(
        d.pointer("/paths/~1x/post/x-berth-response"),
        Some(&json!("json-lines"))
    );
    assert_eq!(
        d.pointer("/paths/~1x/post/x-berth-item/$ref"),
        Some(&json!("#/components/schemas/CreateImageInfo"))
    );
}

#[test]
fn missing_item_schema_falls_back_to_the_success_schema() {
    let mut d = doc(
        json!({ "get": { "operationId": "SystemEvents", "responses": { "200": { "description": "ok",
        "content": { "application/json": { "schema": { "type": "object", "properties": { "Type": { "type": "string" } } } } } } } } }),
    );
    apply_all(&mut d, &on("docker"));
    assert_eq!(
        d.pointer("/paths/~1x/get/x-berth-item/properties/Type/type"),
        Some(&json!("string"))
    );
}

#[test]
fn filters_become_a_json_map_of_lists() {
    let mut d = doc(
        json!({ "get": { "operationId": "ContainerList", "parameters": [
        { "name": "filters", "in": "query", "schema": { "type": "string" }, "description": "Filters to process, JSON encoded" },
        { "name": "labels", "in": "query", "schema": { "type": "string" }, "description": "Labels on the secret" }
    ], "responses": {} } }),
    );
    apply_all(&mut d, &on("docker"));
    let params = d.pointer("/paths/~1x/get/parameters").unwrap();
    assert_eq!(params[0]["x-berth-encoding"], json!("json"));
    assert_eq!(
        params[0]["schema"]["additionalProperties"]["type"],
        json!("array")
    );
    assert!(
        params[1].get("x-berth-encoding").is_none(),
        "labels that are not JSON stay plain"
    );
}

#[test]
fn podman_tar_endpoints_are_corrected() {
    let mut d = doc(json!({
        "get": { "operationId": "ContainerExportLibpod", "x-produces": ["application/json"], "responses": { "200": { "description": "tarball" } } },
        "put": { "operationId": "PutContainerArchiveLibpod", "x-consumes": ["application/json"],
                 "requestBody": { "content": { "application/json": { "schema": { "type": "string" } } } }, "responses": {} }
    }));
    apply_all(&mut d, &on("podman"));
    assert_eq!(
        d.pointer("/paths/~1x/get/x-berth-response"),
        Some(&json!("bytes"))
    );
    assert_eq!(
        d.pointer("/paths/~1x/put/x-consumes/0"),
        Some(&json!("application/x-tar"))
    );
}

#[test]
fn response_refs_inside_schemas_are_inlined() {
    let mut d = json!({ "paths": {}, "components": {
        "responses": { "ok": { "description": "", "content": { "application/json": { "schema": { "type": "string" } } } } },
        "schemas": { "A": { "type": "object", "properties": { "b": { "$ref": "#/components/responses/ok" } } } }
    } });
    apply_all(&mut d, &on("podman"));
    assert_eq!(
        d.pointer("/components/schemas/A/properties/b"),
        Some(&json!({ "type": "string" }))
    );
}

#[test]
fn typed_allof_keeps_its_parts_and_ids_get_their_alias() {
    let mut d = json!({ "paths": {}, "components": { "schemas": {
        "Swarm": { "type": "object", "allOf": [ { "$ref": "#/components/schemas/ClusterInfo" } ] },
        "IdResponse": { "type": "object", "properties": { "Id": { "type": "string" } } }
    } } });
    apply_all(&mut d, &on("docker"));
    assert_eq!(d.pointer("/components/schemas/Swarm/type"), None);
    assert_eq!(
        d.pointer("/components/schemas/IdResponse/properties/Id/x-berth-aliases/0"),
        Some(&json!("ID"))
    );
}

#[test]
fn fixups_are_idempotent() {
    let mut d = doc(json!({ "post": { "operationId": "ExecStartLibpod", "responses": {} } }));
    assert_eq!(apply_all(&mut d, &on("podman")).len(), 1);
    assert!(apply_all(&mut d, &on("podman")).is_empty());
}

#[test]
fn a_declared_array_of_json_documents_stays_an_array() {
    let mut d = doc(
        json!({ "get": { "operationId": "ImageAttestations", "parameters": [
        { "name": "platform", "in": "query", "schema": { "type": "array", "items": { "type": "string" } }, "explode": true,
          "description": "JSON-encoded OCI platform to select the image variant" },
        { "name": "platform", "in": "query", "schema": { "type": "string" }, "description": "JSON-encoded OCI platform" }
    ], "responses": {} } }),
    );
    apply_all(&mut d, &on("docker"));
    let params = d.pointer("/paths/~1x/get/parameters").unwrap();
    assert_eq!(params[0]["x-berth-encoding"], json!("json-each"));
    assert_eq!(params[0]["schema"]["type"], json!("array"));
    assert_eq!(params[0]["schema"]["items"]["type"], json!("object"));
    assert_eq!(params[1]["x-berth-encoding"], json!("json"));
    assert_eq!(params[1]["schema"]["type"], json!("object"));
}

#[test]
fn exec_start_bodies_become_required() {
    let mut d = doc(json!({ "post": { "operationId": "ExecStart",
        "requestBody": { "content": { "application/json": { "schema": { "type": "object" } } } }, "responses": {} } }));
    let applied = apply_all(&mut d, &on("docker"));
    assert!(applied.iter().any(|a| a.name == "exec-start-body"));
    assert_eq!(
        d.pointer("/paths/~1x/post/requestBody/required"),
        Some(&json!(true))
    );
}

#[test]
fn the_stats_schema_is_borrowed_with_what_it_refers_to() {
    let lender = json!({ "components": { "schemas": {
        "ContainerStatsResponse": { "type": "object", "properties": {
            "cpu_stats": { "$ref": "#/components/schemas/ContainerCPUStats" } } },
        "ContainerCPUStats": { "type": "object", "properties": {
            "cpu_usage": { "$ref": "#/components/schemas/ContainerCPUUsage" } } },
        "ContainerCPUUsage": { "type": "object" },
        "Unrelated": { "type": "string" }
    } } });
    let mut d = json!({ "paths": { "/containers/{id}/stats": { "get": {
        "operationId": "ContainerStats", "responses": { "200": { "description": "ok",
            "content": { "application/json": { "schema": { "type": "object" } } } } } } } },
        "components": { "schemas": {} } });
    let context = Context {
        engine: "docker",
        lender: Some(&lender),
        ..Default::default()
    };
    let applied = apply_all(&mut d, &context);
    let borrowed = applied
        .iter()
        .find(|a| a.name == "borrowed-stats-schema")
        .expect("borrowed");
    assert_eq!(borrowed.count, 3, "the schema and the two it refers to");
    assert!(d.pointer("/components/schemas/Unrelated").is_none());
    assert_eq!(
        d.pointer("/paths/~1containers~1{id}~1stats/get/x-berth-item/$ref"),
        Some(&json!("#/components/schemas/ContainerStatsResponse"))
    );
    assert!(
        apply_all(&mut d, &context)
            .iter()
            .all(|a| a.name != "borrowed-stats-schema"),
        "idempotent"
    );
}

#[test]
fn a_missing_lender_is_an_error_naming_the_place() {
    let dir = std::env::temp_dir().join(format!("berth-lender-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("v1.30.yaml");
    let d = json!({ "paths": { "/containers/{id}/stats": { "get": {} } }, "components": { "schemas": {} } });
    let error = lender_for(&spec, "docker", &d).unwrap_err().to_string();
    assert!(error.contains("v1.30.yaml"), "{error}");
    assert!(error.contains("v1.48.yaml"), "{error}");
    assert!(error.contains("stats"), "{error}");
    // Podman 4.9 borrows from 5.1.0; 5.1.0 itself needs no lender.
    let podman = dir.join("v4.9.yaml");
    let error = lender_for(&podman, "podman", &d).unwrap_err().to_string();
    assert!(error.contains("v5.1.0.yaml"), "{error}");
    assert!(lender_for(&dir.join("v5.1.0.yaml"), "podman", &d)
        .unwrap()
        .is_none());
}

/// Podman 4.9 names SpecGenerator with a description alone and answers inspect with no
/// schema: 5.1.0 lends both, with what they refer to; a definition 4.9 has keeps its own.
#[test]
fn podman_borrows_what_its_spec_dropped() {
    let lender = json!({ "openapi": "3.0.3",
        "paths": { "/libpod/containers/{name}/json": { "get": { "operationId": "ContainerInspectLibpod",
            "responses": { "200": { "$ref": "#/components/responses/inspect" } } } } },
        "components": {
            "responses": { "inspect": { "description": "Inspect", "content": { "application/json": {
                "schema": { "$ref": "#/components/schemas/InspectContainerData" } } } } },
            "schemas": {
                "InspectContainerData": { "type": "object", "properties": {
                    "Id": { "type": "string" }, "Config": { "$ref": "#/components/schemas/Config" } } },
                "Config": { "type": "object", "properties": { "StopSignal": { "type": "string" } } },
                "SpecGenerator": { "type": "object", "properties": { "name": { "type": "string" } } },
                "Kept": { "type": "object", "properties": { "lent": { "type": "string" } } }
            } } });
    let mut d = json!({ "openapi": "3.0.3",
        "paths": { "/libpod/containers/{name}/json": { "get": { "operationId": "ContainerInspectLibpod",
            "responses": { "200": { "$ref": "#/components/responses/inspect" } } } } },
        "components": {
            "responses": { "inspect": { "description": "Inspect container" } },
            "schemas": {
                "SpecGenerator": { "description": "SpecGenerator creates an OCI spec" },
                "Kept": { "type": "object", "properties": { "own": { "type": "string" } } }
            } } });
    let context = Context {
        engine: "podman",
        lender: Some(&lender),
        ..Default::default()
    };
    let applied = apply_all(&mut d, &context);
    assert!(
        applied.iter().any(|a| a.name == "podman-borrowed-schemas"),
        "{applied:?}"
    );
    let schemas = &d["components"]["schemas"];
    assert_eq!(
        schemas["SpecGenerator"]["properties"]["name"]["type"],
        "string"
    );
    assert_eq!(
        schemas["Config"]["properties"]["StopSignal"]["type"],
        "string"
    );
    assert!(schemas["InspectContainerData"].is_object());
    assert_eq!(
        schemas["Kept"]["properties"].get("own"),
        Some(&json!({ "type": "string" }))
    );
    let answer = d.pointer("/paths/~1libpod~1containers~1{name}~1json/get/responses/200/content/application~1json/schema/$ref");
    assert_eq!(
        answer,
        Some(&json!("#/components/schemas/InspectContainerData"))
    );
}

#[test]
fn the_libpod_build_gets_its_tar_body() {
    let mut d = doc(json!({ "post": { "operationId": "ImageBuildLibpod", "responses": {} } }));
    let applied = apply_all(&mut d, &on("podman"));
    assert!(applied.iter().any(|a| a.name == "libpod-build-body"));
    assert_eq!(
        d.pointer("/paths/~1x/post/requestBody/content/application~1x-tar/schema/type"),
        Some(&json!("string"))
    );
    assert!(apply_all(&mut d, &on("podman"))
        .iter()
        .all(|a| a.name != "libpod-build-body"));
}

#[test]
fn podman_port_maps_get_nullable_values() {
    let schemas = json!({
        "Settings": { "type": "object", "properties": {
            "Ports": { "type": "object", "additionalProperties": { "type": "array", "items": { "type": "string" } } },
            "Labels": { "type": "object", "additionalProperties": { "type": "string" } },
            "Filters": { "type": "object", "additionalProperties": { "type": "array", "items": { "type": "string" } } }
        } }
    });
    let mut podman =
        json!({ "openapi": "3.0.3", "paths": {}, "components": { "schemas": schemas.clone() } });
    let applied = apply_all(&mut podman, &on("podman"));
    assert!(applied
        .iter()
        .any(|a| a.name == "podman-nullable-port-maps" && a.count == 1));
    let settings = "/components/schemas/Settings/properties";
    assert_eq!(
        podman.pointer(&format!("{settings}/Ports/additionalProperties/nullable")),
        Some(&json!(true))
    );
    assert_eq!(
        podman.pointer(&format!("{settings}/Labels/additionalProperties/nullable")),
        None,
        "only lists"
    );
    assert_eq!(
        podman.pointer(&format!("{settings}/Filters/additionalProperties/nullable")),
        None,
        "only port maps"
    );
    let mut docker =
        json!({ "openapi": "3.0.3", "paths": {}, "components": { "schemas": schemas } });
    apply_all(&mut docker, &on("docker"));
    assert_eq!(
        docker.pointer(&format!("{settings}/Ports/additionalProperties/nullable")),
        None,
        "Docker's spec says it where it is so"
    );
}

/// Fields earlier specs have and this one dropped are added, optional and noted; what would
/// mean something else here is not.
#[test]
fn earlier_versions_fields_are_kept() {
    let old = |version: &str, extra_field: Value| earlier::Earlier {
        version: version.into(),
        document: std::sync::Arc::new(json!({
            "paths": { "/system/df": { "get": { "responses": { "200": { "description": "ok",
                "content": { "application/json": { "schema": { "type": "object", "properties": {
                    "LayersSize": { "type": "integer", "format": "int64" },
                    "Images": { "type": "array", "items": { "$ref": "#/components/schemas/Image" } },
                    "Gone": { "type": "array", "items": { "$ref": "#/components/schemas/Vanished" } }
                } } } } } } } } },
            "components": { "schemas": {
                "Image": { "type": "object", "properties": { "Id": { "type": "string" } } },
                "Vanished": { "type": "object", "properties": { "X": { "type": "string" } } },
                "Config": { "type": "object", "properties": { "Hostname": { "type": "string" } } },
                "Settings": { "type": "object", "properties": {
                    "IPAddress": { "type": "string" },
                    "ID": { "type": "string" },
                    "Shaped": { "$ref": "#/components/schemas/Image" },
                    "Answer": { "$ref": "#/responses/Inspect" },
                    "Inner": { "type": "object", "properties": { "Kept": { "type": "string" }, "Old": { "type": "boolean" } } },
                    "Extra": extra_field
                } }
            } }
        })),
    };
    let earlier = [
        old("1.51", json!({ "type": "string" })),
        old("1.44", json!({ "type": "string" })),
    ];
    let mut d = json!({
        "paths": { "/system/df": { "get": { "responses": { "200": { "description": "ok",
            "content": { "application/json": { "schema": { "type": "object", "properties": {
                "ImageUsage": { "type": "object" }
            } } } } } } } } },
        "components": { "schemas": {
            "Image": { "type": "object", "properties": { "Id": { "type": "string" }, "New": { "type": "string" } } },
            "Config": { "type": "object", "properties": { "Spec": { "type": "object" } } },
            "Settings": { "type": "object", "properties": {
                "Id": { "type": "string" },
                "Inner": { "type": "object", "properties": { "Kept": { "type": "string" } } }
            } }
        } }
    });
    let context = Context {
        engine: "docker",
        earlier: &earlier,
        ..Default::default()
    };
    let applied = apply_all(&mut d, &context);
    let kept = applied
        .iter()
        .find(|a| a.name == "earlier-versions-fields")
        .expect("applied");
    let settings = &d["components"]["schemas"]["Settings"]["properties"];
    assert!(settings["IPAddress"]["x-berth-deprecated"]
        .as_str()
        .unwrap()
        .starts_with("only in the API v1.44 to v1.51 specs"));
    assert_eq!(settings["Extra"]["type"], "string");
    // A reference to a definition that grew a field is kept, as a one-part allOf.
    assert_eq!(
        settings["Shaped"]["allOf"][0]["$ref"],
        "#/components/schemas/Image"
    );
    // Inside an inline object both versions have.
    assert_eq!(settings["Inner"]["properties"]["Old"]["type"], "boolean");
    // `ID` is `Id` to Go's decoder; a shared response is no schema to type.
    assert!(settings.get("ID").is_none());
    assert!(settings.get("Answer").is_none());
    let answer = &d["paths"]["/system/df"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"]["properties"];
    assert!(answer["LayersSize"].get("x-berth-deprecated").is_some());
    assert_eq!(
        answer["Images"]["items"]["$ref"],
        "#/components/schemas/Image"
    );
    // Another thing of the same name (a container's Config then, a swarm config's now).
    assert!(d["components"]["schemas"]["Config"]["properties"]
        .get("Hostname")
        .is_none());
    // Its items' definition is gone here: what it would be typed as is unknown.
    assert!(answer.get("Gone").is_none());
    assert_eq!(kept.count, 6, "{d:#}");
}

/// What dockerd sends undeclared, each added by its fixup (seen by the sweep on 20.10 and
/// 28.5).
#[test]
fn undeclared_answer_fields_are_declared() {
    let mut d = json!({
        "paths": { "/system/df": { "get": { "operationId": "SystemDataUsage", "responses": {
            "200": { "description": "ok", "content": { "application/json": { "schema": {
                "type": "object", "properties": { "LayersSize": { "type": "integer" } } } } } } } } } },
        "components": { "schemas": {
            "IDResponse": { "type": "object", "properties": { "Id": { "type": "string" } } },
            "PushImageInfo": { "type": "object", "properties": { "status": { "type": "string" } } },
            "EventMessage": { "type": "object", "properties": { "Action": { "type": "string" } } }
        } }
    });
    let applied = apply_all(&mut d, &on("docker"));
    let names: Vec<&str> = applied.iter().map(|a| a.name).collect();
    for name in [
        "id-response-casing",
        "push-progress-fields",
        "legacy-event-fields",
        "builder-size-field",
    ] {
        assert!(names.contains(&name), "{name}: {names:?}");
    }
    let schemas = &d["components"]["schemas"];
    assert_eq!(
        schemas["IDResponse"]["properties"]["Id"]["x-berth-aliases"],
        json!(["ID"])
    );
    assert_eq!(
        schemas["PushImageInfo"]["properties"]["aux"]["properties"]["Digest"]["type"],
        "string"
    );
    assert!(schemas["EventMessage"]["properties"]["from"]["x-berth-deprecated"].is_string());
    let answer = &d["paths"]["/system/df"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    assert_eq!(answer["properties"]["BuilderSize"]["format"], "int64");
}

/// A malformed schema (properties that are no map) is left for the typed load to name,
/// not a panic of the fixup.
#[test]
fn earlier_versions_fields_leave_a_malformed_schema_alone() {
    let earlier = [earlier::Earlier {
        version: "1.41".into(),
        document: std::sync::Arc::new(json!({ "components": { "schemas": {
            "Odd": { "type": "object", "properties": { "Kept": { "type": "string" }, "Old": { "type": "string" } } }
        } } })),
    }];
    // It shares `Kept` with the old one through its allOf part: paired, then its own
    // properties are no map.
    let mut d = json!({ "components": { "schemas": {
        "Base": { "type": "object", "properties": { "Kept": { "type": "string" } } },
        "Odd": { "allOf": [{ "$ref": "#/components/schemas/Base" }], "properties": ["not", "a", "map"] }
    } } });
    let context = Context {
        engine: "docker",
        earlier: &earlier,
        ..Default::default()
    };
    apply_all(&mut d, &context);
    assert_eq!(
        d["components"]["schemas"]["Odd"]["properties"],
        json!(["not", "a", "map"])
    );
}
