//! Using a registry that needs authentication: push and pull with `X-Registry-Auth`
//! (`RegistryAuth::password`), and what the same calls answer without credentials.
//!
//! The registry is `BERTH_REGISTRY` (default `127.0.0.1:5000`, htpasswd user
//! `BERTH_REGISTRY_USER` / `BERTH_REGISTRY_PASSWORD`).
//!
//! `cargo run --example registry_auth --features docker-v1_41`

#[path = "support/mod.rs"]
mod support;

use berth::auth::RegistryAuth;
use berth::docker::v1_41::images;
use berth::{Client, Error};

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::docker()?).await }.await {
        eprintln!("registry_auth failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(docker: &Client) -> support::Result {
    let repo = format!("{}/{}", support::registry(), support::unique("auth"));
    docker
        .invoke(images::ImageTag {
            name: support::test_image(),
            repo: Some(repo.clone()),
            tag: Some("v1".into()),
        })
        .await?;
    let result = push_and_pull(docker, &repo).await;
    // Clean up even when something failed: the local names, then the registry's copy.
    support::remove_pushed(docker, &repo, "v1").await?;
    result
}

async fn push_and_pull(docker: &Client, repo: &str) -> support::Result {
    let auth = RegistryAuth::password(
        support::registry_user(),
        support::registry_password(),
        support::registry(),
    );

    // Without credentials: the engine reports the registry's 401 as an error item of the
    // progress stream (Error::Stream) — or, for some engines, as an error status.
    let anonymous = push(docker, repo, RegistryAuth::default()).await;
    println!("push without credentials: {}", refused(anonymous)?);

    push(docker, repo, auth.clone()).await?;
    println!("push with credentials: OK");

    docker
        .invoke(images::ImageDelete {
            name: format!("{repo}:v1"),
            ..Default::default()
        })
        .await?;
    let anonymous = pull(docker, repo, None).await;
    println!("pull without credentials: {}", refused(anonymous)?);

    pull(docker, repo, Some(auth)).await?;
    println!("pull with credentials: OK");
    Ok(())
}

async fn push(docker: &Client, repo: &str, auth: RegistryAuth) -> berth::Result<()> {
    docker
        .invoke(images::ImagePush {
            name: repo.to_string(),
            tag: Some("v1".into()),
            x_registry_auth: auth,
        })
        .await?
        .collect_all()
        .await?;
    Ok(())
}

async fn pull(docker: &Client, repo: &str, auth: Option<RegistryAuth>) -> berth::Result<()> {
    docker
        .invoke(images::ImageCreate {
            from_image: Some(repo.to_string()),
            tag: Some("v1".into()),
            x_registry_auth: auth,
            ..Default::default()
        })
        .await?
        .collect_all()
        .await?;
    Ok(())
}

/// The error of a call that had to fail, described.
fn refused(result: berth::Result<()>) -> support::Result<String> {
    match result {
        Ok(()) => Err("the registry accepted a call without credentials".into()),
        Err(Error::Stream { message, .. }) => Ok(format!("refused (error item): {message}")),
        Err(Error::Api(api)) => Ok(format!("refused ({}): {}", api.status, api.message)),
        Err(other) => Err(other.into()),
    }
}
