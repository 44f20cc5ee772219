//! Every call is a `tracing` span, `berth.call`: the operation, the method, the path
//! template, the endpoint, then the status (or the error's kind) and the duration. Here a
//! `tracing-subscriber` fmt layer prints each span as it closes:
//!
//! ```text
//! DEBUG berth.call{operation="SystemPing" method="GET" path="/_ping" endpoint="unix:///var/run/docker.sock" status=200 duration_us=412}: close ...
//! ```
//!
//! Never a header, a parameter value or a body: credentials stay out.
//!
//! `cargo run --example tracing --features docker-v1_41`

#[path = "support/mod.rs"]
mod support;

use berth::docker::v1_41::{_ping, containers};
use berth::Client;
use tracing_subscriber::fmt::format::FmtSpan;

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::docker()?).await }.await {
        eprintln!("tracing failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(docker: &Client) -> support::Result {
    // For this thread only (a program would usually call `.init()` once, in `main`).
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(FmtSpan::CLOSE)
        .with_target(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    docker.invoke(_ping::SystemPing::default()).await?;
    let listed = docker.invoke(containers::ContainerList::default()).await?;
    println!("{} running containers", listed.len());
    let missing = docker
        .invoke(containers::ContainerInspect {
            id: support::unique("no-such-container"),
            ..Default::default()
        })
        .await;
    match missing {
        Err(e) if e.is_not_found() => println!("as expected: {e}"),
        other => return Err(format!("a missing container was answered: {other:?}").into()),
    }
    Ok(())
}
