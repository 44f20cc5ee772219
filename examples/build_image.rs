//! Building an image with Docker: the context is a tar packed here with the `tar` crate
//! (berth sends `Content-Type: application/x-tar` itself), and the build's `BuildInfo`
//! lines are shown as they come, like the guide's `show-build-output!`.
//!
//! `cargo run --example build_image --features docker-v1_41`

#[path = "support/mod.rs"]
mod support;

use std::io::Write as _;

use berth::docker::v1_41::{build, images};
use berth::Client;
use futures_util::StreamExt;

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::docker()?).await }.await {
        eprintln!("build_image failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(docker: &Client) -> support::Result {
    let tag = format!("berth-example/{}:latest", support::unique("build"));
    let result = build(docker, &tag).await;
    let _ = docker
        .invoke(images::ImageDelete {
            name: tag,
            ..Default::default()
        })
        .await;
    result
}

async fn build(docker: &Client, tag: &str) -> support::Result {
    // The context: a Dockerfile and the file it copies (FROM a local image: no pull).
    let dockerfile = format!(
        "FROM {}\nCOPY app.txt /app.txt\nRUN cat /app.txt\nCMD [\"cat\", \"/app.txt\"]\n",
        support::test_image()
    );
    let context = support::tar_of(&[
        ("Dockerfile", 0o644, dockerfile.as_bytes()),
        ("app.txt", 0o644, b"hello from a berth build\n"),
    ])?;

    let mut output = docker
        .invoke(build::ImageBuild {
            t: Some(tag.to_string()),
            rm: Some(true),
            body: Some(context.into()),
            ..Default::default()
        })
        .await?;
    // show-build-output!: print each `stream` piece as it arrives, anything else as data.
    let mut image_id = None;
    while let Some(line) = output.next().await {
        let line = line?; // a failing step is an Error::Stream with the engine's message
        if let Some(text) = &line.stream {
            print!("{text}");
            std::io::stdout().flush()?;
        } else if let Some(id) = line.aux.as_ref().and_then(|aux| aux.id.clone()) {
            image_id = Some(id);
        } else {
            println!("{line:?}");
        }
    }
    println!(
        "built {tag} ({})",
        image_id.unwrap_or_else(|| "no image id reported".into())
    );
    Ok(())
}
