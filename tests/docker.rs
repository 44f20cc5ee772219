//! The Docker Engine API 1.41 against a real dockerd (unix socket): every response kind —
//! buffered JSON, byte streams, JSON lines, multiplexed frames, hijacked connections —
//! and the error statuses the engine answers.

#![cfg(feature = "docker-v1_41")]

mod common;

use std::collections::HashMap;

use berth::auth::RegistryAuth;
use berth::docker::v1_41::models;
use berth::docker::v1_41::{
    _ping, build, containers, events, exec, images, info, networks, version, volumes,
};
use berth::{Client, Error, StreamKind};
use common::{within, Cleanup};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

/// Creates a container of the test image running `cmd`; it is removed with `cleanup`.
async fn create(
    client: &Client,
    cleanup: &Cleanup,
    name: &str,
    cmd: &[&str],
    body: models::ContainerCreateBody,
) -> String {
    let created = client
        .invoke(containers::ContainerCreate {
            name: Some(name.to_string()),
            body: models::ContainerCreateBody {
                image: Some(common::test_image()),
                cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
                labels: Some(HashMap::from([("berth-it".to_string(), "1".to_string())])),
                ..body
            },
            ..Default::default()
        })
        .await
        .expect("ContainerCreate");
    cleanup.container(created.id.clone());
    assert_eq!(created.id.len(), 64, "a full container id: {created:?}");
    created.id
}

async fn start(client: &Client, id: &str) -> containers::ContainerStartResponse {
    client
        .invoke(containers::ContainerStart {
            id: id.to_string(),
            ..Default::default()
        })
        .await
        .expect("ContainerStart")
}

async fn wait(client: &Client, id: &str) -> i64 {
    let waited = within(
        60,
        "ContainerWait",
        client.invoke(containers::ContainerWait {
            id: id.to_string(),
            ..Default::default()
        }),
    )
    .await
    .expect("ContainerWait");
    assert!(
        waited
            .error
            .as_ref()
            .and_then(|e| e.message.as_ref())
            .is_none_or(|m| m.is_empty()),
        "wait error: {waited:?}"
    );
    waited.status_code
}

#[tokio::test]
async fn docker_ping_version_info() {
    let Some(client) = common::docker().await else {
        return;
    };

    assert_eq!(
        client.invoke(_ping::SystemPing {}).await.unwrap().body,
        "OK"
    );

    let version = client.invoke(version::SystemVersion {}).await.unwrap();
    let sent = common::engine_version(&client).await;
    assert_eq!(
        version.api_version.as_deref(),
        sent["ApiVersion"].as_str(),
        "the typed answer holds the API version the engine sent: {version:?}"
    );
    assert_eq!(version.version.as_deref(), sent["Version"].as_str());
    assert_eq!(
        client.server_version().await.unwrap().api_version,
        sent["ApiVersion"].as_str().unwrap(),
        "the client learned the same version"
    );
    assert!(
        version.min_api_version.is_some() && version.os.as_deref() == Some("linux"),
        "{version:?}"
    );
    assert!(
        version
            .components
            .as_ref()
            .is_some_and(|c| c.iter().any(|c| c.name == "Engine")),
        "{version:?}"
    );

    let info = client.invoke(info::SystemInfo {}).await.unwrap();
    assert!(
        info.id.as_deref().is_some_and(|id| !id.is_empty()),
        "{info:?}"
    );
    assert_eq!(
        info.server_version, version.version,
        "info and version name the same daemon"
    );
    assert!(
        info.images.unwrap_or(0) >= 1,
        "the test image is there: {:?}",
        info.images
    );
    assert!(info.ncpu.unwrap_or(0) >= 1);
    assert_eq!(info.os_type.as_deref(), Some("linux"));
}

