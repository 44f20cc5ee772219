//! `Client::docker_from_env()` reads the process environment: the one test here sets it,
//! alone in its binary (tests of one binary share the environment across threads; the
//! others resolve explicit snapshots, see `tests/contexts.rs`). It writes a context for
//! the mTLS dockerd into a scratch `DOCKER_CONFIG`, selects it by `DOCKER_CONTEXT` and by
//! `currentContext`, shows `DOCKER_HOST` winning over both, and a missing context failing.

#![cfg(feature = "docker-v1_41")]

mod common;

use std::path::Path;
use std::time::Duration;

use berth::docker::v1_41::_ping;
use berth::{Client, Error};

async fn ping_from_env() -> berth::Result<String> {
    let client = Client::docker_from_env()?
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(60))
        .build()?;
    common::within(60, "ping", client.invoke(_ping::SystemPing {}))
        .await
        .map(|pong| pong.body)
}

#[tokio::test(flavor = "current_thread")]
async fn docker_from_env_follows_the_clis_precedence() {
    if common::docker_tls().await.is_none() || common::docker().await.is_none() {
        return;
    }
    let dir = std::env::temp_dir().join(common::unique("from-env"));
    let context = berth::context::DockerContext::load(
        &berth::env::Environment::empty().set("DOCKER_CONFIG", &dir),
        "berth-env",
    );
    let Err(Error::ContextNotFound { path: meta, .. }) = context else {
        panic!("the context is not written yet: {context:?}");
    };
    // The paths berth looks at: write the context there.
    let tls = meta
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .unwrap()
        .join("tls")
        .join(meta.parent().unwrap().file_name().unwrap())
        .join("docker");
    std::fs::create_dir_all(meta.parent().unwrap()).unwrap();
    std::fs::create_dir_all(&tls).unwrap();
    let uri = common::docker_tls_uri();
    let host = format!("tcp://{}", uri.split_once("://").unwrap().1);
    let json = serde_json::json!({"Name": "berth-env", "Endpoints": {"docker": {"Host": host}}});
    std::fs::write(&meta, json.to_string()).unwrap();
    for file in ["ca.pem", "cert.pem", "key.pem"] {
        std::fs::copy(Path::new(&common::cert_dir()).join(file), tls.join(file)).unwrap();
    }

    // SAFETY of the mutations: this binary runs this one test, on one thread.
    std::env::remove_var("DOCKER_HOST");
    std::env::remove_var("DOCKER_TLS");
    std::env::remove_var("DOCKER_TLS_VERIFY");
    std::env::set_var("DOCKER_CONFIG", &dir);

    std::env::set_var("DOCKER_CONTEXT", "berth-env");
    assert_eq!(ping_from_env().await.unwrap(), "OK");
    let builder = Client::docker_from_env().unwrap();
    // As the context writes it (TLS material makes tcp:// mean https://).
    assert_eq!(builder.build().unwrap().endpoint(), host);

    std::env::remove_var("DOCKER_CONTEXT");
    std::fs::write(dir.join("config.json"), r#"{"currentContext":"berth-env"}"#).unwrap();
    assert_eq!(ping_from_env().await.unwrap(), "OK");

    // DOCKER_HOST wins over the context: the unix socket, no TLS.
    std::env::set_var("DOCKER_CONTEXT", "berth-env");
    std::env::set_var("DOCKER_HOST", common::docker_uri());
    let client = Client::docker_from_env().unwrap().build().unwrap();
    assert_eq!(client.endpoint(), common::docker_uri());
    assert_eq!(ping_from_env().await.unwrap(), "OK");

    std::env::remove_var("DOCKER_HOST");
    std::env::set_var("DOCKER_CONTEXT", "berth-env-gone");
    let e = Client::docker_from_env().unwrap_err();
    assert!(
        matches!(&e, Error::ContextNotFound { name, named_by, .. }
            if name == "berth-env-gone" && named_by == "DOCKER_CONTEXT"),
        "{e:?}"
    );
    eprintln!("a missing context: {e}");
    let _ = std::fs::remove_dir_all(&dir);
}
