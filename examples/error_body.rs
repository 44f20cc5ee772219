//! Reading the body of an error from a streaming call: `ContainerArchive` of a path that
//! does not exist fails with `Error::Api`, and `Error::body()` is everything the engine
//! sent (the guide's `(-> e ex-data :body slurp println)`).
//!
//! `cargo run --example error_body --features docker-v1_41`

#[path = "support/mod.rs"]
mod support;

use berth::docker::v1_41::{containers, models};
use berth::Client;

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::docker()?).await }.await {
        eprintln!("error_body failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(docker: &Client) -> support::Result {
    let created = docker
        .invoke(containers::ContainerCreate {
            name: Some(support::unique("conny-error")),
            body: models::ContainerCreateBody {
                image: Some(support::test_image()),
                cmd: Some(vec!["true".into()]),
                ..Default::default()
            },
            ..Default::default()
        })
        .await?;
    let answer = docker
        .invoke(containers::ContainerArchive {
            id: created.id.clone(),
            path: "/this-does-not-exist".into(),
        })
        .await;
    let _ = docker
        .invoke(containers::ContainerDelete {
            id: created.id,
            force: Some(true),
            ..Default::default()
        })
        .await;

    let error = match answer {
        Ok(_) => return Err("an archive of a missing path was answered".into()),
        Err(error) => error,
    };
    println!("error: {error}");
    println!("status: {:?}", error.status());
    let body = error.body().ok_or("the error carries no body")?;
    println!("body: {}", String::from_utf8_lossy(body).trim_end());
    Ok(())
}
