//! Shared by the integration tests: where the engines are, what to do when one is missing,
//! unique names, and cleanup that runs even when a test fails.
//!
//! Endpoints come from the variables `scripts/engines` writes to `/tmp/berth-engines/env`
//! (`BERTH_DOCKER_SOCK`, `BERTH_DOCKER_TLS_HOST`, `BERTH_DOCKER_CERT_PATH`, ...), with the
//! same defaults. A missing engine fails the test when `CI` is set; otherwise the test says
//! why on stderr and returns early.

#![allow(dead_code)]

pub mod report;
pub mod stress;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth::{Client, Method};

fn env_or(name: &str, default: &str) -> String {
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

pub fn cert_dir_untrusted() -> String {
    env_or(
        "BERTH_DOCKER_CERT_PATH_UNTRUSTED",
        "/tmp/berth-engines/certs/untrusted",
    )
}

pub fn podman_uri() -> String {
    format!(
        "unix://{}",
        env_or("BERTH_PODMAN_SOCK", "/run/podman/podman.sock")
    )
}

/// `127.0.0.1:5000`
pub fn registry() -> String {
    env_or("BERTH_REGISTRY", "127.0.0.1:5000")
}

pub fn registry_user() -> String {
    env_or("BERTH_REGISTRY_USER", "berth")
}

pub fn registry_password() -> String {
    env_or("BERTH_REGISTRY_PASSWORD", "berth-pass")
}

/// `berth-test/busybox:latest`, in both engines.
pub fn test_image() -> String {
    env_or("BERTH_TEST_IMAGE", "berth-test/busybox:latest")
}

pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// An engine the test needs does not answer: a failure under CI, a message otherwise.
/// Returns `None` so that callers can `let Some(..) = .. else { return };`.
pub fn unavailable<T>(what: &str, endpoint: &str, why: &dyn std::fmt::Display) -> Option<T> {
    if in_ci() {
        panic!(
            "CI is set and {what} does not answer at {endpoint}: {why} (run `scripts/engines up`)"
        );
    }
    eprintln!("SKIPPED: {what} does not answer at {endpoint}: {why} (run `scripts/engines up`; set CI=1 to make this a failure)");
    None
}

/// A client for `uri` whose engine answers `GET /_ping`, or `None` (see [`unavailable`]).
async fn answering(what: &str, uri: &str, builder: berth::ClientBuilder) -> Option<Client> {
    let client = match builder
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(120))
        .build()
    {
        Ok(client) => client,
        Err(e) => return unavailable(what, uri, &e),
    };
    let ping = async { client.request(Method::Get, "/_ping").send().await?.text() };
    match tokio::time::timeout(Duration::from_secs(10), ping).await {
        Ok(Ok(body)) if body == "OK" => {
            // Which engine this test ran on, in its output (shown when it fails, and by
            // `--nocapture`): scripts/test runs the same tests on every engine it starts.
            eprintln!("engine: {what} {}", describe(&client).await);
            Some(client)
        }
        Ok(Ok(body)) => unavailable(what, uri, &format!("/_ping answered {body:?}")),
        Ok(Err(e)) => unavailable(what, uri, &e),
        Err(_) => unavailable(what, uri, &"/_ping did not answer within 10s"),
    }
}

/// What the engine says of itself: `GET /version`, unversioned, as the engine sent it. Tests
/// take their expectations about versions from here, never from constants.
pub async fn engine_version(client: &Client) -> serde_json::Value {
    client
        .request(Method::Get, "/version")
        .send()
        .await
        .expect("GET /version")
        .json()
        .expect("GET /version: JSON")
}

/// `28.5.2+dfsg4 (API 1.51) at unix:///run/...`: the engine's version, its API version and
/// where it answers.
pub async fn describe(client: &Client) -> String {
    let version = engine_version(client).await;
    format!(
        "{} (API {}) at {}",
        version["Version"].as_str().unwrap_or("?"),
        version["ApiVersion"].as_str().unwrap_or("?"),
        client.endpoint()
    )
}

/// dockerd over its unix socket.
pub async fn docker() -> Option<Client> {
    let uri = docker_uri();
    answering("docker", &uri, Client::builder(uri.clone())).await
}

/// dockerd over TCP with mutual TLS (the trusted client certificate).
pub async fn docker_tls() -> Option<Client> {
    let uri = docker_tls_uri();
    let tls = match berth::TlsMaterial::from_dir(cert_dir()) {
        Ok(tls) => tls,
        Err(e) => return unavailable("docker (mTLS material)", &cert_dir(), &e),
    };
    answering(
        "docker over mTLS",
        &uri,
        Client::builder(uri.clone()).tls(tls),
    )
    .await
}

