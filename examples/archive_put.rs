//! Extracting an archive of files or folders to a directory in a container
//! (`PutContainerArchive`): a tar made here with the `tar` crate lands in `/root`, and
//! `ContainerArchive` reads it back.
//!
//! `cargo run --example archive_put --features docker-v1_41`

#[path = "support/mod.rs"]
mod support;

use berth::docker::v1_41::{containers, models};
use berth::Client;

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::docker()?).await }.await {
        eprintln!("archive_put failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(docker: &Client) -> support::Result {
    // The container need not run: archives work on a created one.
    let created = docker
        .invoke(containers::ContainerCreate {
            name: Some(support::unique("archive-put")),
            body: models::ContainerCreateBody {
                image: Some(support::test_image()),
                cmd: Some(vec!["true".into()]),
                ..Default::default()
            },
            ..Default::default()
        })
        .await?;
    let result = put_and_read_back(docker, &created.id).await;
    let _ = docker
        .invoke(containers::ContainerDelete {
            id: created.id,
            force: Some(true),
            ..Default::default()
        })
        .await;
    result
}

async fn put_and_read_back(docker: &Client, id: &str) -> support::Result {
    let files: [(&str, u32, &[u8]); 2] = [
        ("src/main.clj", 0o644, b"(println \"hello\")\n"),
        ("src/run.sh", 0o755, b"#!/bin/sh\necho hello\n"),
    ];
    let tar = support::tar_of(&files)?;
    // `path` must be an existing directory in the container.
    docker
        .invoke(containers::PutContainerArchive {
            id: id.to_string(),
            path: "/root".into(),
            body: tar.into(),
            ..Default::default()
        })
        .await?;
    println!("extracted {} files into /root", files.len());

    let archive = docker
        .invoke(containers::ContainerArchive {
            id: id.to_string(),
            path: "/root/src".into(),
        })
        .await?
        .collect()
        .await?;
    let back = support::files_in_tar(&archive)?;
    for (path, data) in &back {
        println!("  /root/{path}: {} bytes", data.len());
    }
    for (path, _, data) in files {
        if !back.iter().any(|(p, d)| p == path && d == data) {
            return Err(format!("{path} did not come back intact").into());
        }
    }
    Ok(())
}
