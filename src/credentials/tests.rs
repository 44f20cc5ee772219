//! Lookups over files and helper scripts written to scratch dirs (helpers found on the
//! snapshot's PATH, the process's left alone).

use super::*;
use crate::test_dir::TestDir;
use crate::Error;

const SECRET: &str = "s3cret-unit-7e1";

/// base64 of `user:s3cret-unit-7e1`.
fn basic(user: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{SECRET}"))
}

/// An environment whose PATH is the dir's `bin` only.
fn env_for(dir: &TestDir) -> Environment {
    Environment::empty()
        .set("HOME", dir.path().join("home"))
        .set("DOCKER_CONFIG", dir.path().join("docker"))
        .set("PATH", dir.path().join("bin"))
}

/// `docker-credential-<name>`: answers `get` for `r:5000` and Docker Hub, `list` with
/// both; anything else is not found.
fn fake_helper(dir: &TestDir, name: &str, user: &str) {
    dir.script(
        &format!("bin/docker-credential-{name}"),
        &format!(
            r#"read -r server || true
case "$1" in
get)
  case "$server" in
  r:5000) printf '{{"ServerURL":"%s","Username":"{user}","Secret":"{SECRET}"}}' "$server" ;;
  https://index.docker.io/v1/) printf '{{"ServerURL":"%s","Username":"<token>","Secret":"{SECRET}"}}' "$server" ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
  esac ;;
list) printf '{{"r:5000":"{user}","https://index.docker.io/v1/":"<token>"}}' ;;
*) exit 2 ;;
esac
"#
        ),
    );
}

#[test]
fn auths_match_as_the_cli_matches_them() {
    let dir = TestDir::new("creds-auths");
    dir.write(
        "docker/config.json",
        format!(
            r#"{{"auths": {{
                "https://127.0.0.1:5000/v1/": {{"auth": "{}"}},
                "https://index.docker.io/v1/": {{"auth": "{}"}},
                "placeholder:1": {{}}
            }}}}"#,
            basic("local"),
            basic("hub")
        ),
    );
    let store = CredentialStore::docker(&env_for(&dir)).unwrap();
    let local = store
        .for_image_blocking("127.0.0.1:5000/team/app:1")
        .unwrap()
        .unwrap();
    assert_eq!(local.username.as_deref(), Some("local"));
    assert_eq!(local.password.as_deref(), Some(SECRET));
    assert_eq!(local.serveraddress.as_deref(), Some("127.0.0.1:5000"));
    for hub in [
        "busybox",
        "me/app:1",
        "docker.io/library/busybox",
        "index.docker.io/x/y",
    ] {
        let auth = store.for_image_blocking(hub).unwrap().unwrap();
        assert_eq!(auth.username.as_deref(), Some("hub"), "{hub}");
        assert_eq!(auth.serveraddress.as_deref(), Some(DOCKER_HUB));
    }
    for hub in ["docker.io", "registry-1.docker.io", DOCKER_HUB] {
        assert!(store.for_registry_blocking(hub).unwrap().is_some(), "{hub}");
    }
    assert_eq!(store.for_registry_blocking("placeholder:1").unwrap(), None);
    assert_eq!(store.for_image_blocking("quay.io/x/y").unwrap(), None);

    let all = store.all_blocking().unwrap();
    let mut keys: Vec<_> = all.0.keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["127.0.0.1:5000", DOCKER_HUB]);

    // No file at all: nothing stored, not an error.
    let empty = TestDir::new("creds-none");
    let store = CredentialStore::docker(&env_for(&empty)).unwrap();
    assert_eq!(store.for_image_blocking("busybox").unwrap(), None);
    assert!(store.all_blocking().unwrap().0.is_empty());
}

#[test]
fn podman_files_come_in_order_with_namespaces() {
    let dir = TestDir::new("creds-podman");
    let env = env_for(&dir)
        .set("REGISTRY_AUTH_FILE", dir.path().join("explicit.json"))
        .set("XDG_RUNTIME_DIR", dir.path().join("run"));
    let store = CredentialStore::podman(&env);
    let files: Vec<_> = store.files().map(Path::to_path_buf).collect();
    assert_eq!(
        files,
        [
            dir.path().join("explicit.json"),
            dir.path().join("run/containers/auth.json"),
            dir.path().join("home/.config/containers/auth.json"),
            dir.path().join("docker/config.json"),
        ]
    );
    dir.write(
        "run/containers/auth.json",
        format!(
            r#"{{"auths": {{"quay.io/team": {{"auth": "{}"}}, "quay.io": {{"auth": "{}"}},
                            "docker.io": {{"auth": "{}"}}}}}}"#,
            basic("team"),
            basic("quay"),
            basic("hub-podman")
        ),
    );
    dir.write(
        "docker/config.json",
        format!(
            r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{}"}}, "r:5000": {{"auth": "{}"}}}}}}"#,
            basic("hub-docker"),
            basic("docker")
        ),
    );
    let user = |image: &str| {
        store
            .for_image_blocking(image)
            .unwrap()
            .and_then(|a| a.username)
    };
    assert_eq!(user("quay.io/team/app:1").as_deref(), Some("team"));
    assert_eq!(user("quay.io/other/app").as_deref(), Some("quay"));
    // The first file holding credentials wins; later files fill in the rest.
    assert_eq!(user("busybox").as_deref(), Some("hub-podman"));
    assert_eq!(user("r:5000/x").as_deref(), Some("docker"));
    let all = store.all_blocking().unwrap();
    assert_eq!(all.0[DOCKER_HUB].username.as_deref(), Some("hub-podman"));
    assert_eq!(all.0["r:5000"].username.as_deref(), Some("docker"));
    assert!(all.0.contains_key("quay.io"));
}