/// podman's API service.
pub async fn podman() -> Option<Client> {
    let uri = podman_uri();
    answering("podman", &uri, Client::builder(uri.clone())).await
}

/// The htpasswd registry: `GET /v2/` answers 401 without credentials.
pub async fn registry_up() -> bool {
    let uri = format!("http://{}", registry());
    let client = match Client::builder(uri.clone())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(c) => c,
        Err(e) => return unavailable::<()>("the registry", &uri, &e).is_some(),
    };
    match client.request(Method::Get, "/v2/").send().await {
        Err(e) if e.status() == Some(401) => true,
        Ok(r) => unavailable::<()>(
            "the registry",
            &uri,
            &format!("/v2/ answered {} without credentials", r.status()),
        )
        .is_some(),
        Err(e) => unavailable::<()>("the registry", &uri, &e).is_some(),
    }
}

/// A name no other test (or run) uses: `berth-it-<what>-<pid>-<n>-<time>`.
pub fn unique(what: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros()
        % 1_000_000_000;
    format!("berth-it-{what}-{}-{n}-{t}", std::process::id())
}

/// Seconds since the epoch, as the engines' `since` / `until` take them.
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[derive(Debug, Clone)]
enum Resource {
    Container(String),
    Network(String),
    Volume(String),
    Image(String),
}

/// Everything a test created, removed (forcefully, ignoring "no such ...") when the guard
/// drops: at the end of the test or while a failed assertion unwinds. Removal goes through
/// the unversioned Docker-compatible paths, which both engines serve.
pub struct Cleanup {
    uri: String,
    items: Mutex<Vec<Resource>>,
}

impl Cleanup {
    pub fn new(client: &Client) -> Cleanup {
        Cleanup {
            uri: client.endpoint().to_string(),
            items: Mutex::new(Vec::new()),
        }
    }

    fn push(&self, item: Resource) {
        self.items.lock().unwrap().push(item);
    }

    /// For an engine given by its endpoint URI (a blocking client's `endpoint()`).
    pub fn new_at(uri: &str) -> Cleanup {
        Cleanup {
            uri: uri.to_string(),
            items: Mutex::new(Vec::new()),
        }
    }

    pub fn container(&self, id_or_name: impl Into<String>) {
        self.push(Resource::Container(id_or_name.into()));
    }

    pub fn network(&self, id_or_name: impl Into<String>) {
        self.push(Resource::Network(id_or_name.into()));
    }

    pub fn volume(&self, name: impl Into<String>) {
        self.push(Resource::Volume(name.into()));
    }

    pub fn image(&self, reference: impl Into<String>) {
        self.push(Resource::Image(reference.into()));
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let items = std::mem::take(&mut *self.items.lock().unwrap_or_else(|e| e.into_inner()));
        if items.is_empty() {
            return;
        }
        let uri = self.uri.clone();
        // Drop cannot await: a thread with its own runtime does the removals, and the
        // test waits for it.
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let client = Client::builder(uri)
                    .timeout(Duration::from_secs(60))
                    .build()
                    .expect("cleanup client");
                // Containers first (they hold networks, volumes and images), then the rest.
                for item in items
                    .iter()
                    .rev()
                    .filter(|i| matches!(i, Resource::Container(_)))
                    .chain(
                        items
                            .iter()
                            .rev()
                            .filter(|i| !matches!(i, Resource::Container(_))),
                    )
                {
                    let request = match item {
                        Resource::Container(id) => client
                            .request(Method::Delete, format!("/containers/{id}"))
                            .query("force", "true")
                            .query("v", "true"),
                        Resource::Network(id) => {
                            client.request(Method::Delete, format!("/networks/{id}"))
                        }
                        Resource::Volume(name) => client
                            .request(Method::Delete, format!("/volumes/{name}"))
                            .query("force", "true"),
                        Resource::Image(name) => client
                            .request(Method::Delete, format!("/images/{name}"))
                            .query("force", "true"),
                    };
                    match request.send().await {
                        Ok(_) => {}
                        Err(e) if e.is_not_found() => {}
                        Err(e) => eprintln!("cleanup of {item:?} failed: {e}"),
                    }
                }
            });
        });
        let _ = done.join();
    }
}

