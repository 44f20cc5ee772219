//! dockerd killed with SIGKILL (and restarted) in the middle of a log follow, the events
//! stream, a build, an attach with stdin and a large archive download.
//!
//! What dockerd does here: its containerd dies with it (it was started with a parent-death
//! signal), the containers' shims live on, and the restarted dockerd (no `--live-restore`)
//! stops the containers that were running. Test containers get `SIGKILL` as their stop
//! signal, so that this takes no 10 s grace period.

use std::collections::HashMap;

use berth::docker::v1_41::{_ping, build, containers, events, images, models, version};
use berth::{Client, Frame, FrameStream};

use crate::common::{self, within, Cleanup};
use crate::outage::{After, Engine};
use crate::streams;

/// dockerd over its unix socket, killed and restarted.
pub struct Dockerd;

impl Engine for Dockerd {
    const FAULT: (&'static str, &'static str) = ("kill", "docker");
    const ERROR_WITHIN: u64 = 30;

    async fn connect() -> Option<Client> {
        common::docker().await
    }

    async fn ping(client: &Client) -> berth::Result<String> {
        client
            .invoke(_ping::SystemPing {})
            .await
            .map(|pong| pong.body)
    }

    async fn version(client: &Client, after: &mut After) {
        let version = after.ok(
            "SystemVersion",
            client.invoke(version::SystemVersion {}).await,
        );
        let sent = common::engine_version(client).await;
        assert_eq!(version.api_version.as_deref(), sent["ApiVersion"].as_str());
    }
}

/// A container of the test image running `cmd`, removed with `cleanup`.
pub async fn create(
    client: &Client,
    cleanup: &Cleanup,
    cmd: &[&str],
    body: models::ContainerCreateBody,
) -> String {
    let mut labels = body.labels.clone().unwrap_or_default();
    labels.insert("berth-it".to_string(), "faults".to_string());
    let created = client
        .invoke(containers::ContainerCreate {
            name: Some(common::unique("fault")),
            body: models::ContainerCreateBody {
                image: Some(common::test_image()),
                cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
                labels: Some(labels),
                // the restarted dockerd stops it at once
                stop_signal: Some("SIGKILL".into()),
                ..body
            },
            ..Default::default()
        })
        .await
        .expect("ContainerCreate");
    cleanup.container(created.id.clone());
    created.id
}

pub async fn start(client: &Client, id: &str) {
    client
        .invoke(containers::ContainerStart {
            id: id.to_string(),
            ..Default::default()
        })
        .await
        .expect("ContainerStart");
}

/// The stdout of `id`'s log: all of it so far, or followed.
fn logs(id: &str, follow: bool) -> containers::ContainerLogs {
    containers::ContainerLogs {
        id: id.to_string(),
        follow: follow.then_some(true),
        stdout: Some(true),
        ..Default::default()
    }
}

/// A [`streams::COUNTING`] container started, its log followed up to `line 2`: its id, the
/// live follow, and the frames read so far.
pub async fn follow_counting(
    client: &Client,
    cleanup: &Cleanup,
) -> (String, FrameStream, Vec<Frame>) {
    let id = create(client, cleanup, &streams::COUNTING, Default::default()).await;
    start(client, &id).await;
    let followed = client.invoke(logs(&id, true)).await;
    let mut frames = followed.expect("ContainerLogs").frames();
    let before = streams::first_lines(&mut frames).await;
    (id, frames, before)
}

/// Whether `id` runs, as `ContainerInspect` says.
pub async fn running(client: &Client, id: &str) -> berth::Result<Option<bool>> {
    let inspected = client
        .invoke(containers::ContainerInspect {
            id: id.to_string(),
            ..Default::default()
        })
        .await?;
    Ok(inspected.state.and_then(|s| s.running))
}

fn text(frames: &[Frame]) -> String {
    frames
        .iter()
        .map(|f| String::from_utf8_lossy(&f.data).into_owned())
        .collect()
}

