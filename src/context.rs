//! Docker contexts, chosen as the docker CLI chooses them, and the `DOCKER_HOST` /
//! `DOCKER_TLS*` variables of the default context.
//!
//! The context is the first of:
//! 1. `DOCKER_HOST` set: the `default` context, with that host (a `DOCKER_CONTEXT` set
//!    alongside is ignored, as the CLI ignores it);
//! 2. `DOCKER_CONTEXT`;
//! 3. `currentContext` in `$DOCKER_CONFIG/config.json` (`~/.docker/config.json`);
//! 4. `default`.
//!
//! A named context is read from the context store under the docker config directory:
//! `contexts/meta/<sha256 of the name>/meta.json` (`Endpoints.docker.Host`,
//! `Endpoints.docker.SkipTLSVerify`) and `contexts/tls/<sha256 of the name>/docker/`
//! (`ca.pem`, `cert.pem`, `key.pem`). The `default` context is the environment's: see
//! [`DockerContext`] for `DOCKER_TLS`, `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`.
//!
//! ```no_run
//! # fn demo() -> berth::Result<()> {
//! use berth::context::DockerContext;
//! use berth::env::Environment;
//!
//! // The context the docker CLI would use here, and why.
//! let context = DockerContext::resolve(&Environment::process())?;
//! println!("{} at {} (chosen by {})", context.name(), context.host(), context.chosen_by());
//! let docker = context.client_builder().build()?;
//!
//! // By name, as `docker --context build-farm`.
//! let env = Environment::process();
//! let farm = DockerContext::load(&env, "build-farm")?.client_builder().build()?;
//!
//! // Against variables of your own, without touching the process environment (tests).
//! let ci = Environment::empty().set("DOCKER_CONFIG", "/srv/ci/docker").set("DOCKER_CONTEXT", "ci");
//! let context = DockerContext::resolve(&ci)?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::Digest as _;

use crate::credentials::config_file;
use crate::env::Environment;
use crate::error::{Error, Result};
use crate::socket::TlsMaterial;
use crate::{Client, ClientBuilder};

/// The name of the context that means "the environment's endpoint".
pub const DEFAULT_CONTEXT: &str = "default";

/// Where the docker CLI connects when nothing is set.
pub const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";

/// Where the CLI connects when TLS is asked for (`DOCKER_TLS`, `DOCKER_TLS_VERIFY`) and
/// `DOCKER_HOST` is not set.
pub const DEFAULT_TLS_HOST: &str = "tcp://localhost:2376";

/// What chose the context.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContextSource {
    /// `DOCKER_HOST` is set: the default context, with that host.
    DockerHost,
    /// The `DOCKER_CONTEXT` variable.
    DockerContextVariable,
    /// `currentContext` in this `config.json`.
    ConfigFile(PathBuf),
    /// Named by the program ([`DockerContext::load`]), as `docker --context` does.
    Named,
    /// Nothing is set: the default context.
    Default,
}

impl fmt::Display for ContextSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContextSource::DockerHost => f.write_str("DOCKER_HOST"),
            ContextSource::DockerContextVariable => f.write_str("DOCKER_CONTEXT"),
            ContextSource::ConfigFile(path) => write!(f, "currentContext in {}", path.display()),
            ContextSource::Named => f.write_str("the program"),
            ContextSource::Default => f.write_str("nothing (the default)"),
        }
    }
}

/// A resolved docker context: which one was chosen and why, its endpoint and its TLS
/// material. [`Client::docker_from_env`] is `DockerContext::resolve` of the process
/// environment, then [`DockerContext::client_builder`].
///
/// In the `default` context, as in the docker CLI:
/// - `DOCKER_HOST` is the endpoint (a bare `host:port` means `tcp://host:port`); unset, it
///   is `unix:///var/run/docker.sock`, or `tcp://localhost:2376` when TLS is on;
/// - `DOCKER_TLS_VERIFY` set to anything non-empty (even `0`, as in the CLI) turns TLS on
///   and checks the engine's certificate against `ca.pem`, which must exist;
/// - `DOCKER_TLS` set to anything non-empty, without `DOCKER_TLS_VERIFY`, turns TLS on
///   **without checking the engine's certificate** (see
///   [`TlsMaterial::insecure_skip_verify`]: dangerous);
/// - `DOCKER_CERT_PATH` (default: the docker config directory) holds `ca.pem`, and
///   `cert.pem` with `key.pem`, a client certificate offered when both exist.
///
/// Those variables do not apply to named contexts, which carry their own TLS material.
/// A context's `SkipTLSVerify: true` is honoured, with the same danger.
///
/// `ssh://` contexts: a context holds only the URI. The key and the host key check come
/// from OpenSSH's own configuration (`~/.ssh/config`, ssh-agent, `~/.ssh/known_hosts`),
/// as with the CLI, or from [`ClientBuilder::ssh`] on the builder this gives.
///
/// ```no_run
/// # fn demo() -> berth::Result<()> {
/// use berth::context::DockerContext;
/// use berth::env::Environment;
/// let context = DockerContext::resolve(&Environment::process())?;
/// println!("{} ({}) chosen by {}", context.name(), context.host(), context.chosen_by());
/// let client = context.client_builder().build()?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DockerContext {
    name: String,
    chosen_by: ContextSource,
    host: String,
    tls: Option<TlsMaterial>,
    meta: Option<PathBuf>,
}

