//! API versions against every real dockerd `scripts/test` runs (Debian 12's 20.10 at API
//! 1.41, the newest Debian ships, 28.5 at API 1.51), with the default features (so `newest`
//! is the default, newest Docker version, whatever it is): the newest module negotiates
//! down to the server as Docker's own client does, the module of the engine's own version
//! works under `Strict`, `Strict` refuses a newer module early and clearly, `Off` lets the
//! server decide. Expectations about versions come from the engine's `/version`. Against
//! small local servers: a module older than the server's minimum fails under every checking
//! policy, and the version probe is named in the errors it causes. Also the write timeout,
//! against a server that never reads.

#![cfg(all(feature = "docker-v1_41", feature = "default"))]

mod common;

use std::time::{Duration, Instant};

use berth::docker::{newest, v1_41};
use berth::{Client, Error, VersionPolicy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The newest enabled module is newer than the engine, or these tests would prove nothing.
fn assert_newer_than_the_server(server_max: &str) {
    assert_eq!(
        berth::version::compare(newest::API.version, server_max),
        std::cmp::Ordering::Greater,
        "the newest enabled module ({}) must be newer than the server ({server_max})",
        newest::API.version
    );
}

/// The engine's API version, as its unversioned `/version` says.
async fn engine_api(client: &Client) -> String {
    common::engine_version(client).await["ApiVersion"]
        .as_str()
        .expect("ApiVersion")
        .to_string()
}

#[tokio::test]
async fn the_server_versions_are_learned_once() {
    let Some(client) = common::docker().await else {
        return;
    };
    let sent = common::engine_version(&client).await;
    let server = client.server_version().await.expect("GET /version");
    assert_eq!(
        Some(server.api_version.as_str()),
        sent["ApiVersion"].as_str()
    );
    assert_eq!(
        Some(server.min_api_version.as_str()),
        sent["MinAPIVersion"].as_str()
    );
    assert_eq!(Some(server.version.as_str()), sent["Version"].as_str());
    client
        .invoke(v1_41::containers::ContainerList::default())
        .await
        .expect("ContainerList 1.41");
}

/// What a program with default features does: the newest module, the default policy,
/// negotiated down to the engine's own version (1.51 on Docker 28.5, 1.41 on 20.10).
#[tokio::test]
async fn the_newest_module_works_against_an_older_engine_by_default() {
    let Some(client) = common::docker().await else {
        return;
    };
    let server = client.server_version().await.expect("GET /version");
    assert_newer_than_the_server(&server.api_version);

    let listed: Vec<newest::models::ContainerSummary> = client
        .invoke(newest::containers::ContainerList {
            all: Some(true),
            ..Default::default()
        })
        .await
        .expect("ContainerList, negotiated down");
    assert!(listed
        .iter()
        .all(|c| c.id.as_ref().is_some_and(|id| !id.is_empty())));

    let pong = client
        .invoke(newest::_ping::SystemPing::default())
        .await
        .expect("SystemPing, negotiated down");
    assert_eq!(pong.body, "OK");
    // The headers the spec declares are typed fields: the engine's API version among them.
    let engine = common::engine_version(&client).await;
    assert_eq!(
        pong.api_version.as_deref(),
        engine["ApiVersion"].as_str(),
        "{pong:?}"
    );
    assert_eq!(
        pong.headers.get("API-Version"),
        engine["ApiVersion"].as_str()
    );

    let name = common::unique("negotiated");
    let created = client
        .invoke(newest::containers::ContainerCreate {
            name: Some(name.clone()),
            body: newest::models::ContainerCreateBody {
                image: Some(common::test_image()),
                cmd: Some(vec!["sh".into(), "-c".into(), "exit 7".into()]),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .expect("ContainerCreate, negotiated down");
    let cleanup = common::Cleanup::new(&client);
    cleanup.container(&created.id);
    assert!(created.warnings.is_empty(), "{:?}", created.warnings);
    let started = client
        .invoke(newest::containers::ContainerStart {
            id: created.id.clone(),
            ..Default::default()
        })
        .await
        .expect("ContainerStart, negotiated down");
    assert_eq!(
        started,
        newest::containers::ContainerStartResponse::NoContent
    );
    let waited = client
        .invoke(newest::containers::ContainerWait {
            id: created.id.clone(),
            ..Default::default()
        })
        .await
        .expect("ContainerWait, negotiated down");
    assert_eq!(waited.status_code, 7, "{waited:?}");
}

/// The module that speaks the engine's own version (`docker-v1_51` for Docker 28.5),
/// under `Strict`: no negotiation, every call at that version. `scripts/test` enables the
/// feature of each engine it starts.
#[tokio::test]
async fn the_engines_own_module_works_under_strict() {
    let Some(client) = common::docker().await else {
        return;
    };
    let api = engine_api(&client).await;
    let strict = Client::builder(common::docker_uri())
        .version_policy(VersionPolicy::Strict)
        .build()
        .unwrap();
    let cleanup = common::Cleanup::new(&client);
    let name = common::unique("own-version");
    let ran = with_docker_module!(api.as_str(), |own| async {
        assert_eq!(own::API.version, api);
        assert_eq!(
            strict
                .invoke(own::_ping::SystemPing::default())
                .await
                .unwrap()
                .body,
            "OK"
        );
        let version = strict
            .invoke(own::version::SystemVersion::default())
            .await
            .expect("SystemVersion");
        assert_eq!(version.api_version.as_deref(), Some(api.as_str()));

        // (the body's type has another name in each version: its fields are set in place)
        let mut create = own::containers::ContainerCreate {
            name: Some(name.clone()),
            ..Default::default()
        };
        create.body.image = Some(common::test_image());
        create.body.cmd = Some(vec!["sh".into(), "-c".into(), "echo own; exit 3".into()]);
        let created = strict.invoke(create).await.expect("ContainerCreate");
        cleanup.container(&created.id);
        strict
            .invoke(own::containers::ContainerStart {
                id: created.id.clone(),
                ..Default::default()
            })
            .await
            .expect("ContainerStart");
        let waited = strict
            .invoke(own::containers::ContainerWait {
                id: created.id.clone(),
                ..Default::default()
            })
            .await
            .expect("ContainerWait");
        assert_eq!(waited.status_code, 3, "{waited:?}");
        let inspected = strict
            .invoke(own::containers::ContainerInspect {
                id: created.id.clone(),
                ..Default::default()
            })
            .await
            .expect("ContainerInspect");
        assert_eq!(inspected.name.as_deref(), Some(format!("/{name}").as_str()));
        let listed = strict
            .invoke(own::containers::ContainerList {
                all: Some(true),
                ..Default::default()
            })
            .await
            .expect("ContainerList");
        assert!(listed
            .iter()
            .any(|c| c.id.as_deref() == Some(created.id.as_str())));
        let images = strict
            .invoke(own::images::ImageList::default())
            .await
            .expect("ImageList");
        assert!(!images.is_empty());
    });
    if ran.is_none() {
        panic!(
            "the engine speaks API {api}, and berth's module for it is not enabled: build the \
             tests with feature docker-v{} (scripts/test enables the module of each engine it \
             starts), or add the version with scripts/fetch-specs if berth has none",
            api.replace('.', "_")
        );
    }
}

#[tokio::test]
async fn strict_refuses_a_module_newer_than_the_server_before_sending() {
    let Some(client) = common::docker().await else {
        return;
    };
    let api = engine_api(&client).await;
    assert_newer_than_the_server(&api);
    let strict = Client::builder(common::docker_uri())
        .version_policy(VersionPolicy::Strict)
        .build()
        .unwrap();
    for error in [
        strict
            .invoke(newest::containers::ContainerList::default())
            .await
            .expect_err("the engine speaks an older version"),
        strict
            .invoke(newest::_ping::SystemPing::default())
            .await
            .map(|_| ())
            .expect_err("the ping follows the policy too"),
    ] {
        match &error {
            Error::UnsupportedVersion {
                requested,
                server_max,
                ..
            } => {
                assert_eq!(requested, newest::API.version);
                assert_eq!(server_max, &api);
            }
            other => panic!("expected UnsupportedVersion, got {other:?}"),
        }
        assert!(
            error.to_string().contains("is not supported by the server")
                && error.to_string().contains("or VersionPolicy::Negotiate"),
            "{error}"
        );
    }
    strict
        .invoke(v1_41::containers::ContainerList::default())
        .await
        .expect("an older module than the server's is fine");
}

/// `with_docker_module!` knows every Docker version the manifest lists.
#[test]
fn the_module_list_of_the_tests_is_the_manifests() {
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/specs/manifest.json"))
            .unwrap(),
    )
    .unwrap();
    let mut listed: Vec<&str> = manifest["specs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["engine"] == "docker")
        .map(|s| s["version"].as_str().unwrap())
        .collect();
    listed.sort_by(|a, b| berth::version::compare(a, b));
    assert_eq!(
        listed,
        common::DOCKER_MODULE_VERSIONS,
        "update with_docker_module! in tests/common/mod.rs"
    );
}

#[tokio::test]
async fn off_lets_the_server_decide() {
    let Some(_) = common::docker().await else {
        return;
    };
    let unchecked = Client::builder(common::docker_uri())
        .version_policy(VersionPolicy::Off)
        .build()
        .unwrap();
    let error = unchecked
        .invoke(newest::containers::ContainerList::default())
        .await
        .expect_err("the server refuses a newer version");
    assert_eq!(error.status(), Some(400), "{error}");
    assert!(error.to_string().contains("too new"), "{error}");
}

/// A local server that answers every request with `answer` (a whole HTTP response, or
/// nothing at all when empty) and sends the request lines it read down the channel.
async fn local_server(
    answer: &'static str,
) -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (seen, requests) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                loop {
                    while !head.ends_with(b"\r\n\r\n") {
                        if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let text = String::from_utf8_lossy(&head).to_string();
                    let _ = seen.send(text.lines().next().unwrap_or_default().to_string());
                    head.clear();
                    if answer.is_empty() {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    if stream.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), requests)
}

#[tokio::test]
async fn a_module_older_than_the_servers_minimum_fails_under_every_checking_policy() {
    const VERSION: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 63\r\n\r\n{\"ApiVersion\":\"1.52\",\"MinAPIVersion\":\"1.44\",\"Version\":\"29.0.0\"}";
    let (uri, mut requests) = local_server(VERSION).await;
    for policy in [VersionPolicy::Negotiate, VersionPolicy::Strict] {
        let client = Client::builder(&uri)
            .version_policy(policy)
            .build()
            .unwrap();
        let error = client
            .invoke(v1_41::containers::ContainerList::default())
            .await
            .expect_err("1.41 is older than 1.44");
        match &error {
            Error::UnsupportedVersion {
                operation,
                requested,
                server_min,
                ..
            } => {
                assert_eq!(operation, "ContainerList");
                assert_eq!(requested, "1.41");
                assert_eq!(server_min, "1.44");
            }
            other => panic!("{policy:?}: expected UnsupportedVersion, got {other:?}"),
        }
    }
    let mut lines = Vec::new();
    while let Ok(line) = requests.try_recv() {
        lines.push(line);
    }
    assert_eq!(
        lines,
        ["GET /version HTTP/1.1", "GET /version HTTP/1.1"],
        "only the probes were sent"
    );
}

/// The probe has its own limit, apart from the calls' (a 1 ms call timeout does not make
/// the probe fail), and its timeout names it.
#[tokio::test]
async fn the_version_probe_has_its_own_limit_and_is_named_in_its_errors() {
    let (uri, _requests) = local_server("").await;
    let client = Client::builder(&uri)
        .timeout(Duration::from_secs(3600))
        .probe_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client
        .invoke(v1_41::containers::ContainerList::default())
        .await
        .expect_err("the server never answers");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the probe's limit"
    );
    assert!(
        matches!(
            &error,
            Error::Timeout {
                which: berth::TimeoutKind::Probe,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("ContainerList (version probe: GET /version): version probe timeout"),
        "{error}"
    );
}

/// A libpod module is held against the libpod versions podman's `/version` names (its
/// `Podman Engine` component), not the Docker API ones: negotiated down to them, refused
/// under `Strict` before sending; an operation with a fixed prefix is sent under it.
#[cfg(feature = "podman-v5_1_0")]
#[tokio::test]
async fn a_libpod_module_follows_the_policy_against_podmans_libpod_versions() {
    use berth::podman::v5_1_0;
    const VERSION: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 159\r\n\r\n{\"ApiVersion\":\"1.41\",\"MinAPIVersion\":\"1.24\",\"Version\":\"4.3.1\",\"Components\":[{\"Name\":\"Podman Engine\",\"Details\":{\"APIVersion\":\"4.3.1\",\"MinAPIVersion\":\"4.0.0\"}}]}";
    let (uri, mut requests) = local_server(VERSION).await;
    let negotiating = Client::builder(&uri).build().unwrap();
    let server = negotiating.server_version().await.expect("GET /version");
    assert_eq!(server.libpod_api_version, "4.3.1");
    assert_eq!(server.libpod_min_api_version, "4.0.0");
    // The answer (a version object) is not a list: only the line sent matters here.
    let _ = negotiating
        .invoke(v5_1_0::libpod::containers::ContainerListLibpod::default())
        .await;
    let strict = Client::builder(&uri)
        .version_policy(VersionPolicy::Strict)
        .build()
        .unwrap();
    match strict
        .invoke(v5_1_0::libpod::containers::ContainerListLibpod::default())
        .await
    {
        Err(Error::UnsupportedVersion {
            requested,
            server_min,
            server_max,
            ..
        }) => assert_eq!(
            (requested.as_str(), server_min.as_str(), server_max.as_str()),
            ("5.1.0", "4.0.0", "4.3.1")
        ),
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
    // Podman serves its v3 manifest routes under a v3 prefix only, whatever the policy.
    let _ = strict
        .invoke(v5_1_0::libpod::manifests::ManifestAddLibpod {
            name: "list".into(),
            body: None,
        })
        .await;
    let mut lines = Vec::new();
    while let Ok(line) = requests.try_recv() {
        lines.push(line);
    }
    assert_eq!(
        lines,
        [
            "GET /version HTTP/1.1",
            "GET /v4.3.1/libpod/containers/json HTTP/1.1",
            "GET /version HTTP/1.1",
            "POST /v3.4.0/libpod/manifests/list/add HTTP/1.1"
        ]
    );
}

/// v1.52 and later declare `platform` an array of JSON documents (collectionFormat multi):
/// each is its own `platform=` parameter, as moby reads them.
#[tokio::test]
async fn an_array_of_json_documents_repeats_the_parameter() {
    let (uri, mut requests) = local_server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
    let client = Client::builder(&uri)
        .version_policy(VersionPolicy::Off)
        .build()
        .unwrap();
    let platform = |arch: &str| {
        std::collections::HashMap::from([
            ("os".to_string(), "linux".to_string()),
            ("architecture".to_string(), arch.to_string()),
        ])
    };
    let saved = client
        .invoke(newest::images::ImageGetAll {
            names: Some(vec!["busybox".into()]),
            platform: Some(vec![platform("amd64"), platform("arm64")]),
        })
        .await
        .expect("an empty tar");
    assert!(saved.collect().await.unwrap().is_empty());
    let line = requests.recv().await.unwrap();
    let query = line.split(['?', ' ']).nth(2).expect("a query");
    let platforms: Vec<serde_json::Value> = query
        .split('&')
        .filter_map(|pair| pair.strip_prefix("platform="))
        .map(|value| {
            let text = percent_decode(value);
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"))
        })
        .collect();
    assert_eq!(platforms.len(), 2, "{line}");
    assert_eq!(platforms[1]["architecture"], "arm64", "{line}");
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn write_timeout_fires_when_the_engine_takes_no_bytes() {
    // Accepts connections and never reads from them: the socket buffers fill, then the
    // body stalls.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let client = Client::builder(format!("http://{addr}"))
        .version_policy(VersionPolicy::Off)
        .write_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    // 1 GiB of zeros, made as it is sent.
    let chunks = futures_util::stream::iter(
        (0..16 * 1024).map(|_| Ok::<_, std::io::Error>(vec![0u8; 64 * 1024])),
    );
    let started = Instant::now();
    let error = client
        .invoke(v1_41::build::ImageBuild {
            body: Some(berth::Body::wrap_stream(chunks)),
            ..Default::default()
        })
        .await
        .expect_err("nobody reads the body");
    assert!(
        matches!(
            &error,
            Error::Timeout {
                which: berth::TimeoutKind::Write,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
