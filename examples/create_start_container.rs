//! Creating and starting a container: the guide's counting `conny` (under a unique name).
//!
//! `cargo run --example create_start_container --features docker-v1_41`

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use berth::docker::v1_41::{containers, models};
use berth::Client;

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::docker()?).await }.await {
        eprintln!("create_start_container failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(docker: &Client) -> support::Result {
    let name = support::unique("conny");
    let created = docker
        .invoke(containers::ContainerCreate {
            name: Some(name.clone()),
            body: models::ContainerCreateBody {
                image: Some(support::test_image()),
                cmd: Some(vec![
                    "sh".into(),
                    "-c".into(),
                    "i=1; while :; do echo $i; sleep 1; i=$((i+1)); done".into(),
                ]),
                ..Default::default()
            },
            ..Default::default()
        })
        .await?;
    println!("created {name} ({})", created.id);

    let result = start(docker, &name).await;
    let _ = docker
        .invoke(containers::ContainerDelete {
            id: created.id,
            force: Some(true),
            ..Default::default()
        })
        .await;
    println!("removed {name}");
    result
}

async fn start(docker: &Client, name: &str) -> support::Result {
    // 204 when it starts, `NotModified` (304, not an error) when it already runs.
    let started = docker
        .invoke(containers::ContainerStart {
            id: name.to_string(),
            ..Default::default()
        })
        .await?;
    println!("started {name}: {started:?}");

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let inspected = docker
        .invoke(containers::ContainerInspect {
            id: name.to_string(),
            ..Default::default()
        })
        .await?;
    let state = inspected.state.unwrap_or_default();
    println!(
        "{name} is {:?}, pid {}",
        state.status,
        state.pid.unwrap_or_default()
    );
    if state.running != Some(true) {
        return Err(format!("{name} is not running: {state:?}").into());
    }
    Ok(())
}
