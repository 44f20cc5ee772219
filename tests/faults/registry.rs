//! The registry's cases: dockerd killed in the middle of a pull from the htpasswd registry,
//! and the registry stopped in the middle of a push.

use berth::auth::RegistryAuth;
use berth::docker::v1_41::{build, images, models};
use berth::{Client, Error, Method};

use crate::common::{self, within, Cleanup};
use crate::dockerd::Dockerd;
use crate::outage::{After, Engine, Reading};
use crate::streams;

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

/// The registry, stopped and started; the client is dockerd's, which pushes to it.
struct Registry;

impl Engine for Registry {
    const FAULT: (&'static str, &'static str) = ("stop", "registry");
    /// dockerd retries a layer upload 5 times, 5 s more apart each time: about 50 s.
    const ERROR_WITHIN: u64 = 150;

    async fn connect() -> Option<Client> {
        let client = common::docker().await?;
        common::registry_up().await.then_some(client)
    }

    // (the client is dockerd's: the registry has no calls of its own here)
    async fn ping(client: &Client) -> berth::Result<String> {
        Dockerd::ping(client).await
    }

    async fn version(client: &Client, after: &mut After) {
        Dockerd::version(client, after).await
    }
}

/// `REPO:v1` in the test registry for `what`, removed locally by `cleanup`: the repository
/// and the reference.
fn tagged(cleanup: &Cleanup, what: &str) -> (String, String) {
    let repo = remote_repo(what);
    let remote = format!("{repo}:v1");
    cleanup.image(remote.clone());
    (repo, remote)
}

/// Removes the local image `name`, so that a pull has to download it.
async fn delete_local(
    client: &Client,
    name: &str,
) -> berth::Result<Vec<models::ImageDeleteResponseItem>> {
    client
        .invoke(images::ImageDelete {
            name: name.to_string(),
            ..Default::default()
        })
        .await
}

/// Pulls `repo:v1` after the fault (two calls), within `secs`: the progress must name
/// `digest`, the one pushed.
async fn pulls_back(
    after: &mut After,
    client: &Client,
    repo: &str,
    digest: &str,
    secs: u64,
    what: &str,
) {
    let progress = after.ok("ImageCreate", pull(client, repo).await);
    let pulled = after.ok(
        "pull progress",
        within(secs, what, progress.collect_all()).await,
    );
    let statuses: Vec<&str> = pulled.iter().filter_map(|i| i.status.as_deref()).collect();
    assert!(
        statuses
            .iter()
            .any(|s| s.contains(&format!("Digest: {digest}"))),
        "{statuses:?}"
    );
}

/// A pull's progress once a layer is on its way (it is the download that the fault cuts).
fn downloading(item: &models::CreateImageInfo) -> bool {
    matches!(
        item.status.as_deref(),
        Some("Pulling fs layer" | "Waiting" | "Downloading")
    )
}

/// A push's progress once a layer's upload started.
fn uploading(item: &models::PushImageInfo) -> bool {
    item.status.as_deref() == Some("Pushing")
}

/// The push's own error item: `Error::Stream` naming the registry that went away.
fn assert_push_failed(error: &Error) {
    eprintln!("push after the registry stopped: {error}");
    match error {
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
}

#[tokio::test]
async fn dockerd_killed_during_pull_from_auth_registry() {
    let Some((client, cleanup)) = Registry::setup().await else {
        return;
    };
    let (repo, remote) = tagged(&cleanup, "faultpull");
    build_random(&client, &remote).await;
    let digest = pushed(&client, &repo)
        .await
        .expect("the push before the pull");
    // Gone locally, random layer included: the pull has to download it.
    delete_local(&client, &remote).await.expect("ImageDelete");

    let mut progress = pull(&client, &repo).await.expect("ImageCreate");
    streams::until_item(&mut progress, 60, "the layer download's start", downloading).await;
    let mut cut =
        Dockerd::cut_short(&client, &mut progress, "the pull progress", "ImageCreate").await;
    let what = "the pull after the restart";
    pulls_back(&mut cut.after, &client, &repo, &digest, 180, what).await;
    let inspected = client.invoke(images::ImageInspect { name: remote }).await;
    cut.after.ok("ImageInspect", inspected);
    forget(&repo, &digest).await;
    cut.record(
        &format!(
            "dockerd SIGKILLed during a pull ({RANDOM_MIB} MiB layer) from the htpasswd registry"
        ),
        format!(
            "{} progress items after the kill; the pull again gets {digest}",
            cut.items.len()
        ),
    );
}

#[tokio::test]
async fn registry_stopped_during_push() {
    let Some((client, cleanup)) = Registry::setup().await else {
        return;
    };
    // A push that reported success before the fault.
    let (kept_repo, kept) = tagged(&cleanup, "faultkept");
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

    let (repo, remote) = tagged(&cleanup, "faultpush");
    build_random(&client, &remote).await;
    let mut progress = push(&client, &repo).await.expect("ImagePush");
    streams::until_item(&mut progress, 60, "the layer upload's start", uploading).await;
    let mut cut = Registry::outage(
        &client,
        &mut progress,
        Reading::Meanwhile,
        "the push progress",
        assert_push_failed,
    )
    .await;
    let retries = cut
        .items
        .iter()
        // a countdown each time: "Retrying in 5 seconds", ..., "Retrying in 1 second"
        .filter(|i| i.status.as_deref() == Some("Retrying in 1 second"))
        .count();
    // The push that reported success before the fault is pullable.
    cut.after
        .ok("ImageDelete", delete_local(&client, &kept).await);
    let what = "the kept image's pull";
    pulls_back(&mut cut.after, &client, &kept_repo, &kept_digest, 120, what).await;
    // And the same client pushes the image whose push failed.
    let digest = cut
        .after
        .ok("ImagePush again", pushed(&client, &repo).await);
    forget(&kept_repo, &kept_digest).await;
    forget(&repo, &digest).await;
    cut.record(
        &format!("registry stopped during a push ({RANDOM_MIB} MiB layer)"),
        format!(
            "dockerd retried the upload {retries} times first; the image pushed before the fault pulled back; the failed push pushed again"
        ),
    );
}
