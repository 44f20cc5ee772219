//! API versions against the real dockerd (API 1.41 here): a module the server does not
//! speak fails early and clearly, negotiation is opt-in, and `Off` lets the server decide.
//! Also the write timeout, against a local server that never reads.

#![cfg(all(feature = "docker-v1_41", feature = "docker-v1_53"))]

mod common;

use std::time::{Duration, Instant};

use berth::docker::{v1_41, v1_53};
use berth::{Client, Error, VersionPolicy};

#[tokio::test]
async fn the_server_versions_are_learned_once() {
    let Some(client) = common::docker().await else {
        return;
    };
    let server = client.server_version().await.expect("GET /version");
    assert_eq!(server.api_version, "1.41", "{server:?}");
    assert!(!server.min_api_version.is_empty(), "{server:?}");
    // The matching module works as is.
    client
        .invoke(v1_41::containers::ContainerList::default())
        .await
        .expect("ContainerList 1.41");
}

#[tokio::test]
async fn a_module_newer_than_the_server_fails_before_sending() {
    let Some(client) = common::docker().await else {
        return;
    };
    let error = client
        .invoke(v1_53::containers::ContainerList::default())
        .await
        .expect_err("dockerd 20.10 speaks at most 1.41");
    match &error {
        Error::UnsupportedVersion {
            operation,
            requested,
            server_max,
            ..
        } => {
            assert_eq!(operation, "ContainerList");
            assert_eq!(requested, "1.53");
            assert_eq!(server_max, "1.41");
        }
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
    assert!(
        error
            .to_string()
            .contains("1.53 is not supported by the server"),
        "{error}"
    );
}

#[tokio::test]
async fn negotiation_is_opt_in_and_off_lets_the_server_decide() {
    let Some(_) = common::docker().await else {
        return;
    };
    let negotiated = Client::builder(common::docker_uri())
        .version_policy(VersionPolicy::Negotiate)
        .build()
        .unwrap();
    let list = negotiated
        .invoke(v1_53::containers::ContainerList {
            all: Some(true),
            ..Default::default()
        })
        .await
        .expect("sent at 1.41, decoded with 1.53's types");
    let _ = list.len();

    let unchecked = Client::builder(common::docker_uri())
        .version_policy(VersionPolicy::Off)
        .build()
        .unwrap();
    let error = unchecked
        .invoke(v1_53::containers::ContainerList::default())
        .await
        .expect_err("the server refuses 1.53");
    assert_eq!(error.status(), Some(400), "{error}");
    assert!(error.to_string().contains("too new"), "{error}");
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
        matches!(&error, Error::Timeout { which: "write", .. }),
        "{error:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
