//! Stored registry credentials against the htpasswd registry (`BERTH_REGISTRY`): a push
//! and a pull with credentials from a docker `config.json` only (base64 `auths`), and a
//! push and a build (`X-Registry-Config`) with credentials from a credential helper of the
//! test's own (`docker-credential-berthtest`, found on the snapshot's PATH: the process's
//! PATH is never changed). A failing and a missing helper are errors naming them.
//!
//! As elsewhere, a missing engine or registry fails under `CI` and skips otherwise.

#![cfg(feature = "docker-v1_41")]

mod common;

use std::path::PathBuf;

use berth::credentials::{CredentialStore, HelperFailure};
use berth::docker::v1_41::{build, images, models};
use berth::env::Environment;
use berth::{Client, Error};
use common::{within, Cleanup};

/// A scratch directory: `docker/` (DOCKER_CONFIG) and `bin/` (the snapshot's PATH).
struct Scratch(PathBuf);

impl Scratch {
    fn new(what: &str) -> Scratch {
        let dir = std::env::temp_dir().join(common::unique(what));
        std::fs::create_dir_all(dir.join("docker")).unwrap();
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        Scratch(dir)
    }

    fn env(&self) -> Environment {
        Environment::empty()
            .set("HOME", self.0.join("home"))
            .set("DOCKER_CONFIG", self.0.join("docker"))
            .set("PATH", self.0.join("bin"))
    }

    fn config(&self, json: &str) -> CredentialStore {
        std::fs::write(self.0.join("docker/config.json"), json).unwrap();
        CredentialStore::docker(&self.env()).unwrap()
    }

    /// `bin/docker-credential-<name>`, a shell script.
    fn helper(&self, name: &str, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.0.join(format!("bin/docker-credential-{name}"));
        std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The registry's credentials as `auths` holds them: base64 of `user:password`.
fn basic() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        common::registry_user(),
        common::registry_password()
    ))
}

/// A helper that holds the registry's credentials, and nothing else.
fn berthtest_helper(scratch: &Scratch) {
    scratch.helper(
        "berthtest",
        &format!(
            r#"read -r server || true
case "$1" in
get)
  if [ "$server" = "{registry}" ]; then
    printf '{{"ServerURL":"%s","Username":"{user}","Secret":"{password}"}}' "$server"
  else
    echo "credentials not found in native keychain"; exit 1
  fi ;;
list) printf '{{"{registry}":"{user}"}}' ;;
*) echo "unsupported: $1" >&2; exit 1 ;;
esac
"#,
            registry = common::registry(),
            user = common::registry_user(),
            password = common::registry_password(),
        ),
    );
}

/// Docker and the registry, or `None` (see `common::unavailable`).
async fn engines() -> Option<Client> {
    let client = common::docker().await?;
    common::registry_up().await.then_some(client)
}

/// Tags the test image as `<registry>/berth-creds/<unique>:v1` and pushes it with the
/// store's credentials for it: the repository and the pushed digest.
async fn push(client: &Client, cleanup: &Cleanup, store: &CredentialStore) -> (String, String) {
    let repo = format!(
        "{}/berth-creds/{}",
        common::registry(),
        common::unique("push")
    );
    cleanup.image(format!("{repo}:v1"));
    client
        .invoke(images::ImageTag {
            name: common::test_image(),
            repo: Some(repo.clone()),
            tag: Some("v1".into()),
        })
        .await
        .expect("ImageTag");
    let auth = store
        .for_image(&format!("{repo}:v1"))
        .await
        .expect("stored credentials")
        .expect("credentials for the registry are stored");
    assert_eq!(
        auth.serveraddress.as_deref(),
        Some(common::registry().as_str())
    );
    let pushing = client
        .invoke(images::ImagePush {
            name: repo.clone(),
            tag: Some("v1".into()),
            x_registry_auth: auth,
        })
        .await
        .expect("ImagePush");
    let pushed: Vec<models::PushImageInfo> = within(120, "push", pushing.collect_all())
        .await
        .expect("a push with the stored credentials");
    let digest = pushed
        .iter()
        .filter_map(|i| i.status.as_deref())
        .find_map(|s| s.split("digest: ").nth(1)?.split_whitespace().next())
        .unwrap_or_else(|| panic!("no digest in the push progress: {pushed:?}"))
        .to_string();
    (repo, digest)
}

/// Removes the local tag, so that the next use of the image goes to the registry.
async fn untag(client: &Client, image: &str) {
    client
        .invoke(images::ImageDelete {
            name: image.to_string(),
            ..Default::default()
        })
        .await
        .expect("ImageDelete");
}

/// Leaves the registry as it was: deletes the pushed manifest.
async fn delete_manifest(repo: &str, digest: &str) {
    let path = repo.split_once('/').map(|(_, path)| path).unwrap();
    let registry = Client::new(&format!("http://{}", common::registry())).unwrap();
    let removed = registry
        .request(
            berth::Method::Delete,
            format!("/v2/{path}/manifests/{digest}"),
        )
        .header("Authorization", format!("Basic {}", basic()))
        .send()
        .await
        .expect("registry manifest delete");
    assert_eq!(removed.status(), 202);
}

