//! The environment berth reads: a snapshot ([`Environment`]) of the variables that choose
//! an engine endpoint, its TLS material, and where stored credentials are.
//!
//! Everything that reads the environment (`Client::docker_from_env`,
//! [`DockerContext`](crate::context::DockerContext),
//! [`CredentialStore`](crate::credentials::CredentialStore)) reads it through a snapshot, so
//! that a program (or a test) can resolve against variables of its own without touching
//! the process environment, which is shared by every thread.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The variables berth reads, and nothing else: a snapshot never holds unrelated secrets
/// (cloud keys, tokens) of the process environment, so that it can be printed.
const KNOWN: &[&str] = &[
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
    "DOCKER_TLS",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
    "CONTAINER_HOST",
    "REGISTRY_AUTH_FILE",
    "XDG_RUNTIME_DIR",
    "XDG_CONFIG_HOME",
    "HOME",
    "PATH",
];

/// A snapshot of environment variables, for the resolvers that read them: docker contexts
/// ([`DockerContext::resolve`](crate::context::DockerContext::resolve)) and stored
/// credentials ([`CredentialStore::docker`](crate::credentials::CredentialStore::docker)).
///
/// [`Environment::process`] takes the process's; [`Environment::empty`] with
/// [`Environment::set`] makes one from scratch. An empty value counts as unset, as in the
/// docker CLI.
///
/// ```
/// use berth::env::Environment;
/// let env = Environment::empty()
///     .set("DOCKER_CONFIG", "/srv/ci/docker")
///     .set("DOCKER_CONTEXT", "build-farm");
/// assert_eq!(env.get("DOCKER_CONTEXT"), Some("build-farm"));
/// assert_eq!(env.get("DOCKER_HOST"), None);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Environment {
    vars: BTreeMap<String, OsString>,
}

impl Environment {
    /// No variables at all.
    pub fn empty() -> Self {
        Environment::default()
    }

    /// The process environment's values of the variables berth reads (`DOCKER_*`,
    /// `CONTAINER_HOST`, `REGISTRY_AUTH_FILE`, `XDG_RUNTIME_DIR`, `XDG_CONFIG_HOME`,
    /// `HOME`, `PATH`), as they are now.
    pub fn process() -> Self {
        let vars = KNOWN
            .iter()
            .filter_map(|name| Some((name.to_string(), std::env::var_os(name)?)))
            .collect();
        Environment { vars }
    }

    /// The same snapshot with `name` set to `value` (an empty value unsets it).
    pub fn set(mut self, name: impl Into<String>, value: impl Into<OsString>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// The same snapshot without `name`.
    pub fn unset(mut self, name: &str) -> Self {
        self.vars.remove(name);
        self
    }

    /// A variable's value, if it is set, not empty and valid UTF-8.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.get_os(name)?.to_str()
    }

    /// A variable's value as a path, if it is set and not empty.
    pub fn path(&self, name: &str) -> Option<PathBuf> {
        self.get_os(name).map(PathBuf::from)
    }

    fn get_os(&self, name: &str) -> Option<&OsString> {
        self.vars.get(name).filter(|v| !v.is_empty())
    }

    /// `$HOME`, or an error saying what needed it.
    pub(crate) fn home(&self, for_what: &str) -> crate::Result<PathBuf> {
        self.path("HOME").ok_or_else(|| crate::Error::Config {
            message: format!("HOME is not set, and {for_what} is found under it"),
        })
    }

    /// The docker CLI's configuration directory: `$DOCKER_CONFIG`, else `~/.docker`.
    pub(crate) fn docker_config_dir(&self) -> crate::Result<PathBuf> {
        match self.path("DOCKER_CONFIG") {
            Some(dir) => Ok(dir),
            None => Ok(self
                .home("the docker configuration (DOCKER_CONFIG is not set either)")?
                .join(".docker")),
        }
    }
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Values are paths and endpoint URIs; a URI loses any password all the same.
        f.debug_map()
            .entries(
                self.vars
                    .iter()
                    .map(|(k, v)| (k, crate::redact::uri_for_display(&v.to_string_lossy()))),
            )
            .finish()
    }
}

/// Where the environment says an engine is, and the TLS material it names.
pub(crate) struct FromEnv {
    pub(crate) uri: String,
}

pub(crate) fn podman() -> FromEnv {
    let uri = if let Some(host) = std::env::var("CONTAINER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
    {
        host
    } else {
        match std::env::var_os("XDG_RUNTIME_DIR")
            .map(|dir| Path::new(&dir).join("podman/podman.sock"))
        {
            Some(sock) if sock.exists() => format!("unix://{}", sock.display()),
            _ => "unix:///run/podman/podman.sock".to_string(),
        }
    };
    FromEnv { uri }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_unset_and_debug_shows_only_known_names() {
        let env = Environment::empty()
            .set("DOCKER_HOST", "")
            .set("DOCKER_CONTEXT", "ci");
        assert_eq!(env.get("DOCKER_HOST"), None);
        assert_eq!(env.get("DOCKER_CONTEXT"), Some("ci"));
        assert!(
            env.docker_config_dir().is_err(),
            "no HOME, no DOCKER_CONFIG"
        );
        let env = env.set("HOME", "/home/me");
        assert_eq!(
            env.docker_config_dir().unwrap(),
            Path::new("/home/me/.docker")
        );
        let process = Environment::process();
        assert!(process.vars.keys().all(|k| KNOWN.contains(&k.as_str())));
        let shown = format!(
            "{:?}",
            Environment::empty().set("DOCKER_HOST", "https://u:pw@h:1")
        );
        assert!(!shown.contains("pw"), "{shown}");
    }
}
