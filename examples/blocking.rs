//! The blocking client (feature `blocking`): no runtime, no `.await`. A container gets a
//! file uploaded from a `std::io::Read`, runs, has its logs followed as an iterator of
//! frames, and its files are read back through `std::io::Read` with the `tar` crate.
//!
//! `cargo run --example blocking --features blocking,docker-v1_41`

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use berth::blocking::Client;
use berth::docker::v1_41::{containers, models};

#[allow(dead_code)] // tests/blocking.rs calls `run`
fn main() {
    let client = Client::builder(support::docker_uri())
        .connect_timeout(Duration::from_secs(5))
        .build_blocking();
    if let Err(e) = client.map_err(Into::into).and_then(|c| run(&c)) {
        eprintln!("blocking failed: {e}");
        std::process::exit(1);
    }
}

pub fn run(docker: &Client) -> support::Result {
    let version = docker.server_version()?;
    println!("dockerd {} (API {})", version.version, version.api_version);

    let created = docker.invoke(containers::ContainerCreate {
        name: Some(support::unique("blocking")),
        body: models::ContainerCreateBody {
            image: Some(support::test_image()),
            cmd: Some(vec![
                "sh".into(),
                "-c".into(),
                "cat /tmp/greeting; echo bye >&2".into(),
            ]),
            ..Default::default()
        },
        ..Default::default()
    })?;
    let result = upload_run_read(docker, &created.id);
    docker.invoke(containers::ContainerDelete {
        id: created.id,
        force: Some(true),
        ..Default::default()
    })?;
    result
}

fn upload_run_read(docker: &Client, id: &str) -> support::Result {
    // Any `std::io::Read` is a request body: here a tar in memory; a `File` works the same.
    let archive = support::tar_of(&[("greeting", 0o644, b"hello from berth::blocking\n")])?;
    docker.invoke(containers::PutContainerArchive {
        id: id.to_string(),
        path: "/tmp".into(),
        body: berth::Body::from_std_reader(std::io::Cursor::new(archive)),
        ..Default::default()
    })?;
    docker.invoke(containers::ContainerStart {
        id: id.to_string(),
        ..Default::default()
    })?;

    // A followed log is an iterator of frames; it ends when the container does.
    let logs = docker.invoke(containers::ContainerLogs {
        id: id.to_string(),
        follow: Some(true),
        stdout: Some(true),
        stderr: Some(true),
        ..Default::default()
    })?;
    let mut said = String::new();
    for frame in logs.frames() {
        let frame = frame?;
        print!(
            "{:?}: {}",
            frame.stream,
            String::from_utf8_lossy(&frame.data)
        );
        said.push_str(&String::from_utf8_lossy(&frame.data));
    }
    if !said.contains("hello from berth::blocking") {
        return Err(format!("the container said {said:?}").into());
    }

    // An archive download is a `std::io::Read`: the `tar` crate reads it as it arrives.
    let archive = docker.invoke(containers::ContainerArchive {
        id: id.to_string(),
        path: "/tmp".into(),
    })?;
    for entry in tar::Archive::new(archive).entries()? {
        let entry = entry?;
        println!(
            "in the archive: {} ({} bytes)",
            entry.path()?.display(),
            entry.size()
        );
    }
    Ok(())
}
