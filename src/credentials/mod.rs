//! Stored registry credentials: what `docker login` and `podman login` left behind, as
//! [`RegistryAuth`] for a pull or push and [`RegistryConfig`] for a build.
//!
//! Read from the docker CLI's `config.json` (`auths`, `credsStore`, `credHelpers`) and
//! Podman's `auth.json` (same format). Keys match as the CLI matches them: Docker Hub's
//! names (`docker.io`, `index.docker.io`, `registry-1.docker.io`) are all
//! `https://index.docker.io/v1/`, an image without a registry part is on Docker Hub, and a
//! key with a scheme or path (`https://127.0.0.1:5000/v1/`) matches its host. In Podman's
//! files a key may also name a namespace (`quay.io/org`), which applies to images under it.
//!
//! Credential helpers (`docker-credential-<name>`) are looked up on the `PATH` of the
//! [`Environment`] the store was made from, so a program (or a test) can point at helpers
//! of its own without changing the process's `PATH`. A helper that is missing or fails is
//! an [`Error::CredentialHelper`](crate::Error::CredentialHelper) naming it, never an anonymous pull instead.
//!
//! ```no_run
//! # #[cfg(feature = "docker-v1_55")]
//! # async fn demo(docker: berth::Client) -> berth::Result<()> {
//! use berth::build_context::BuildContext;
//! use berth::credentials::CredentialStore;
//! use berth::docker::v1_55::{build::ImageBuild, images::ImageCreate};
//! use berth::env::Environment;
//!
//! // What `docker login` stored: `config.json` (in `$DOCKER_CONFIG`, else `~/.docker`) and
//! // the credential helpers it names.
//! let store = CredentialStore::docker(&Environment::process())?;
//!
//! // A pull: the credentials of the image's registry (`None` when there are none, and the
//! // pull goes anonymously).
//! let image = "registry.example:5000/team/app:1.0";
//! let pull = ImageCreate {
//!     from_image: Some(image.into()),
//!     x_registry_auth: store.for_image(image).await?,
//!     ..Default::default()
//! };
//! docker.invoke(pull).await?.collect_all().await?;
//!
//! // A build: every stored credential, since the engine picks the ones its `FROM` lines need.
//! let context = BuildContext::from_dir("./app").await?;
//! let build = ImageBuild {
//!     t: Some("app:dev".into()),
//!     x_registry_config: Some(store.all().await?),
//!     body: Some(context.into_body()),
//!     ..Default::default()
//! };
//! docker.invoke(build).await?.collect_all().await?;
//!
//! // What `podman login` stored: its `auth.json` files first, then docker's `config.json`.
//! let podman_store = CredentialStore::podman(&Environment::process());
//! let auth = podman_store.for_image("quay.io/team/app:1").await?;
//! # Ok(()) }
//! ```
//!
//! The `_blocking` forms do the same lookups on the calling thread (waiting while a helper
//! runs), for code without a runtime, such as `berth::blocking`'s:
//!
//! ```no_run
//! # #[cfg(feature = "docker-v1_55")]
//! # fn demo() -> berth::Result<()> {
//! use berth::credentials::CredentialStore;
//! use berth::docker::v1_55::{build::ImageBuild, images::ImageCreate};
//! use berth::env::Environment;
//!
//! let store = CredentialStore::docker(&Environment::process())?;
//! let pull = ImageCreate {
//!     from_image: Some("busybox:latest".into()),
//!     x_registry_auth: store.for_image_blocking("busybox:latest")?,
//!     ..Default::default()
//! };
//! let build = ImageBuild {
//!     x_registry_config: Some(store.all_blocking()?),
//!     ..Default::default()
//! };
//! # Ok(()) }
//! ```

pub(crate) mod config_file;
mod helper;
mod registry;

pub use crate::error::HelperFailure;
pub use registry::DOCKER_HUB;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::auth::{RegistryAuth, RegistryConfig};
use crate::env::Environment;
use crate::error::Result;
use config_file::ConfigFile;
use helper::Helper;
use registry::{is_namespace_key, normalize_key, Registry};

/// How long a credential helper may take before it is killed (a helper may wait on a
/// locked keychain).
pub const DEFAULT_HELPER_TIMEOUT: Duration = Duration::from_secs(60);

/// Which tool wrote a file: their keys differ for Docker Hub (`https://index.docker.io/v1/`
/// or `docker.io`) and in Podman's namespaced keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Docker,
    Podman,
}

