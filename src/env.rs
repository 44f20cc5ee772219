//! The engines' environment defaults: `DOCKER_HOST` and its TLS variables, Podman's
//! `CONTAINER_HOST` and sockets.

use std::path::{Path, PathBuf};

use crate::socket::TlsMaterial;

/// Where the environment says the engine is, and the TLS material it names.
pub(crate) struct FromEnv {
    pub(crate) uri: String,
    pub(crate) tls: Option<TlsMaterial>,
}

pub(crate) fn docker() -> crate::Result<FromEnv> {
    let host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
    let uri = host.unwrap_or_else(|| "unix:///var/run/docker.sock".to_string());
    let verify = std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty() && v != "0");
    let tls = if verify {
        let dir = std::env::var("DOCKER_CERT_PATH")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                let home = std::env::var("HOME").unwrap_or_default();
                Path::new(&home).join(".docker")
            });
        Some(TlsMaterial::from_dir(dir)?)
    } else {
        None
    };
    Ok(FromEnv { uri, tls })
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
    FromEnv { uri, tls: None }
}
