//! Streaming logs: follow the counting container's stdout and react to each line as it
//! comes (the guide's `react-to-stream`), then stop listening and remove the container.
//!
//! `cargo run --example stream_logs --features docker-v1_41`

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use berth::docker::v1_41::{containers, models};
use berth::Client;
use futures_util::StreamExt;

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::docker()?).await }.await {
        eprintln!("stream_logs failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(docker: &Client) -> support::Result {
    let name = support::unique("conny-logs");
    let created = docker
        .invoke(containers::ContainerCreate {
            name: Some(name.clone()),
            body: models::ContainerCreateBody {
                image: Some(support::test_image()),
                cmd: Some(vec![
                    "sh".into(),
                    "-c".into(),
                    "i=1; while :; do echo $i; sleep 0.5; i=$((i+1)); done".into(),
                ]),
                ..Default::default()
            },
            ..Default::default()
        })
        .await?;
    let result = follow(docker, &created.id, 4).await;
    let _ = docker
        .invoke(containers::ContainerDelete {
            id: created.id,
            force: Some(true),
            ..Default::default()
        })
        .await;
    result
}

/// Prints the first `wanted` lines of the container's stdout as they come.
async fn follow(docker: &Client, id: &str, wanted: usize) -> support::Result {
    docker
        .invoke(containers::ContainerStart {
            id: id.to_string(),
            ..Default::default()
        })
        .await?;
    let logs = docker
        .invoke(containers::ContainerLogs {
            id: id.to_string(),
            follow: Some(true),
            stdout: Some(true),
            ..Default::default()
        })
        .await?;
    // Without a TTY the logs are multiplexed frames; a frame is not always one line, so
    // lines are cut from what has arrived so far.
    let mut frames = logs.frames();
    let (started, mut pending, mut seen) = (Instant::now(), Vec::new(), 0);
    while let Some(frame) = frames.next().await {
        pending.extend_from_slice(&frame?.data);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            println!(
                "{:>5.1}s  {}",
                started.elapsed().as_secs_f64(),
                String::from_utf8_lossy(&line).trim_end()
            );
            seen += 1;
            if seen == wanted {
                // Dropping the stream closes the connection: the engine stops sending.
                return Ok(());
            }
        }
    }
    Err(format!("the log stream ended after {seen} lines").into())
}
