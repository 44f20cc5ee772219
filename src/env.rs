//! The engines' environment defaults: `DOCKER_HOST` and its TLS variables, Podman's
//! `CONTAINER_HOST` and sockets.

use std::path::{Path, PathBuf};

use crate::client::ClientBuilder;
use crate::socket::TlsMaterial;

pub(crate) fn docker_from_env() -> crate::Result<ClientBuilder> {
    let host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty());
    let host = host.unwrap_or_else(|| "unix:///var/run/docker.sock".to_string());
    let mut builder = crate::Client::builder(host);
    let verify = std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty() && v != "0");
    if verify {
        let dir = std::env::var("DOCKER_CERT_PATH")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                let home = std::env::var("HOME").unwrap_or_default();
                Path::new(&home).join(".docker")
            });
        builder = builder.tls(TlsMaterial::from_dir(dir)?);
    }
    Ok(builder)
}

pub(crate) fn podman_from_env() -> crate::Result<ClientBuilder> {
    if let Some(host) = std::env::var("CONTAINER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
    {
        return Ok(crate::Client::builder(host));
    }
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR") {
        let sock = Path::new(&dir).join("podman/podman.sock");
        if sock.exists() {
            return Ok(crate::Client::builder(format!("unix://{}", sock.display())));
        }
    }
    Ok(crate::Client::builder("unix:///run/podman/podman.sock"))
}
