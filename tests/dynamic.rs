//! The data-driven API (operations by name, JSON params) and raw requests, through the
//! same pipeline as typed calls, against dockerd.

#![cfg(feature = "docker-v1_41")]

mod common;

use berth::docker::v1_41 as docker;
use berth::dynamic::{Answer, Data};
use berth::{Error, Method, ResponseKind};
use common::Cleanup;
use futures_util::StreamExt;
use serde_json::json;

#[tokio::test]
async fn invoke_by_name_lists_inspects_and_streams() {
    let Some(client) = common::docker().await else {
        return;
    };
    let cleanup = Cleanup::new(&client);
    let name = common::unique("byname");

    // Create with a JSON body; the answer is JSON.
    let created = client
        .invoke_by_name(
            &docker::API,
            "ContainerCreate",
            json!({ "name": name }),
            Data::Json(
                json!({ "Image": common::test_image(), "Cmd": ["sh", "-c", "echo by name"] }),
            ),
        )
        .await
        .expect("ContainerCreate by name");
    let Answer::Json(created) = created else {
        panic!("ContainerCreate answers JSON: {created:?}")
    };
    let id = created["Id"].as_str().expect("Id").to_string();
    cleanup.container(id.clone());

    let listed = client
        .invoke_by_name(
            &docker::API,
            "ContainerList",
            json!({ "all": true }),
            Data::None,
        )
        .await
        .unwrap();
    let Answer::Json(listed) = listed else {
        panic!("ContainerList answers JSON: {listed:?}")
    };
    let listed = listed.as_array().expect("an array");
    let ours = listed
        .iter()
        .find(|c| c["Id"] == id.as_str())
        .expect("the new container is listed with all=true");
    assert_eq!(ours["Names"], json!([format!("/{name}")]));
    assert_eq!(ours["State"], "created");

    // A JSON-encoded query parameter (filters) and a path parameter.
    let filtered = client
        .invoke_by_name(
            &docker::API,
            "ContainerList",
            json!({ "all": true, "filters": { "name": [name] } }),
            Data::None,
        )
        .await
        .unwrap();
    let Answer::Json(filtered) = filtered else {
        panic!()
    };
    assert_eq!(filtered.as_array().map(Vec::len), Some(1), "{filtered}");

    let started = client
        .invoke_by_name(
            &docker::API,
            "ContainerStart",
            json!({ "id": id }),
            Data::None,
        )
        .await
        .unwrap();
    assert!(matches!(started, Answer::Empty), "{started:?}");
    let waited = client
        .invoke_by_name(
            &docker::API,
            "ContainerWait",
            json!({ "id": id }),
            Data::None,
        )
        .await
        .unwrap();
    let Answer::Json(waited) = waited else {
        panic!()
    };
    assert_eq!(waited["StatusCode"], 0);

    // Frames by name.
    let logs = client
        .invoke_by_name(
            &docker::API,
            "ContainerLogs",
            json!({ "id": id, "stdout": true }),
            Data::None,
        )
        .await
        .unwrap();
    let Answer::Frames(logs) = logs else {
        panic!("ContainerLogs answers frames: {logs:?}")
    };
    let (out, _) = logs.frames().collect_output().await.unwrap();
    assert_eq!(out, b"by name\n");

    // JSON lines by name (a bounded events stream).
    let now = common::now_secs();
    let events = client
        .invoke_by_name(
            &docker::API,
            "SystemEvents",
            json!({ "since": (now - 60).to_string(), "until": (now + 1).to_string(), "filters": { "container": [id] } }),
            Data::None,
        )
        .await
        .unwrap();
    let Answer::JsonLines(events) = events else {
        panic!("SystemEvents answers JSON lines: {events:?}")
    };
    let events = common::within(30, "events by name", events.collect_all())
        .await
        .unwrap();
    assert!(events.iter().any(|e| e["Action"] == "start"), "{events:?}");

    // The table knows the operation.
    let info = docker::API.operation("ContainerLogs").unwrap();
    assert_eq!(
        (info.method, info.path, info.response),
        (Method::Get, "/containers/{id}/logs", ResponseKind::Frames)
    );
    assert!(docker::API.categories().contains(&"containers"));
}

