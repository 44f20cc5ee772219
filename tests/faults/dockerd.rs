//! dockerd killed with SIGKILL (and restarted) in the middle of a log follow, the events
//! stream, a build, an attach with stdin and a large archive download.
//!
//! What dockerd does here: its containerd dies with it (it was started with a parent-death
//! signal), the containers' shims live on, and the restarted dockerd (no `--live-restore`)
//! stops the containers that were running. Test containers get `SIGKILL` as their stop
//! signal, so that this takes no 10 s grace period.

use std::collections::HashMap;

use berth::docker::v1_41::{_ping, build, containers, events, images, models, version};
use berth::Client;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::common::{self, report, within, Cleanup};
use crate::harness::{self, After, Fault, Figures};

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

/// dockerd answers, and a connection is left idle in the pool: the first call after the
/// restart meets it, dead.
pub async fn pool_one(client: &Client) {
    assert_eq!(
        client.invoke(_ping::SystemPing {}).await.expect("ping"),
        "OK"
    );
}

/// The same client after the restart: a ping (on the dead pooled connection's slot), a
/// second one (on the connection the first left idle), the version.
pub async fn docker_answers(client: &Client, after: &mut After) {
    let ping = after.ok("SystemPing", client.invoke(_ping::SystemPing {}).await);
    assert_eq!(ping, "OK");
    let ping = after.ok(
        "SystemPing again",
        client.invoke(_ping::SystemPing {}).await,
    );
    assert_eq!(ping, "OK");
    let version = after.ok(
        "SystemVersion",
        client.invoke(version::SystemVersion {}).await,
    );
    assert_eq!(version.api_version.as_deref(), Some("1.41"));
}

async fn setup() -> Option<Client> {
    if !harness::can_inject() {
        return None;
    }
    common::docker().await
}

fn text(frames: &[berth::Frame]) -> String {
    frames
        .iter()
        .map(|f| String::from_utf8_lossy(&f.data).into_owned())
        .collect()
}

#[tokio::test]
async fn dockerd_killed_during_log_follow() {
    let Some(client) = setup().await else { return };
    let cleanup = Cleanup::new(&client);
    let id = create(
        &client,
        &cleanup,
        &[
            "sh",
            "-c",
            "i=0; while :; do echo line $i; i=$((i+1)); sleep 0.1; done",
        ],
        Default::default(),
    )
    .await;
    start(&client, &id).await;
    let logs = client
        .invoke(containers::ContainerLogs {
            id: id.clone(),
            follow: Some(true),
            stdout: Some(true),
            ..Default::default()
        })
        .await
        .expect("ContainerLogs");
    let mut frames = logs.frames();
    let before = harness::until_item(
        &mut frames,
        20,
        "the first log lines",
        |f: &berth::Frame| String::from_utf8_lossy(&f.data).contains("line 2"),
    )
    .await;
    pool_one(&client).await;

    let mut fault = Fault::start("kill", "docker");
    let (during, error) = harness::until_error(&mut frames, 30, "the log follow").await;
    let error_after = fault.at.elapsed();
    harness::assert_cut_short(&error, "ContainerLogs");
    let restart = fault.restore().await;

    let mut after = After::new(&fault);
    docker_answers(&client, &mut after).await;
    // What was delivered before the kill is still in the container's log.
    let logged = after.ok(
        "ContainerLogs",
        client
            .invoke(containers::ContainerLogs {
                id: id.clone(),
                stdout: Some(true),
                ..Default::default()
            })
            .await,
    );
    let (out, _) = after.ok("log frames", logged.frames().collect_output().await);
    let out = String::from_utf8_lossy(&out).into_owned();
    let seen = text(&before) + &text(&during);
    assert!(
        out.starts_with(&seen),
        "the log lost lines: {seen:?} / {out:?}"
    );
    let state = after.ok(
        "ContainerInspect",
        client
            .invoke(containers::ContainerInspect {
                id: id.clone(),
                ..Default::default()
            })
            .await,
    );
    let running = state.state.and_then(|s| s.running);
    report::record(
        "fault",
        "dockerd SIGKILLed during a log follow",
        &harness::outcome(&error),
        &Figures {
            error_after,
            restart: Some(restart),
            back_after: after.back_after.unwrap(),
            calls: after.calls,
            extra: format!(
                "{} lines before the kill kept in the log; the container running after the restart: {running:?}",
                seen.lines().count()
            ),
        }
        .to_string(),
    );
}

