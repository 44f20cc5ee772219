//! TCP with mutual TLS against dockerd: the trusted client certificate, an untrusted
//! one, none, a server certificate from an unknown CA, an encrypted key, bad material, and
//! a hijacked connection over TLS (the `tls` feature: rustls).

#![cfg(all(feature = "docker-v1_41", feature = "tls"))]

mod common;

use std::time::Duration;

use berth::docker::v1_41::{_ping, version};
use berth::{Client, Error, TlsMaterial};

#[tokio::test]
async fn mtls_with_the_client_certificate() {
    let Some(client) = common::docker_tls().await else {
        return;
    };
    assert_eq!(client.endpoint(), common::docker_tls_uri());
    assert_eq!(
        client.invoke(_ping::SystemPing {}).await.unwrap().body,
        "OK"
    );
    let version = client.invoke(version::SystemVersion {}).await.unwrap();
    let sent = common::engine_version(&client).await;
    assert_eq!(version.api_version.as_deref(), sent["ApiVersion"].as_str());

    // tcp:// with TLS material means TLS, as with the docker CLI.
    let tcp = common::docker_tls_uri().replace("https://", "tcp://");
    let client = Client::builder(tcp.clone())
        .tls(TlsMaterial::from_dir(common::cert_dir()).unwrap())
        .build()
        .unwrap();
    assert_eq!(client.endpoint(), tcp, "as written");
    assert_eq!(
        client.invoke(_ping::SystemPing {}).await.unwrap().body,
        "OK"
    );
}

/// What a refused handshake must look like: `Error::Tls` naming the endpoint.
fn assert_tls_refusal(error: &Error, what: &str) {
    match error {
        Error::Tls { endpoint, message } => {
            assert_eq!(endpoint, &common::docker_tls_uri(), "{what}");
            assert!(!message.is_empty(), "{what}");
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("TLS with {} failed: ", common::docker_tls_uri())),
                "{what}: {error}"
            );
        }
        other => panic!("{what}: expected Error::Tls, got {other:?} ({other})"),
    }
}

#[tokio::test]
async fn mtls_with_an_untrusted_certificate_is_refused() {
    if common::docker_tls().await.is_none() {
        return;
    }
    let tls = TlsMaterial::from_dir(common::cert_dir_untrusted()).unwrap();
    let client = Client::builder(common::docker_tls_uri())
        .tls(tls)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let error = client
        .invoke(_ping::SystemPing {})
        .await
        .expect_err("dockerd must refuse a client certificate from another CA");
    assert_tls_refusal(&error, "untrusted client certificate");
    let Error::Tls { message, .. } = &error else {
        unreachable!()
    };
    assert!(
        message.starts_with(
            "the engine refused the client certificate — it was not signed by a CA the engine trusts"
        ),
        "the refusal in words: {message}"
    );
}

#[tokio::test]
async fn mtls_without_a_client_certificate_is_refused() {
    if common::docker_tls().await.is_none() {
        return;
    }
    let ca = std::fs::read(format!("{}/ca.pem", common::cert_dir())).unwrap();
    let tls = TlsMaterial {
        ca: Some(ca),
        cert: None,
        key: None,
        ..Default::default()
    };
    let client = Client::builder(common::docker_tls_uri())
        .tls(tls)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let error = client
        .invoke(_ping::SystemPing {})
        .await
        .expect_err("dockerd requires a client certificate");
    assert_tls_refusal(&error, "no client certificate");
    let Error::Tls { message, .. } = &error else {
        unreachable!()
    };
    assert!(
        message.starts_with("the engine refused the client certificate — none was given"),
        "the refusal in words: {message}"
    );
}

#[tokio::test]
async fn a_server_certificate_from_an_unknown_ca_is_refused() {
    if common::docker_tls().await.is_none() {
        return;
    }
    // Trust only the rogue CA: dockerd's certificate does not chain to it.
    let dir = common::cert_dir_untrusted();
    let rogue = std::fs::read(format!("{dir}/rogue-ca.pem")).unwrap();
    let mut tls = TlsMaterial::from_dir(common::cert_dir()).unwrap();
    tls.ca = Some(rogue);
    let client = Client::builder(common::docker_tls_uri())
        .tls(tls)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let error = client
        .invoke(_ping::SystemPing {})
        .await
        .expect_err("the server certificate is not trusted");
    assert_tls_refusal(&error, "unknown server CA");
    let Error::Tls { message, .. } = &error else {
        unreachable!()
    };
    assert!(
        // rustls says UnknownIssuer; OpenSSL "unable to get local issuer certificate".
        message.to_lowercase().contains("issuer"),
        "{message}"
    );
}