/// Builds an image from a streamed tar context, reads its JSON-lines progress, lists,
/// inspects and tags it, pushes it to the htpasswd registry (refused without credentials),
/// deletes it and pulls it back.
#[tokio::test]
async fn docker_image_build_tag_push_pull() {
    let Some(client) = common::docker().await else {
        return;
    };
    if !common::registry_up().await {
        return;
    }
    let cleanup = Cleanup::new(&client);
    let name = common::unique("build");
    let local = format!("berth-it/{name}:latest");
    let remote_repo = format!("{}/berth-it/{name}", common::registry());
    let remote = format!("{remote_repo}:v1");
    cleanup.image(local.clone());
    cleanup.image(remote.clone());

    // The context: the static busybox and a Dockerfile that installs its applets.
    let busybox = std::fs::read("/usr/bin/busybox").expect("/usr/bin/busybox (busybox-static)");
    let dockerfile = b"FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n";
    let context = common::tar_of(&[
        ("Dockerfile", 0o644, dockerfile),
        ("busybox", 0o755, &busybox),
    ]);

    let progress = within(
        180,
        "ImageBuild",
        client.invoke(build::ImageBuild {
            t: Some(local.clone()),
            nocache: Some(true),
            rm: Some(true),
            forcerm: Some(true),
            labels: Some(HashMap::from([("berth-it".to_string(), name.clone())])),
            body: Some(common::streamed(context)),
            ..Default::default()
        }),
    )
    .await
    .expect("ImageBuild");
    let items: Vec<models::BuildInfo> = within(180, "build progress", progress.collect_all())
        .await
        .expect("build progress");
    let text: String = items.iter().filter_map(|i| i.stream.as_deref()).collect();
    // The `labels` parameter adds a fourth step.
    assert!(
        text.contains("Step 1/4 : FROM scratch"),
        "build output: {text}"
    );
    assert!(
        text.contains("Step 3/4 : RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]"),
        "build output: {text}"
    );
    assert!(
        text.contains("Step 4/4 : LABEL berth-it="),
        "build output: {text}"
    );
    assert!(
        text.contains(&format!("Successfully tagged {local}")),
        "build output: {text}"
    );
    let built_id = items
        .iter()
        .find_map(|i| i.aux.as_ref().and_then(|a| a.id.clone()))
        .unwrap_or_else(|| panic!("no aux ID item in the build progress: {items:?}"));
    assert!(built_id.starts_with("sha256:"), "{built_id}");

    // List (by reference) and inspect.
    let listed = client
        .invoke(images::ImageList {
            filters: Some(HashMap::from([(
                "reference".to_string(),
                vec![local.clone()],
            )])),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].id, built_id);
    assert_eq!(listed[0].repo_tags, vec![local.clone()]);
    assert_eq!(listed[0].labels.get("berth-it"), Some(&name));

    let inspected = client
        .invoke(images::ImageInspect {
            name: local.clone(),
        })
        .await
        .unwrap();
    assert_eq!(inspected.id.as_deref(), Some(built_id.as_str()));
    assert_eq!(inspected.os.as_deref(), Some("linux"));
    let layers = inspected
        .root_fs
        .as_ref()
        .and_then(|r| r.layers.as_ref())
        .map_or(0, Vec::len);
    assert_eq!(
        layers, 2,
        "COPY and RUN make two layers: {:?}",
        inspected.root_fs
    );

    // Tag for the registry (the image name has a slash and a port: it stays one segment).
    client
        .invoke(images::ImageTag {
            name: local.clone(),
            repo: Some(remote_repo.clone()),
            tag: Some("v1".into()),
        })
        .await
        .expect("ImageTag");
    let tagged = client
        .invoke(images::ImageInspect {
            name: remote.clone(),
        })
        .await
        .unwrap();
    assert_eq!(tagged.id.as_deref(), Some(built_id.as_str()));

    // A push without credentials is refused, as an error item or an error status.
    let anonymous = client
        .invoke(images::ImagePush {
            name: remote_repo.clone(),
            tag: Some("v1".into()),
            x_registry_auth: RegistryAuth::default(),
        })
        .await;
    let refused = match anonymous {
        Ok(stream) => within(60, "anonymous push", stream.collect_all())
            .await
            .expect_err("an anonymous push must fail"),
        Err(e) => e,
    };
    match &refused {
        Error::Stream {
            operation,
            message,
            raw,
        } => {
            assert_eq!(operation, "ImagePush");
            assert!(message.to_lowercase().contains("auth"), "{message}");
            assert!(!raw.is_empty());
        }
        Error::Api(api) => assert!(api.message.to_lowercase().contains("auth"), "{api:?}"),
        other => panic!("an anonymous push fails with an error item or status, not {other:?}"),
    }

    // With credentials it goes through; the last status names the manifest digest.
    let auth = RegistryAuth::password(
        common::registry_user(),
        common::registry_password(),
        common::registry(),
    );
    let pushed = within(
        120,
        "ImagePush",
        client.invoke(images::ImagePush {
            name: remote_repo.clone(),
            tag: Some("v1".into()),
            x_registry_auth: auth.clone(),
        }),
    )
    .await
    .expect("ImagePush");
    let pushed: Vec<models::PushImageInfo> = within(120, "push progress", pushed.collect_all())
        .await
        .expect("push progress");
    let digest = pushed
        .iter()
        .filter_map(|i| i.status.as_deref())
        .find_map(|s| {
            s.split("digest: ")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
        })
        .unwrap_or_else(|| panic!("no digest in the push progress: {pushed:?}"))
        .to_string();
    assert!(digest.starts_with("sha256:"), "{digest}");
    // The last item says it typed (fixup push-progress-fields), and the layers' items
    // name their layer.
    let aux = pushed
        .iter()
        .find_map(|i| i.aux.as_ref())
        .unwrap_or_else(|| panic!("no aux item: {pushed:?}"));
    assert_eq!(aux.digest.as_deref(), Some(digest.as_str()), "{aux:?}");
    assert_eq!(aux.tag.as_deref(), Some("v1"));
    assert!(aux.size.is_some_and(|s| s > 0), "{aux:?}");
    assert!(pushed.iter().any(|i| i.id.is_some()), "{pushed:?}");
    assert!(pushed.iter().all(|i| i.extra.is_empty()), "{pushed:?}");

    // Delete both names: the image is gone.
    let deleted = client
        .invoke(images::ImageDelete {
            name: remote.clone(),
            ..Default::default()
        })
        .await
        .expect("ImageDelete remote");
    assert!(
        deleted
            .iter()
            .any(|d| d.untagged.as_deref() == Some(remote.as_str())),
        "{deleted:?}"
    );
    let deleted = client
        .invoke(images::ImageDelete {
            name: local.clone(),
            ..Default::default()
        })
        .await
        .expect("ImageDelete local");
    assert!(
        deleted
            .iter()
            .any(|d| d.deleted.as_deref() == Some(built_id.as_str())),
        "{deleted:?}"
    );
    let gone = client
        .invoke(images::ImageInspect {
            name: local.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(gone.status(), Some(404), "{gone}");

    // Pull it back from the registry.
    let pulling = within(
        120,
        "ImageCreate",
        client.invoke(images::ImageCreate {
            from_image: Some(remote_repo.clone()),
            tag: Some("v1".into()),
            x_registry_auth: Some(auth.clone()),
            ..Default::default()
        }),
    )
    .await
    .expect("ImageCreate");
    let pulled: Vec<models::CreateImageInfo> = within(120, "pull progress", pulling.collect_all())
        .await
        .expect("pull progress");
    let statuses: Vec<&str> = pulled.iter().filter_map(|i| i.status.as_deref()).collect();
    assert!(
        statuses
            .iter()
            .any(|s| s.contains(&format!("Digest: {digest}"))),
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .any(|s| s.contains("Downloaded newer image")),
        "{statuses:?}"
    );
    let back = client
        .invoke(images::ImageInspect {
            name: remote.clone(),
        })
        .await
        .unwrap();
    assert_eq!(
        back.id.as_deref(),
        Some(built_id.as_str()),
        "the same image came back"
    );
    assert!(back
        .repo_digests
        .unwrap_or_default()
        .contains(&format!("{remote_repo}@{digest}")));

    // Leave the registry as it was: delete the manifest (a raw request with basic auth).
    use base64::Engine as _;
    let registry = Client::new(&format!("http://{}", common::registry())).unwrap();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        common::registry_user(),
        common::registry_password()
    ));
    let removed = registry
        .request(
            berth::Method::Delete,
            format!("/v2/berth-it/{name}/manifests/{digest}"),
        )
        .header("Authorization", format!("Basic {basic}"))
        .send()
        .await
        .expect("registry manifest delete");
    assert_eq!(removed.status(), 202);
}