#[tokio::test]
async fn dockerd_killed_during_log_follow() {
    let Some((client, cleanup)) = Dockerd::setup().await else {
        return;
    };
    let (id, mut frames, before) = follow_counting(&client, &cleanup).await;
    let mut cut = Dockerd::cut_short(&client, &mut frames, "the log follow", "ContainerLogs").await;
    // What was delivered before the kill is still in the container's log.
    let logged = client.invoke(logs(&id, false)).await;
    let out = streams::log_text(&mut cut.after, "ContainerLogs", logged).await;
    let seen = text(&before) + &text(&cut.items);
    assert!(
        out.starts_with(&seen),
        "the log lost lines: {seen:?} / {out:?}"
    );
    let running = cut
        .after
        .ok("ContainerInspect", running(&client, &id).await);
    cut.record(
        "dockerd SIGKILLed during a log follow",
        format!(
            "{} lines before the kill kept in the log; the container running after the restart: {running:?}",
            seen.lines().count()
        ),
    );
}

#[tokio::test]
async fn dockerd_killed_during_events() {
    let Some((client, cleanup)) = Dockerd::setup().await else {
        return;
    };
    let label = common::unique("events");
    let filters = HashMap::from([("label".to_string(), vec![format!("berth-fault={label}")])]);
    let subscribe = || {
        client.invoke(events::SystemEvents {
            since: Some((common::now_secs() - 1).to_string()),
            filters: Some(filters.clone()),
            ..Default::default()
        })
    };
    let create_labelled = || {
        let labels = HashMap::from([("berth-fault".to_string(), label.clone())]);
        let body = models::ContainerCreateBody {
            labels: Some(labels),
            ..Default::default()
        };
        create(&client, &cleanup, &["true"], body)
    };
    let is_create = |e: &models::EventMessage, id: &str| {
        e.action.as_deref() == Some("create")
            && e.actor.as_ref().and_then(|a| a.id.as_deref()) == Some(id)
    };
    let (cut, seen) = Dockerd::events_cut(
        &client,
        "SystemEvents",
        subscribe,
        create_labelled,
        is_create,
    )
    .await;
    cut.record(
        "dockerd SIGKILLed during the events stream",
        format!(
            "a new subscription got {} events, the new create among them",
            seen.len()
        ),
    );
}

#[tokio::test]
async fn dockerd_killed_during_build() {
    let Some((client, cleanup)) = Dockerd::setup().await else {
        return;
    };
    let tag = format!("berth-it/{}:latest", common::unique("killedbuild"));
    cleanup.image(tag.clone());
    let build = |dockerfile: String, tag: &str| {
        let context = common::tar_of(&[("Dockerfile", 0o644, dockerfile.as_bytes())]);
        client.invoke(build::ImageBuild {
            t: Some(tag.to_string()),
            nocache: Some(true),
            rm: Some(true),
            forcerm: Some(true),
            body: Some(common::streamed(context)),
            ..Default::default()
        })
    };
    let dockerfile = format!(
        "FROM {}\nRUN echo berth-build-started && sleep 120\n",
        common::test_image()
    );
    let mut progress = build(dockerfile, &tag).await.expect("ImageBuild");
    streams::until_item(
        &mut progress,
        60,
        "the RUN step's output",
        |i: &models::BuildInfo| {
            i.stream
                .as_deref()
                .is_some_and(|s| s.contains("berth-build-started"))
        },
    )
    .await;
    let mut cut =
        Dockerd::cut_short(&client, &mut progress, "the build progress", "ImageBuild").await;
    let missing = client
        .invoke(images::ImageInspect { name: tag.clone() })
        .await
        .expect_err("the killed build tagged nothing");
    assert!(missing.is_not_found(), "{missing}");
    cut.after.calls += 1;
    // The same client builds again.
    let tag2 = format!("berth-it/{}:latest", common::unique("rebuild"));
    cleanup.image(tag2.clone());
    let dockerfile = format!(
        "FROM {}\nRUN echo rebuilt >/rebuilt\n",
        common::test_image()
    );
    let progress = cut.after.ok("ImageBuild", build(dockerfile, &tag2).await);
    let items = cut.after.ok(
        "build progress",
        within(120, "the second build", progress.collect_all()).await,
    );
    assert!(
        items.iter().any(|i| i
            .stream
            .as_deref()
            .is_some_and(|s| s.contains("Successfully tagged"))),
        "{items:?}"
    );
    cut.after.ok(
        "ImageInspect",
        client.invoke(images::ImageInspect { name: tag2 }).await,
    );
    cut.record(
        "dockerd SIGKILLed during a build (RUN step)",
        "no image tagged by the killed build; a new build completes",
    );
}
