//! What every example shares: where the engines are (the same variables, with the same
//! defaults, as the test suite: `BERTH_DOCKER_SOCK`, `BERTH_PODMAN_SOCK`, `BERTH_REGISTRY`,
//! ... — `scripts/engines` writes them to `/tmp/berth-engines/env`) and unique names.

#![allow(dead_code)]

use std::time::Duration;

use berth::Client;

pub type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

pub fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

pub fn docker_uri() -> String {
    format!(
        "unix://{}",
        env_or("BERTH_DOCKER_SOCK", "/var/run/docker.sock")
    )
}

pub fn podman_uri() -> String {
    format!(
        "unix://{}",
        env_or("BERTH_PODMAN_SOCK", "/run/podman/podman.sock")
    )
}

pub fn docker_tls_uri() -> String {
    env_or("BERTH_DOCKER_TLS_HOST", "https://127.0.0.1:2376")
}

pub fn cert_dir() -> String {
    env_or("BERTH_DOCKER_CERT_PATH", "/tmp/berth-engines/certs/client")
}

pub fn cert_dir_encrypted() -> String {
    env_or(
        "BERTH_DOCKER_CERT_PATH_ENCRYPTED",
        "/tmp/berth-engines/certs/client-encrypted",
    )
}

/// `127.0.0.1:5000`: the htpasswd registry.
pub fn registry() -> String {
    env_or("BERTH_REGISTRY", "127.0.0.1:5000")
}

pub fn registry_user() -> String {
    env_or("BERTH_REGISTRY_USER", "berth")
}

pub fn registry_password() -> String {
    env_or("BERTH_REGISTRY_PASSWORD", "berth-pass")
}

/// An image both engines have locally (nothing is pulled from the internet).
pub fn test_image() -> String {
    env_or("BERTH_TEST_IMAGE", "berth-test/busybox:latest")
}

fn client(uri: String) -> Result<Client> {
    Ok(Client::builder(uri)
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(120))
        .build()?)
}

pub fn docker() -> Result<Client> {
    client(docker_uri())
}

pub fn podman() -> Result<Client> {
    client(podman_uri())
}

/// A name no other run uses: `berth-example-<what>-<pid>-<n>`.
pub fn unique(what: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("berth-example-{what}-{}-{n}", std::process::id())
}

/// A tar archive in memory, made with the `tar` crate: `(path, mode, contents)` entries.
pub fn tar_of(entries: &[(&str, u32, &[u8])]) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, mode, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(*mode);
        header.set_mtime(0);
        builder.append_data(&mut header, path, *data)?;
    }
    builder.into_inner()
}

/// The files of a tar archive: `(path, contents)`.
pub fn files_in_tar(archive: &[u8]) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    use std::io::Read;
    let mut files = Vec::new();
    for entry in tar::Archive::new(archive).entries()? {
        let mut entry = entry?;
        if entry.header().entry_type().is_file() {
            let path = entry.path()?.to_string_lossy().into_owned();
            let mut data = Vec::new();
            entry.read_to_end(&mut data)?;
            files.push((path, data));
        }
    }
    Ok(files)
}

/// Deletes a manifest from the registry (its own HTTP API, through berth's raw requests,
/// with basic auth), so that a run leaves the registry as it found it.
pub async fn delete_from_registry(repo: &str, digest: &str) -> Result {
    use base64::Engine as _;
    let api = Client::new(&format!("http://{}", registry()))?;
    let name = repo.trim_start_matches(&format!("{}/", registry()));
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        registry_user(),
        registry_password()
    ));
    api.request(
        berth::Method::Delete,
        format!("/v2/{name}/manifests/{digest}"),
    )
    .header("Authorization", format!("Basic {basic}"))
    .send()
    .await?;
    Ok(())
}

/// One at a time across processes: holds a localhost TCP port derived from `what` (the
/// operating system releases it when the process ends, however it ends), waiting up to
/// `patience` for another holder to finish. For what a daemon has only one of (a swarm).
pub async fn exclusive(what: &str, patience: Duration) -> Result<std::net::TcpListener> {
    let port = 20_000 + what.bytes().map(u16::from).sum::<u16>() % 10_000;
    let deadline = std::time::Instant::now() + patience;
    loop {
        match std::net::TcpListener::bind(("127.0.0.1", port)) {
            Ok(listener) => return Ok(listener),
            Err(e) if std::time::Instant::now() > deadline => {
                return Err(
                    format!("waited {patience:?} for 127.0.0.1:{port} ({what}): {e}").into(),
                )
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The digest `repo` has among an image's `RepoDigests` (`repo@sha256:...`).
pub fn digest_in(repo: &str, repo_digests: Vec<String>) -> Option<String> {
    repo_digests.into_iter().find_map(|d| {
        let (name, digest) = d.split_once('@')?;
        (name == repo).then(|| digest.to_string())
    })
}

/// Removes what pushing `repo:tag` left: the local tag, the local `repo@digest` name, and
/// the manifest in the registry. Unversioned raw paths, so that any example can use it.
pub async fn remove_pushed(engine: &Client, repo: &str, tag: &str) -> Result {
    use berth::Method;
    let reference = format!("{repo}:{tag}");
    let digest = match engine
        .request(Method::Get, format!("/images/{reference}/json"))
        .send()
        .await
    {
        Ok(answer) => {
            let image: serde_json::Value = answer.json()?;
            let digests = serde_json::from_value(image["RepoDigests"].clone()).unwrap_or_default();
            digest_in(repo, digests)
        }
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e.into()),
    };
    let mut names = vec![reference];
    names.extend(digest.iter().map(|d| format!("{repo}@{d}")));
    for name in names {
        match engine
            .request(Method::Delete, format!("/images/{name}"))
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
    }
    if let Some(digest) = digest {
        delete_from_registry(repo, &digest).await?;
    }
    Ok(())
}
