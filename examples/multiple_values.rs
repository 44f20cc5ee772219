//! Supplying multiple values to a single param: Podman's `ContainersStatsAllLibpod`
//! takes `containers` as an array (`?containers=<id>&containers=<name>`), here one
//! container by id and another by name. The answer is a stream of typed stats reports.
//!
//! `cargo run --example multiple_values --features podman-v5_1_0`

#[path = "support/mod.rs"]
mod support;

use berth::podman::v5_1_0::libpod::containers;
use berth::podman::v5_1_0::models;
use berth::Client;
use futures_util::StreamExt;

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::podman()?).await }.await {
        eprintln!("multiple_values failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(podman: &Client) -> support::Result {
    let names = [support::unique("stats-a"), support::unique("stats-b")];
    let mut ids = Vec::new();
    let mut result = Ok(());
    for name in &names {
        match start_sleeper(podman, name).await {
            Ok(id) => ids.push(id),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    if result.is_ok() {
        // The first by id, the second by name: one param, two values.
        result = stats(podman, vec![ids[0].clone(), names[1].clone()]).await;
    }
    for name in &names {
        let _ = podman
            .invoke(containers::ContainerDeleteLibpod {
                name: name.clone(),
                force: Some(true),
                ..Default::default()
            })
            .await;
    }
    result
}

async fn start_sleeper(podman: &Client, name: &str) -> support::Result<String> {
    let created = podman
        .invoke(containers::ContainerCreateLibpod {
            body: models::SpecGenerator {
                name: Some(name.to_string()),
                image: Some(support::test_image()),
                command: Some(vec!["sleep".into(), "300".into()]),
                ..Default::default()
            },
        })
        .await?;
    podman
        .invoke(containers::ContainerStartLibpod {
            name: created.id.clone(),
            ..Default::default()
        })
        .await?;
    println!("started {name} ({})", &created.id[..12]);
    Ok(created.id)
}

async fn stats(podman: &Client, containers: Vec<String>) -> support::Result {
    println!("stats of containers={containers:?}");
    let mut reports = podman
        .invoke(containers::ContainersStatsAllLibpod {
            containers: Some(containers),
            stream: Some(false),
            ..Default::default()
        })
        .await?;
    let mut seen = 0;
    while let Some(report) = reports.next().await {
        for stats in report?.stats.unwrap_or_default() {
            seen += 1;
            println!(
                "  {} ({}): cpu {:.2}%, memory {} bytes, {} pids",
                stats.name.unwrap_or_default(),
                &stats.container_id.unwrap_or_default()[..12],
                stats.cpu.unwrap_or_default(),
                stats.mem_usage.unwrap_or_default(),
                stats.pids.unwrap_or_default()
            );
        }
    }
    if seen != 2 {
        return Err(format!("expected the stats of 2 containers, got {seen}").into());
    }
    Ok(())
}
