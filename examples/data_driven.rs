//! The data-driven API of the original: categories, the operations of a category, an
//! operation's summary and doc URL, and calls by name with JSON params and body — over
//! the same tables and request pipeline as the typed calls.
//!
//! `cargo run --example data_driven --features docker-v1_41`

#[path = "support/mod.rs"]
mod support;

use berth::dynamic::{Answer, Data};
use berth::Client;
use serde_json::json;

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::docker()?).await }.await {
        eprintln!("data_driven failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(docker: &Client) -> support::Result {
    let api = &berth::docker::v1_41::API;
    println!(
        "{} {}: categories {:?}",
        api.engine,
        api.version,
        api.categories()
    );
    let ops: Vec<&str> = api.operations_in("containers").map(|op| op.id).collect();
    println!("containers: {} operations, {:?}...", ops.len(), &ops[..5]);
    let op = api.operation("ContainerList").ok_or("no ContainerList")?;
    println!("ContainerList: {} — {}", op.summary, op.doc_url);

    // ContainerCreate by name: params by name, the body as JSON.
    let name = support::unique("by-name");
    let created = docker
        .invoke_by_name(
            api,
            "ContainerCreate",
            json!({ "name": name }),
            Data::Json(json!({ "Image": support::test_image(), "Cmd": ["true"] })),
        )
        .await?;
    let Answer::Json(created) = created else {
        return Err(format!("ContainerCreate answered {created:?}").into());
    };
    println!("ContainerCreate by name: Id {}", created["Id"]);

    let listed = docker
        .invoke_by_name(
            api,
            "ContainerList",
            json!({ "all": true, "filters": { "name": [name] } }),
            Data::None,
        )
        .await;
    docker
        .invoke_by_name(
            api,
            "ContainerDelete",
            json!({ "id": name, "force": true }),
            Data::None,
        )
        .await?;
    println!("ContainerDelete by name: removed {name}");

    match listed? {
        Answer::Json(serde_json::Value::Array(list)) if list.len() == 1 => {
            println!(
                "ContainerList by name: {} {}",
                list[0]["Names"], list[0]["State"]
            );
            Ok(())
        }
        other => Err(format!("ContainerList answered {other:?}").into()),
    }
}
