//! Getting an archive of a filesystem resource in a container (`ContainerArchive`): a
//! container writes a folder, and its tar archive is streamed back and read with the
//! `tar` crate.
//!
//! `cargo run --example archive_get --features docker-v1_41`

#[path = "support/mod.rs"]
mod support;

use berth::docker::v1_41::{containers, models};
use berth::Client;

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::docker()?).await }.await {
        eprintln!("archive_get failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(docker: &Client) -> support::Result {
    let created = docker
        .invoke(containers::ContainerCreate {
            name: Some(support::unique("archive-get")),
            body: models::ContainerCreateBody {
                image: Some(support::test_image()),
                cmd: Some(vec![
                    "sh".into(),
                    "-c".into(),
                    "mkdir -p /root/src && echo one >/root/src/a.txt && date >/root/src/b.txt"
                        .into(),
                ]),
                ..Default::default()
            },
            ..Default::default()
        })
        .await?;
    let result = get(docker, &created.id).await;
    let _ = docker
        .invoke(containers::ContainerDelete {
            id: created.id,
            force: Some(true),
            ..Default::default()
        })
        .await;
    result
}

async fn get(docker: &Client, id: &str) -> support::Result {
    docker
        .invoke(containers::ContainerStart {
            id: id.to_string(),
            ..Default::default()
        })
        .await?;
    docker
        .invoke(containers::ContainerWait {
            id: id.to_string(),
            ..Default::default()
        })
        .await?;

    // A ByteStream: never buffered whole by berth. Here it is small, so collect it;
    // `.into_async_read()` or `.copy_to(file)` would stream it instead.
    let archive = docker
        .invoke(containers::ContainerArchive {
            id: id.to_string(),
            path: "/root/src".into(),
        })
        .await?
        .collect()
        .await?;
    let files = support::files_in_tar(&archive)?;
    println!(
        "/root/src: a {} byte tar of {} files",
        archive.len(),
        files.len()
    );
    for (path, data) in &files {
        println!("  {path}: {:?}", String::from_utf8_lossy(data));
    }
    if !files.iter().any(|(p, d)| p == "src/a.txt" && d == b"one\n") {
        return Err("src/a.txt is not in the archive".into());
    }
    Ok(())
}