#[tokio::test]
async fn an_encrypted_key_is_a_config_error() {
    let dir = common::cert_dir_encrypted();
    if !std::path::Path::new(&dir).join("key.pem").exists() {
        let _: Option<()> = common::unavailable("the encrypted client key", &dir, &"no key.pem");
        return;
    }
    let tls = TlsMaterial::from_dir(&dir).unwrap();
    let error = Client::builder(common::docker_tls_uri())
        .tls(tls)
        .build()
        .expect_err("an encrypted key cannot be used");
    match &error {
        Error::Config { message } => {
            assert!(message.contains("password-protected"), "{message}");
            assert!(
                message.contains("openssl pkey"),
                "the message says how to decrypt it: {message}"
            );
        }
        other => panic!("expected Error::Config, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_tls_material_is_a_config_error() {
    let not_pem = TlsMaterial::from_pem(b"not a pem".to_vec(), b"x".to_vec(), b"y".to_vec());
    let error = Client::builder("https://127.0.0.1:2376")
        .tls(not_pem)
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, Error::Config { message } if message.contains("CA")),
        "{error:?}"
    );

    let cert_only = TlsMaterial {
        ca: None,
        cert: Some(b"-----BEGIN CERTIFICATE-----".to_vec()),
        key: None,
        ..Default::default()
    };
    let error = Client::builder("https://127.0.0.1:2376")
        .tls(cert_only)
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, Error::Config { message } if message.contains("needs its key")),
        "{error:?}"
    );

    let missing = TlsMaterial::from_dir("/nonexistent/berth-certs").unwrap_err();
    assert!(
        matches!(&missing, Error::Config { message } if message.contains("/nonexistent/berth-certs/ca.pem")),
        "{missing:?}"
    );
}

/// A hijacked connection over mutual TLS: exec `cat` with stdin, write, close the write
/// half (a TLS close_notify), read the echo back.
#[tokio::test]
async fn mtls_hijacked_exec_with_stdin() {
    use berth::docker::v1_41::{containers, exec, models};
    use tokio::io::AsyncWriteExt;
    let Some(tls_client) = common::docker_tls().await else {
        return;
    };
    let Some(unix_client) = common::docker().await else {
        return;
    };
    let cleanup = common::Cleanup::new(&unix_client);
    let created = tls_client
        .invoke(containers::ContainerCreate {
            name: Some(common::unique("tlsexec")),
            body: models::ContainerCreateBody {
                image: Some(common::test_image()),
                cmd: Some(vec!["sleep".into(), "300".into()]),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .expect("ContainerCreate over mTLS");
    cleanup.container(created.id.clone());
    tls_client
        .invoke(containers::ContainerStart {
            id: created.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();

    let exec_id = tls_client
        .invoke(containers::ContainerExec {
            id: created.id.clone(),
            body: models::ContainerExecBody {
                attach_stdin: Some(true),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                cmd: Some(vec![
                    "sh".into(),
                    "-c".into(),
                    "tr a-z A-Z; echo end >&2".into(),
                ]),
                ..Default::default()
            },
        })
        .await
        .unwrap()
        .id;
    let upgraded = tls_client
        .invoke(exec::ExecStart {
            id: exec_id.clone(),
            body: models::ExecStartBody {
                detach: Some(false),
                tty: Some(false),
                ..Default::default()
            },
        })
        .await
        .expect("ExecStart over mTLS");
    let (frames, mut stdin) = upgraded.split(false);
    let input = "over tls\n".repeat(2000);
    stdin.write_all(input.as_bytes()).await.unwrap();
    stdin.shutdown().await.unwrap();
    let (out, err) = common::within(30, "exec output over mTLS", frames.collect_output())
        .await
        .unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), input.to_uppercase());
    assert_eq!(String::from_utf8(err).unwrap(), "end\n");
    let inspected = tls_client
        .invoke(exec::ExecInspect { id: exec_id })
        .await
        .unwrap();
    assert_eq!(inspected.exit_code, Some(0));
}