/// A tar archive in memory: `(path, mode, contents)` entries.
pub fn tar_of(entries: &[(&str, u32, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, mode, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(*mode);
        header.set_mtime(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder
            .append_data(&mut header, path, *data)
            .expect("tar entry");
    }
    builder.into_inner().expect("tar")
}

/// A body that is streamed as it is sent: the bytes go through a pipe, written by a task
/// in small pieces while the client reads the other end.
pub fn streamed(bytes: Vec<u8>) -> berth::Body {
    use tokio::io::AsyncWriteExt;
    let (mut writer, reader) = tokio::io::duplex(16 * 1024);
    tokio::spawn(async move {
        for chunk in bytes.chunks(7919) {
            if writer.write_all(chunk).await.is_err() {
                return;
            }
        }
        let _ = writer.shutdown().await;
    });
    berth::Body::from_reader(reader)
}

/// The contents of one file in a tar archive.
pub fn file_in_tar(archive: &[u8], name: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut archive = tar::Archive::new(archive);
    for entry in archive.entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        let path = entry
            .path()
            .expect("tar path")
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        if path == name {
            let mut data = Vec::new();
            entry.read_to_end(&mut data).expect("tar read");
            return Some(data);
        }
    }
    None
}

/// Fails a future that takes longer than `secs`, naming what it was doing.
pub async fn within<F: std::future::Future>(secs: u64, what: &str, future: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(secs), future).await {
        Ok(output) => output,
        Err(_) => panic!("{what} did not finish within {secs}s"),
    }
}

/// Every Docker version of `specs/manifest.json` with its module and feature, handed to
/// `$then!` (`tests/versions.rs` checks the list against the manifest).
#[macro_export]
macro_rules! docker_modules {
    ($then:ident ! ($($args:tt)*)) => {
        $then!($($args)* [
            "1.25" v1_25 "docker-v1_25",
            "1.26" v1_26 "docker-v1_26",
            "1.27" v1_27 "docker-v1_27",
            "1.28" v1_28 "docker-v1_28",
            "1.29" v1_29 "docker-v1_29",
            "1.30" v1_30 "docker-v1_30",
            "1.31" v1_31 "docker-v1_31",
            "1.32" v1_32 "docker-v1_32",
            "1.33" v1_33 "docker-v1_33",
            "1.34" v1_34 "docker-v1_34",
            "1.35" v1_35 "docker-v1_35",
            "1.36" v1_36 "docker-v1_36",
            "1.37" v1_37 "docker-v1_37",
            "1.38" v1_38 "docker-v1_38",
            "1.39" v1_39 "docker-v1_39",
            "1.40" v1_40 "docker-v1_40",
            "1.41" v1_41 "docker-v1_41",
            "1.42" v1_42 "docker-v1_42",
            "1.43" v1_43 "docker-v1_43",
            "1.44" v1_44 "docker-v1_44",
            "1.45" v1_45 "docker-v1_45",
            "1.46" v1_46 "docker-v1_46",
            "1.47" v1_47 "docker-v1_47",
            "1.48" v1_48 "docker-v1_48",
            "1.49" v1_49 "docker-v1_49",
            "1.50" v1_50 "docker-v1_50",
            "1.51" v1_51 "docker-v1_51",
            "1.52" v1_52 "docker-v1_52",
            "1.53" v1_53 "docker-v1_53",
            "1.54" v1_54 "docker-v1_54",
            "1.55" v1_55 "docker-v1_55",
        ])
    };
}

/// Runs `$body` (an async block) with `$module` naming berth's module for Docker API
/// `$api` (`"1.51"` → `berth::docker::v1_51`) when that module's feature is enabled, and
/// gives `Some` of its output; `None` when the version has no enabled module.
#[macro_export]
macro_rules! with_docker_module {
    ($api:expr, |$module:ident| $body:expr) => {
        $crate::docker_modules!(with_docker_module!(@each $api, $module, $body,))
    };
    (@each $api:expr, $module:ident, $body:expr, [$($version:literal $name:ident $feature:literal,)*]) => {
        match $api {
            $(
                #[cfg(feature = $feature)]
                $version => {
                    use berth::docker::$name as $module;
                    Some($body.await)
                }
            )*
            _ => None,
        }
    };
}

macro_rules! versions_of {
    ([$($version:literal $name:ident $feature:literal,)*]) => {
        &[$($version),*]
    };
}

/// The Docker versions `with_docker_module!` knows.
pub const DOCKER_MODULE_VERSIONS: &[&str] = docker_modules!(versions_of!());

/// A directory tree under the temporary folder, removed when dropped.
pub struct Tree(PathBuf);

impl Tree {
    pub fn new(what: &str) -> Tree {
        let root = std::env::temp_dir().join(unique(what));
        std::fs::create_dir_all(&root).unwrap();
        Tree(root)
    }

    /// The tree's own directory.
    pub fn root(&self) -> &Path {
        &self.0
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }

    pub fn file(&self, rel: &str, contents: &str) -> &Tree {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
        self
    }

    /// A file of `size` bytes that takes no disk space.
    pub fn sparse(&self, rel: &str, size: u64) -> &Tree {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::File::create(path).unwrap().set_len(size).unwrap();
        self
    }

    pub fn symlink(&self, rel: &str, target: &str) -> &Tree {
        std::os::unix::fs::symlink(target, self.path(rel)).unwrap();
        self
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