/// Where stored credentials are read from: files in order (the first that holds
/// credentials for a registry wins), and the `PATH` their helpers are found on. The files
/// are read at each lookup, so a `docker login` in the meantime is seen.
///
/// ```no_run
/// # #[cfg(feature = "docker-v1_55")]
/// # async fn demo(docker: berth::Client) -> berth::Result<()> {
/// use berth::credentials::CredentialStore;
/// use berth::docker::v1_55::images::ImageCreate;
/// use berth::env::Environment;
/// let store = CredentialStore::docker(&Environment::process())?;
/// let image = "registry.example:5000/team/app:1.0";
/// let pull = ImageCreate {
///     from_image: Some(image.into()),
///     x_registry_auth: store.for_image(image).await?, // None: no stored credentials
///     ..Default::default()
/// };
/// docker.invoke(pull).await?.collect_all().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct CredentialStore {
    files: Vec<(PathBuf, Format)>,
    search_path: Option<OsString>,
    timeout: Duration,
}

impl CredentialStore {
    /// The docker CLI's file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`;
    /// helpers on the environment's `PATH`. Fails only when neither `DOCKER_CONFIG` nor
    /// `HOME` is set. A missing file means no stored credentials.
    ///
    /// ```no_run
    /// # async fn demo() -> berth::Result<()> {
    /// use berth::{credentials::CredentialStore, env::Environment};
    /// let store = CredentialStore::docker(&Environment::process())?;
    /// let hub = store.for_registry("docker.io").await?;
    /// # Ok(()) }
    /// ```
    pub fn docker(env: &Environment) -> Result<CredentialStore> {
        let file = env.docker_config_dir()?.join("config.json");
        Ok(CredentialStore::new(env, vec![(file, Format::Docker)]))
    }

    /// Podman's files, in this order: `$REGISTRY_AUTH_FILE`,
    /// `$XDG_RUNTIME_DIR/containers/auth.json`, `$XDG_CONFIG_HOME/containers/auth.json`
    /// (`~/.config/containers/auth.json`), then the docker CLI's `config.json`; the first
    /// that holds credentials for a registry wins. Files that do not exist are skipped.
    ///
    /// ```no_run
    /// # async fn demo() -> berth::Result<()> {
    /// use berth::{credentials::CredentialStore, env::Environment};
    /// let store = CredentialStore::podman(&Environment::process());
    /// let auth = store.for_image("quay.io/team/app:1").await?;
    /// # Ok(()) }
    /// ```
    pub fn podman(env: &Environment) -> CredentialStore {
        let mut files = Vec::new();
        let auth_json = |dir: PathBuf| (dir.join("containers/auth.json"), Format::Podman);
        if let Some(file) = env.path("REGISTRY_AUTH_FILE") {
            files.push((file, Format::Podman));
        }
        if let Some(dir) = env.path("XDG_RUNTIME_DIR") {
            files.push(auth_json(dir));
        }
        let home = env.path("HOME");
        if let Some(dir) = env
            .path("XDG_CONFIG_HOME")
            .or_else(|| Some(home.as_ref()?.join(".config")))
        {
            files.push(auth_json(dir));
        }
        if let Ok(dir) = env.docker_config_dir() {
            files.push((dir.join("config.json"), Format::Docker));
        }
        CredentialStore::new(env, files)
    }

    /// One file of the docker CLI's format (`config.json`), helpers on the environment's
    /// `PATH`.
    ///
    /// ```no_run
    /// # async fn demo() -> berth::Result<()> {
    /// use berth::{credentials::CredentialStore, env::Environment};
    /// let store = CredentialStore::docker_file("/srv/ci/docker/config.json", &Environment::process());
    /// let config = store.all().await?; // for ImageBuild's X-Registry-Config
    /// # Ok(()) }
    /// ```
    pub fn docker_file(path: impl Into<PathBuf>, env: &Environment) -> CredentialStore {
        CredentialStore::new(env, vec![(path.into(), Format::Docker)])
    }

    /// One file of Podman's format (`auth.json`, whose keys may name namespaces).
    ///
    /// ```no_run
    /// # async fn demo() -> berth::Result<()> {
    /// use berth::{credentials::CredentialStore, env::Environment};
    /// let store = CredentialStore::podman_file("/run/user/1000/containers/auth.json", &Environment::process());
    /// let auth = store.for_image("quay.io/team/app").await?;
    /// # Ok(()) }
    /// ```
    pub fn podman_file(path: impl Into<PathBuf>, env: &Environment) -> CredentialStore {
        CredentialStore::new(env, vec![(path.into(), Format::Podman)])
    }

    fn new(env: &Environment, files: Vec<(PathBuf, Format)>) -> CredentialStore {
        CredentialStore {
            files,
            search_path: env.path("PATH").map(PathBuf::into_os_string),
            timeout: DEFAULT_HELPER_TIMEOUT,
        }
    }

