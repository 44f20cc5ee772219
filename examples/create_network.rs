//! Creating a network (the guide's `conny-network`, under a unique name), inspecting and
//! removing it.
//!
//! `cargo run --example create_network --features docker-v1_41`

#[path = "support/mod.rs"]
mod support;

use berth::docker::v1_41::{models, networks};
use berth::Client;

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::docker()?).await }.await {
        eprintln!("create_network failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(docker: &Client) -> support::Result {
    let name = support::unique("conny-network");
    let created = docker
        .invoke(networks::NetworkCreate {
            body: models::NetworkCreateBody {
                name: name.clone(),
                ..Default::default()
            },
        })
        .await?;
    let id = created.id.ok_or("NetworkCreate answered no Id")?;
    println!("created network {name} ({id})");

    let inspected = docker
        .invoke(networks::NetworkInspect {
            id: id.clone(),
            ..Default::default()
        })
        .await;
    docker.invoke(networks::NetworkDelete { id }).await?;
    println!("removed {name}");

    let network = inspected?;
    let subnets: Vec<String> = network
        .ipam
        .and_then(|ipam| ipam.config)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| c.subnet)
        .collect();
    println!(
        "it was a {} network, subnets {subnets:?}",
        network.driver.unwrap_or_default()
    );
    Ok(())
}
