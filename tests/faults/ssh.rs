//! The `ssh -N -L` child of an `ssh://` client killed (SIGKILL) in the middle of a log
//! follow through the tunnel: the call fails, and the same client starts a new tunnel.

use std::path::Path;
use std::time::{Duration, Instant};

use berth::docker::v1_41::_ping;
use berth::{Client, SshOptions};

use crate::common;
use crate::dockerd::{follow_counting, running, Dockerd};
use crate::outage::{self, After, Engine};
use crate::streams;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

async fn tunneled() -> Option<Client> {
    let dir = format!("{}/sshd", env_or("BERTH_ENGINES_DIR", "/tmp/berth-engines"));
    let key = env_or("BERTH_SSH_KEY", &format!("{dir}/client_ed25519"));
    let known = env_or("BERTH_SSH_KNOWN_HOSTS", &format!("{dir}/known_hosts"));
    let uri = format!(
        "ssh://{}@{}:{}{}",
        env_or("BERTH_SSH_USER", "root"),
        env_or("BERTH_SSH_HOST", "127.0.0.1"),
        env_or("BERTH_SSH_PORT", "2222"),
        env_or("BERTH_DOCKER_SOCK", "/var/run/docker.sock"),
    );
    if !Path::new(&key).exists() {
        return common::unavailable("sshd", &uri, &format!("no client key at {key}"));
    }
    let client = match Client::builder(&uri)
        .ssh(SshOptions::new().identity_file(key).known_hosts(known))
        .connect_timeout(Duration::from_secs(15))
        .timeout(Duration::from_secs(60))
        .build()
    {
        Ok(client) => client,
        Err(e) => return common::unavailable("sshd", &uri, &e),
    };
    match client.invoke(_ping::SystemPing {}).await {
        Ok(_) => Some(client),
        Err(e) => common::unavailable("docker through ssh", &uri, &e),
    }
}

#[tokio::test]
async fn ssh_tunnel_killed_during_log_follow() {
    // (it kills only its own child, but the engines must be up: same rule as the others)
    let Some((_, cleanup)) = Dockerd::setup().await else {
        return;
    };
    let Some(client) = tunneled().await else {
        return;
    };
    let (id, mut frames, _) = follow_counting(&client, &cleanup).await;
    // an idle connection through the tunnel, pooled
    Dockerd::pool_one(&client).await;

    // Not `outage::outage`: nothing of `scripts/engines` goes down, only the client's child.
    let pid = client.ssh_pid().expect("ssh runs");
    eprintln!("fault: kill -KILL {pid} (the client's ssh -N -L)");
    let at = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let (_, error) = streams::until_error(&mut frames, 30, "the log follow through ssh").await;
    let error_after = at.elapsed();
    outage::assert_cut_short(&error, "ContainerLogs");

    // The same client: a new tunnel, then calls on it (the second ping on a pooled
    // connection through the new tunnel).
    let mut after = After::since(at);
    Dockerd::answers(&client, &mut after).await;
    let new_pid = client.ssh_pid().expect("a new ssh runs");
    assert_ne!(new_pid, pid, "the tunnel was started again");
    let running = after.ok("ContainerInspect", running(&client, &id).await);
    assert_eq!(running, Some(true));
    outage::record(
        "ssh tunnel's ssh process SIGKILLed during a log follow (ssh:// client)",
        &outage::outcome(&error),
        after.figures(
            error_after,
            None,
            format!("the next call started a new ssh (pid {pid} -> {new_pid})"),
        ),
    );
}
