//! The `ssh -N -L` child of an `ssh://` client killed (SIGKILL) in the middle of a log
//! follow through the tunnel: the call fails, and the same client starts a new tunnel.

use std::path::Path;
use std::time::{Duration, Instant};

use berth::docker::v1_41::{_ping, containers, version};
use berth::{Client, SshOptions};

use crate::common::{self, report, Cleanup};
use crate::dockerd::{create, start};
use crate::harness::{self, Figures};

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
    if !harness::can_inject() {
        return;
    }
    let Some(local) = common::docker().await else {
        return;
    };
    let Some(client) = tunneled().await else {
        return;
    };
    let cleanup = Cleanup::new(&local);
    let id = create(
        &client,
        &cleanup,
        &[
            "sh",
            "-c",
            "i=0; while :; do echo line $i; i=$((i+1)); sleep 0.1; done",
        ],
        Default::default(),
    )
    .await;
    start(&client, &id).await;
    let logs = client
        .invoke(containers::ContainerLogs {
            id: id.clone(),
            follow: Some(true),
            stdout: Some(true),
            ..Default::default()
        })
        .await
        .expect("ContainerLogs through ssh");
    let mut frames = logs.frames();
    harness::until_item(
        &mut frames,
        20,
        "the first log lines",
        |f: &berth::Frame| String::from_utf8_lossy(&f.data).contains("line 2"),
    )
    .await;
    // an idle connection through the tunnel, pooled
    assert_eq!(client.invoke(_ping::SystemPing {}).await.unwrap(), "OK");

    let pid = client.ssh_pid().expect("ssh runs");
    eprintln!("fault: kill -KILL {pid} (the client's ssh -N -L)");
    let at = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let (_, error) = harness::until_error(&mut frames, 30, "the log follow through ssh").await;
    let error_after = at.elapsed();
    harness::assert_cut_short(&error, "ContainerLogs");

    // The same client: a new tunnel, then calls on it (the second ping on a pooled
    // connection through the new tunnel).
    let mut calls = 0;
    let mut back_after = None;
    for _ in 0..2 {
        let ping = client.invoke(_ping::SystemPing {}).await;
        assert_eq!(ping.expect("ping after the tunnel's ssh was killed"), "OK");
        back_after.get_or_insert_with(|| at.elapsed());
        calls += 1;
    }
    let new_pid = client.ssh_pid().expect("a new ssh runs");
    assert_ne!(new_pid, pid, "the tunnel was started again");
    client
        .invoke(version::SystemVersion {})
        .await
        .expect("SystemVersion through the new tunnel");
    calls += 1;
    let inspected = client
        .invoke(containers::ContainerInspect {
            id: id.clone(),
            ..Default::default()
        })
        .await
        .expect("ContainerInspect through the new tunnel");
    calls += 1;
    assert_eq!(inspected.state.and_then(|s| s.running), Some(true));
    report::record(
        "fault",
        "ssh tunnel's ssh process SIGKILLed during a log follow (ssh:// client)",
        &harness::outcome(&error),
        &Figures {
            error_after,
            restart: None,
            back_after: back_after.unwrap(),
            calls,
            extra: format!("the next call started a new ssh (pid {pid} -> {new_pid})"),
        }
        .to_string(),
    );
}
