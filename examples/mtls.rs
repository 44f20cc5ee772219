//! HTTPS and mutual TLS: dockerd on `https://127.0.0.1:2376` (`BERTH_DOCKER_TLS_HOST`)
//! with the client certificate, key and CA of `BERTH_DOCKER_CERT_PATH` (`ca.pem`,
//! `cert.pem`, `key.pem`, as `DOCKER_CERT_PATH` holds them). A password-protected key
//! (`BERTH_DOCKER_CERT_PATH_ENCRYPTED`) is refused up front with a clear `Error::Config`.
//!
//! `cargo run --example mtls --features docker-v1_41`

#[path = "support/mod.rs"]
mod support;

use berth::docker::v1_41::{_ping, version};
use berth::{Client, Error, TlsMaterial};

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("mtls failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run() -> support::Result {
    let uri = support::docker_tls_uri();
    let docker = Client::builder(uri.clone())
        .tls(TlsMaterial::from_dir(support::cert_dir())?)
        .build()?;
    let pong = docker.invoke(_ping::SystemPing::default()).await?;
    let engine = docker.invoke(version::SystemVersion::default()).await?;
    println!(
        "{uri} with a client certificate: ping {pong:?}, engine {}",
        engine.version.unwrap_or_default()
    );

    // An encrypted key: berth does not decrypt keys, and says so before any connection.
    let encrypted = TlsMaterial::from_dir(support::cert_dir_encrypted())
        .and_then(|tls| Client::builder(uri.clone()).tls(tls).build());
    match encrypted {
        Err(Error::Config { message }) => println!("password-protected key: {message}"),
        Err(other) => return Err(format!("expected Error::Config, got {other}").into()),
        Ok(_) => return Err("a password-protected key was accepted".into()),
    }
    Ok(())
}
