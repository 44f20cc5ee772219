//! The containers the bench reads: 100 labelled created ones to list, and two that printed
//! exactly 10 MB and 100 MB of logs. Made on the first run and reused (checked, and remade if
//! they are not what they should be).

use std::collections::HashMap;

use berth::docker::v1_41::{containers, models};

use crate::{raw, Result};

pub const IMAGE: &str = "berth-test/busybox:latest";
/// The label of the listed containers.
pub const LABEL: &str = "berth-bench";
/// The label of the log containers; its value is the number of bytes they print.
const LOG_LABEL: &str = "berth-bench-logs";
const CONTAINERS: usize = 100;
/// The two log sizes: the memory check follows both.
pub const SMALL_LOG: u64 = 10_000_000;
pub const BIG_LOG: u64 = 100_000_000;

/// bollard on dockerd's socket, at the version the server speaks (as its users call it).
pub async fn bollard(socket: &str, timeout_secs: u64) -> Result<bollard::Docker> {
    let docker =
        bollard::Docker::connect_with_unix(socket, timeout_secs, bollard::API_DEFAULT_VERSION)?;
    Ok(docker.negotiate_version().await?)
}

pub fn list_request() -> containers::ContainerList {
    containers::ContainerList {
        all: Some(true),
        filters: Some([("label".to_string(), vec![LABEL.to_string()])].into()),
        ..Default::default()
    }
}

pub fn bollard_list() -> bollard::query_parameters::ListContainersOptions {
    bollard::query_parameters::ListContainersOptions {
        all: true,
        filters: Some([("label".to_string(), vec![LABEL.to_string()])].into()),
        ..Default::default()
    }
}

/// The raw paths of the three request scenarios (the same query the typed clients send).
pub const PING_PATH: &str = "/v1.41/_ping";

pub fn list_path() -> String {
    format!("/v1.41/containers/json?all=true&filters=%7B%22label%22%3A%5B%22{LABEL}%22%5D%7D")
}

pub fn inspect_path(id: &str) -> String {
    format!("/v1.41/containers/{id}/json")
}

pub fn logs_path(id: &str) -> String {
    format!("/v1.41/containers/{id}/logs?follow=true&stdout=true")
}

pub struct Setup {
    /// The labelled containers, sorted.
    pub ids: Vec<String>,
    /// (bytes printed, id) of the small and the big log container.
    pub logs: [(u64, String); 2],
}

/// Exactly 100 created containers with the bench label, and two exited containers that
/// printed exactly SMALL_LOG and BIG_LOG bytes (checked with the raw loop); reused across
/// runs, remade when they are not what they should be.
pub async fn setup(client: &berth::Client, socket: &str) -> Result<Setup> {
    let list = client.invoke(list_request()).await?;
    let mut ids: Vec<String> = list.iter().filter_map(|c| c.id.clone()).collect();
    ids.sort();
    while ids.len() > CONTAINERS {
        let id = ids.pop().expect("more than 100");
        remove(client, &id).await?;
    }
    while ids.len() < CONTAINERS {
        let created = client
            .invoke(containers::ContainerCreate {
                body: models::ContainerCreateBody {
                    image: Some(IMAGE.into()),
                    cmd: Some(vec!["true".into()]),
                    labels: Some([(LABEL.to_string(), String::new())].into()),
                    ..Default::default()
                },
                ..Default::default()
            })
            .await?;
        ids.push(created.id);
    }
    ids.sort();
    let logs = [
        (SMALL_LOG, log_container(client, socket, SMALL_LOG).await?),
        (BIG_LOG, log_container(client, socket, BIG_LOG).await?),
    ];
    Ok(Setup { ids, logs })
}

pub async fn remove(client: &berth::Client, id: &str) -> Result<()> {
    client
        .invoke(containers::ContainerDelete {
            id: id.into(),
            force: Some(true),
            ..Default::default()
        })
        .await?;
    Ok(())
}

/// A container named `berth-bench-logs-<bytes>` whose logs (stdout, json-file) hold exactly
/// `bytes` bytes: 101-byte lines cut at `bytes` by `head -c`.
async fn log_container(client: &berth::Client, socket: &str, bytes: u64) -> Result<String> {
    let name = format!("{LOG_LABEL}-{bytes}");
    for _ in 0..2 {
        let existing = match client
            .invoke(containers::ContainerInspect {
                id: name.clone(),
                ..Default::default()
            })
            .await
        {
            Ok(c) => Some(c),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e.into()),
        };
        let id = match existing {
            Some(c) => {
                let id = c.id.clone().unwrap_or_default();
                let labelled = c
                    .config
                    .as_ref()
                    .and_then(|c| c.labels.as_ref())
                    .and_then(|l| l.get(LOG_LABEL))
                    .is_some_and(|v| *v == bytes.to_string());
                let state = c.state.unwrap_or_default();
                let failed = state.status == Some(models::ContainerStateStatus::Exited)
                    && state.exit_code != Some(0);
                if !labelled || failed {
                    eprintln!(
                        "{name}: not as expected (label {labelled}, failed {failed}); remaking it"
                    );
                    remove(client, &id).await?;
                    continue;
                }
                if state.status == Some(models::ContainerStateStatus::Created) {
                    start(client, &id).await?;
                }
                id
            }
            None => {
                eprintln!("{name}: making a container that prints {bytes} bytes");
                let line = "0123456789".repeat(10);
                let created = client
                    .invoke(containers::ContainerCreate {
                        name: Some(name.clone()),
                        body: models::ContainerCreateBody {
                            image: Some(IMAGE.into()),
                            cmd: Some(vec![
                                "sh".into(),
                                "-c".into(),
                                format!("yes {line} | head -c {bytes}"),
                            ]),
                            labels: Some([(LOG_LABEL.to_string(), bytes.to_string())].into()),
                            // json-file without rotation, whatever the daemon's defaults.
                            host_config: Some(models::HostConfig {
                                log_config: Some(models::HostConfigLogConfig {
                                    r#type: Some(models::HostConfigLogConfigType::JsonFile),
                                    config: Some(HashMap::new()),
                                    ..Default::default()
                                }),
                                ..Default::default()
                            }),
                            ..Default::default()
                        },
                        ..Default::default()
                    })
                    .await?;
                start(client, &created.id).await?;
                created.id
            }
        };
        let waited = client
            .invoke(containers::ContainerWait {
                id: id.clone(),
                ..Default::default()
            })
            .await?;
        let read = raw::Conn::connect(socket)?.stream(&logs_path(&id))?;
        if waited.status_code == 0 && read == bytes {
            return Ok(id);
        }
        eprintln!(
            "{name}: exit code {}, {read} bytes of logs instead of {bytes}; remaking it",
            waited.status_code
        );
        remove(client, &id).await?;
    }
    Err(format!("could not make {name} print exactly {bytes} bytes of logs").into())
}

pub async fn start(client: &berth::Client, id: &str) -> Result<()> {
    client
        .invoke(containers::ContainerStart {
            id: id.into(),
            ..Default::default()
        })
        .await?;
    Ok(())
}
