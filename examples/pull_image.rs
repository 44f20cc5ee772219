//! Pulling an image (the guide's `ImageCreate`), from the local registry that needs
//! credentials: the progress is a typed `JsonLines<CreateImageInfo>`, printed as it comes.
//!
//! Nothing is pulled from the internet: the example first pushes the local test image to
//! the registry (`BERTH_REGISTRY`, default `127.0.0.1:5000`), removes it locally, pulls it
//! back, and finally deletes it from both places.
//!
//! `cargo run --example pull_image --features docker-v1_41`

#[path = "support/mod.rs"]
mod support;

use berth::auth::RegistryAuth;
use berth::docker::v1_41::images;
use berth::Client;
use futures_util::StreamExt;

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::docker()?).await }.await {
        eprintln!("pull_image failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(docker: &Client) -> support::Result {
    let auth = RegistryAuth::password(
        support::registry_user(),
        support::registry_password(),
        support::registry(),
    );
    let repo = format!("{}/{}", support::registry(), support::unique("pull"));

    // Set up: the test image, tagged for the registry and pushed there.
    docker
        .invoke(images::ImageTag {
            name: support::test_image(),
            repo: Some(repo.clone()),
            tag: Some("v1".into()),
        })
        .await?;
    let result = push_then_pull(docker, &repo, &auth).await;
    // Clean up even when something failed: the local names, then the registry's copy.
    support::remove_pushed(docker, &repo, "v1").await?;
    result
}

async fn push_then_pull(docker: &Client, repo: &str, auth: &RegistryAuth) -> support::Result {
    docker
        .invoke(images::ImagePush {
            name: repo.to_string(),
            tag: Some("v1".into()),
            x_registry_auth: auth.clone(),
        })
        .await?
        .collect_all()
        .await?;
    docker
        .invoke(images::ImageDelete {
            name: format!("{repo}:v1"),
            ..Default::default()
        })
        .await?;
    println!("pushed {repo}:v1 to the registry and removed it locally");

    // The pull: ImageCreate with fromImage, tag and the registry credentials.
    let mut progress = docker
        .invoke(images::ImageCreate {
            from_image: Some(repo.to_string()),
            tag: Some("v1".into()),
            x_registry_auth: Some(auth.clone()),
            ..Default::default()
        })
        .await?;
    while let Some(info) = progress.next().await {
        let info = info?; // a CreateImageInfo; an error item would be an Error::Stream
        let status = info.status.unwrap_or_default();
        match info.id {
            Some(id) => println!("  {id}: {status}"),
            None => println!("  {status}"),
        }
    }
    let pulled = docker
        .invoke(images::ImageInspect {
            name: format!("{repo}:v1"),
        })
        .await?;
    println!("pulled {repo}:v1 = {}", pulled.id.unwrap_or_default());

    Ok(())
}