#[tokio::test]
async fn dockerd_killed_during_events() {
    let Some(client) = setup().await else { return };
    let cleanup = Cleanup::new(&client);
    let label = common::unique("events");
    let filters = HashMap::from([("label".to_string(), vec![format!("berth-fault={label}")])]);
    let labelled = || models::ContainerCreateBody {
        labels: Some(HashMap::from([("berth-fault".to_string(), label.clone())])),
        ..Default::default()
    };
    let subscribe = || {
        client.invoke(events::SystemEvents {
            since: Some((common::now_secs() - 1).to_string()),
            filters: Some(filters.clone()),
            ..Default::default()
        })
    };
    let mut live = subscribe().await.expect("SystemEvents");
    create(&client, &cleanup, &["true"], labelled()).await;
    harness::until_item(
        &mut live,
        20,
        "the create event",
        |e: &models::EventMessage| e.action.as_deref() == Some("create"),
    )
    .await;
    pool_one(&client).await;

    let mut fault = Fault::start("kill", "docker");
    let (_, error) = harness::until_error(&mut live, 30, "the events stream").await;
    let error_after = fault.at.elapsed();
    harness::assert_cut_short(&error, "SystemEvents");
    let restart = fault.restore().await;

    let mut after = After::new(&fault);
    docker_answers(&client, &mut after).await;
    // A new subscription sees new events.
    let mut again = after.ok("SystemEvents", subscribe().await);
    let id = create(&client, &cleanup, &["true"], labelled()).await;
    after.calls += 1;
    let seen = harness::until_item(
        &mut again,
        20,
        "an event after the restart",
        |e: &models::EventMessage| {
            e.action.as_deref() == Some("create")
                && e.actor.as_ref().and_then(|a| a.id.as_deref()) == Some(id.as_str())
        },
    )
    .await;
    after.calls += 1;
    report::record(
        "fault",
        "dockerd SIGKILLed during the events stream",
        &harness::outcome(&error),
        &Figures {
            error_after,
            restart: Some(restart),
            back_after: after.back_after.unwrap(),
            calls: after.calls,
            extra: format!(
                "a new subscription got {} events, the new create among them",
                seen.len()
            ),
        }
        .to_string(),
    );
}

