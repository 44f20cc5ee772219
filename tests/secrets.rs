//! Registry passwords, identity tokens, swarm tokens and private keys never appear in
//! `Debug`, `Display` or errors: every type that holds one, by hand-written or generated
//! `Debug`, and the errors of calls that carried them (a refused login to the real
//! registry, a bad key, a URI with a password).

mod common;

use berth::auth::{RegistryAuth, RegistryConfig};
use berth::TlsMaterial;

const SECRET: &str = "s3cret-Value-9f2c";

/// Fails naming the place when the secret shows in `text`.
fn hidden(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} shows the secret: {text}");
    // Nor its base64 (X-Registry-Auth is base64url JSON).
    assert!(
        !text.contains("czNjcmV0LVZhbHVlLTlmMmM"),
        "{what} shows the secret in base64: {text}"
    );
}

fn debug_hides<T: std::fmt::Debug>(what: &str, value: &T) {
    let shown = format!("{value:?} {value:#?}");
    hidden(what, &shown);
}

/// A value of a generated type with every field named in `secret_fields` set to the secret.
fn with_secrets<T: serde::de::DeserializeOwned>(secret_fields: &[&str]) -> T {
    let object: serde_json::Map<String, serde_json::Value> = secret_fields
        .iter()
        .map(|k| (k.to_string(), serde_json::Value::String(SECRET.into())))
        .collect();
    let value: T = serde_json::from_value(object.into()).expect("decodes");
    value
}

#[test]
fn registry_credentials() {
    debug_hides(
        "RegistryAuth (password)",
        &RegistryAuth::password("me", SECRET, "r:5000"),
    );
    debug_hides(
        "RegistryAuth (identity token)",
        &RegistryAuth::identity_token(SECRET, "r:5000"),
    );
    let full = RegistryAuth {
        registrytoken: Some(SECRET.into()),
        ..RegistryAuth::password("me", SECRET, "r:5000")
    };
    debug_hides("RegistryAuth (registry token)", &full);
    debug_hides("RegistryConfig", &RegistryConfig::default().with(full));
}

#[test]
fn private_keys_and_clients_that_hold_them() {
    let key = format!("-----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----\n");
    let tls = TlsMaterial::from_pem(b"ca".to_vec(), b"cert".to_vec(), key.into_bytes());
    debug_hides("TlsMaterial", &tls);
    let builder = berth::Client::builder("https://127.0.0.1:1").tls(tls.clone());
    debug_hides("ClientBuilder", &builder);
    // The key does not parse: the error says so without quoting it.
    let error = builder
        .build()
        .expect_err("a key that is not PEM is refused");
    hidden("the error of a bad key", &format!("{error} {error:?}"));

    // A client that holds a real key.
    let dir = common::cert_dir();
    if let Ok(real) = TlsMaterial::from_dir(&dir) {
        let pem = String::from_utf8(real.key.clone().unwrap()).unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let client = berth::Client::builder(common::docker_tls_uri())
            .tls(real)
            .build()
            .expect("client");
        let shown = format!("{client:?} {client:#?}");
        assert!(
            !shown.contains(&body[..40]),
            "Client shows its private key: {shown}"
        );
    }
}

#[test]
fn uris_with_a_password() {
    let error = berth::Client::new(&format!("https://me:{SECRET}@127.0.0.1:2376"))
        .expect_err("credentials in an https URI are refused");
    hidden("InvalidUri", &format!("{error} {error:?}"));
    let error = berth::Client::new(&format!("ssh://me:{SECRET}@127.0.0.1:22"))
        .expect_err("a password in an ssh URI is refused");
    hidden("InvalidUri (ssh)", &format!("{error} {error:?}"));
}

#[test]
fn calls_by_name_hide_secret_keys() {
    use berth::dynamic::Data;
    let data = Data::Json(serde_json::json!({
        "username": "me", "password": SECRET, "identitytoken": SECRET, "auth": SECRET
    }));
    debug_hides("dynamic::Data", &data);
}

#[cfg(feature = "docker-v1_41")]
#[test]
fn generated_docker_types() {
    use berth::docker::v1_41::models;
    use berth::docker::v1_41::{auth as system, swarm};
    let auth: models::AuthConfig = with_secrets(&["password"]);
    assert_eq!(
        auth.password.as_deref(),
        Some(SECRET),
        "the value is still there"
    );
    debug_hides("AuthConfig", &auth);
    debug_hides("SystemAuth", &system::SystemAuth { body: Some(auth) });
    let answer: models::SystemAuthResponse = with_secrets(&["IdentityToken"]);
    debug_hides(
        "SystemAuth's answer",
        &system::SystemAuthResponse::Ok(answer),
    );
    let tokens: models::JoinTokens = with_secrets(&["Worker", "Manager"]);
    debug_hides("JoinTokens", &tokens);
    let join: models::SwarmJoinBody = with_secrets(&["JoinToken"]);
    debug_hides("SwarmJoin", &swarm::SwarmJoin { body: join });
    let unlock: models::SwarmUnlockBody = with_secrets(&["UnlockKey"]);
    debug_hides("SwarmUnlock", &unlock);
    let key: swarm::SwarmUnlockkeyResponse = with_secrets(&["UnlockKey"]);
    debug_hides("SwarmUnlockkey's answer", &key);
    let spec: models::SecretSpec = with_secrets(&["Data"]);
    debug_hides("SecretSpec", &spec);
    let create: models::SecretCreateBody = with_secrets(&["Data"]);
    debug_hides("SecretCreate's body", &create);
    let pull = berth::docker::v1_41::images::ImageCreate {
        x_registry_auth: Some(RegistryAuth::password("me", SECRET, "r:5000")),
        ..Default::default()
    };
    debug_hides("ImageCreate", &pull);
    let build = berth::docker::v1_41::build::ImageBuild {
        x_registry_config: Some(
            RegistryConfig::default().with(RegistryAuth::password("me", SECRET, "r:5000")),
        ),
        ..Default::default()
    };
    debug_hides("ImageBuild", &build);
}