impl DockerContext {
    /// The context the environment chooses (see the [module](self) for the order), read
    /// from disk. Errors: a context that does not exist ([`Error::ContextNotFound`]), a
    /// malformed `config.json` or `meta.json`, or unreadable TLS files
    /// ([`Error::ConfigFile`]).
    ///
    /// ```no_run
    /// # fn demo() -> berth::Result<()> {
    /// use berth::context::{ContextSource, DockerContext};
    /// use berth::env::Environment;
    /// let env = Environment::empty().set("HOME", "/home/me").set("DOCKER_CONTEXT", "ci");
    /// let context = DockerContext::resolve(&env)?;
    /// assert_eq!(context.chosen_by(), &ContextSource::DockerContextVariable);
    /// # Ok(()) }
    /// ```
    pub fn resolve(env: &Environment) -> Result<DockerContext> {
        let (name, chosen_by) = choose(env)?;
        load(env, &name, chosen_by)
    }

    /// A context by name, as `docker --context NAME` (`DOCKER_HOST` and `DOCKER_CONTEXT`
    /// do not matter; `default` is the environment's endpoint).
    ///
    /// ```no_run
    /// # fn demo() -> berth::Result<()> {
    /// use berth::{context::DockerContext, env::Environment};
    /// let client = DockerContext::load(&Environment::process(), "build-farm")?
    ///     .client_builder()
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn load(env: &Environment, name: &str) -> Result<DockerContext> {
        load(env, name, ContextSource::Named)
    }

    /// The context's name (`default` for the environment's endpoint).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What chose it.
    pub fn chosen_by(&self) -> &ContextSource {
        &self.chosen_by
    }

    /// The engine endpoint URI (`unix:///...`, `tcp://...`, `ssh://...`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The TLS material, when TLS is on; `None` for unix and ssh endpoints, which do not
    /// use TLS.
    pub fn tls(&self) -> Option<&TlsMaterial> {
        self.tls.as_ref()
    }

    /// The `meta.json` a named context was read from.
    pub fn meta_path(&self) -> Option<&Path> {
        self.meta.as_deref()
    }

    /// A client builder for the endpoint, with its TLS material.
    ///
    /// ```no_run
    /// # fn demo() -> berth::Result<()> {
    /// use berth::{context::DockerContext, env::Environment};
    /// let context = DockerContext::load(&Environment::process(), "remote")?;
    /// let client = context
    ///     .client_builder()
    ///     .connect_timeout(std::time::Duration::from_secs(5))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn client_builder(&self) -> ClientBuilder {
        let builder = Client::builder(self.host.clone());
        match &self.tls {
            Some(tls) => builder.tls(tls.clone()),
            None => builder,
        }
    }
}

/// The context name, and what chose it.
fn choose(env: &Environment) -> Result<(String, ContextSource)> {
    if env.get("DOCKER_HOST").is_some() {
        return Ok((DEFAULT_CONTEXT.into(), ContextSource::DockerHost));
    }
    if let Some(name) = env.get("DOCKER_CONTEXT") {
        return Ok((name.into(), ContextSource::DockerContextVariable));
    }
    // Without HOME nor DOCKER_CONFIG there is no config file to read: the default.
    let Ok(dir) = env.docker_config_dir() else {
        return Ok((DEFAULT_CONTEXT.into(), ContextSource::Default));
    };
    let path = dir.join("config.json");
    let current = config_file::read(&path)?.and_then(|c| c.current_context);
    Ok(match current.filter(|c| !c.is_empty()) {
        Some(name) => (name, ContextSource::ConfigFile(path)),
        None => (DEFAULT_CONTEXT.into(), ContextSource::Default),
    })
}

