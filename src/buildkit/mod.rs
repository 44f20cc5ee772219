//! BuildKit builds, as `docker build` runs them (feature `buildkit`): a session the daemon
//! calls back for the build context, registry credentials, secrets and the ssh agent, then
//! `POST /build?version=2`, with the progress typed.
//!
//! ```no_run
//! # async fn demo(docker: berth::Client) -> berth::Result<()> {
//! use berth::buildkit::{BuildEvent, BuildKitBuild, PlainProgress, SecretSource};
//! use futures_util::StreamExt;
//!
//! let build = BuildKitBuild::new("./app")
//!     .tag("app:latest")
//!     .build_arg("VERSION", "1.2")
//!     .target("release")
//!     // `RUN --mount=type=secret,id=npm` reads it; it never reaches an image, a log or an error.
//!     .secret("npm", SecretSource::env("NPM_TOKEN"))
//!     // `FROM registry.example/base`: stored `docker login` credentials.
//!     .credentials(berth::credentials::CredentialStore::docker(&berth::env::Environment::process())?);
//! let mut progress = build.run(&docker).await?;
//! let mut plain = PlainProgress::new();
//! while let Some(event) = progress.next().await {
//!     match event? {
//!         BuildEvent::Progress(update) => eprint!("{}", plain.render(&update)),
//!         BuildEvent::ImageId(id) => println!("built {id}"),
//!         BuildEvent::Message(text) => eprint!("{text}"),
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! A step that fails ends the stream with [`Error::Build`](crate::Error::Build): the step,
//! the engine's error and the last lines of the step's log. Dropping the stream cancels
//! the build on the engine. [`Output::Local`] and [`Output::Tar`] write the result on this
//! side instead of the engine's image store. Named build contexts (`--build-context`) cannot
//! be sent: the engines' `POST /build` has no way to pass them (buildx sends them through
//! `/grpc`).

mod filesend;
mod filesync;
mod progress;
mod proto;
mod session;
mod ssh;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use serde::Deserialize;

pub use progress::{
    BuildUpdate, LogStream, PlainProgress, Vertex, VertexLog, VertexStatus, VertexWarning,
};
pub use ssh::SshAgent;

use crate::credentials::CredentialStore;
use crate::stream::JsonLines;
use crate::{Client, Error, Method};

/// What a BuildKit build is given: the `docker build` options the engines' `/build` takes.
#[derive(Debug, Clone)]
pub struct BuildKitBuild {
    context: PathBuf,
    dockerfile: Option<PathBuf>,
    tags: Vec<String>,
    build_args: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
    target: Option<String>,
    platform: Option<String>,
    no_cache: bool,
    pull: bool,
    cache_from: Vec<String>,
    network: Option<String>,
    extra_hosts: Vec<String>,
    output: Option<Output>,
    secrets: HashMap<String, SecretSource>,
    ssh: HashMap<String, SshAgent>,
    credentials: Option<CredentialStore>,
}

/// Where the result goes instead of the engine's image store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// The result's files, written into this directory on the client (`type=local`; made if
    /// missing, files already there and not in the result are kept).
    Local(PathBuf),
    /// The result's files as one tar archive, written to this file on the client
    /// (`type=tar`).
    Tar(PathBuf),
    /// No export at all: the build only runs (and fills the cache).
    CacheOnly,
}

/// A secret's value for `RUN --mount=type=secret`, read when the engine asks for it. Its
/// `Debug` never shows the value.
#[derive(Clone)]
pub enum SecretSource {
    File(PathBuf),
    /// An environment variable of this process.
    Env(String),
    Bytes(Vec<u8>),
}

impl SecretSource {
    pub fn file(path: impl Into<PathBuf>) -> SecretSource {
        SecretSource::File(path.into())
    }

    pub fn env(name: impl Into<String>) -> SecretSource {
        SecretSource::Env(name.into())
    }

    pub fn bytes(value: impl Into<Vec<u8>>) -> SecretSource {
        SecretSource::Bytes(value.into())
    }

