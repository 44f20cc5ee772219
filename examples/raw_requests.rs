//! Accessing undocumented or experimental APIs with raw requests (`Client::request`):
//! the guide's checkpoints call (which a daemon without experimental features answers
//! with a typed `Error::Api` carrying its message), a raw ping, and copying a folder into a
//! container the raw way: `PUT /v1.41/containers/{id}/archive` with a tar body.
//!
//! `cargo run --example raw_requests --features docker-v1_41`

#[path = "support/mod.rs"]
mod support;

use berth::docker::v1_41::{containers, models};
use berth::{Client, Error, Method};

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::docker()?).await }.await {
        eprintln!("raw_requests failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(docker: &Client) -> support::Result {
    let name = support::unique("conny-raw");
    docker
        .invoke(containers::ContainerCreate {
            name: Some(name.clone()),
            body: models::ContainerCreateBody {
                image: Some(support::test_image()),
                cmd: Some(vec!["true".into()]),
                ..Default::default()
            },
            ..Default::default()
        })
        .await?;
    let result = raw(docker, &name).await;
    let _ = docker
        .invoke(containers::ContainerDelete {
            id: name,
            force: Some(true),
            ..Default::default()
        })
        .await;
    result
}

async fn raw(docker: &Client, name: &str) -> support::Result {
    // An endpoint no spec describes: docker checkpoints.
    match docker
        .request(Method::Get, format!("/v1.41/containers/{name}/checkpoints"))
        .send()
        .await
    {
        Ok(answer) => println!("checkpoints: {}", answer.text()?),
        Err(Error::Api(api)) => println!("checkpoints: {} {}", api.status, api.message),
        Err(other) => return Err(other.into()),
    }

    let pong = docker.request(Method::Get, "/v1.41/_ping").send().await?;
    println!("ping: {} {}", pong.status(), pong.text()?);

    // Copy a folder: a tar of src/ extracted under /root.
    let tar = support::tar_of(&[("src/hello.txt", 0o644, b"copied the raw way\n")])?;
    let put = docker
        .request(Method::Put, format!("/v1.41/containers/{name}/archive"))
        .query("path", "/root")
        .body(tar, "application/x-tar")
        .send()
        .await?;
    println!("PUT archive: {}", put.status());

    // And read it back, raw as well.
    let archive = docker
        .request(Method::Get, format!("/v1.41/containers/{name}/archive"))
        .query("path", "/root/src/hello.txt")
        .send()
        .await?
        .bytes()
        .await?;
    for (path, data) in support::files_in_tar(&archive)? {
        println!("  {path}: {:?}", String::from_utf8_lossy(&data));
    }
    Ok(())
}