#[tokio::test]
async fn invoke_by_name_refuses_what_cannot_be_sent() {
    let Some(client) = common::docker().await else {
        return;
    };
    let unknown_op = client
        .invoke_by_name(&docker::API, "ContainerFly", json!({}), Data::None)
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown_op, Error::InvalidRequest { message, .. } if message.contains("no such operation")),
        "{unknown_op:?}"
    );

    let unknown_param = client
        .invoke_by_name(
            &docker::API,
            "ContainerList",
            json!({ "colour": "red" }),
            Data::None,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown_param, Error::InvalidRequest { operation, message } if operation == "ContainerList" && message.contains("\"colour\"")),
        "{unknown_param:?}"
    );

    let missing = client
        .invoke_by_name(&docker::API, "ContainerInspect", json!({}), Data::None)
        .await
        .unwrap_err();
    assert!(
        matches!(&missing, Error::InvalidRequest { message, .. } if message.contains("\"id\"")),
        "{missing:?}"
    );

    let dots = client
        .invoke_by_name(
            &docker::API,
            "ContainerInspect",
            json!({ "id": ".." }),
            Data::None,
        )
        .await
        .unwrap_err();
    assert!(matches!(&dots, Error::InvalidRequest { .. }), "{dots:?}");

    // An engine error by name is the same typed error.
    let missing_name = common::unique("missing");
    let not_found = client
        .invoke_by_name(
            &docker::API,
            "ContainerInspect",
            json!({ "id": missing_name }),
            Data::None,
        )
        .await
        .unwrap_err();
    match &not_found {
        Error::Api(api) => {
            assert_eq!(
                (api.status, api.operation.as_str()),
                (404, "ContainerInspect")
            );
            assert_eq!(api.message, format!("No such container: {missing_name}"));
        }
        other => panic!("expected Error::Api, got {other:?}"),
    }
}

#[tokio::test]
async fn raw_requests() {
    let Some(client) = common::docker().await else {
        return;
    };

    let ping = client
        .request(Method::Get, "/v1.41/_ping")
        .send()
        .await
        .expect("raw ping");
    // The engine names its own API version, whichever version the path asked for.
    let sent = common::engine_version(&client).await;
    let engine_api = sent["ApiVersion"].as_str().expect("ApiVersion");
    assert_eq!(ping.status(), 200);
    assert_eq!(ping.headers().get("api-version"), Some(engine_api));
    assert_eq!(ping.operation(), "GET /v1.41/_ping");
    assert_eq!(ping.text().unwrap(), "OK");

    let version: serde_json::Value = client
        .request(Method::Get, "/v1.41/version")
        .send()
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(version["ApiVersion"], engine_api);

    // A streamed answer read as it comes.
    let mut bytes = client
        .request(Method::Get, "/v1.41/images/json")
        .query(
            "filters",
            json!({ "reference": [common::test_image()] }).to_string(),
        )
        .response(ResponseKind::Bytes)
        .send()
        .await
        .unwrap()
        .into_byte_stream();
    let mut body = Vec::new();
    while let Some(chunk) = bytes.next().await {
        body.extend_from_slice(&chunk.unwrap());
    }
    let images: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(images.as_array().map(Vec::len), Some(1), "{images}");
}

/// `/containers/{id}/checkpoints` is in no spec the SDK generates from, and this daemon
/// (not experimental) answers it with an error: a typed one, with the engine's message.
#[tokio::test]
async fn raw_checkpoints_answer_a_typed_error() {
    let Some(client) = common::docker().await else {
        return;
    };
    let cleanup = Cleanup::new(&client);
    let name = common::unique("checkpoints");
    let created = client
        .invoke(docker::containers::ContainerCreate {
            name: Some(name.clone()),
            body: docker::models::ContainerCreateBody {
                image: Some(common::test_image()),
                cmd: Some(vec!["sleep".into(), "300".into()]),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    cleanup.container(created.id.clone());

    let path = format!("/v1.41/containers/{}/checkpoints", created.id);
    let error = client
        .request(Method::Get, path.clone())
        .send()
        .await
        .expect_err("checkpoints need an experimental daemon");
    match &error {
        Error::Api(api) => {
            assert_eq!(api.status, 501, "{api:?}");
            assert_eq!(api.operation, format!("GET {path}"));
            assert!(
                api.message.contains("experimental"),
                "the engine's message: {}",
                api.message
            );
            let body: serde_json::Value = serde_json::from_slice(&api.body).unwrap();
            assert_eq!(body["message"], api.message.as_str());
        }
        other => panic!("expected Error::Api, got {other:?}"),
    }
    assert_eq!(
        error.to_string(),
        format!(
            "GET {path}: the engine answered 501: {}",
            match &error {
                Error::Api(api) => api.message.clone(),
                _ => unreachable!(),
            }
        )
    );

    // Creating one is refused the same way (a JSON body on a raw request).
    let error = client
        .request(
            Method::Post,
            format!("/v1.41/containers/{name}/checkpoints"),
        )
        .json(&json!({ "CheckpointID": "cp1", "Exit": false }))
        .send()
        .await
        .expect_err("checkpoint create needs an experimental daemon");
    assert_eq!(error.status(), Some(501), "{error}");
}