    async fn read(&self) -> std::io::Result<Vec<u8>> {
        match self {
            SecretSource::File(path) => tokio::fs::read(path).await,
            SecretSource::Env(name) => std::env::var_os(name)
                .map(|v| v.into_encoded_bytes())
                .ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("environment variable {name} is not set"),
                    )
                }),
            SecretSource::Bytes(bytes) => Ok(bytes.clone()),
        }
    }
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::File(path) => f.debug_tuple("File").field(path).finish(),
            SecretSource::Env(name) => f.debug_tuple("Env").field(name).finish(),
            SecretSource::Bytes(_) => f.write_str("Bytes(<redacted>)"),
        }
    }
}

impl BuildKitBuild {
    /// A build of this context directory, with its `Dockerfile`.
    pub fn new(context: impl Into<PathBuf>) -> BuildKitBuild {
        BuildKitBuild {
            context: context.into(),
            dockerfile: None,
            tags: Vec::new(),
            build_args: BTreeMap::new(),
            labels: BTreeMap::new(),
            target: None,
            platform: None,
            no_cache: false,
            pull: false,
            cache_from: Vec::new(),
            network: None,
            extra_hosts: Vec::new(),
            output: None,
            secrets: HashMap::new(),
            ssh: HashMap::new(),
            credentials: None,
        }
    }

    /// The Dockerfile (`-f`): relative to the context, or anywhere.
    pub fn dockerfile(mut self, path: impl Into<PathBuf>) -> Self {
        self.dockerfile = Some(path.into());
        self
    }