#[tokio::test]
async fn dockerd_killed_during_build() {
    let Some(client) = setup().await else { return };
    let cleanup = Cleanup::new(&client);
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
    harness::until_item(
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
    pool_one(&client).await;

    let mut fault = Fault::start("kill", "docker");
    let (_, error) = harness::until_error(&mut progress, 30, "the build progress").await;
    let error_after = fault.at.elapsed();
    harness::assert_cut_short(&error, "ImageBuild");
    let restart = fault.restore().await;

    let mut after = After::new(&fault);
    docker_answers(&client, &mut after).await;
    let missing = client
        .invoke(images::ImageInspect { name: tag.clone() })
        .await
        .expect_err("the killed build tagged nothing");
    assert!(missing.is_not_found(), "{missing}");
    after.calls += 1;
    // The same client builds again.
    let tag2 = format!("berth-it/{}:latest", common::unique("rebuild"));
    cleanup.image(tag2.clone());
    let dockerfile = format!(
        "FROM {}\nRUN echo rebuilt >/rebuilt\n",
        common::test_image()
    );
    let progress = after.ok("ImageBuild", build(dockerfile, &tag2).await);
    let items = after.ok(
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
    after.ok(
        "ImageInspect",
        client.invoke(images::ImageInspect { name: tag2 }).await,
    );
    report::record(
        "fault",
        "dockerd SIGKILLed during a build (RUN step)",
        &harness::outcome(&error),
        &Figures {
            error_after,
            restart: Some(restart),
            back_after: after.back_after.unwrap(),
            calls: after.calls,
            extra: "no image tagged by the killed build; a new build completes".into(),
        }
        .to_string(),
    );
}

#[tokio::test]
async fn dockerd_killed_during_attach_with_stdin() {
    let Some(client) = setup().await else { return };
    let cleanup = Cleanup::new(&client);
    let interactive = || models::ContainerCreateBody {
        open_stdin: Some(true),
        stdin_once: Some(true),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        ..Default::default()
    };
    let echo = ["sh", "-c", "while read l; do echo \"got $l\"; done"];
    let attach = |id: String| {
        client.invoke(containers::ContainerAttach {
            id,
            stream: Some(true),
            stdin: Some(true),
            stdout: Some(true),
            stderr: Some(true),
            ..Default::default()
        })
    };
    let id = create(&client, &cleanup, &echo, interactive()).await;
    let (mut output, mut stdin) = attach(id.clone())
        .await
        .expect("ContainerAttach")
        .split(false);
    start(&client, &id).await;
    stdin.write_all(b"one\n").await.expect("stdin");
    harness::until_item(&mut output, 20, "the echo of stdin", |f: &berth::Frame| {
        String::from_utf8_lossy(&f.data).contains("got one")
    })
    .await;
    pool_one(&client).await;

    let mut fault = Fault::start("kill", "docker");
    // The hijacked connection is raw bytes: its end is an EOF, the same as a container's
    // exit; what says the engine went is the stdin write that fails.
    let read = within(30, "the attach output after the kill", async {
        let mut frames = 0;
        loop {
            match output.next().await {
                Some(Ok(_)) => frames += 1,
                Some(Err(e)) => return (frames, Some(e)),
                None => return (frames, None),
            }
        }
    })
    .await;
    let ended_after = fault.at.elapsed();
    fault.gone().await;
    let write = within(30, "a stdin write after the kill", async {
        stdin.write_all(b"two\n").await?;
        stdin.flush().await
    })
    .await;
    let error = write.expect_err("a stdin write to the killed engine's connection must fail");
    let error_after = fault.at.elapsed();
    eprintln!(
        "attach after the kill: output ended with {:?}; stdin: {error}",
        read.1
    );
    assert!(
        matches!(
            error.kind(),
            std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
        ),
        "{error:?}"
    );
    let restart = fault.restore().await;

    let mut after = After::new(&fault);
    docker_answers(&client, &mut after).await;
    // A new attach works both ways.
    let id2 = create(&client, &cleanup, &echo, interactive()).await;
    after.calls += 1;
    let (output, mut stdin) = after
        .ok("ContainerAttach", attach(id2.clone()).await)
        .split(false);
    start(&client, &id2).await;
    after.calls += 1;
    stdin.write_all(b"three\n").await.expect("stdin");
    stdin.shutdown().await.expect("close stdin");
    let (out, _) = after.ok(
        "attach output",
        within(30, "attach output", output.collect_output()).await,
    );
    assert_eq!(String::from_utf8_lossy(&out), "got three\n");
    let output_end = match &read.1 {
        None => format!("output ended (EOF, {} frames after the kill)", read.0),
        Some(e) => format!("output ended with {}", harness::outcome(e)),
    };
    report::record(
        "fault",
        "dockerd SIGKILLed during an attach with stdin",
        &format!(
            "{output_end} {:.2}s after the kill; stdin write: io::Error {:?}: {error}",
            ended_after.as_secs_f64(),
            error.kind()
        ),
        &Figures {
            error_after,
            restart: Some(restart),
            back_after: after.back_after.unwrap(),
            calls: after.calls,
            extra: "a new attach echoes stdin".into(),
        }
        .to_string(),
    );
}

#[tokio::test]
async fn dockerd_killed_during_archive_download() {
    let Some(client) = setup().await else { return };
    let cleanup = Cleanup::new(&client);
    const MIB: u64 = 200;
    let dd = format!("dd if=/dev/zero of=/big bs=1M count={MIB} 2>/dev/null");
    let id = create(&client, &cleanup, &["sh", "-c", &dd], Default::default()).await;
    start(&client, &id).await;
    let waited = within(
        120,
        "the 200 MiB file",
        client.invoke(containers::ContainerWait {
            id: id.clone(),
            ..Default::default()
        }),
    )
    .await
    .expect("ContainerWait");
    assert_eq!(waited.status_code, 0);
    // Reported a success before the kill: must be there after it.
    let kept = b"kept across the kill\n";
    client
        .invoke(containers::PutContainerArchive {
            id: id.clone(),
            path: "/tmp".into(),
            body: common::streamed(common::tar_of(&[("kept.txt", 0o644, kept)])),
            ..Default::default()
        })
        .await
        .expect("PutContainerArchive");

    let mut archive = client
        .invoke(containers::ContainerArchive {
            id: id.clone(),
            path: "/big".into(),
        })
        .await
        .expect("ContainerArchive");
    let mut read = 0u64;
    while read < 4 << 20 {
        let chunk = within(30, "the first MiBs", archive.next())
            .await
            .expect("the archive ended early")
            .expect("archive chunk");
        read += chunk.len() as u64;
    }
    pool_one(&client).await;

    // Not read meanwhile: dockerd is blocked writing when it dies.
    let mut fault = Fault::start("kill", "docker");
    fault.gone().await;
    let (chunks, error) = harness::until_error(&mut archive, 30, "the archive download").await;
    let error_after = fault.at.elapsed();
    read += chunks.iter().map(|c| c.len() as u64).sum::<u64>();
    assert!(read < MIB << 20, "{read} bytes read");
    harness::assert_cut_short(&error, "ContainerArchive");
    let restart = fault.restore().await;

    let mut after = After::new(&fault);
    docker_answers(&client, &mut after).await;
    let back = after.ok(
        "ContainerArchive",
        client
            .invoke(containers::ContainerArchive {
                id: id.clone(),
                path: "/tmp/kept.txt".into(),
            })
            .await,
    );
    let back = after.ok("archive body", back.collect().await);
    assert_eq!(
        common::file_in_tar(&back, "kept.txt").as_deref(),
        Some(&kept[..]),
        "the archive put before the kill"
    );
    report::record(
        "fault",
        "dockerd SIGKILLed during a 200 MiB archive download (ContainerArchive)",
        &harness::outcome(&error),
        &Figures {
            error_after,
            restart: Some(restart),
            back_after: after.back_after.unwrap(),
            calls: after.calls,
            extra: format!(
                "{:.1} MiB of {MIB} read; the file put before the kill read back",
                read as f64 / (1 << 20) as f64
            ),
        }
        .to_string(),
    );
}
