//! Docker contexts written to a scratch docker config directory, resolved through
//! explicit environments (the process environment is left alone: see
//! `tests/docker_from_env.rs` for the one test that sets it), and used for real calls:
//! the mTLS dockerd (its client certificates copied into the context's TLS directory),
//! the same with `SkipTLSVerify`, the `DOCKER_TLS*` variables of the default context, and
//! the sshd in front of dockerd.
//!
//! As elsewhere, a missing engine fails under `CI` and skips otherwise.

#![cfg(feature = "docker-v1_41")]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use berth::context::{ContextSource, DockerContext};
use berth::docker::v1_41::{_ping, version};
use berth::env::Environment;
use berth::{ClientBuilder, Error, SshOptions};

/// A docker config directory in the temp dir, removed on drop.
struct ConfigDir(PathBuf);

impl ConfigDir {
    fn new(what: &str) -> ConfigDir {
        let dir = std::env::temp_dir().join(common::unique(what));
        std::fs::create_dir_all(&dir).unwrap();
        ConfigDir(dir)
    }

    fn env(&self) -> Environment {
        Environment::empty()
            .set("HOME", self.0.join("home"))
            .set("DOCKER_CONFIG", &self.0)
    }

    /// Writes a context as `docker context create` does; `tls` files (name, source path)
    /// are copied into its TLS directory.
    fn context(&self, name: &str, host: &str, skip_verify: bool, tls: &[(&str, PathBuf)]) {
        let id = sha256_hex(name);
        let meta = self.0.join("contexts/meta").join(&id);
        std::fs::create_dir_all(&meta).unwrap();
        let json = serde_json::json!({
            "Name": name,
            "Metadata": {"Description": "berth test"},
            "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_verify}},
        });
        std::fs::write(meta.join("meta.json"), json.to_string()).unwrap();
        let tls_dir = self.0.join("contexts/tls").join(&id).join("docker");
        std::fs::create_dir_all(&tls_dir).unwrap();
        for (file, from) in tls {
            std::fs::copy(from, tls_dir.join(file)).unwrap();
        }
    }
}

impl Drop for ConfigDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `sha256sum` of the name: an implementation apart from berth's, run by the system.
fn sha256_hex(name: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha256sum (coreutils)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(name.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

fn cert(file: &str) -> PathBuf {
    Path::new(&common::cert_dir()).join(file)
}

/// `tcp://127.0.0.1:2376`: contexts name TLS endpoints with tcp://, as the CLI writes them.
fn tls_tcp_host() -> String {
    let uri = common::docker_tls_uri();
    format!(
        "tcp://{}",
        uri.split_once("://").map_or(&*uri, |(_, rest)| rest)
    )
}

async fn ping(builder: ClientBuilder) -> berth::Result<String> {
    let client = builder
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(60))
        .build()?;
    let pinged = common::within(60, "ping", client.invoke(_ping::SystemPing {}))
        .await?
        .body;
    // A typed call under a version prefix too, not only the unversioned ping.
    client.invoke(version::SystemVersion {}).await?;
    Ok(pinged)
}

#[tokio::test]
async fn an_mtls_context_reaches_the_tls_engine() {
    if common::docker_tls().await.is_none() {
        return;
    }
    let dir = ConfigDir::new("ctx-mtls");
    let all = [
        ("ca.pem", cert("ca.pem")),
        ("cert.pem", cert("cert.pem")),
        ("key.pem", cert("key.pem")),
    ];
    dir.context("berth-mtls", &tls_tcp_host(), false, &all);
    let env = dir.env().set("DOCKER_CONTEXT", "berth-mtls");
    let context = DockerContext::resolve(&env).unwrap();
    assert_eq!(context.name(), "berth-mtls");
    assert_eq!(context.chosen_by(), &ContextSource::DockerContextVariable);
    assert!(!context.tls().unwrap().insecure_skip_verify);
    assert_eq!(ping(context.client_builder()).await.unwrap(), "OK");

    // Without the CA the engine's certificate is not trusted (the system's CAs are used).
    dir.context("berth-no-ca", &tls_tcp_host(), false, &all[1..]);
    let untrusted = DockerContext::load(&env, "berth-no-ca").unwrap();
    let e = ping(untrusted.client_builder()).await.unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e:?}");

    // SkipTLSVerify: the same material without a CA is accepted, unverified; the client
    // certificate is still offered (the engine requires it).
    dir.context("berth-skip", &tls_tcp_host(), true, &all[1..]);
    let skipping = DockerContext::load(&env, "berth-skip").unwrap();
    assert!(skipping.tls().unwrap().insecure_skip_verify);
    assert_eq!(ping(skipping.client_builder()).await.unwrap(), "OK");
}

