//! The registry's cases: dockerd killed in the middle of a pull from the htpasswd registry,
//! and the registry stopped in the middle of a push.

use berth::auth::RegistryAuth;
use berth::docker::v1_41::{build, images, models};
use berth::{Client, Error, Method};

use crate::common::{self, report, within, Cleanup};
use crate::dockerd::{docker_answers, pool_one};
use crate::harness::{self, After, Fault, Figures};

/// The random layer that makes a pull or a push take a while.
const RANDOM_MIB: u32 = 48;

fn auth() -> RegistryAuth {
    RegistryAuth::password(
        common::registry_user(),
        common::registry_password(),
        common::registry(),
    )
}

/// `127.0.0.1:5000/berth-it/<what>-...`
fn remote_repo(what: &str) -> String {
    format!("{}/berth-it/{}", common::registry(), common::unique(what))
}

/// An image of the test image plus a layer of random data, tagged `tag`.
async fn build_random(client: &Client, tag: &str) {
    let dockerfile = format!(
        "FROM {}\nRUN dd if=/dev/urandom of=/random bs=1M count={RANDOM_MIB} 2>/dev/null\n",
        common::test_image()
    );
    let context = common::tar_of(&[("Dockerfile", 0o644, dockerfile.as_bytes())]);
    let progress = client
        .invoke(build::ImageBuild {
            t: Some(tag.to_string()),
            rm: Some(true),
            forcerm: Some(true),
            body: Some(common::streamed(context)),
            ..Default::default()
        })
        .await
        .expect("ImageBuild");
    within(180, "the random image's build", progress.collect_all())
        .await
        .expect("build progress");
}

fn digest_of(items: &[models::PushImageInfo]) -> String {
    items
        .iter()
        .filter_map(|i| i.status.as_deref())
        .find_map(|s| s.split("digest: ").nth(1)?.split_whitespace().next())
        .unwrap_or_else(|| panic!("no digest in the push progress: {items:?}"))
        .to_string()
}

fn push<'a>(
    client: &'a Client,
    repo: &str,
) -> impl std::future::Future<Output = berth::Result<berth::JsonLines<models::PushImageInfo>>> + 'a
{
    client.invoke(images::ImagePush {
        name: repo.to_string(),
        tag: Some("v1".into()),
        x_registry_auth: auth(),
    })
}

async fn pushed(client: &Client, repo: &str) -> berth::Result<String> {
    let progress = push(client, repo).await?;
    let items = within(180, "push progress", progress.collect_all()).await?;
    Ok(digest_of(&items))
}

async fn pull(
    client: &Client,
    repo: &str,
) -> berth::Result<berth::JsonLines<models::CreateImageInfo>> {
    client
        .invoke(images::ImageCreate {
            from_image: Some(repo.to_string()),
            tag: Some("v1".into()),
            x_registry_auth: Some(auth()),
            ..Default::default()
        })
        .await
}

/// Removes a manifest from the registry (its blobs stay until a garbage collection).
async fn forget(repo: &str, digest: &str) {
    use base64::Engine as _;
    let registry = Client::new(&format!("http://{}", common::registry())).unwrap();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        common::registry_user(),
        common::registry_password()
    ));
    let path = repo.split_once('/').map_or(repo, |(_, path)| path);
    let removed = registry
        .request(Method::Delete, format!("/v2/{path}/manifests/{digest}"))
        .header("Authorization", format!("Basic {basic}"))
        .send()
        .await;
    if let Err(e) = removed {
        eprintln!("registry cleanup of {repo}@{digest}: {e}");
    }
}

async fn setup() -> Option<Client> {
    if !harness::can_inject() {
        return None;
    }
    let client = common::docker().await?;
    common::registry_up().await.then_some(client)
}