fn load(env: &Environment, name: &str, chosen_by: ContextSource) -> Result<DockerContext> {
    if name == DEFAULT_CONTEXT {
        return default_context(env, chosen_by);
    }
    let store = env.docker_config_dir()?.join("contexts");
    let id = hex(&sha2::Sha256::digest(name.as_bytes()));
    let meta = store.join("meta").join(&id).join("meta.json");
    let bytes = match std::fs::read(&meta) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::ContextNotFound {
                name: name.into(),
                named_by: chosen_by.to_string(),
                path: meta,
            })
        }
        Err(e) => return Err(file_error(&meta, e)),
    };
    let parsed: Meta = serde_json::from_slice(&bytes).map_err(|e| Error::ConfigFile {
        path: meta.clone(),
        message: format!("not a context's meta.json: {e}"),
    })?;
    let Some(docker) = parsed.endpoints.and_then(|mut e| e.remove("docker")) else {
        return Err(Error::ConfigFile {
            path: meta,
            message: format!("context {name:?} has no docker endpoint (Endpoints.docker)"),
        });
    };
    let docker: DockerEndpointMeta =
        serde_json::from_value(docker).map_err(|e| Error::ConfigFile {
            path: meta.clone(),
            message: format!("Endpoints.docker is not a docker endpoint: {e}"),
        })?;
    let host = docker
        .host
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| DEFAULT_DOCKER_HOST.into());
    let tls_dir = store.join("tls").join(&id).join("docker");
    let tls = if uses_tls(&host) {
        let material = TlsMaterial {
            ca: read_optional(&tls_dir.join("ca.pem"))?,
            cert: read_optional(&tls_dir.join("cert.pem"))?,
            key: read_optional(&tls_dir.join("key.pem"))?,
            insecure_skip_verify: docker.skip_tls_verify,
        };
        let any = material.ca.is_some() || material.cert.is_some() || material.key.is_some();
        (any || material.insecure_skip_verify).then_some(material)
    } else {
        None
    };
    Ok(DockerContext {
        name: name.into(),
        chosen_by,
        host,
        tls,
        meta: Some(meta),
    })
}

/// The default context: `DOCKER_HOST` and the `DOCKER_TLS*` variables.
fn default_context(env: &Environment, chosen_by: ContextSource) -> Result<DockerContext> {
    let verify = env.get("DOCKER_TLS_VERIFY").is_some();
    let tls_on = verify || env.get("DOCKER_TLS").is_some();
    let host = match env.get("DOCKER_HOST") {
        // The CLI reads a bare `host:port` as TCP.
        Some(host) if !host.contains("://") => format!("tcp://{host}"),
        Some(host) => host.to_string(),
        None if tls_on => DEFAULT_TLS_HOST.into(),
        None => DEFAULT_DOCKER_HOST.into(),
    };
    let tls = if tls_on && uses_tls(&host) {
        let dir = match env.path("DOCKER_CERT_PATH") {
            Some(dir) => dir,
            None => env.docker_config_dir()?,
        };
        Some(cert_path_material(&dir, verify)?)
    } else {
        None
    };
    Ok(DockerContext {
        name: DEFAULT_CONTEXT.into(),
        chosen_by,
        host,
        tls,
        meta: None,
    })
}

/// `DOCKER_CERT_PATH`'s files: with verification the CA must be there; the client pair is
/// used when both files exist.
fn cert_path_material(dir: &Path, verify: bool) -> Result<TlsMaterial> {
    let ca_path = dir.join("ca.pem");
    let ca = if verify {
        Some(std::fs::read(&ca_path).map_err(|e| Error::ConfigFile {
            message: format!(
                "DOCKER_TLS_VERIFY is set, so the engine's certificate is checked against this CA, which cannot be read: {e}"
            ),
            path: ca_path,
        })?)
    } else {
        None
    };
    Ok(TlsMaterial {
        ca,
        cert: read_optional(&dir.join("cert.pem"))?,
        key: read_optional(&dir.join("key.pem"))?,
        insecure_skip_verify: !verify,
    })
}

/// Whether the host's scheme takes TLS (the CLI gives sockets and ssh none).
fn uses_tls(host: &str) -> bool {
    let scheme = host.split_once("://").map_or("tcp", |(s, _)| s);
    matches!(scheme, "tcp" | "http" | "https")
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(file_error(path, e)),
    }
}

fn file_error(path: &Path, e: std::io::Error) -> Error {
    Error::ConfigFile {
        path: path.into(),
        message: e.to_string(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The part of a context's `meta.json` berth reads.
#[derive(Deserialize)]
struct Meta {
    #[serde(rename = "Endpoints")]
    /// Other endpoints (a context may carry kubernetes) are not read.
    endpoints: Option<std::collections::HashMap<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct DockerEndpointMeta {
    #[serde(rename = "Host")]
    host: Option<String>,
    #[serde(rename = "SkipTLSVerify", default)]
    skip_tls_verify: bool,
}

#[cfg(test)]
#[path = "context_tests.rs"]
mod tests;
