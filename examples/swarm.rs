//! Swarm mode through the generated `swarm`, `services`, `tasks`, `secrets` and `configs`
//! operations: make the local daemon a one-node swarm (advertising 127.0.0.1), run a
//! service of the test image with a secret and a config mounted, watch its tasks reach
//! `running`, scale it (`ServiceUpdate` with the version index, the spec inspected and
//! modified), relabel the config the same way, read its logs, remove everything and leave
//! the swarm — always, even when a step failed.
//!
//! A daemon has one swarm: runs of this example take turns (see `support::exclusive`),
//! and a daemon that is already part of a swarm not made by this example is left alone.
//!
//! `cargo run --example swarm --features docker-v1_41`

#[path = "support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use berth::docker::v1_41::{
    configs, containers, models, networks, secrets, services, swarm, tasks,
};
use berth::{Client, StreamKind};
use futures_util::StreamExt;

const LABEL: &str = "berth-example";

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::docker()?).await }.await {
        eprintln!("swarm failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(docker: &Client) -> support::Result {
    let _turn = support::exclusive("swarm", Duration::from_secs(180)).await?;
    if let Ok(existing) = docker.invoke(swarm::SwarmInspect::default()).await {
        let ours = existing
            .spec
            .and_then(|spec| spec.labels)
            .is_some_and(|labels| labels.contains_key(LABEL));
        if !ours {
            return Err(
                "this daemon is already part of a swarm; the example leaves it alone".into(),
            );
        }
        // Left by an interrupted run of this example.
        docker
            .invoke(swarm::SwarmLeave { force: Some(true) })
            .await?;
    }
    let had_gwbridge = docker
        .invoke(networks::NetworkInspect {
            id: "docker_gwbridge".into(),
            ..Default::default()
        })
        .await
        .is_ok();

    let node = docker
        .invoke(swarm::SwarmInit {
            body: models::SwarmInitBody {
                listen_addr: Some("127.0.0.1:2377".into()),
                advertise_addr: Some("127.0.0.1".into()),
                spec: Some(models::SwarmSpec {
                    labels: Some(HashMap::from([(LABEL.to_string(), "swarm".to_string())])),
                    ..Default::default()
                }),
                ..Default::default()
            },
        })
        .await?;
    println!("SwarmInit: this daemon is node {node} of a new swarm");

    let result = with_swarm(docker).await;

    let left = docker.invoke(swarm::SwarmLeave { force: Some(true) }).await;
    println!(
        "SwarmLeave: {}",
        if left.is_ok() {
            "left the swarm"
        } else {
            "failed"
        }
    );
    if !had_gwbridge {
        // The bridge swarm mode made for its containers outlives the swarm: remove it.
        let _ = docker
            .invoke(networks::NetworkDelete {
                id: "docker_gwbridge".into(),
            })
            .await;
    }
    result?;
    Ok(left?)
}

async fn with_swarm(docker: &Client) -> support::Result {
    let name = support::unique("swarm");
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let (secret_name, config_name) = (format!("{name}-secret"), format!("{name}-config"));
    let secret = docker
        .invoke(secrets::SecretCreate {
            body: Some(models::SecretSpec {
                name: Some(secret_name.clone()),
                data: Some(b64("s3cr3t-value")),
                ..Default::default()
            }),
        })
        .await?
        .id;
    let config = docker
        .invoke(configs::ConfigCreate {
            body: Some(models::ConfigSpec {
                name: Some(config_name.clone()),
                data: Some(b64("greeting = hello from a swarm config")),
                ..Default::default()
            }),
        })
        .await?
        .id;
    if secret.is_empty() || config.is_empty() {
        return Err("SecretCreate / ConfigCreate answered no id".into());
    }
    println!("created secret {secret} and config {config}");
    relabel_config(docker, &config).await?;

    let result = service(docker, &name, &secret, &config).await;

    docker.invoke(secrets::SecretDelete { id: secret }).await?;
    docker.invoke(configs::ConfigDelete { id: config }).await?;
    println!("removed the secret and the config");
    result
}

async fn service(docker: &Client, name: &str, secret: &str, config: &str) -> support::Result {
    let file = |name: &str| {
        (
            Some(name.to_string()),
            Some("0".to_string()),
            Some("0".to_string()),
            Some(0o444),
        )
    };
    let (s_name, s_uid, s_gid, s_mode) = file("app-secret");
    let (c_name, c_uid, c_gid, c_mode) = file("/app.conf");
    let created = docker
        .invoke(services::ServiceCreate {
            body: models::ServiceSpec {
                name: Some(name.to_string()),
                task_template: Some(models::TaskSpec {
                    container_spec: Some(models::TaskSpecContainerSpec {
                        image: Some(support::test_image()),
                        command: Some(vec![
                            "sh".into(),
                            "-c".into(),
                            "echo \"secret: $(wc -c </run/secrets/app-secret) bytes\"; \
                             echo \"config: $(cat /app.conf)\"; \
                             while :; do sleep 1; done"
                                .into(),
                        ]),
                        secrets: Some(vec![models::TaskSpecContainerSpecSecretsItem {
                            secret_id: Some(secret.to_string()),
                            secret_name: Some(format!("{name}-secret")),
                            file: Some(models::TaskSpecContainerSpecSecretsItemFile {
                                name: s_name,
                                uid: s_uid,
                                gid: s_gid,
                                mode: s_mode,
                                ..Default::default()
                            }),
                            ..Default::default()
                        }]),
                        configs: Some(vec![models::TaskSpecContainerSpecConfigsItem {
                            config_id: Some(config.to_string()),
                            config_name: Some(format!("{name}-config")),
                            file: Some(models::TaskSpecContainerSpecConfigsItemFile {
                                name: c_name,
                                uid: c_uid,
                                gid: c_gid,
                                mode: c_mode,
                                ..Default::default()
                            }),
                            ..Default::default()
                        }]),
                        stop_grace_period: Some(1_000_000_000),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                mode: Some(replicated(1)),
                ..Default::default()
            },
            ..Default::default()
        })
        .await?;
    let id = created.id.ok_or("ServiceCreate answered no ID")?;
    println!("ServiceCreate: {name} ({id})");

    let result = run_service(docker, &id).await;

    docker
        .invoke(services::ServiceDelete { id: id.clone() })
        .await?;
    // The node's agent removes the service's containers shortly after.
    let filters = HashMap::from([(
        "label".to_string(),
        vec![format!("com.docker.swarm.service.id={id}")],
    )]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let left = docker
            .invoke(containers::ContainerList {
                all: Some(true),
                filters: Some(filters.clone()),
                ..Default::default()
            })
            .await?;
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    println!("ServiceDelete: removed {name} and its containers");
    result
}

async fn run_service(docker: &Client, id: &str) -> support::Result {
    wait_running(docker, id, 1).await?;

    // Scale to 2: an update names the version of the spec it replaces.
    let current = docker
        .invoke(services::ServiceInspect {
            id: id.to_string(),
            ..Default::default()
        })
        .await?;
    let version = current
        .version
        .and_then(|v| v.index)
        .ok_or("no version index")?;
    // The spec an inspect returns is the type an update takes: modify it, send it back
    // (with what this module's spec does not name kept in `extra`, as the engine sent it).
    let mut spec: models::ServiceSpec = current.spec.ok_or("ServiceInspect answered no spec")?;
    spec.mode = Some(replicated(2));
    docker
        .invoke(services::ServiceUpdate {
            id: id.to_string(),
            version: version as i64,
            body: spec,
            ..Default::default()
        })
        .await?;
    println!("ServiceUpdate (version {version}): 2 replicas");
    wait_running(docker, id, 2).await?;

    // The service's logs: frames of every task, once both have said their lines.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut frames = docker
            .invoke(services::ServiceLogs {
                id: id.to_string(),
                stdout: Some(true),
                stderr: Some(true),
                ..Default::default()
            })
            .await?
            .frames();
        let mut lines = Vec::new();
        while let Some(frame) = frames.next().await {
            let frame = frame?;
            let which = if frame.stream == StreamKind::Stderr {
                "stderr"
            } else {
                "stdout"
            };
            lines.push(format!(
                "{which} | {}",
                String::from_utf8_lossy(&frame.data).trim_end()
            ));
        }
        if lines
            .iter()
            .filter(|l| l.contains("config: greeting"))
            .count()
            >= 2
        {
            println!("ServiceLogs:");
            for line in lines {
                println!("  {line}");
            }
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("the service's logs lack its lines: {lines:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Inspect → modify → update: a config's labels are the one thing an update may change.
async fn relabel_config(docker: &Client, id: &str) -> support::Result {
    let inspect = || docker.invoke(configs::ConfigInspect { id: id.to_string() });
    let current = inspect().await?;
    let version = current
        .version
        .and_then(|v| v.index)
        .ok_or("no version index")?;
    let mut spec: models::ConfigSpec = current.spec.ok_or("ConfigInspect answered no spec")?;
    spec.labels
        .get_or_insert_with(Default::default)
        .insert("relabelled".into(), "yes".into());
    docker
        .invoke(configs::ConfigUpdate {
            id: id.to_string(),
            version: version as i64,
            body: Some(spec),
        })
        .await?;
    let labels = inspect()
        .await?
        .spec
        .and_then(|s| s.labels)
        .unwrap_or_default();
    if labels.get("relabelled").map(String::as_str) != Some("yes") {
        return Err(format!("ConfigUpdate did not take the label: {labels:?}").into());
    }
    println!("ConfigUpdate (version {version}): labelled relabelled=yes");
    Ok(())
}

fn replicated(replicas: i64) -> models::ServiceSpecMode {
    models::ServiceSpecMode {
        replicated: Some(models::ServiceSpecModeReplicated {
            replicas: Some(replicas),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Polls the service's tasks until `wanted` of them run, printing each change.
async fn wait_running(docker: &Client, service: &str, wanted: usize) -> support::Result {
    let filters = HashMap::from([
        ("service".to_string(), vec![service.to_string()]),
        ("desired-state".to_string(), vec!["running".to_string()]),
    ]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    loop {
        let tasks = docker
            .invoke(tasks::TaskList {
                filters: Some(filters.clone()),
            })
            .await?;
        let states: Vec<String> = tasks
            .iter()
            .map(|t| {
                let state = t.status.as_ref().and_then(|s| s.state.clone());
                format!(
                    "{}.{}: {}",
                    t.service_id
                        .as_deref()
                        .unwrap_or("?")
                        .get(..6)
                        .unwrap_or("?"),
                    t.slot.unwrap_or_default(),
                    state.map(|s| s.to_string()).unwrap_or_default()
                )
            })
            .collect();
        let now = states.join(", ");
        if now != last {
            println!("  tasks: {now}");
            last = now;
        }
        let running = tasks
            .iter()
            .filter(|t| {
                t.status.as_ref().and_then(|s| s.state.as_ref())
                    == Some(&models::TaskState::Running)
            })
            .count();
        if running >= wanted {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("{running} of {wanted} tasks running after 60s: {last}").into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