#[tokio::test]
async fn dockerd_killed_during_pull_from_auth_registry() {
    let Some(client) = setup().await else { return };
    let cleanup = Cleanup::new(&client);
    let repo = remote_repo("faultpull");
    let remote = format!("{repo}:v1");
    cleanup.image(remote.clone());
    build_random(&client, &remote).await;
    let digest = pushed(&client, &repo)
        .await
        .expect("the push before the pull");
    // Gone locally, random layer included: the pull has to download it.
    client
        .invoke(images::ImageDelete {
            name: remote.clone(),
            ..Default::default()
        })
        .await
        .expect("ImageDelete");
    pool_one(&client).await;

    let mut progress = pull(&client, &repo).await.expect("ImageCreate");
    harness::until_item(
        &mut progress,
        60,
        "the layer download's start",
        |i: &models::CreateImageInfo| {
            matches!(
                i.status.as_deref(),
                Some("Pulling fs layer" | "Waiting" | "Downloading")
            )
        },
    )
    .await;
    let mut fault = Fault::start("kill", "docker");
    let (items, error) = harness::until_error(&mut progress, 30, "the pull progress").await;
    let error_after = fault.at.elapsed();
    harness::assert_cut_short(&error, "ImageCreate");
    let restart = fault.restore().await;

    let mut after = After::new(&fault);
    docker_answers(&client, &mut after).await;
    let progress = after.ok("ImageCreate", pull(&client, &repo).await);
    let pulled = after.ok(
        "pull progress",
        within(180, "the pull after the restart", progress.collect_all()).await,
    );
    let statuses: Vec<&str> = pulled.iter().filter_map(|i| i.status.as_deref()).collect();
    assert!(
        statuses
            .iter()
            .any(|s| s.contains(&format!("Digest: {digest}"))),
        "{statuses:?}"
    );
    after.ok(
        "ImageInspect",
        client
            .invoke(images::ImageInspect {
                name: remote.clone(),
            })
            .await,
    );
    forget(&repo, &digest).await;
    report::record(
        "fault",
        &format!(
            "dockerd SIGKILLed during a pull ({RANDOM_MIB} MiB layer) from the htpasswd registry"
        ),
        &harness::outcome(&error),
        &Figures {
            error_after,
            restart: Some(restart),
            back_after: after.back_after.unwrap(),
            calls: after.calls,
            extra: format!(
                "{} progress items after the kill; the pull again gets {digest}",
                items.len()
            ),
        }
        .to_string(),
    );
}

#[tokio::test]
async fn registry_stopped_during_push() {
    let Some(client) = setup().await else { return };
    let cleanup = Cleanup::new(&client);
    // A push that reported success before the fault.
    let kept_repo = remote_repo("faultkept");
    let kept = format!("{kept_repo}:v1");
    cleanup.image(kept.clone());
    client
        .invoke(images::ImageTag {
            name: common::test_image(),
            repo: Some(kept_repo.clone()),
            tag: Some("v1".into()),
        })
        .await
        .expect("ImageTag");
    let kept_digest = pushed(&client, &kept_repo)
        .await
        .expect("the push before the fault");

    let repo = remote_repo("faultpush");
    let remote = format!("{repo}:v1");
    cleanup.image(remote.clone());
    build_random(&client, &remote).await;
    pool_one(&client).await;

    let mut progress = push(&client, &repo).await.expect("ImagePush");
    harness::until_item(
        &mut progress,
        60,
        "the layer upload's start",
        |i: &models::PushImageInfo| i.status.as_deref() == Some("Pushing"),
    )
    .await;
    let mut fault = Fault::start("stop", "registry");
    // dockerd retries a layer upload 5 times, 5 s more apart each time: about 50 s.
    let (items, error) = harness::until_error(&mut progress, 150, "the push progress").await;
    let error_after = fault.at.elapsed();
    eprintln!("push after the registry stopped: {error}");
    match &error {
        Error::Stream {
            operation,
            message,
            raw,
        } => {
            assert_eq!(operation, "ImagePush");
            assert!(message.contains(&common::registry()), "{message}");
            assert!(!raw.is_empty());
        }
        other => panic!("expected the push's error item (Error::Stream), got {other:?}"),
    }
    let retries = items
        .iter()
        // a countdown each time: "Retrying in 5 seconds", ..., "Retrying in 1 second"
        .filter(|i| i.status.as_deref() == Some("Retrying in 1 second"))
        .count();
    let restart = fault.restore().await;

    let mut after = After::new(&fault);
    docker_answers(&client, &mut after).await;
    // The push that reported success before the fault is pullable.
    after.ok(
        "ImageDelete",
        client
            .invoke(images::ImageDelete {
                name: kept.clone(),
                ..Default::default()
            })
            .await,
    );
    let progress = after.ok("ImageCreate", pull(&client, &kept_repo).await);
    let pulled = after.ok(
        "pull progress",
        within(120, "the kept image's pull", progress.collect_all()).await,
    );
    assert!(
        pulled
            .iter()
            .filter_map(|i| i.status.as_deref())
            .any(|s| s.contains(&format!("Digest: {kept_digest}"))),
        "{pulled:?}"
    );
    // And the same client pushes the image whose push failed.
    let digest = after.ok("ImagePush again", pushed(&client, &repo).await);
    forget(&kept_repo, &kept_digest).await;
    forget(&repo, &digest).await;
    report::record(
        "fault",
        &format!("registry stopped during a push ({RANDOM_MIB} MiB layer)"),
        &harness::outcome(&error),
        &Figures {
            error_after,
            restart: Some(restart),
            back_after: after.back_after.unwrap(),
            calls: after.calls,
            extra: format!(
                "dockerd retried the upload {retries} times first; the image pushed before the fault pulled back; the failed push pushed again"
            ),
        }
        .to_string(),
    );
}