    /// `-t`, repeatable.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    pub fn build_arg(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.build_args.insert(name.into(), value.into());
        self
    }

    pub fn label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(name.into(), value.into());
        self
    }

    /// The stage to build (`--target`).
    pub fn target(mut self, stage: impl Into<String>) -> Self {
        self.target = Some(stage.into());
        self
    }

    /// `--platform`, e.g. `linux/amd64`.
    pub fn platform(mut self, platform: impl Into<String>) -> Self {
        self.platform = Some(platform.into());
        self
    }

    pub fn no_cache(mut self, yes: bool) -> Self {
        self.no_cache = yes;
        self
    }

    /// Pull newer base images (`--pull`).
    pub fn pull(mut self, yes: bool) -> Self {
        self.pull = yes;
        self
    }

    /// An image to take cache from (`--cache-from`), repeatable.
    pub fn cache_from(mut self, image: impl Into<String>) -> Self {
        self.cache_from.push(image.into());
        self
    }

    /// `--network`: `host` or `none` (the engines refuse others for BuildKit).
    pub fn network(mut self, mode: impl Into<String>) -> Self {
        self.network = Some(mode.into());
        self
    }

    /// `--add-host name:ip`, repeatable.
    pub fn extra_host(mut self, host: impl Into<String>) -> Self {
        self.extra_hosts.push(host.into());
        self
    }

    pub fn output(mut self, output: Output) -> Self {
        self.output = Some(output);
        self
    }

    /// A secret for `RUN --mount=type=secret,id=ID` (`--secret id=ID,...`).
    pub fn secret(mut self, id: impl Into<String>, source: SecretSource) -> Self {
        self.secrets.insert(id.into(), source);
        self
    }

    /// An ssh agent for `RUN --mount=type=ssh` (`--ssh default` is the id `default`).
    pub fn ssh(mut self, id: impl Into<String>, agent: SshAgent) -> Self {
        self.ssh.insert(id.into(), agent);
        self
    }

    /// Registry credentials for the images the build pulls (`FROM`, `COPY --from`).
    pub fn credentials(mut self, store: CredentialStore) -> Self {
        self.credentials = Some(store);
        self
    }

    /// Opens the session, starts the build and hands back its progress.
    pub async fn run(self, client: &Client) -> crate::Result<BuildStream> {
        let operation = "BuildKit build";
        let invalid = |message: String| Error::InvalidRequest {
            operation: operation.into(),
            message,
        };
        if !self.context.is_dir() {
            return Err(invalid(format!(
                "the context {} is not a directory",
                self.context.display()
            )));
        }
        let dockerfile = match &self.dockerfile {
            Some(path) if path.is_absolute() => path.clone(),
            Some(path) => self.context.join(path),
            None => self.context.join("Dockerfile"),
        };
        if !dockerfile.is_file() {
            return Err(invalid(format!(
                "no Dockerfile at {}",
                dockerfile.display()
            )));
        }
        for (id, agent) in &self.ssh {
            agent
                .check()
                .await
                .map_err(|e| invalid(format!("ssh agent {id:?}: {e}")))?;
        }
        let dockerfile_dir = dockerfile.parent().unwrap_or(Path::new("/")).to_path_buf();
        let dockerfile_name = dockerfile
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();

        let session_id = random_id(25);
        let build_id = random_id(32);
        let services = session::Services {
            dirs: HashMap::from([
                (
                    "context".to_string(),
                    filesync::SyncedDir {
                        root: self.context.clone(),
                        reset_owner: true,
                    },
                ),
                (
                    "dockerfile".to_string(),
                    filesync::SyncedDir {
                        root: dockerfile_dir,
                        reset_owner: false,
                    },
                ),
            ]),
            secrets: self.secrets.clone(),
            ssh: self.ssh.clone(),
            credentials: self.credentials.clone(),
            output: self.output.clone(),
        };
        let mut request = client
            .request(Method::Post, "/session")
            .header("X-Docker-Expose-Session-Uuid", session_id.as_str())
            .header(
                "X-Docker-Expose-Session-Name",
                self.context
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
            // The daemon keys its copy of the context by it: the next build of the same
            // directory is sent only what changed.
            .header(
                "X-Docker-Expose-Session-Sharedkey",
                shared_key(&self.context),
            )
            .response(crate::ResponseKind::Upgrade);
        for method in services.methods() {
            request = request.header("X-Docker-Expose-Session-Grpc-Method", method);
        }
        let upgraded = request.send().await?.into_upgraded()?;
        let session = tokio::spawn(session::serve(upgraded, services));
        let session = AbortOnDrop(session);

        let version = client.server_version().await?.api_version;
        let mut build = client
            .request(Method::Post, format!("/v{version}/build"))
            .query("version", "2")
            .query("session", session_id.as_str())
            .query("remote", "client-session")
            .query("buildid", build_id.as_str())
            .query("dockerfile", dockerfile_name);
        for tag in &self.tags {
            build = build.query("t", tag.as_str());
        }
        if !self.build_args.is_empty() {
            build = build.query("buildargs", json(&self.build_args));
        }
        if !self.labels.is_empty() {
            build = build.query("labels", json(&self.labels));
        }
        if let Some(target) = &self.target {
            build = build.query("target", target.as_str());
        }
        if let Some(platform) = &self.platform {
            build = build.query("platform", platform.as_str());
        }
        if self.no_cache {
            build = build.query("nocache", "1");
        }
        if self.pull {
            build = build.query("pull", "1");
        }
        if !self.cache_from.is_empty() {
            build = build.query("cachefrom", json(&self.cache_from));
        }
        if let Some(network) = &self.network {
            build = build.query("networkmode", network.as_str());
        }
        for host in &self.extra_hosts {
            build = build.query("extrahosts", host.as_str());
        }
        // The destination stays here: the daemon sends the files through the session.
        let output_type = match &self.output {
            Some(Output::Local(_)) => Some("local"),
            Some(Output::Tar(_)) => Some("tar"),
            Some(Output::CacheOnly) => Some("cacheonly"),
            None => None,
        };
        if let Some(output_type) = output_type {
            build = build.query(
                "outputs",
                format!(r#"[{{"Type":"{output_type}","Attrs":{{}}}}]"#),
            );
        }
        let answer = build
            .response(crate::ResponseKind::JsonLines)
            .send()
            .await?;
        Ok(BuildStream {
            lines: answer.into_json_lines::<BuildLine>(),
            history: progress::History::default(),
            client: client.clone(),
            build_id,
            finished: false,
            _session: session,
        })
    }
}

#[cfg(feature = "blocking")]
impl BuildKitBuild {
    /// The same build from the blocking client (feature `blocking`): its progress as an
    /// iterator, each step blocking until the next event.
    ///
    /// ```no_run
    /// # fn demo(docker: berth::blocking::Client) -> berth::Result<()> {
    /// use berth::buildkit::{BuildEvent, BuildKitBuild, PlainProgress};
    /// let mut plain = PlainProgress::new();
    /// for event in BuildKitBuild::new("./app").tag("app:latest").run_blocking(&docker)? {
    ///     if let BuildEvent::Progress(update) = event? {
    ///         eprint!("{}", plain.render(&update));
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn run_blocking(
        self,
        client: &crate::blocking::Client,
    ) -> crate::Result<crate::blocking::Iter<BuildStream>> {
        let stream = client.block_on("BuildKit build", self.run(client.async_client()))??;
        Ok(crate::blocking::Iter::new(stream, client.runtime()))
    }
}

/// A JSON-valued query parameter (`buildargs`, `labels`, `cachefrom`).
fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("maps and lists of strings serialize")
}

