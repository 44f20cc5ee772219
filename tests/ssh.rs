//! `ssh://` endpoints against the sshd `scripts/engines up ssh` runs on 127.0.0.1:2222
//! (key-only root login): docker and podman through the tunnel, a refused key, an unknown
//! host key refused and accepted with the opt-out, and the ssh child gone with the client.
//!
//! Where it is: `BERTH_SSH_HOST`, `BERTH_SSH_PORT`, `BERTH_SSH_USER`, `BERTH_SSH_KEY`,
//! `BERTH_SSH_WRONG_KEY`, `BERTH_SSH_KNOWN_HOSTS` (from `/tmp/berth-engines/env`, with the
//! same defaults). As elsewhere, a missing sshd or engine fails under `CI` and skips
//! otherwise.

#![cfg(feature = "docker-v1_41")]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use berth::docker::v1_41::{_ping, containers, version};
use berth::{Client, Error, SshOptions};

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn ssh_dir() -> String {
    format!("{}/sshd", env_or("BERTH_ENGINES_DIR", "/tmp/berth-engines"))
}

fn key() -> String {
    env_or("BERTH_SSH_KEY", &format!("{}/client_ed25519", ssh_dir()))
}

fn wrong_key() -> String {
    env_or(
        "BERTH_SSH_WRONG_KEY",
        &format!("{}/wrong_ed25519", ssh_dir()),
    )
}

fn known_hosts() -> String {
    env_or(
        "BERTH_SSH_KNOWN_HOSTS",
        &format!("{}/known_hosts", ssh_dir()),
    )
}

/// `ssh://root@127.0.0.1:2222{socket}`
fn ssh_uri(socket: &str) -> String {
    format!(
        "ssh://{}@{}:{}{socket}",
        env_or("BERTH_SSH_USER", "root"),
        env_or("BERTH_SSH_HOST", "127.0.0.1"),
        env_or("BERTH_SSH_PORT", "2222"),
    )
}

fn docker_socket() -> String {
    env_or("BERTH_DOCKER_SOCK", "/var/run/docker.sock")
}

fn podman_socket() -> String {
    env_or("BERTH_PODMAN_SOCK", "/run/podman/podman.sock")
}

fn builder(uri: &str, options: SshOptions) -> berth::ClientBuilder {
    Client::builder(uri)
        .ssh(options)
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(60))
}

fn good_options() -> SshOptions {
    SshOptions::new()
        .identity_file(key())
        .known_hosts(known_hosts())
}

/// A client through the test sshd whose tunnel is up, or `None` (see `common::unavailable`).
async fn tunneled(socket: &str) -> Option<Client> {
    let uri = ssh_uri(socket);
    if !Path::new(&key()).exists() {
        return common::unavailable("sshd", &uri, &format!("no client key at {}", key()));
    }
    let client = match builder(&uri, good_options()).build() {
        Ok(client) => client,
        Err(e) => return common::unavailable("sshd", &uri, &e),
    };
    match client.connect().await {
        Ok(()) => Some(client),
        Err(e) => common::unavailable("sshd", &uri, &e),
    }
}

/// An empty known_hosts file in its own directory, removed on drop.
struct EmptyKnownHosts(PathBuf);

impl EmptyKnownHosts {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(common::unique("known-hosts"));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("known_hosts");
        std::fs::write(&file, "").unwrap();
        EmptyKnownHosts(file)
    }
}

