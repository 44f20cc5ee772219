//! Using the Podman-specific API beside its Docker-compatible one: one client, one
//! socket, two module trees — `podman::v5_1_0::libpod::networks` (the original's
//! `:libpod/networks`) and `podman::v5_1_0::networks` (`:networks`).
//!
//! `cargo run --example podman_apis --features podman-v5_1_0`

#[path = "support/mod.rs"]
mod support;

use berth::podman::v5_1_0::libpod::networks as libpod_networks;
use berth::podman::v5_1_0::{models, networks};
use berth::Client;

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::podman()?).await }.await {
        eprintln!("podman_apis failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(podman: &Client) -> support::Result {
    let name = support::unique("podman-net");
    // Created with the libpod API...
    let created = podman
        .invoke(libpod_networks::NetworkCreateLibpod {
            body: Some(models::NetworkCreateLibpod {
                name: Some(name.clone()),
                ..Default::default()
            }),
        })
        .await?;
    println!(
        "libpod NetworkCreateLibpod: {name}, driver {}, subnets {:?}",
        created.driver.unwrap_or_default(),
        created
            .subnets
            .unwrap_or_default()
            .iter()
            .filter_map(|s| s.subnet.clone())
            .collect::<Vec<_>>()
    );
    let result = list_both(podman, &name).await;
    // ...and removed with the Docker-compatible one.
    podman
        .invoke(networks::NetworkDelete { name: name.clone() })
        .await?;
    println!("compat NetworkDelete: removed {name}");
    result
}

async fn list_both(podman: &Client, name: &str) -> support::Result {
    let filters = std::collections::HashMap::from([("name".to_string(), vec![name.to_string()])]);
    let libpod = podman
        .invoke(libpod_networks::NetworkListLibpod {
            filters: Some(filters.clone()),
        })
        .await?;
    for network in &libpod {
        println!(
            "  libpod view: {} (id {}, dns_enabled {:?})",
            network.name.as_deref().unwrap_or_default(),
            network.id.as_deref().unwrap_or_default(),
            network.dns_enabled
        );
    }
    let compat = podman
        .invoke(networks::NetworkList {
            filters: Some(filters),
        })
        .await?;
    for network in &compat {
        println!(
            "  docker view: {} (Id {}, Scope {:?})",
            network.name.as_deref().unwrap_or_default(),
            network.id.as_deref().unwrap_or_default(),
            network.scope
        );
    }
    if libpod.len() != 1 || compat.len() != 1 {
        return Err(format!("{name} listed {} / {} times", libpod.len(), compat.len()).into());
    }
    Ok(())
}