#[cfg(unix)]
#[test]
fn helpers_answer_for_the_store_and_per_registry() {
    let dir = TestDir::new("creds-helpers");
    fake_helper(&dir, "store", "from-store");
    fake_helper(&dir, "special", "from-special");
    dir.write(
        "docker/config.json",
        format!(
            r#"{{"credsStore": "store", "credHelpers": {{"special:1": "special"}},
                "auths": {{"r:5000": {{"auth": "{}"}}}}}}"#,
            basic("ignored-with-a-store")
        ),
    );
    let store = CredentialStore::docker(&env_for(&dir)).unwrap();
    let r = store.for_registry_blocking("r:5000").unwrap().unwrap();
    assert_eq!(r.username.as_deref(), Some("from-store"));
    assert_eq!(r.password.as_deref(), Some(SECRET));
    // `<token>` means the secret is an identity token.
    let hub = store.for_image_blocking("busybox").unwrap().unwrap();
    assert_eq!(hub.identitytoken.as_deref(), Some(SECRET));
    assert_eq!((hub.username, hub.password), (None, None));
    // The helper does not hold it: nothing stored, not an error.
    assert_eq!(store.for_registry_blocking("elsewhere:1").unwrap(), None);
    // credHelpers beats credsStore (the special helper holds nothing for special:1).
    assert_eq!(store.for_registry_blocking("special:1").unwrap(), None);

    let all = store.all_blocking().unwrap();
    assert_eq!(all.0["r:5000"].username.as_deref(), Some("from-store"));
    assert!(all.0[DOCKER_HUB].identitytoken.is_some());

    let shown = format!("{store:?} {all:?} {r:?}");
    assert!(!shown.contains(SECRET), "{shown}");
}

#[cfg(unix)]
#[test]
fn helpers_that_fail_are_errors_naming_them() {
    let dir = TestDir::new("creds-failing");
    dir.script(
        "bin/docker-credential-broken",
        &format!("echo 'keychain is locked' >&2\necho '{SECRET}-not-shown' >/dev/null\nexit 3\n"),
    );
    dir.script(
        "bin/docker-credential-garbled",
        &format!("echo '{{\"Secret\": {SECRET}'\n"),
    );
    dir.script("bin/docker-credential-slow", "sleep 5\n");
    let env = env_for(&dir);
    let config = |store: &str| {
        dir.write(
            "docker/config.json",
            format!(r#"{{"credsStore": "{store}"}}"#),
        );
        CredentialStore::docker(&env).unwrap()
    };

    let e = config("broken")
        .for_registry_blocking("r:5000")
        .unwrap_err();
    match &e {
        Error::CredentialHelper {
            helper,
            action,
            failure: HelperFailure::Failed { output, .. },
        } => {
            assert_eq!(helper, "docker-credential-broken");
            assert_eq!(action, "get r:5000");
            assert!(output.contains("keychain is locked"), "{output}");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("exit status: 3"), "{e}");

    let e = config("absent")
        .for_registry_blocking("r:5000")
        .unwrap_err();
    assert!(
        matches!(&e, Error::CredentialHelper { helper, failure: HelperFailure::NotFound { .. }, .. }
            if helper == "docker-credential-absent"),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains(&dir.path().join("bin").display().to_string()),
        "{e}"
    );

    let e = config("garbled")
        .for_registry_blocking("r:5000")
        .unwrap_err();
    assert!(
        matches!(
            &e,
            Error::CredentialHelper {
                failure: HelperFailure::BadAnswer { .. },
                ..
            }
        ),
        "{e:?}"
    );
    assert!(!format!("{e} {e:?}").contains(SECRET), "{e:?}");

    let started = std::time::Instant::now();
    let e = config("slow")
        .helper_timeout(Duration::from_millis(300))
        .all_blocking()
        .unwrap_err();
    assert!(
        matches!(&e, Error::CredentialHelper { action, failure: HelperFailure::TimedOut { .. }, .. }
            if action == "list"),
        "{e:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the slow helper was killed"
    );
}

#[test]
fn malformed_files_are_errors_naming_them_without_values() {
    let dir = TestDir::new("creds-malformed");
    let path = dir.write(
        "docker/config.json",
        format!(r#"{{"auths": {{"r:5000": {{"auth": ["{SECRET}"]}}}}}}"#),
    );
    let e = CredentialStore::docker(&env_for(&dir))
        .unwrap()
        .for_registry_blocking("r:5000")
        .unwrap_err();
    assert!(
        matches!(&e, Error::ConfigFile { path: p, .. } if *p == path),
        "{e:?}"
    );
    assert!(!format!("{e} {e:?}").contains(SECRET), "{e:?}");
}

#[tokio::test]
async fn the_async_lookups_give_the_same_answers() {
    let dir = TestDir::new("creds-async");
    dir.write(
        "docker/config.json",
        format!(r#"{{"auths": {{"r:5000": {{"auth": "{}"}}}}}}"#, basic("u")),
    );
    let store = CredentialStore::docker(&env_for(&dir)).unwrap();
    let auth = store.for_image("r:5000/a/b").await.unwrap();
    assert_eq!(auth, store.for_registry_blocking("r:5000").unwrap());
    assert!(store.for_registry("other:1").await.unwrap().is_none());
    assert_eq!(store.all().await.unwrap().0.len(), 1);
}