#[tokio::test]
async fn push_and_pull_with_credentials_from_auths() {
    let Some(client) = engines().await else {
        return;
    };
    let cleanup = Cleanup::new(&client);
    let scratch = Scratch::new("creds-auths");
    // Keyed as older CLIs wrote it, with a scheme and a path: matched by its host.
    let store = scratch.config(&format!(
        r#"{{"auths": {{"http://{}/v1/": {{"auth": "{}"}}}}}}"#,
        common::registry(),
        basic()
    ));
    let (repo, digest) = push(&client, &cleanup, &store).await;
    untag(&client, &format!("{repo}:v1")).await;

    // Without stored credentials the pull is refused: the credentials are what worked.
    let nothing = CredentialStore::docker_file(scratch.0.join("no-such.json"), &scratch.env());
    let none = nothing.for_image(&repo).await.unwrap();
    assert!(none.is_none());
    let refused = match client
        .invoke(images::ImageCreate {
            from_image: Some(repo.clone()),
            tag: Some("v1".into()),
            x_registry_auth: none,
            ..Default::default()
        })
        .await
    {
        Ok(progress) => within(60, "anonymous pull", progress.collect_all())
            .await
            .map(|_: Vec<models::CreateImageInfo>| ())
            .expect_err("an anonymous pull is refused"),
        Err(e) => e,
    };
    assert!(
        refused.to_string().to_lowercase().contains("auth"),
        "{refused}"
    );

    let pulling = client
        .invoke(images::ImageCreate {
            from_image: Some(repo.clone()),
            tag: Some("v1".into()),
            x_registry_auth: store.for_image(&repo).await.unwrap(),
            ..Default::default()
        })
        .await
        .expect("ImageCreate");
    let pulled: Vec<models::CreateImageInfo> = within(120, "pull", pulling.collect_all())
        .await
        .expect("a pull with the stored credentials");
    assert!(
        pulled
            .iter()
            .filter_map(|i| i.status.as_deref())
            .any(|s| s.contains(&digest)),
        "{pulled:?}"
    );
    delete_manifest(&repo, &digest).await;
}

#[tokio::test]
async fn push_and_build_with_credentials_from_a_helper() {
    let Some(client) = engines().await else {
        return;
    };
    let cleanup = Cleanup::new(&client);
    let scratch = Scratch::new("creds-helper");
    berthtest_helper(&scratch);
    // The auths entry is the placeholder the CLI leaves when a store holds the secret.
    let store = scratch.config(&format!(
        r#"{{"auths": {{"{}": {{}}}}, "credsStore": "berthtest"}}"#,
        common::registry()
    ));
    let (repo, digest) = push(&client, &cleanup, &store).await;
    untag(&client, &format!("{repo}:v1")).await;

    // The build's FROM is pulled with X-Registry-Config: `list`, then `get` each.
    let config = store.all().await.expect("all stored credentials");
    assert_eq!(
        config.0.keys().collect::<Vec<_>>(),
        [&common::registry()],
        "{config:?}"
    );
    let tag = format!("berth-it/{}:latest", common::unique("creds-build"));
    cleanup.image(tag.clone());
    let dockerfile = format!("FROM {repo}:v1\nLABEL berth-it=creds\n");
    let building = client
        .invoke(build::ImageBuild {
            t: Some(tag.clone()),
            rm: Some(true),
            x_registry_config: Some(config),
            body: Some(common::tar_of(&[("Dockerfile", 0o644, dockerfile.as_bytes())]).into()),
            ..Default::default()
        })
        .await
        .expect("ImageBuild");
    let items: Vec<models::BuildInfo> = within(180, "build", building.collect_all())
        .await
        .expect("a build whose FROM needs the stored credentials");
    let text: String = items.iter().filter_map(|i| i.stream.as_deref()).collect();
    assert!(text.contains("Successfully tagged"), "{text}");
    let statuses: Vec<&str> = items.iter().filter_map(|i| i.status.as_deref()).collect();
    assert!(
        statuses.iter().any(|s| s.contains("Pulling from")),
        "the base image came from the registry: {statuses:?}"
    );
    delete_manifest(&repo, &digest).await;
}

/// No engine needed: a helper that fails, and one that does not exist, are errors naming
/// them (what a pull would have been given instead of anonymous access).
#[tokio::test]
async fn failing_and_missing_helpers_are_errors_naming_them() {
    let scratch = Scratch::new("creds-failing");
    scratch.helper("berthfail", "echo 'the keychain is locked' >&2\nexit 4\n");
    let registry = common::registry();
    let image = format!("{registry}/berth-creds/app:1");

    let failing = scratch.config(r#"{"credsStore": "berthfail"}"#);
    let e = failing.for_image(&image).await.unwrap_err();
    match &e {
        Error::CredentialHelper {
            helper,
            action,
            failure: HelperFailure::Failed { status, output },
        } => {
            assert_eq!(helper, "docker-credential-berthfail");
            assert_eq!(action, &format!("get {registry}"));
            assert!(status.contains('4') && output.contains("the keychain is locked"));
        }
        other => panic!("{other:?}"),
    }
    eprintln!("a failing helper: {e}");

    let missing = scratch.config(&format!(
        r#"{{"credHelpers": {{"{registry}": "berthmissing"}}}}"#
    ));
    let e = missing.for_image(&image).await.unwrap_err();
    assert!(
        matches!(&e, Error::CredentialHelper { helper, failure: HelperFailure::NotFound { .. }, .. }
            if helper == "docker-credential-berthmissing"),
        "{e:?}"
    );
    let bin = scratch.0.join("bin");
    assert!(e.to_string().contains(&bin.display().to_string()), "{e}");
    eprintln!("a missing helper: {e}");
    // Other registries do not ask that helper.
    assert!(missing.for_image("busybox").await.unwrap().is_none());
}