impl Drop for EmptyKnownHosts {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Whether a process exists (a zombie counts: it was not reaped).
fn process_exists(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[tokio::test]
async fn docker_through_ssh() {
    let socket = docker_socket();
    let Some(client) = tunneled(&socket).await else {
        return;
    };
    assert_eq!(client.endpoint(), ssh_uri(&socket));
    assert!(client.ssh_pid().is_some());
    let ping = common::within(30, "ping through ssh", client.invoke(_ping::SystemPing {})).await;
    let ping = match ping {
        Ok(ping) => ping,
        Err(e) => {
            common::unavailable::<()>("docker through ssh", &ssh_uri(&socket), &e);
            return;
        }
    };
    assert_eq!(ping.body, "OK");

    let version = client.invoke(version::SystemVersion {}).await.unwrap();
    assert_eq!(version.os.as_deref(), Some("linux"), "{version:?}");
    assert!(version.api_version.is_some(), "{version:?}");
    // the same engine as over the local socket
    let server = client.server_version().await.unwrap();
    assert_eq!(
        Some(server.api_version.as_str()),
        version.api_version.as_deref()
    );

    let listed = client
        .invoke(containers::ContainerList {
            all: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    if let Some(local) = common::docker().await {
        // Listing the same daemon locally sees (at least) what was there a moment ago
        // minus concurrent removals: compare loosely, by being a list at all, and by
        // one container both must agree on when there is one.
        let here = local
            .invoke(containers::ContainerList {
                all: Some(true),
                ..Default::default()
            })
            .await
            .unwrap();
        let ids = |l: &Vec<berth::docker::v1_41::models::ContainerSummary>| {
            l.iter().filter_map(|c| c.id.clone()).collect::<Vec<_>>()
        };
        let (remote, local) = (ids(&listed), ids(&here));
        assert!(
            remote.iter().any(|id| local.contains(id)) || remote.is_empty() || local.is_empty(),
            "the lists through ssh and locally share no container: {remote:?} / {local:?}"
        );
    }

    // Clones share the one tunnel.
    let clone = client.clone();
    assert_eq!(clone.ssh_pid(), client.ssh_pid());
    assert_eq!(clone.invoke(_ping::SystemPing {}).await.unwrap().body, "OK");
}

#[cfg(feature = "podman-v5_1_0")]
/// Attach over WebSocket through the tunnel: the handshake and frames on berth's upgraded
/// connection, as on the local socket.
#[cfg(feature = "websocket")]
#[tokio::test]
async fn websocket_attach_through_ssh() {
    use berth::websocket::Message;
    let Some(client) = tunneled(&docker_socket()).await else {
        return;
    };
    let cleanup = common::Cleanup::new(&client);
    let created = client
        .invoke(containers::ContainerCreate {
            name: Some(common::unique("ssh-ws")),
            body: berth::docker::v1_41::models::ContainerCreateBody {
                image: Some(common::test_image()),
                cmd: Some(vec![
                    "sh".into(),
                    "-c".into(),
                    "read line; echo got:$line".into(),
                ]),
                open_stdin: Some(true),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .expect("ContainerCreate");
    cleanup.container(&created.id);
    client
        .invoke(containers::ContainerStart {
            id: created.id.clone(),
            ..Default::default()
        })
        .await
        .expect("ContainerStart");
    let mut socket = client
        .invoke(containers::ContainerAttachWebsocket {
            id: created.id.clone(),
            stream: Some(true),
            ..Default::default()
        })
        .await
        .expect("the WebSocket handshake through ssh");
    socket
        .send(Message::binary(b"through ssh\n".to_vec()))
        .await
        .expect("stdin");
    let mut output = Vec::new();
    while !output.ends_with(b"\n") {
        match common::within(30, "websocket output", socket.next_message()).await {
            Some(Ok(Message::Text(text))) => output.extend_from_slice(text.as_bytes()),
            Some(Ok(Message::Binary(bytes))) => output.extend_from_slice(&bytes),
            Some(Ok(_)) => {}
            other => panic!("the output ended early: {other:?} after {output:?}"),
        }
    }
    assert_eq!(String::from_utf8_lossy(&output), "got:through ssh\n");
}

#[tokio::test]
async fn podman_through_ssh() {
    use berth::podman::v5_1_0::libpod;

    let socket = podman_socket();
    let Some(client) = tunneled(&socket).await else {
        return;
    };
    let ping = common::within(
        30,
        "libpod ping through ssh",
        client.invoke(libpod::_ping::SystemPing {}),
    )
    .await;
    match ping {
        Ok(ping) => assert_eq!(ping.body, "OK"),
        Err(e) => {
            common::unavailable::<()>("podman through ssh", &ssh_uri(&socket), &e);
            return;
        }
    }
    let version = client
        .invoke(libpod::version::SystemVersionLibpod {})
        .await
        .unwrap();
    assert_eq!(version.os.as_deref(), Some("linux"), "{version:?}");
    client
        .invoke(libpod::containers::ContainerListLibpod {
            all: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn wrong_key_is_refused() {
    if tunneled(&docker_socket()).await.is_none() {
        return;
    }
    let uri = ssh_uri(&docker_socket());
    let client = builder(
        &uri,
        SshOptions::new()
            .identity_file(wrong_key())
            .known_hosts(known_hosts()),
    )
    .build()
    .unwrap();
    let started = Instant::now();
    let error = client
        .invoke(_ping::SystemPing {})
        .await
        .expect_err("the key is not authorized");
    eprintln!("wrong key: {error}");
    match &error {
        Error::Ssh { endpoint, message } => {
            assert_eq!(endpoint, &uri);
            assert!(
                message.contains("Permission denied") && message.contains("refused the key"),
                "{message}"
            );
        }
        other => panic!("expected Error::Ssh, got {other:?}"),
    }
    assert!(
        error.to_string().starts_with("ssh tunnel to ssh://"),
        "{error}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(client.ssh_pid(), None, "no ssh left running");
}

#[tokio::test]
async fn unknown_host_key_is_refused_unless_opted_out() {
    if tunneled(&docker_socket()).await.is_none() {
        return;
    }
    let uri = ssh_uri(&docker_socket());
    let empty = EmptyKnownHosts::new();
    let client = builder(
        &uri,
        SshOptions::new().identity_file(key()).known_hosts(&empty.0),
    )
    .build()
    .unwrap();
    let error = client.connect().await.expect_err("the host key is unknown");
    eprintln!("unknown host key: {error}");
    match &error {
        Error::Ssh { message, .. } => assert!(
            message.contains("Host key verification failed")
                && message.contains("accept_unknown_hosts"),
            "{message}"
        ),
        other => panic!("expected Error::Ssh, got {other:?}"),
    }
    // A request says the same.
    let error = client.invoke(_ping::SystemPing {}).await.unwrap_err();
    assert!(matches!(error, Error::Ssh { .. }), "{error:?}");

    // The explicit opt-out accepts it, and records nothing.
    let client = builder(
        &uri,
        SshOptions::new()
            .identity_file(key())
            .known_hosts(&empty.0)
            .accept_unknown_hosts(true),
    )
    .build()
    .unwrap();
    match client.invoke(_ping::SystemPing {}).await {
        Ok(ping) => assert_eq!(ping.body, "OK"),
        Err(e @ Error::Ssh { .. }) => panic!("the opt-out should accept the host: {e}"),
        Err(e) => {
            common::unavailable::<()>("docker through ssh", &uri, &e);
        }
    }
    assert_eq!(std::fs::read_to_string(&empty.0).unwrap(), "");
}

#[tokio::test]
async fn ssh_child_goes_with_the_last_clone() {
    let Some(client) = tunneled(&docker_socket()).await else {
        return;
    };
    let pid = client.ssh_pid().expect("ssh runs");
    assert!(process_exists(pid));
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    assert!(
        cmdline.contains("-N") && cmdline.contains("-L"),
        "{cmdline}"
    );
    // the private directory of the local socket: after -L, up to the ':'
    let local = cmdline
        .split(" -L ")
        .nth(1)
        .and_then(|s| s.split(':').next())
        .map(PathBuf::from)
        .expect("a -L argument");
    let dir = local.parent().unwrap().to_path_buf();
    assert!(dir.is_dir());

    let clone = client.clone();
    drop(client);
    assert!(process_exists(pid), "a clone still holds the tunnel");
    assert_eq!(clone.ssh_pid(), Some(pid));
    drop(clone);
    assert!(!process_exists(pid), "ssh (pid {pid}) outlived the client");
    assert!(!dir.exists(), "{} outlived the client", dir.display());
}

#[tokio::test]
async fn unreachable_host_and_misuse_say_so() {
    // Nothing listens on port 1: ssh exits, and its complaint is in the error.
    let client = Client::builder("ssh://root@127.0.0.1:1")
        .ssh(SshOptions::new().accept_unknown_hosts(true))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    match client.connect().await {
        Err(Error::Ssh { message, .. }) => {
            assert!(message.contains("ssh exited"), "{message}")
        }
        other => panic!("expected Error::Ssh, got {other:?}"),
    }
    // ssh options on another endpoint are a configuration error.
    let error = Client::builder("unix:///var/run/docker.sock")
        .ssh(SshOptions::new())
        .build()
        .unwrap_err();
    assert!(matches!(error, Error::Config { .. }), "{error:?}");
    assert_eq!(Client::new("unix:///x.sock").unwrap().ssh_pid(), None);
    // a missing ssh program
    let client = Client::builder("ssh://root@127.0.0.1:2222")
        .ssh(SshOptions::new().program("/nonexistent/ssh"))
        .build()
        .unwrap();
    match client.connect().await {
        Err(Error::Ssh { message, .. }) => {
            assert!(
                message.contains("cannot run the OpenSSH client"),
                "{message}"
            )
        }
        other => panic!("expected Error::Ssh, got {other:?}"),
    }
}