/// What the build says as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum BuildEvent {
    /// Vertexes started, completed or failed; statuses, logs, warnings.
    Progress(BuildUpdate),
    /// The image built (`sha256:...`), for the engine's image store.
    ImageId(String),
    /// A line of text the engine adds (Docker 20.10's `Successfully tagged ...`).
    Message(String),
}

/// One line of the build's answer.
#[derive(Debug, Deserialize)]
struct BuildLine {
    id: Option<String>,
    aux: Option<serde_json::Value>,
    stream: Option<String>,
}

/// The build's progress as it comes; the build ends with the stream. Dropped before its
/// end, it cancels the build on the engine.
pub struct BuildStream {
    lines: JsonLines<BuildLine>,
    history: progress::History,
    client: Client,
    build_id: String,
    finished: bool,
    _session: AbortOnDrop,
}

impl std::fmt::Debug for BuildStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildStream")
            .field("build_id", &self.build_id)
            .finish()
    }
}

impl Stream for BuildStream {
    type Item = crate::Result<BuildEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.finished {
                return Poll::Ready(None);
            }
            let line = match Pin::new(&mut this.lines).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.finished = true;
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Err(Error::Stream { message, raw, .. }))) => {
                    this.finished = true;
                    let (step, log) = this.history.failure();
                    return Poll::Ready(Some(Err(Error::Build {
                        step,
                        message,
                        log,
                        raw,
                    })));
                }
                Poll::Ready(Some(Err(e))) => {
                    this.finished = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Some(Ok(line))) => line,
            };
            match (line.id.as_deref(), line.aux, line.stream) {
                (Some("moby.buildkit.trace"), Some(serde_json::Value::String(aux)), _) => {
                    match progress::decode_trace(&aux) {
                        Ok(update) => {
                            this.history.record(&update);
                            return Poll::Ready(Some(Ok(BuildEvent::Progress(update))));
                        }
                        Err(message) => {
                            this.finished = true;
                            return Poll::Ready(Some(Err(Error::Decode {
                                operation: "BuildKit build".into(),
                                path: "aux".into(),
                                message,
                                body: bytes::Bytes::from(aux.into_bytes()),
                            })));
                        }
                    }
                }
                (Some("moby.image.id"), Some(aux), _) => {
                    if let Some(id) = aux.get("ID").and_then(|v| v.as_str()) {
                        return Poll::Ready(Some(Ok(BuildEvent::ImageId(id.to_string()))));
                    }
                }
                (_, _, Some(text)) => return Poll::Ready(Some(Ok(BuildEvent::Message(text)))),
                _ => {}
            }
        }
    }
}

impl Drop for BuildStream {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Closing the connection cancels the build; the cancel call makes sure, as the
        // docker CLI does on Ctrl-C.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let cancel = self
                .client
                .request(Method::Post, "/build/cancel")
                .query("id", self.build_id.as_str());
            runtime.spawn(async move {
                let _ = cancel.send().await;
            });
        }
    }
}

/// The session's task, stopped with the build.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// An id of lowercase letters and digits, unique to this build (session and build ids
/// name it to the daemon; nothing depends on their being unguessable).
fn random_id(len: usize) -> String {
    use std::hash::BuildHasher;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seed = std::collections::hash_map::RandomState::new();
    (0..len)
        .map(|i| {
            let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let h = seed.hash_one((n, i, std::process::id(), std::time::SystemTime::now()));
            ALPHABET[(h % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

/// A stable key per context directory (the CLI's is a hash of a node id and the path).
fn shared_key(context: &Path) -> String {
    use sha2::Digest;
    let path = std::fs::canonicalize(context).unwrap_or_else(|_| context.to_path_buf());
    let digest = sha2::Sha256::digest(format!("berth:{}", path.display()).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