/// A build step that fails ends the progress stream with `Error::Stream` carrying the
/// engine's message and the raw item.
#[tokio::test]
async fn docker_failing_build_is_a_stream_error() {
    let Some(client) = common::docker().await else {
        return;
    };
    let cleanup = Cleanup::new(&client);
    let tag = format!("berth-it/{}:latest", common::unique("badbuild"));
    cleanup.image(tag.clone());
    let dockerfile = format!("FROM {}\nRUN echo before; exit 3\n", common::test_image());
    let context = common::tar_of(&[("Dockerfile", 0o644, dockerfile.as_bytes())]);
    let progress = client
        .invoke(build::ImageBuild {
            t: Some(tag.clone()),
            forcerm: Some(true),
            body: Some(common::streamed(context)),
            ..Default::default()
        })
        .await
        .expect("the build starts");
    let mut progress = progress;
    let mut text = String::new();
    let error = loop {
        match within(60, "build progress", progress.next()).await {
            Some(Ok(item)) => text.push_str(item.stream.as_deref().unwrap_or("")),
            Some(Err(e)) => break e,
            None => panic!("the stream ended without an error item: {text}"),
        }
    };
    assert!(text.contains("before"), "the step ran: {text}");
    match &error {
        Error::Stream {
            operation,
            message,
            raw,
        } => {
            assert_eq!(operation, "ImageBuild");
            assert!(message.contains("returned a non-zero code: 3"), "{message}");
            let item: serde_json::Value = serde_json::from_slice(raw).unwrap();
            assert_eq!(item["errorDetail"]["code"], 3, "{item}");
        }
        other => panic!("expected Error::Stream, got {other:?}"),
    }
    let missing = client
        .invoke(images::ImageInspect { name: tag.clone() })
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "nothing was tagged: {missing}");
}

