//! Attaching to a container and sending data to its stdin: the guide's `cat - >/out`
//! container gets "hello" over the hijacked attach connection; closing our write half is
//! its EOF. `ContainerArchive` of `/out`, read with the `tar` crate, proves it arrived.
//!
//! `cargo run --example attach_stdin --features docker-v1_41`

#[path = "support/mod.rs"]
mod support;

use berth::docker::v1_41::{containers, models};
use berth::Client;
use tokio::io::AsyncWriteExt;

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::docker()?).await }.await {
        eprintln!("attach_stdin failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(docker: &Client) -> support::Result {
    let name = support::unique("conny-reader");
    // `docker run -d -i ... sh -c "cat - >/out"`: stdin kept open, closed with the attach.
    let created = docker
        .invoke(containers::ContainerCreate {
            name: Some(name.clone()),
            body: models::ContainerCreateBody {
                image: Some(support::test_image()),
                cmd: Some(vec!["sh".into(), "-c".into(), "cat - >/out".into()]),
                open_stdin: Some(true),
                stdin_once: Some(true),
                attach_stdin: Some(true),
                ..Default::default()
            },
            ..Default::default()
        })
        .await?;
    let result = send_hello(docker, &created.id).await;
    let _ = docker
        .invoke(containers::ContainerDelete {
            id: created.id,
            force: Some(true),
            ..Default::default()
        })
        .await;
    result
}

async fn send_hello(docker: &Client, id: &str) -> support::Result {
    let attached = docker
        .invoke(containers::ContainerAttach {
            id: id.to_string(),
            stream: Some(true),
            stdin: Some(true),
            ..Default::default()
        })
        .await?;
    docker
        .invoke(containers::ContainerStart {
            id: id.to_string(),
            ..Default::default()
        })
        .await?;
    let (_output, mut stdin) = attached.split(false);
    stdin.write_all(b"hello").await?;
    stdin.shutdown().await?; // the container reads EOF and exits
    println!("wrote \"hello\" to the container's stdin and closed it");

    let exit = docker
        .invoke(containers::ContainerWait {
            id: id.to_string(),
            ..Default::default()
        })
        .await?;
    println!("the container exited with {}", exit.status_code);

    let archive = docker
        .invoke(containers::ContainerArchive {
            id: id.to_string(),
            path: "/out".into(),
        })
        .await?
        .collect()
        .await?;
    for (path, data) in support::files_in_tar(&archive)? {
        println!(
            "{path} in the container: {:?}",
            String::from_utf8_lossy(&data)
        );
        if data != b"hello" {
            return Err(format!("{path} holds {data:?}, not \"hello\"").into());
        }
    }
    Ok(())
}