    /// How long a credential helper may run before it is killed and the lookup fails with
    /// [`HelperFailure::TimedOut`] (default [`DEFAULT_HELPER_TIMEOUT`]).
    ///
    /// ```no_run
    /// # fn demo() -> berth::Result<()> {
    /// use berth::{credentials::CredentialStore, env::Environment};
    /// let store = CredentialStore::docker(&Environment::process())?
    ///     .helper_timeout(std::time::Duration::from_secs(5));
    /// # Ok(()) }
    /// ```
    pub fn helper_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The files read, in order (whether they exist or not).
    ///
    /// ```no_run
    /// # fn demo() -> berth::Result<()> {
    /// use berth::{credentials::CredentialStore, env::Environment};
    /// for file in CredentialStore::podman(&Environment::process()).files() {
    ///     println!("{}", file.display());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.files.iter().map(|(path, _)| path.as_path())
    }

    /// The stored credentials for an image's registry (`busybox` is Docker Hub's,
    /// `127.0.0.1:5000/team/app:1` is `127.0.0.1:5000`'s), or `None` if none are stored.
    /// Runs a credential helper if the file names one, on tokio's blocking pool.
    ///
    /// ```no_run
    /// # #[cfg(feature = "docker-v1_55")]
    /// # async fn demo(docker: berth::Client) -> berth::Result<()> {
    /// use berth::{credentials::CredentialStore, env::Environment};
    /// use berth::docker::v1_55::images::ImagePush;
    /// let store = CredentialStore::docker(&Environment::process())?;
    /// let push = ImagePush {
    ///     name: "127.0.0.1:5000/team/app".into(),
    ///     tag: Some("1".into()),
    ///     x_registry_auth: store.for_image("127.0.0.1:5000/team/app:1").await?.unwrap_or_default(),
    ///     ..Default::default()
    /// };
    /// docker.invoke(push).await?.collect_all().await?;
    /// # Ok(()) }
    /// ```
    pub async fn for_image(&self, image: &str) -> Result<Option<RegistryAuth>> {
        let (store, image) = (self.clone(), image.to_string());
        blocking(move || store.for_image_blocking(&image)).await
    }

    /// [`for_image`](Self::for_image) on the calling thread (it blocks while a helper runs).
    ///
    /// ```no_run
    /// # fn demo() -> berth::Result<()> {
    /// use berth::{credentials::CredentialStore, env::Environment};
    /// let auth = CredentialStore::docker(&Environment::process())?.for_image_blocking("busybox")?;
    /// # Ok(()) }
    /// ```
    pub fn for_image_blocking(&self, image: &str) -> Result<Option<RegistryAuth>> {
        self.lookup(&Registry::of_image(image))
    }

    /// The stored credentials for a registry (`127.0.0.1:5000`, `docker.io`,
    /// `https://index.docker.io/v1/`), or `None` if none are stored.
    ///
    /// ```no_run
    /// # async fn demo() -> berth::Result<()> {
    /// use berth::{credentials::CredentialStore, env::Environment};
    /// let store = CredentialStore::docker(&Environment::process())?;
    /// if store.for_registry("127.0.0.1:5000").await?.is_none() {
    ///     println!("not logged in");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn for_registry(&self, registry: &str) -> Result<Option<RegistryAuth>> {
        let (store, registry) = (self.clone(), registry.to_string());
        blocking(move || store.for_registry_blocking(&registry)).await
    }

    /// [`for_registry`](Self::for_registry) on the calling thread.
    ///
    /// ```no_run
    /// # fn demo() -> berth::Result<()> {
    /// use berth::{credentials::CredentialStore, env::Environment};
    /// let auth = CredentialStore::docker(&Environment::process())?.for_registry_blocking("docker.io")?;
    /// # Ok(()) }
    /// ```
    pub fn for_registry_blocking(&self, registry: &str) -> Result<Option<RegistryAuth>> {
        self.lookup(&Registry::named(registry))
    }

    /// Every stored credential, for ImageBuild's `X-Registry-Config` (the daemon picks the
    /// ones the Dockerfile's images need). A `credsStore` helper is asked to `list`, then
    /// to `get` each server, as the CLI does; `credHelpers` entries are asked too. Keys
    /// are normalized (Docker Hub as `https://index.docker.io/v1/`, others as `host:port`).
    ///
    /// ```no_run
    /// # #[cfg(feature = "docker-v1_55")]
    /// # async fn demo(docker: berth::Client, context_tar: Vec<u8>) -> berth::Result<()> {
    /// use berth::{credentials::CredentialStore, env::Environment};
    /// use berth::docker::v1_55::build::ImageBuild;
    /// let config = CredentialStore::docker(&Environment::process())?.all().await?;
    /// let build = ImageBuild {
    ///     t: Some("app:dev".into()),
    ///     x_registry_config: Some(config),
    ///     body: Some(context_tar.into()),
    ///     ..Default::default()
    /// };
    /// docker.invoke(build).await?.collect_all().await?;
    /// # Ok(()) }
    /// ```
    pub async fn all(&self) -> Result<RegistryConfig> {
        let store = self.clone();
        blocking(move || store.all_blocking()).await
    }

    /// [`all`](Self::all) on the calling thread.
    ///
    /// ```no_run
    /// # fn demo() -> berth::Result<()> {
    /// use berth::{credentials::CredentialStore, env::Environment};
    /// let config = CredentialStore::docker(&Environment::process())?.all_blocking()?;
    /// println!("credentials for {:?}", config.0.keys().collect::<Vec<_>>());
    /// # Ok(()) }
    /// ```
    pub fn all_blocking(&self) -> Result<RegistryConfig> {
        let mut all = RegistryConfig::default();
        for (path, format) in &self.files {
            let Some(file) = config_file::read(path)? else {
                continue;
            };
            for (key, auth) in self.all_in(path, *format, &file)? {
                // An earlier file wins, as in lookups.
                all.0.entry(key).or_insert(auth);
            }
        }
        Ok(all)
    }

    fn helper<'a>(&'a self, name: &'a str) -> Helper<'a> {
        Helper {
            name,
            search_path: self.search_path.as_deref(),
            timeout: self.timeout,
        }
    }

    fn lookup(&self, registry: &Registry) -> Result<Option<RegistryAuth>> {
        for (path, format) in &self.files {
            let Some(file) = config_file::read(path)? else {
                continue;
            };
            if let Some(auth) = self.lookup_in(path, *format, &file, registry)? {
                return Ok(Some(auth));
            }
        }
        Ok(None)
    }

    /// One file's credentials for a registry: its `credHelpers` entry, else its
    /// `credsStore`, else its `auths` (the CLI does not read `auths` when a store is set:
    /// entries there are then placeholders).
    fn lookup_in(
        &self,
        path: &Path,
        format: Format,
        file: &ConfigFile,
        registry: &Registry,
    ) -> Result<Option<RegistryAuth>> {
        // What a helper is asked for: the CLI's key, or for Podman the host (`docker.io`).
        let server = match format {
            Format::Docker => &registry.key,
            Format::Podman => &registry.host,
        };
        let named_helper = file
            .cred_helpers()
            .find(|(key, _)| normalize_key(key) == registry.key && !is_namespace_key(key));
        if let Some((_, name)) = named_helper {
            return self.helper(name).get(server);
        }
        if let Some(store) = file.creds_store() {
            return self.helper(store).get(server);
        }
        let entry = self.auths_entry(format, file, registry);
        match entry {
            Some((_, entry)) => entry.to_auth(path, &registry.key),
            None => Ok(None),
        }
    }

    /// The `auths` entry for a registry: a namespace of the image (Podman's files, most
    /// specific first), the exact key, then any key that normalizes to the registry's.
    fn auths_entry<'f>(
        &self,
        format: Format,
        file: &'f ConfigFile,
        registry: &Registry,
    ) -> Option<(&'f String, &'f config_file::AuthEntry)> {
        let auths = file.auths.as_ref()?;
        if format == Format::Podman {
            for namespace in registry.namespaces() {
                if let Some(found) = auths.get_key_value(&namespace) {
                    return Some(found);
                }
            }
        }
        let exact = match format {
            Format::Docker => &registry.key,
            Format::Podman => &registry.host,
        };
        auths.get_key_value(exact).or_else(|| {
            auths.iter().find(|(key, _)| {
                !(format == Format::Podman && is_namespace_key(key))
                    && normalize_key(key) == registry.key
            })
        })
    }

    /// Every credential one file holds, under normalized keys.
    fn all_in(
        &self,
        path: &Path,
        format: Format,
        file: &ConfigFile,
    ) -> Result<Vec<(String, RegistryAuth)>> {
        // `auths` keys and helper answers become the CLI's keys, which the daemon matches.
        let mut found = Vec::new();
        if let Some(store) = file.creds_store() {
            let helper = self.helper(store);
            for server in helper.list()? {
                if let Some(auth) = helper.get(&server)? {
                    found.push((normalize_key(&server), auth));
                }
            }
        } else {
            for (key, entry) in file.auths() {
                let registry = Registry::named(key);
                if let Some(auth) = entry.to_auth(path, &registry.key)? {
                    found.push((registry.key, auth));
                }
            }
        }
        // Registry-specific helpers override the store, as in the CLI.
        let mut overrides = Vec::new();
        for (key, name) in file.cred_helpers() {
            let registry = Registry::named(key);
            let server = match format {
                Format::Docker => &registry.key,
                Format::Podman => &registry.host,
            };
            if let Some(auth) = self.helper(name).get(server)? {
                overrides.push((registry.key, auth));
            }
        }
        // Later entries are dropped by `or_insert`: overrides go first.
        overrides.extend(found);
        Ok(overrides)
    }
}

/// Runs blocking lookup work on tokio's blocking pool; a panic in it is the caller's.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(value) => value,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