/// Create, start, follow the logs while the container runs (stdout and stderr apart),
/// wait for its exit code, remove.
#[tokio::test]
async fn docker_container_run_logs_wait_remove() {
    let Some(client) = common::docker().await else {
        return;
    };
    let cleanup = Cleanup::new(&client);
    let name = common::unique("logs");
    let id = create(
        &client,
        &cleanup,
        &name,
        &[
            "sh",
            "-c",
            "echo out1; echo err1 >&2; sleep 1; echo out2; echo err2 >&2; exit 7",
        ],
        Default::default(),
    )
    .await;
    assert_eq!(
        start(&client, &id).await,
        containers::ContainerStartResponse::NoContent
    );

    // Followed from the start: the stream ends when the container exits.
    let logs = client
        .invoke(containers::ContainerLogs {
            id: id.clone(),
            follow: Some(true),
            stdout: Some(true),
            stderr: Some(true),
            ..Default::default()
        })
        .await
        .expect("ContainerLogs");
    let mut frames = logs.frames();
    let (mut out, mut err) = (String::new(), String::new());
    while let Some(frame) = within(30, "log frames", frames.next()).await {
        let frame = frame.expect("frame");
        match frame.stream {
            StreamKind::Stdout => out.push_str(std::str::from_utf8(&frame.data).unwrap()),
            StreamKind::Stderr => err.push_str(std::str::from_utf8(&frame.data).unwrap()),
            other => panic!("unexpected {other:?} frame: {frame:?}"),
        }
    }
    assert_eq!(out, "out1\nout2\n");
    assert_eq!(err, "err1\nerr2\n");
    assert_eq!(wait(&client, &id).await, 7);

    // Only stderr, after the fact.
    let (out, err) = client
        .invoke(containers::ContainerLogs {
            id: id.clone(),
            stderr: Some(true),
            ..Default::default()
        })
        .await
        .unwrap()
        .frames()
        .collect_output()
        .await
        .unwrap();
    assert_eq!(
        (out.as_slice(), err.as_slice()),
        (&b""[..], &b"err1\nerr2\n"[..])
    );

    let inspected = client
        .invoke(containers::ContainerInspect {
            id: name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(inspected.id.as_deref(), Some(id.as_str()));
    let state = inspected.state.unwrap();
    assert_eq!((state.running, state.exit_code), (Some(false), Some(7)));

    client
        .invoke(containers::ContainerDelete {
            id: id.clone(),
            ..Default::default()
        })
        .await
        .expect("ContainerDelete");
    let gone = client
        .invoke(containers::ContainerInspect {
            id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

/// With a TTY the output is raw bytes, not frames: `output(true)` passes it through.
#[tokio::test]
async fn docker_tty_logs_are_raw() {
    let Some(client) = common::docker().await else {
        return;
    };
    let cleanup = Cleanup::new(&client);
    let id = create(
        &client,
        &cleanup,
        &common::unique("tty"),
        &["sh", "-c", "echo on a tty; echo also stderr >&2"],
        models::ContainerCreateBody {
            tty: Some(true),
            ..Default::default()
        },
    )
    .await;
    start(&client, &id).await;
    assert_eq!(wait(&client, &id).await, 0);
    let logs = client
        .invoke(containers::ContainerLogs {
            id: id.clone(),
            stdout: Some(true),
            stderr: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    let (out, err) = logs.output(true).collect_output().await.unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "on a tty\r\nalso stderr\r\n",
        "one terminal stream, with the TTY's CRLF"
    );
    assert!(err.is_empty());

    // Read as frames, the same output is an error that names the call and says why,
    // without blaming the engine.
    let logs = client
        .invoke(containers::ContainerLogs {
            id: id.clone(),
            stdout: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    let error = logs.frames().collect_output().await.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    assert!(
        text.starts_with("ContainerLogs: ") && text.contains("not a multiplexed stream"),
        "{text}"
    );
    assert!(text.contains("probably has a TTY"), "{text}");
    assert!(!text.contains("engine"), "{text}");
}

/// Attach before start, write stdin over the hijacked connection, close the write half
/// (the container sees EOF), read the demultiplexed output, then read the file the
/// container wrote back with ContainerArchive.
#[tokio::test]
async fn docker_container_attach_stdin() {
    let Some(client) = common::docker().await else {
        return;
    };
    let cleanup = Cleanup::new(&client);
    let name = common::unique("attach");
    let id = create(
        &client,
        &cleanup,
        &name,
        &["sh", "-c", "cat - >/out; echo done; echo warn >&2"],
        models::ContainerCreateBody {
            open_stdin: Some(true),
            stdin_once: Some(true),
            attach_stdin: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        },
    )
    .await;

    let upgraded = client
        .invoke(containers::ContainerAttach {
            id: id.clone(),
            stream: Some(true),
            stdin: Some(true),
            stdout: Some(true),
            stderr: Some(true),
            ..Default::default()
        })
        .await
        .expect("ContainerAttach");
    let (mut frames, mut stdin) = upgraded.split(false);
    start(&client, &id).await;

    let input = "line one\nline two from berth\n".repeat(100);
    stdin
        .write_all(input.as_bytes())
        .await
        .expect("write stdin");
    stdin.shutdown().await.expect("close stdin");

    let (mut out, mut err) = (Vec::new(), Vec::new());
    while let Some(frame) = within(30, "attach output", frames.next()).await {
        let frame = frame.expect("frame");
        match frame.stream {
            StreamKind::Stdout => out.extend_from_slice(&frame.data),
            StreamKind::Stderr => err.extend_from_slice(&frame.data),
            other => panic!("unexpected {other:?} frame"),
        }
    }
    assert_eq!(String::from_utf8(out).unwrap(), "done\n");
    assert_eq!(String::from_utf8(err).unwrap(), "warn\n");
    assert_eq!(wait(&client, &id).await, 0);

    let archive = client
        .invoke(containers::ContainerArchive {
            id: id.clone(),
            path: "/out".into(),
        })
        .await
        .expect("ContainerArchive")
        .collect()
        .await
        .unwrap();
    let written = common::file_in_tar(&archive, "out").expect("/out in the archive");
    assert_eq!(String::from_utf8(written).unwrap(), input);
}

/// ContainerExec + ExecStart over the hijacked connection, then ExecInspect.
#[tokio::test]
async fn docker_exec_with_output() {
    let Some(client) = common::docker().await else {
        return;
    };
    let cleanup = Cleanup::new(&client);
    let id = create(
        &client,
        &cleanup,
        &common::unique("exec"),
        &["sleep", "300"],
        Default::default(),
    )
    .await;
    start(&client, &id).await;

    let created = client
        .invoke(containers::ContainerExec {
            id: id.clone(),
            body: models::ContainerExecBody {
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                env: Some(vec!["GREETING=hello from exec".into()]),
                cmd: Some(vec![
                    "sh".into(),
                    "-c".into(),
                    "echo $GREETING; echo oops >&2; exit 3".into(),
                ]),
                ..Default::default()
            },
        })
        .await
        .expect("ContainerExec");
    let upgraded = client
        .invoke(exec::ExecStart {
            id: created.id.clone(),
            body: models::ExecStartBody {
                detach: Some(false),
                tty: Some(false),
                ..Default::default()
            },
        })
        .await
        .expect("ExecStart");
    let (frames, _stdin) = upgraded.split(false);
    let (out, err) = within(30, "exec output", frames.collect_output())
        .await
        .expect("exec output");
    assert_eq!(String::from_utf8(out).unwrap(), "hello from exec\n");
    assert_eq!(String::from_utf8(err).unwrap(), "oops\n");

    let inspected = client
        .invoke(exec::ExecInspect {
            id: created.id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(inspected.exit_code, Some(3), "{inspected:?}");
    assert_eq!(inspected.running, Some(false));
    assert_eq!(inspected.container_id.as_deref(), Some(id.as_str()));

    // The body left to its default is sent as `{}` (none at all: dockerd answers 400
    // "got EOF while reading request body").
    let second = client
        .invoke(containers::ContainerExec {
            id: id.clone(),
            body: models::ContainerExecBody {
                attach_stdout: Some(true),
                cmd: Some(vec!["echo".into(), "default body".into()]),
                ..Default::default()
            },
        })
        .await
        .expect("ContainerExec");
    let upgraded = client
        .invoke(exec::ExecStart {
            id: second.id,
            ..Default::default()
        })
        .await
        .expect("ExecStart with the default body");
    let (out, _) = within(30, "exec output", upgraded.split(false).0.collect_output())
        .await
        .expect("exec output");
    assert_eq!(String::from_utf8(out).unwrap(), "default body\n");
}

/// PutContainerArchive with a streamed tar body, ContainerArchiveInfo, ContainerArchive.
#[tokio::test]
async fn docker_archive_put_and_get() {
    let Some(client) = common::docker().await else {
        return;
    };
    let cleanup = Cleanup::new(&client);
    let id = create(
        &client,
        &cleanup,
        &common::unique("archive"),
        &["true"],
        Default::default(),
    )
    .await;

    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let tar = common::tar_of(&[
        ("put/greeting.txt", 0o644, b"hello, archive\n"),
        ("put/big.bin", 0o600, &big),
    ]);
    client
        .invoke(containers::PutContainerArchive {
            id: id.clone(),
            path: "/tmp".into(),
            body: common::streamed(tar),
            ..Default::default()
        })
        .await
        .expect("PutContainerArchive");

    // The path's stat comes in a header (base64 JSON): typed (fixup path-stat-header).
    let info = client
        .invoke(containers::ContainerArchiveInfo {
            id: id.clone(),
            path: "/tmp/put/big.bin".into(),
        })
        .await
        .expect("ContainerArchiveInfo");
    let stat = info
        .x_docker_container_path_stat
        .unwrap_or_else(|| panic!("no path stat in {:?}", info.headers));
    assert_eq!(stat.name, "big.bin");
    assert_eq!(stat.size, big.len() as i64);
    assert_eq!(stat.mode & 0o777, 0o600, "{stat:?}");
    assert!(!stat.is_dir() && !stat.is_symlink(), "{stat:?}");
    assert!(!stat.mtime.is_empty(), "{stat:?}");
    let dir = client
        .invoke(containers::ContainerArchiveInfo {
            id: id.clone(),
            path: "/tmp/put".into(),
        })
        .await
        .expect("ContainerArchiveInfo of a directory")
        .x_docker_container_path_stat
        .expect("a path stat");
    assert!(dir.is_dir(), "{dir:?}");

    let archive = client
        .invoke(containers::ContainerArchive {
            id: id.clone(),
            path: "/tmp/put".into(),
        })
        .await
        .expect("ContainerArchive")
        .collect()
        .await
        .unwrap();
    assert_eq!(
        common::file_in_tar(&archive, "put/greeting.txt").as_deref(),
        Some(&b"hello, archive\n"[..])
    );
    assert_eq!(common::file_in_tar(&archive, "put/big.bin"), Some(big));

    let missing = client
        .invoke(containers::ContainerArchive {
            id: id.clone(),
            path: "/no/such/path".into(),
        })
        .await
        .expect_err("no such path");
    assert_eq!(missing.status(), Some(404), "{missing}");
}

/// Stats (one JSON line), start twice (304 → NotModified), remove while running (409),
/// stop, stop again (304), kill, remove.
#[tokio::test]
async fn docker_stats_start_twice_conflict_stop_kill_remove() {
    let Some(client) = common::docker().await else {
        return;
    };
    let cleanup = Cleanup::new(&client);
    let name = common::unique("stats");
    let id = create(
        &client,
        &cleanup,
        &name,
        &["sleep", "300"],
        Default::default(),
    )
    .await;

    assert_eq!(
        start(&client, &id).await,
        containers::ContainerStartResponse::NoContent
    );
    assert_eq!(
        start(&client, &id).await,
        containers::ContainerStartResponse::NotModified,
        "a second start answers 304"
    );

    let stats = client
        .invoke(containers::ContainerStats {
            id: id.clone(),
            stream: Some(false),
            ..Default::default()
        })
        .await
        .expect("ContainerStats");
    let items = within(30, "stats", stats.collect_all())
        .await
        .expect("stats item");
    assert_eq!(items.len(), 1, "stream=false answers one item");
    // Typed in every version: v1.41's spec describes no stats answer and borrows v1.48's.
    let item: &models::ContainerStatsResponse = &items[0];
    assert_eq!(item.name.as_deref(), Some(format!("/{name}").as_str()));
    assert_eq!(item.id.as_deref(), Some(id.as_str()));
    assert!(item.memory_stats.is_some(), "{item:?}");
    let cpu = item.cpu_stats.as_ref().expect("cpu_stats");
    assert!(
        cpu.cpu_usage.as_ref().and_then(|u| u.total_usage).is_some(),
        "{item:?}"
    );

    let conflict = client
        .invoke(containers::ContainerDelete {
            id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    match &conflict {
        Error::Api(api) => {
            assert_eq!(api.status, 409);
            assert_eq!(api.operation, "ContainerDelete");
            // Its wording changed ("You cannot remove a running container ID" in 20.10,
            // "cannot remove container \"ID\": container is running" in 28): the meaning did not.
            assert!(
                api.message.contains("running") && api.message.contains(id.as_str()),
                "{}",
                api.message
            );
            // (the body is JSON: Docker 28's quotes are escaped in it)
            let body: serde_json::Value =
                serde_json::from_slice(&api.body).expect("the body is kept, as JSON");
            assert_eq!(body["message"], api.message.as_str(), "the body is kept");
        }
        other => panic!("expected a 409 API error, got {other:?}"),
    }

    let stopped = client
        .invoke(containers::ContainerStop {
            id: id.clone(),
            t: Some(1),
        })
        .await
        .expect("ContainerStop");
    assert_eq!(stopped, containers::ContainerStopResponse::NoContent);
    let again = client
        .invoke(containers::ContainerStop {
            id: id.clone(),
            t: Some(1),
        })
        .await
        .expect("ContainerStop again");
    assert_eq!(again, containers::ContainerStopResponse::NotModified);

    assert_eq!(
        start(&client, &id).await,
        containers::ContainerStartResponse::NoContent
    );
    client
        .invoke(containers::ContainerKill {
            id: id.clone(),
            signal: Some("SIGKILL".into()),
        })
        .await
        .expect("ContainerKill");
    assert_eq!(wait(&client, &id).await, 137);
    let not_running = client
        .invoke(containers::ContainerKill {
            id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(not_running.status(), Some(409), "{not_running}");

    client
        .invoke(containers::ContainerDelete {
            id: id.clone(),
            v: Some(true),
            ..Default::default()
        })
        .await
        .expect("ContainerDelete");
}

/// Networks and volumes: create, inspect, use (a bind of the volume, NetworkConnect),
/// disconnect, remove.
#[tokio::test]
async fn docker_networks_and_volumes() {
    let Some(client) = common::docker().await else {
        return;
    };
    let cleanup = Cleanup::new(&client);
    let net_name = common::unique("net");
    let vol_name = common::unique("vol");
    let labels = HashMap::from([("berth-it".to_string(), "1".to_string())]);

    let created = client
        .invoke(networks::NetworkCreate {
            body: models::NetworkCreateBody {
                name: net_name.clone(),
                check_duplicate: Some(true),
                driver: Some("bridge".into()),
                labels: Some(labels.clone()),
                ..Default::default()
            },
        })
        .await
        .expect("NetworkCreate");
    let net_id = created.id.clone().expect("network id");
    cleanup.network(net_id.clone());

    let duplicate = client
        .invoke(networks::NetworkCreate {
            body: models::NetworkCreateBody {
                name: net_name.clone(),
                check_duplicate: Some(true),
                ..Default::default()
            },
        })
        .await
        .unwrap_err();
    assert_eq!(duplicate.status(), Some(409), "{duplicate}");

    let volume = client
        .invoke(volumes::VolumeCreate {
            body: models::VolumeCreateOptions {
                name: Some(vol_name.clone()),
                labels: Some(labels.clone()),
                ..Default::default()
            },
        })
        .await
        .expect("VolumeCreate");
    cleanup.volume(vol_name.clone());
    assert_eq!(volume.name, vol_name);
    assert_eq!(volume.driver, "local");
    let inspected = client
        .invoke(volumes::VolumeInspect {
            name: vol_name.clone(),
        })
        .await
        .unwrap();
    assert_eq!(inspected.labels, labels);
    assert!(!inspected.mountpoint.is_empty());

    let id = create(
        &client,
        &cleanup,
        &common::unique("netvol"),
        &["sh", "-c", "echo kept >/data/file; sleep 300"],
        models::ContainerCreateBody {
            host_config: Some(models::HostConfig {
                binds: Some(vec![format!("{vol_name}:/data")]),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await;
    start(&client, &id).await;

    client
        .invoke(networks::NetworkConnect {
            id: net_id.clone(),
            body: models::NetworkConnectBody {
                container: Some(id.clone()),
                endpoint_config: None,
                ..Default::default()
            },
        })
        .await
        .expect("NetworkConnect");
    let network = client
        .invoke(networks::NetworkInspect {
            id: net_name.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(network.id.as_deref(), Some(net_id.as_str()));
    assert_eq!(network.driver.as_deref(), Some("bridge"));
    assert_eq!(network.labels.as_ref(), Some(&labels));
    let attached = network.containers.unwrap_or_default();
    assert!(attached.contains_key(&id), "{attached:?}");
    let container = client
        .invoke(containers::ContainerInspect {
            id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let nets = container
        .network_settings
        .and_then(|n| n.networks)
        .unwrap_or_default();
    assert!(
        nets.contains_key(&net_name) && nets.contains_key("bridge"),
        "{:?}",
        nets.keys()
    );
    let mounts = container.mounts.unwrap_or_default();
    assert!(
        mounts
            .iter()
            .any(|m| m.name.as_deref() == Some(vol_name.as_str())),
        "{mounts:?}"
    );

    let listed = client
        .invoke(networks::NetworkList {
            filters: Some(HashMap::from([(
                "name".to_string(),
                vec![net_name.clone()],
            )])),
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);

    // A network in use cannot go; after disconnecting it can.
    let in_use = client
        .invoke(networks::NetworkDelete { id: net_id.clone() })
        .await
        .unwrap_err();
    assert!(matches!(in_use.status(), Some(403 | 409)), "{in_use}");
    client
        .invoke(networks::NetworkDisconnect {
            id: net_id.clone(),
            body: models::NetworkDisconnectBody {
                container: Some(id.clone()),
                force: Some(false),
                ..Default::default()
            },
        })
        .await
        .expect("NetworkDisconnect");
    client
        .invoke(networks::NetworkDelete { id: net_id.clone() })
        .await
        .expect("NetworkDelete");
    let gone = client
        .invoke(networks::NetworkInspect {
            id: net_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(gone.is_not_found(), "{gone}");

    client
        .invoke(containers::ContainerDelete {
            id: id.clone(),
            force: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    let listed = client
        .invoke(volumes::VolumeList {
            filters: Some(HashMap::from([(
                "name".to_string(),
                vec![vol_name.clone()],
            )])),
        })
        .await
        .unwrap();
    assert!(
        listed
            .volumes
            .as_ref()
            .is_some_and(|v| v.iter().any(|v| v.name == vol_name)),
        "{listed:?}"
    );
    client
        .invoke(volumes::VolumeDelete {
            name: vol_name.clone(),
            ..Default::default()
        })
        .await
        .expect("VolumeDelete");
    let gone = client
        .invoke(volumes::VolumeInspect {
            name: vol_name.clone(),
        })
        .await
        .unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

/// The events stream: bounded by since/until (the daemon closes it), and open-ended
/// (read until the event shows up, then dropped).
#[tokio::test]
async fn docker_events() {
    let Some(client) = common::docker().await else {
        return;
    };
    let cleanup = Cleanup::new(&client);
    let name = common::unique("events");
    let filters = HashMap::from([("container".to_string(), vec![name.clone()])]);

    // Open-ended: subscribe, then make the event happen. dockerd flushes the answer's
    // headers just before it subscribes; `since` replays anything that falls in between.
    let since = common::now_secs() - 1;
    let live = client
        .invoke(events::SystemEvents {
            since: Some(since.to_string()),
            filters: Some(filters.clone()),
            ..Default::default()
        })
        .await
        .expect("SystemEvents");
    let id = create(&client, &cleanup, &name, &["true"], Default::default()).await;
    let mut live = live;
    let first = within(20, "a live event", live.next())
        .await
        .expect("the stream ended")
        .expect("event");
    assert_eq!(first.action.as_deref(), Some("create"), "{first:?}");
    assert_eq!(first.r#type, Some(models::EventMessageType::Container));
    // The legacy fields dockerd still sends are typed (fixup legacy-event-fields).
    #[allow(deprecated)]
    let legacy = (first.status.as_deref(), first.id.as_deref());
    assert_eq!(legacy, (Some("create"), Some(id.as_str())), "{first:?}");
    assert!(first.extra.is_empty(), "{first:?}");
    assert_eq!(
        first.actor.as_ref().and_then(|a| a.id.as_deref()),
        Some(id.as_str())
    );
    assert_eq!(
        first
            .actor
            .as_ref()
            .and_then(|a| a.attributes.as_ref())
            .and_then(|a| a.get("name")),
        Some(&name)
    );
    drop(live);

    start(&client, &id).await;
    assert_eq!(wait(&client, &id).await, 0);
    client
        .invoke(containers::ContainerDelete {
            id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();

    // Bounded: everything between since and until, then the daemon ends the stream.
    let until = common::now_secs() + 1;
    let bounded = client
        .invoke(events::SystemEvents {
            since: Some(since.to_string()),
            until: Some(until.to_string()),
            filters: Some(filters),
        })
        .await
        .expect("SystemEvents bounded");
    let items = within(30, "bounded events", bounded.collect_all())
        .await
        .expect("events");
    let actions: Vec<&str> = items.iter().filter_map(|e| e.action.as_deref()).collect();
    for expected in ["create", "start", "die", "destroy"] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    assert!(
        items
            .iter()
            .all(|e| e.time.unwrap_or(0) >= since && e.time_nano.is_some()),
        "{items:?}"
    );
}

/// Error statuses are typed: 404 with the engine's message, the operation and the body.
#[tokio::test]
async fn docker_not_found_is_a_typed_api_error() {
    let Some(client) = common::docker().await else {
        return;
    };
    let missing = common::unique("missing");
    let error = client
        .invoke(containers::ContainerInspect {
            id: missing.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    match &error {
        Error::Api(api) => {
            assert_eq!(api.status, 404);
            assert_eq!(api.operation, "ContainerInspect");
            assert_eq!(api.message, format!("No such container: {missing}"));
            let body: serde_json::Value = serde_json::from_slice(&api.body).unwrap();
            assert_eq!(body["message"], api.message.as_str());
        }
        other => panic!("expected Error::Api, got {other:?}"),
    }
    assert!(error.is_not_found());
    assert_eq!(
        error.to_string(),
        format!("ContainerInspect: the engine answered 404: No such container: {missing}")
    );

    // A streaming operation's error status is an error before any item, with the body.
    let logs = client
        .invoke(containers::ContainerLogs {
            id: missing.clone(),
            stdout: Some(true),
            ..Default::default()
        })
        .await;
    let error = logs.expect_err("logs of a missing container");
    assert_eq!(error.status(), Some(404));
    assert!(String::from_utf8_lossy(error.body().unwrap()).contains(&missing));

    // A path value cannot leave its segment: this asks for a container named "a/../b".
    let sneaky = client
        .invoke(containers::ContainerInspect {
            id: "a/../json".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    // Docker's router answers a path holding `..` with a redirect to its cleaned form,
    // which is not followed: no other container is asked for.
    assert_eq!(sneaky.status(), Some(301), "{sneaky}");
    assert!(sneaky.to_string().contains("does not follow"), "{sneaky}");
}

/// A port exposed but not published (an image's `EXPOSE` run without `-p`: nginx, postgres,
/// redis...): every engine answers `"8080/tcp": null` in `NetworkSettings.Ports`. The typed
/// inspect reads it, in this version and in the newest (negotiated down), and writes it
/// back as `null`.
#[tokio::test]
async fn docker_inspect_reads_a_port_exposed_but_not_published() {
    let Some(client) = common::docker().await else {
        return;
    };
    let cleanup = Cleanup::new(&client);
    let created = client
        .invoke(containers::ContainerCreate {
            name: Some(common::unique("exposed")),
            body: models::ContainerCreateBody {
                image: Some(common::test_image()),
                cmd: Some(vec!["sleep".into(), "30".into()]),
                exposed_ports: Some(HashMap::from([("8080/tcp".to_string(), HashMap::new())])),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .expect("ContainerCreate");
    cleanup.container(&created.id);
    start(&client, &created.id).await;

    let inspected = client
        .invoke(containers::ContainerInspect {
            id: created.id.clone(),
            ..Default::default()
        })
        .await
        .expect("ContainerInspect with a port exposed, not published");
    let ports = inspected
        .network_settings
        .as_ref()
        .and_then(|n| n.ports.as_ref())
        .expect("NetworkSettings.Ports");
    assert_eq!(ports.get("8080/tcp"), Some(&None), "{ports:?}");
    let written = serde_json::to_value(&inspected).unwrap();
    assert_eq!(
        written["NetworkSettings"]["Ports"],
        serde_json::json!({ "8080/tcp": null })
    );

    use berth::docker::newest;
    let inspected = client
        .invoke(newest::containers::ContainerInspect {
            id: created.id.clone(),
            ..Default::default()
        })
        .await
        .expect("the newest module's ContainerInspect, negotiated down");
    let ports = inspected
        .network_settings
        .and_then(|n| n.ports)
        .expect("NetworkSettings.Ports");
    assert_eq!(ports.get("8080/tcp"), Some(&None), "{ports:?}");
}

/// The newest module negotiated down to an older engine types what that engine sends and
/// the newest spec dropped (fields only earlier specs have, `#[deprecated]`): `/system/df`
/// in its shape before API 1.52, and a container's address on the default bridge, nothing
/// of either left untyped in `extra`.
#[tokio::test]
#[allow(deprecated)]
async fn the_newest_module_types_what_an_older_engine_sends() {
    use berth::docker::newest;
    use berth::version::compare;
    use std::cmp::Ordering;
    let Some(client) = common::docker().await else {
        return;
    };
    let engine = common::engine_version(&client).await;
    let api = engine["ApiVersion"].as_str().expect("ApiVersion");
    assert_eq!(
        compare(api, "1.52"),
        Ordering::Less,
        "this test needs an engine older than the shape change of API 1.52"
    );
    let cleanup = Cleanup::new(&client);
    let id = create(
        &client,
        &cleanup,
        &common::unique("older"),
        &["sleep", "30"],
        Default::default(),
    )
    .await;
    start(&client, &id).await;

    let usage = client
        .invoke(newest::system::SystemDataUsage::default())
        .await
        .expect("SystemDataUsage");
    assert!(usage.layers_size.is_some(), "{usage:?}");
    let containers = usage.containers.as_ref().expect("Containers");
    assert!(containers
        .iter()
        .any(|c| c.id.as_deref() == Some(id.as_str())));
    assert!(usage.images.as_ref().is_some_and(|i| !i.is_empty()));
    assert!(usage.extra.is_empty(), "left untyped: {:?}", usage.extra);

    let inspected = client
        .invoke(newest::containers::ContainerInspect {
            id: id.clone(),
            ..Default::default()
        })
        .await
        .expect("ContainerInspect");
    let settings = inspected.network_settings.expect("NetworkSettings");
    let address = settings.ip_address.as_deref().expect("IPAddress");
    assert!(address.parse::<std::net::Ipv4Addr>().is_ok(), "{address}");
    assert!(settings.gateway.as_deref().is_some_and(|g| !g.is_empty()));
    assert!(
        settings.extra.is_empty(),
        "left untyped: {:?}",
        settings.extra
    );
}

/// Attach over WebSocket (feature `websocket`), on the unix socket and over mTLS: a line
/// sent as a message reaches the container's stdin, its answer comes back as messages.
#[cfg(feature = "websocket")]
#[tokio::test]
async fn docker_attach_over_websocket() {
    use berth::websocket::Message;
    let Some(unix) = common::docker().await else {
        return;
    };
    let Some(tls) = common::docker_tls().await else {
        return;
    };
    for client in [unix, tls] {
        let cleanup = Cleanup::new(&client);
        let id = create(
            &client,
            &cleanup,
            &common::unique("ws"),
            &["sh", "-c", "read line; echo got:$line"],
            models::ContainerCreateBody {
                open_stdin: Some(true),
                ..Default::default()
            },
        )
        .await;
        start(&client, &id).await;
        let mut socket = client
            .invoke(containers::ContainerAttachWebsocket {
                id: id.clone(),
                stream: Some(true),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", client.endpoint()));
        socket
            .send(Message::text("hello from berth\n"))
            .await
            .expect("a message to stdin");
        let mut output = Vec::new();
        while let Some(message) = within(30, "websocket output", socket.next_message()).await {
            match message.expect("a message") {
                Message::Text(text) => output.extend_from_slice(text.as_bytes()),
                Message::Binary(bytes) => output.extend_from_slice(&bytes),
                Message::Close(_) => break,
                _ => {}
            }
            if output.ends_with(b"\n") {
                break;
            }
        }
        assert_eq!(
            String::from_utf8_lossy(&output),
            "got:hello from berth\n",
            "{}",
            client.endpoint()
        );
        // The container exits: dockerd closes the attach, which ends the messages (its
        // close frame comes with the socket's end), no error.
        while let Some(message) = within(30, "the end of the attach", socket.next_message()).await {
            message.expect("no error at the end of the attach");
        }
        assert_eq!(wait(&client, &id).await, 0);
    }
}