#[tokio::test]
async fn docker_tls_variables_reach_the_tls_engine() {
    if common::docker_tls().await.is_none() {
        return;
    }
    let base = Environment::empty()
        .set("HOME", "/nonexistent-home")
        .set("DOCKER_HOST", tls_tcp_host())
        .set("DOCKER_CERT_PATH", common::cert_dir());
    let verified = DockerContext::resolve(&base.clone().set("DOCKER_TLS_VERIFY", "1")).unwrap();
    assert_eq!(verified.chosen_by(), &ContextSource::DockerHost);
    assert_eq!(ping(verified.client_builder()).await.unwrap(), "OK");

    // DOCKER_TLS alone: TLS without verification, from a directory without a CA.
    let no_ca = ConfigDir::new("ctx-no-ca");
    std::fs::copy(cert("cert.pem"), no_ca.0.join("cert.pem")).unwrap();
    std::fs::copy(cert("key.pem"), no_ca.0.join("key.pem")).unwrap();
    let env = base
        .clone()
        .set("DOCKER_TLS", "1")
        .set("DOCKER_CERT_PATH", &no_ca.0);
    let unverified = DockerContext::resolve(&env).unwrap();
    assert!(unverified.tls().unwrap().insecure_skip_verify);
    assert_eq!(ping(unverified.client_builder()).await.unwrap(), "OK");

    // Verification asked for, no CA there: an error naming the file, before any call.
    let e = DockerContext::resolve(&env.set("DOCKER_TLS_VERIFY", "1")).unwrap_err();
    assert!(
        matches!(&e, Error::ConfigFile { path, .. } if path == &no_ca.0.join("ca.pem")),
        "{e:?}"
    );

    // No TLS variable: plain HTTP to a TLS port is refused by the engine.
    let plain = DockerContext::resolve(&base).unwrap();
    assert!(plain.tls().is_none());
    assert!(ping(plain.client_builder()).await.is_err());
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// A context holds only `ssh://user@host:port`; the key and known_hosts go on the builder
/// (or come from OpenSSH's own configuration, as with the CLI).
#[tokio::test]
async fn an_ssh_context_reaches_dockerd_through_sshd() {
    let ssh_dir = format!("{}/sshd", env_or("BERTH_ENGINES_DIR", "/tmp/berth-engines"));
    let key = env_or("BERTH_SSH_KEY", &format!("{ssh_dir}/client_ed25519"));
    let known_hosts = env_or("BERTH_SSH_KNOWN_HOSTS", &format!("{ssh_dir}/known_hosts"));
    let host = format!(
        "ssh://{}@{}:{}",
        env_or("BERTH_SSH_USER", "root"),
        env_or("BERTH_SSH_HOST", "127.0.0.1"),
        env_or("BERTH_SSH_PORT", "2222"),
    );
    if !Path::new(&key).exists() {
        common::unavailable::<()>("sshd", &host, &format!("no client key at {key}"));
        return;
    }
    let dir = ConfigDir::new("ctx-ssh");
    dir.context("berth-ssh", &host, false, &[]);
    // Chosen by currentContext this time.
    let config = dir.0.join("config.json");
    std::fs::write(&config, r#"{"auths": {}, "currentContext": "berth-ssh"}"#).unwrap();
    let context = DockerContext::resolve(&dir.env()).unwrap();
    assert_eq!(context.chosen_by(), &ContextSource::ConfigFile(config));
    assert_eq!(context.host(), host);
    assert!(context.tls().is_none());
    let builder = context.client_builder().ssh(
        SshOptions::new()
            .identity_file(&key)
            .known_hosts(&known_hosts),
    );
    match ping(builder).await {
        Ok(pinged) => assert_eq!(pinged, "OK"),
        Err(e @ Error::Ssh { .. }) => {
            common::unavailable::<()>("sshd", &host, &e);
        }
        Err(e) => panic!("{e:?}"),
    }
}

#[test]
fn a_context_that_does_not_exist_is_a_clear_error() {
    let dir = ConfigDir::new("ctx-missing");
    std::fs::write(
        dir.0.join("config.json"),
        r#"{"currentContext": "berth-gone"}"#,
    )
    .unwrap();
    let e = DockerContext::resolve(&dir.env()).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("\"berth-gone\"")
            && text.contains("currentContext in")
            && text.contains(&sha256_hex("berth-gone")),
        "{text}"
    );
    match DockerContext::load(&dir.env(), "berth-gone") {
        Err(Error::ContextNotFound { path, .. }) => assert!(path.starts_with(&dir.0)),
        other => panic!("{other:?}"),
    }
}