#[cfg(feature = "podman-v5_1_0")]
#[test]
fn generated_podman_types() {
    use berth::podman::v5_1_0::models;
    let auth: models::AuthConfig =
        with_secrets(&["password", "auth", "identitytoken", "registrytoken"]);
    debug_hides("podman AuthConfig", &auth);
    debug_hides(
        "podman AuthReport",
        &with_secrets::<models::AuthReport>(&["IdentityToken"]),
    );
    debug_hides(
        "podman SecretInfoReport",
        &with_secrets::<models::SecretInfoReport>(&["SecretData"]),
    );
}

#[cfg(feature = "podman-v4_9")]
#[test]
fn generated_podman_4_types() {
    use berth::podman::v4_9::models;
    let auth: models::AuthConfig = with_secrets(&["password", "auth", "identitytoken"]);
    debug_hides("podman 4.9 AuthConfig", &auth);
}

/// The real registry refuses a wrong password: the error, however printed, does not
/// carry the password that was sent.
#[cfg(feature = "docker-v1_41")]
#[tokio::test]
async fn a_refused_login_does_not_echo_the_password() {
    use berth::docker::v1_41::{auth as system, images, models};
    let Some(docker) = common::docker().await else {
        return;
    };
    if !common::registry_up().await {
        return;
    }
    let registry = common::registry();
    let login = docker
        .invoke(system::SystemAuth {
            body: Some(models::AuthConfig {
                username: Some(common::registry_user()),
                password: Some(SECRET.into()),
                serveraddress: Some(registry.clone()),
                ..Default::default()
            }),
        })
        .await
        .expect_err("a wrong password is refused");
    assert!(matches!(login, berth::Error::Api(_)), "{login:?}");
    eprintln!("the registry refused the login: {login}");
    hidden("SystemAuth's error", &format!("{login} {login:?}"));

    let pull = docker
        .invoke(images::ImageCreate {
            from_image: Some(format!("{registry}/berth-secrets/none:latest")),
            x_registry_auth: Some(RegistryAuth::password(
                common::registry_user(),
                SECRET,
                registry.clone(),
            )),
            ..Default::default()
        })
        .await;
    let error = match pull {
        Err(e) => e,
        Ok(progress) => progress
            .collect_all()
            .await
            .expect_err("a pull with a wrong password fails"),
    };
    eprintln!("the pull failed: {error}");
    hidden("ImageCreate's error", &format!("{error} {error:?}"));
}

/// Stored credentials: what a lookup gives, the build's whole config, and the error of a
/// file whose value is malformed, however printed, do not show the secret.
#[tokio::test]
async fn stored_credentials() {
    use base64::Engine as _;
    use berth::credentials::CredentialStore;
    let dir = std::env::temp_dir().join(common::unique("secrets-store"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config.json");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("me:{SECRET}"));
    std::fs::write(
        &file,
        format!(r#"{{"auths": {{"r:5000": {{"auth": "{basic}", "identitytoken": "{SECRET}"}}}}}}"#),
    )
    .unwrap();
    let env = berth::env::Environment::empty();
    let store = CredentialStore::docker_file(&file, &env);
    let auth = store.for_image("r:5000/a").await.unwrap().unwrap();
    assert_eq!(auth.password.as_deref(), Some(SECRET), "the value is there");
    debug_hides("a stored RegistryAuth", &auth);
    debug_hides("all stored credentials", &store.all().await.unwrap());
    debug_hides("CredentialStore", &store);

    std::fs::write(
        &file,
        format!(r#"{{"auths": {{"r:5000": {{"auth": {{"{SECRET}": 1}}}}}}}}"#),
    )
    .unwrap();
    let error = store.for_image("r:5000/a").await.unwrap_err();
    hidden(
        "a malformed config.json's error",
        &format!("{error} {error:?}"),
    );
    std::fs::write(
        &file,
        format!(r#"{{"auths": {{"r:5000": {{"auth": "{SECRET}"}}}}}}"#),
    )
    .unwrap();
    let error = store.for_image("r:5000/a").await.unwrap_err();
    hidden("a bad auth's error", &format!("{error} {error:?}"));
    let _ = std::fs::remove_dir_all(&dir);
}
