//! Endpoints: unix sockets, plain TCP, TLS with client certificates, and ssh tunnels to a
//! remote unix socket (see `ssh.rs`); and the PEM material for TLS.

use std::path::{Path, PathBuf};

use super::ssh::SshTarget;
use crate::error::{Error, Result};

/// Where an engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Http {
        authority: String,
    },
    Https {
        authority: String,
    },
    /// A remote engine's unix socket reached through `ssh -L`.
    Ssh(SshTarget),
}

impl Endpoint {
    /// Parses `unix:///path`, `tcp://host:port`, `http://host:port`, `https://host:port`,
    /// `ssh://[user@]host[:port][/path/to/engine.sock]` (the remote socket defaults to
    /// `/var/run/docker.sock`). `tcp://` means TLS when TLS material was given, as with
    /// the docker CLI.
    pub fn parse(uri: &str, tls: bool) -> Result<Endpoint> {
        let invalid = |reason: &str| Error::InvalidUri {
            uri: crate::redact::uri_for_display(uri),
            reason: reason.to_string(),
        };
        let (scheme, rest) = uri
            .split_once("://")
            .ok_or_else(|| invalid("expected scheme://..."))?;
        match scheme {
            "unix" => {
                if !rest.starts_with('/') {
                    return Err(invalid(
                        "a unix socket path must be absolute: unix:///path/to.sock",
                    ));
                }
                Ok(Endpoint::Unix(PathBuf::from(rest)))
            }
            "tcp" | "http" | "https" => {
                let authority = rest.trim_end_matches('/');
                if authority.is_empty() || authority.contains('/') || authority.contains('?') {
                    return Err(invalid("expected host:port with no path"));
                }
                // The engines take no HTTP credentials, and the URI is in every message.
                if authority.contains('@') {
                    return Err(invalid(
                        "credentials in the URI are not supported (engines authenticate clients by TLS certificate)",
                    ));
                }
                if let Some((_, port)) = authority.rsplit_once(':') {
                    if !port.ends_with(']') && port.parse::<u16>().is_err() {
                        return Err(invalid("the port is not a number from 0 to 65535"));
                    }
                }
                let authority = authority.to_string();
                Ok(match (scheme, tls) {
                    ("https", _) | ("tcp", true) => Endpoint::Https { authority },
                    _ => Endpoint::Http { authority },
                })
            }
            "ssh" => SshTarget::parse(rest)
                .map(Endpoint::Ssh)
                .map_err(|reason| invalid(&reason)),
            "npipe" => Err(invalid("Windows named pipes are not supported")),
            other => Err(invalid(&format!(
                "unknown scheme {other:?}; use unix, tcp, http, https or ssh"
            ))),
        }
    }

    pub fn display(&self) -> String {
        match self {
            Endpoint::Unix(path) => format!("unix://{}", path.display()),
            Endpoint::Http { authority } => format!("http://{authority}"),
            Endpoint::Https { authority } => format!("https://{authority}"),
            Endpoint::Ssh(target) => target.display(),
        }
    }
}

/// PEM material for TLS: the CA that signed the engine's certificate, and the client
/// certificate and key for mutual TLS.
#[derive(Clone, Default)]
pub struct TlsMaterial {
    pub ca: Option<Vec<u8>>,
    pub cert: Option<Vec<u8>>,
    pub key: Option<Vec<u8>>,
    /// **Dangerous.** When `true`, the engine's certificate is not verified at all: not
    /// against a CA, not against the host name, not for expiry. Anyone who can intercept
    /// the connection can pose as the engine, read everything sent to it (registry
    /// credentials, secrets, files) and answer in its place. The connection is still
    /// encrypted, and a client certificate is still offered.
    ///
    /// It exists because the docker CLI has it: `DOCKER_TLS=1` without
    /// `DOCKER_TLS_VERIFY`, and a context's `SkipTLSVerify`, mean exactly this. Prefer
    /// giving the engine's CA in [`ca`](Self::ca). See [`TlsMaterial::danger_skip_verify`].
    pub insecure_skip_verify: bool,
}

impl std::fmt::Debug for TlsMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsMaterial")
            .field("ca", &self.ca.as_ref().map(Vec::len))
            .field("cert", &self.cert.as_ref().map(Vec::len))
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .finish()
    }
}

impl TlsMaterial {
    /// From PEM bytes.
    pub fn from_pem(
        ca: impl Into<Vec<u8>>,
        cert: impl Into<Vec<u8>>,
        key: impl Into<Vec<u8>>,
    ) -> Self {
        TlsMaterial {
            ca: Some(ca.into()),
            cert: Some(cert.into()),
            key: Some(key.into()),
            insecure_skip_verify: false,
        }
    }

    /// **Dangerous**: turns off every check of the engine's certificate (see
    /// [`insecure_skip_verify`](Self::insecure_skip_verify) for what that gives away).
    /// Any CA given is then unused; a client certificate is still offered.
    ///
    /// ```no_run
    /// # fn demo() -> berth::Result<()> {
    /// // A throwaway engine with a self-signed certificate, on a network you trust.
    /// let tls = berth::TlsMaterial::default().danger_skip_verify();
    /// let client = berth::Client::builder("https://10.0.0.7:2376").tls(tls).build()?;
    /// # Ok(()) }
    /// ```
    pub fn danger_skip_verify(mut self) -> Self {
        self.insecure_skip_verify = true;
        self
    }

    /// From PEM files (`ca.pem`, `cert.pem`, `key.pem`).
    pub fn from_files(
        ca: impl AsRef<Path>,
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| Error::Config {
                message: format!("cannot read {}: {e}", p.display()),
            })
        };
        Ok(TlsMaterial::from_pem(
            read(ca.as_ref())?,
            read(cert.as_ref())?,
            read(key.as_ref())?,
        ))
    }

    /// From a Docker cert directory (`DOCKER_CERT_PATH`): `ca.pem`, `cert.pem`, `key.pem`.
    /// Example: `examples/mtls.rs`.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        TlsMaterial::from_files(
            dir.join("ca.pem"),
            dir.join("cert.pem"),
            dir.join("key.pem"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_or_say_why_not() {
        assert_eq!(
            Endpoint::parse("unix:///var/run/docker.sock", false).unwrap(),
            Endpoint::Unix("/var/run/docker.sock".into())
        );
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:2376", true).unwrap(),
            Endpoint::Https {
                authority: "127.0.0.1:2376".into()
            }
        );
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:2375", false).unwrap(),
            Endpoint::Http {
                authority: "127.0.0.1:2375".into()
            }
        );
        assert_eq!(
            Endpoint::parse("ssh://root@127.0.0.1:2222", false)
                .unwrap()
                .display(),
            "ssh://root@127.0.0.1:2222/var/run/docker.sock"
        );
        for bad in [
            "ssh://",
            "ssh://host:port",
            "/var/run/docker.sock",
            "unix://relative.sock",
            "tcp://host:99999",
            "gopher://x",
            "http://host:1/path",
        ] {
            let e = Endpoint::parse(bad, false).unwrap_err();
            assert!(matches!(e, Error::InvalidUri { .. }), "{bad}: {e}");
        }
    }
}
