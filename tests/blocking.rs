//! The blocking client against a real dockerd, through `berth::blocking` only (plain
//! `#[test]`s, no runtime of the test's own): pull and build progress as iterators, a log
//! follow, an attach written and read back, archives through `Read`, calls by name and raw
//! requests; then where it refuses (inside a runtime), what outlives the client, and
//! threads sharing one client.

#![cfg(all(feature = "blocking", feature = "docker-v1_41"))]

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use berth::blocking::{Answer, Client};
use berth::docker::v1_41::{_ping, build, containers, images, models};
use berth::dynamic::Data;
use berth::{Body, Error, Method, StreamKind};
use common::Cleanup;

/// dockerd through the blocking client, or `None` (see `common::unavailable`). The read
/// timeout bounds every stream step, so that a test fails instead of hanging.
fn docker() -> Option<Client> {
    let uri = common::docker_uri();
    let client = match Client::builder(uri.clone())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(120))
        .read_timeout(Duration::from_secs(60))
        .build_blocking()
    {
        Ok(client) => client,
        Err(e) => return common::unavailable("docker", &uri, &e),
    };
    match client.invoke(_ping::SystemPing {}) {
        Ok(pong) if pong.body == "OK" => Some(client),
        Ok(pong) => {
            common::unavailable("docker", &uri, &format!("/_ping answered {:?}", pong.body))
        }
        Err(e) => common::unavailable("docker", &uri, &e),
    }
}

/// Creates a container of the test image running `cmd` (removed by `cleanup`).
fn create(
    client: &Client,
    cleanup: &Cleanup,
    cmd: &[&str],
    body: models::ContainerCreateBody,
) -> String {
    let created = client
        .invoke(containers::ContainerCreate {
            name: Some(common::unique("blocking")),
            body: models::ContainerCreateBody {
                image: Some(common::test_image()),
                cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
                labels: Some(HashMap::from([("berth-it".to_string(), "1".to_string())])),
                ..body
            },
            ..Default::default()
        })
        .expect("ContainerCreate");
    cleanup.container(created.id.clone());
    created.id
}

fn start(client: &Client, id: &str) {
    client
        .invoke(containers::ContainerStart {
            id: id.to_string(),
            ..Default::default()
        })
        .expect("ContainerStart");
}

/// Attached to stdin, stdout and stderr, before the container starts.
fn attach(client: &Client, id: &str) -> berth::blocking::Upgraded {
    client
        .invoke(containers::ContainerAttach {
            id: id.to_string(),
            stream: Some(true),
            stdin: Some(true),
            stdout: Some(true),
            stderr: Some(true),
            ..Default::default()
        })
        .expect("ContainerAttach")
}

/// With stdin open and attached, as `docker run -i` makes it.
fn interactive() -> models::ContainerCreateBody {
    models::ContainerCreateBody {
        open_stdin: Some(true),
        stdin_once: Some(true),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        ..Default::default()
    }
}

fn basic_auth() -> String {
    use base64::Engine as _;
    let pair = format!(
        "{}:{}",
        common::registry_user(),
        common::registry_password()
    );
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// The test image pushed to the registry, removed locally, and pulled back: the push and
/// pull progress are iterated item by item.
#[test]
fn blocking_pull_with_progress() {
    let Some(client) = docker() else { return };
    let registry_uri = format!("http://{}", common::registry());
    let registry = Client::new(&registry_uri).expect("registry client");
    match registry.request(Method::Get, "/v2/").send() {
        Err(e) if e.status() == Some(401) => {}
        other => {
            let why = format!("/v2/ without credentials answered {other:?}");
            common::unavailable::<()>("the registry", &registry_uri, &why);
            return;
        }
    }
    let cleanup = Cleanup::new_at(client.endpoint());
    let repo = format!("{}/berth-it/{}", common::registry(), common::unique("pull"));
    let reference = format!("{repo}:v1");
    cleanup.image(reference.clone());
    let auth = berth::auth::RegistryAuth::password(
        common::registry_user(),
        common::registry_password(),
        common::registry(),
    );
    client
        .invoke(images::ImageTag {
            name: common::test_image(),
            repo: Some(repo.clone()),
            tag: Some("v1".into()),
        })
        .expect("ImageTag");
    let pushed = client
        .invoke(images::ImagePush {
            name: repo.clone(),
            tag: Some("v1".into()),
            x_registry_auth: auth.clone(),
        })
        .expect("ImagePush");
    let pushed: Vec<models::PushImageInfo> = pushed.collect::<Result<_, _>>().expect("push");
    let digest = pushed
        .iter()
        .filter_map(|i| i.status.as_deref()?.split("digest: ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .next()
        .unwrap_or_else(|| panic!("no digest in the push progress: {pushed:?}"))
        .to_string();
    client
        .invoke(images::ImageDelete {
            name: reference.clone(),
            ..Default::default()
        })
        .expect("ImageDelete");

    let progress = client
        .invoke(images::ImageCreate {
            from_image: Some(repo.clone()),
            tag: Some("v1".into()),
            x_registry_auth: Some(auth),
            ..Default::default()
        })
        .expect("ImageCreate");
    let mut statuses = Vec::new();
    for item in progress {
        statuses.push(item.expect("a progress item").status.unwrap_or_default());
    }
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
    let pulled = client
        .invoke(images::ImageInspect {
            name: reference.clone(),
        })
        .expect("the pulled image");
    assert!(pulled
        .repo_digests
        .unwrap_or_default()
        .contains(&format!("{repo}@{digest}")));

    // Leave the registry as it was.
    let name = repo.trim_start_matches(&format!("{}/", common::registry()));
    let removed = registry
        .request(Method::Delete, format!("/v2/{name}/manifests/{digest}"))
        .header("Authorization", basic_auth())
        .send()
        .expect("registry manifest delete");
    assert_eq!(removed.status(), 202);
}

/// A build from a tar context read through `std::io::Read`: the progress items carry the
/// steps' output and the built image's id.
#[test]
fn blocking_build_with_progress() {
    let Some(client) = docker() else { return };
    let cleanup = Cleanup::new_at(client.endpoint());
    let tag = format!("berth-it/{}:latest", common::unique("build"));
    cleanup.image(tag.clone());
    let dockerfile = format!(
        "FROM {}\nRUN echo built-by-blocking > /built && cat /built\n",
        common::test_image()
    );
    let context = common::tar_of(&[("Dockerfile", 0o644, dockerfile.as_bytes())]);
    let progress = client
        .invoke(build::ImageBuild {
            t: Some(tag.clone()),
            forcerm: Some(true),
            body: Some(Body::from_std_reader(std::io::Cursor::new(context))),
            ..Default::default()
        })
        .expect("the build starts");
    let (mut output, mut built) = (String::new(), None);
    for item in progress {
        let item = item.expect("a build item");
        output.push_str(item.stream.as_deref().unwrap_or(""));
        built = built.or(item.aux.and_then(|aux| aux.id));
    }
    assert!(
        output.contains("built-by-blocking"),
        "the step ran: {output}"
    );
    let image = client
        .invoke(images::ImageInspect { name: tag.clone() })
        .expect("the built image");
    assert_eq!(image.id, built, "{output}");
}

/// A build from a directory with the blocking client: `.dockerignore` honoured (the
/// ignored file is not in the context), the Dockerfile found, the tar streamed as it is made.
#[test]
fn blocking_build_from_a_directory() {
    let Some(client) = docker() else { return };
    let cleanup = Cleanup::new_at(client.endpoint());
    let tag = format!("berth-it/{}:latest", common::unique("build-dir"));
    cleanup.image(tag.clone());
    let dir = std::env::temp_dir().join(common::unique("blocking-context"));
    std::fs::create_dir_all(dir.join("app")).unwrap();
    std::fs::write(dir.join("app/kept.txt"), "kept").unwrap();
    std::fs::write(dir.join("secret.env"), "TOKEN=hunter2").unwrap();
    std::fs::write(dir.join(".dockerignore"), "secret.env\n").unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        format!(
            "FROM {}\nCOPY . /ctx\nRUN test -f /ctx/app/kept.txt && test ! -e /ctx/secret.env && echo context-ok\n",
            common::test_image()
        ),
    )
    .unwrap();
    let context =
        berth::build_context::BuildContext::from_dir_blocking(&dir).expect("the context opens");
    let progress = client
        .invoke(build::ImageBuild {
            t: Some(tag.clone()),
            dockerfile: Some(context.dockerfile().to_string()),
            forcerm: Some(true),
            body: Some(context.into_body()),
            ..Default::default()
        })
        .expect("the build starts");
    let mut output = String::new();
    for item in progress {
        output.push_str(item.expect("a build item").stream.as_deref().unwrap_or(""));
    }
    assert!(output.contains("context-ok"), "{output}");
    client
        .invoke(images::ImageInspect { name: tag })
        .expect("the built image");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A container printing lines while its logs are followed: frames until it ends, stdout
/// and stderr apart.
#[test]
fn blocking_logs_follow() {
    let Some(client) = docker() else { return };
    let cleanup = Cleanup::new_at(client.endpoint());
    let script = "for i in 1 2 3 4 5; do echo line $i; sleep 0.2; done; echo warn >&2";
    let id = create(&client, &cleanup, &["sh", "-c", script], Default::default());
    start(&client, &id);
    let logs = client
        .invoke(containers::ContainerLogs {
            id: id.clone(),
            follow: Some(true),
            stdout: Some(true),
            stderr: Some(true),
            ..Default::default()
        })
        .expect("ContainerLogs");
    let (mut out, mut err, mut frames) = (String::new(), String::new(), 0);
    for frame in logs.frames() {
        let frame = frame.expect("a frame");
        frames += 1;
        let text = String::from_utf8_lossy(&frame.data);
        match frame.stream {
            StreamKind::Stdout => out.push_str(&text),
            StreamKind::Stderr => err.push_str(&text),
            other => panic!("a {other:?} frame"),
        }
    }
    assert_eq!(out, "line 1\nline 2\nline 3\nline 4\nline 5\n");
    assert_eq!(err, "warn\n");
    assert!(frames >= 6, "one frame per write at least: {frames}");
}

/// `cat` attached: each line written is read back before the next is written (the
/// connection really is both ways), then closing stdin ends the container and its output.
#[test]
fn blocking_attach_stdin_echo() {
    let Some(client) = docker() else { return };
    let cleanup = Cleanup::new_at(client.endpoint());
    let id = create(&client, &cleanup, &["cat"], interactive());
    let attached = attach(&client, &id);
    start(&client, &id);
    let (mut output, mut stdin) = attached.split(false);
    for n in 0..3 {
        let line = format!("line {n} through berth::blocking\n");
        stdin.write_all(line.as_bytes()).expect("write stdin");
        stdin.flush().expect("flush stdin");
        let mut echoed = String::new();
        while echoed.len() < line.len() {
            let frame = output
                .next()
                .expect("output before the end")
                .expect("frame");
            assert_eq!(frame.stream, StreamKind::Stdout);
            echoed.push_str(&String::from_utf8_lossy(&frame.data));
        }
        assert_eq!(echoed, line);
    }
    stdin.close().expect("close stdin");
    let rest: Vec<_> = output.collect::<Result<_, _>>().expect("the rest");
    assert!(rest.is_empty(), "nothing after the echo: {rest:?}");
    let waited = client
        .invoke(containers::ContainerWait {
            id,
            ..Default::default()
        })
        .expect("ContainerWait");
    assert_eq!(waited.status_code, 0);
}

/// The unsplit connection as `Read + Write`: write, `close_write`, then read the
/// multiplexed output to its end.
#[test]
fn blocking_attach_read_write_close_write() {
    let Some(client) = docker() else { return };
    let cleanup = Cleanup::new_at(client.endpoint());
    let script = "tr a-z A-Z; echo done >&2";
    let id = create(&client, &cleanup, &["sh", "-c", script], interactive());
    let mut connection = attach(&client, &id);
    start(&client, &id);
    let input = "shout this\n".repeat(2000);
    connection.write_all(input.as_bytes()).expect("write");
    connection.close_write().expect("close_write");
    let mut raw = Vec::new();
    connection.read_to_end(&mut raw).expect("read to the end");
    let (out, err) = demultiplex(&raw);
    assert_eq!(String::from_utf8(out).unwrap(), input.to_uppercase());
    assert_eq!(String::from_utf8(err).unwrap(), "done\n");
}

/// Docker's frames by hand (8-byte headers): stdout and stderr.
fn demultiplex(mut raw: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    while !raw.is_empty() {
        assert!(raw.len() >= 8, "a cut header: {raw:?}");
        let len = u32::from_be_bytes(raw[4..8].try_into().unwrap()) as usize;
        let payload = &raw[8..8 + len];
        match raw[0] {
            1 => out.extend_from_slice(payload),
            2 => err.extend_from_slice(payload),
            other => panic!("stream {other}"),
        }
        raw = &raw[8 + len..];
    }
    (out, err)
}

/// A tar uploaded from a `Read` (larger than one chunk), then downloaded and read with the
/// `tar` crate straight from the `Read` of the answer; also by name and as a raw request.
#[test]
fn blocking_archive_put_and_get() {
    let Some(client) = docker() else { return };
    let cleanup = Cleanup::new_at(client.endpoint());
    let id = create(&client, &cleanup, &["true"], Default::default());
    let big: Vec<u8> = (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let archive = common::tar_of(&[
        ("hello.txt", 0o644, b"hello from a std::io::Read"),
        ("big.bin", 0o600, &big),
    ]);
    client
        .invoke(containers::PutContainerArchive {
            id: id.clone(),
            path: "/tmp".into(),
            body: Body::from_std_reader(std::io::Cursor::new(archive)),
            ..Default::default()
        })
        .expect("PutContainerArchive");

    let reader = client
        .invoke(containers::ContainerArchive {
            id: id.clone(),
            path: "/tmp".into(),
        })
        .expect("ContainerArchive");
    assert_eq!(reader.operation(), "ContainerArchive");
    let mut files = HashMap::new();
    for entry in tar::Archive::new(reader).entries().expect("tar entries") {
        let mut entry = entry.expect("tar entry");
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).expect("tar read");
        files.insert(path, data);
    }
    assert_eq!(files["tmp/hello.txt"], b"hello from a std::io::Read");
    assert!(files["tmp/big.bin"] == big, "big.bin came back whole");

    // By name: the archive as a reader.
    let params = serde_json::json!({ "id": id, "path": "/tmp/hello.txt" });
    let api = &berth::docker::v1_41::API;
    let Answer::Bytes(mut reader) = client
        .invoke_by_name(api, "ContainerArchive", params, Data::None)
        .expect("ContainerArchive by name")
    else {
        panic!("a byte stream by name");
    };
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).unwrap();
    let hello = common::file_in_tar(&bytes, "hello.txt").expect("hello.txt by name");
    assert_eq!(hello, b"hello from a std::io::Read");

    // A raw request: the archive's stat header, then a missing path's error.
    let stat = client
        .request(
            Method::Head,
            format!("/v1.41/containers/{id}/archive?path=/tmp/big.bin"),
        )
        .send()
        .expect("HEAD archive");
    let stat = stat.headers().get("x-docker-container-path-stat").unwrap();
    assert!(!stat.is_empty());
    let missing = client
        .invoke(containers::ContainerArchive {
            id,
            path: "/no/such/path".into(),
        })
        .expect_err("a missing path");
    assert!(missing.is_not_found(), "{missing}");
}

/// Inside a runtime, constructors and calls say why they refuse (no tokio panic), and a
/// client or a stream dropped there does not panic either. No engine needed.
#[test]
fn blocking_refused_inside_a_runtime() {
    let outside = Client::new("unix:///nonexistent/berth.sock").expect("a client");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (built, called, refused_in_spawn_blocking) = runtime.block_on(async {
        let built = Client::new("unix:///nonexistent/berth.sock");
        let called = outside.invoke(_ping::SystemPing {});
        let in_pool = tokio::task::spawn_blocking(|| {
            Client::new("unix:///nonexistent/berth.sock").map(|_| ())
        });
        (built, called, in_pool.await.unwrap())
    });
    for (what, error) in [
        ("Client::new", built.map(|_| ()).unwrap_err()),
        ("invoke", called.unwrap_err()),
        ("spawn_blocking", refused_in_spawn_blocking.unwrap_err()),
    ] {
        assert!(
            matches!(error, Error::InsideRuntime { .. }),
            "{what}: {error:?}"
        );
        let message = error.to_string();
        assert!(message.contains("inside an async runtime"), "{message}");
    }
    let called = outside.invoke(_ping::SystemPing {}).unwrap_err();
    assert!(matches!(called, Error::Connect { .. }), "{called:?}");

    // The last handle on the client's runtime dropped inside another runtime.
    let clone = outside.clone();
    drop(outside);
    runtime.block_on(async move { drop(clone) });
}

/// Streams keep the runtime alive after the client is gone; a stream dropped inside a
/// runtime (the last holder of the client's runtime) does not panic; a refused step is an
/// `Err` item and the stream goes on afterwards.
#[test]
fn blocking_streams_outlive_the_client() {
    let Some(client) = docker() else { return };
    let cleanup = Cleanup::new_at(client.endpoint());
    let script = "echo first; sleep 1; echo second; sleep 300";
    let id = create(&client, &cleanup, &["sh", "-c", script], Default::default());
    start(&client, &id);
    let logs = client
        .invoke(containers::ContainerLogs {
            id,
            follow: Some(true),
            stdout: Some(true),
            ..Default::default()
        })
        .expect("ContainerLogs");
    drop(client);
    let mut frames = logs.frames();
    let first = frames.next().expect("a frame").expect("first");
    assert_eq!(&first.data[..], b"first\n");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (refused, frames) = runtime.block_on(async move {
        let refused = frames.next();
        (refused, frames)
    });
    match refused {
        Some(Err(Error::InsideRuntime { .. })) => {}
        other => panic!("a step inside a runtime is refused, not {other:?}"),
    }
    let mut frames = frames;
    let second = frames.next().expect("a frame").expect("second");
    assert_eq!(&second.data[..], b"second\n");
    // The container sleeps on: this drop ends a live stream and shuts the runtime down.
    runtime.block_on(async move { drop(frames) });
}

/// A silent stream fails with the async client's own read timeout.
#[test]
fn blocking_read_timeout_on_a_silent_stream() {
    let Some(client) = docker() else { return };
    let cleanup = Cleanup::new_at(client.endpoint());
    let id = create(&client, &cleanup, &["sleep", "300"], Default::default());
    start(&client, &id);
    let impatient = Client::builder(common::docker_uri())
        .read_timeout(Duration::from_millis(500))
        .build_blocking()
        .unwrap();
    let logs = impatient
        .invoke(containers::ContainerLogs {
            id,
            follow: Some(true),
            stdout: Some(true),
            ..Default::default()
        })
        .expect("ContainerLogs");
    let started = Instant::now();
    let mut frames = logs.frames();
    match frames.next() {
        Some(Err(Error::Timeout {
            which: berth::TimeoutKind::Read,
            ..
        })) => {}
        other => panic!("a read timeout, not {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(frames.next().is_none(), "the stream ends after its error");
}

/// One call's own timeout in place of the client's (120 s here): a wait longer than it
/// fails with a call timeout, and the client goes on.
#[test]
fn blocking_timeout_for_one_call() {
    let Some(client) = docker() else { return };
    let cleanup = Cleanup::new_at(client.endpoint());
    let id = create(&client, &cleanup, &["sleep", "30"], Default::default());
    start(&client, &id);
    let started = Instant::now();
    let error = client
        .invoke_with(
            containers::ContainerWait {
                id,
                ..Default::default()
            },
            &berth::CallOptions::default().timeout(Duration::from_millis(300)),
        )
        .expect_err("the container sleeps 30 s");
    assert!(
        matches!(
            &error,
            Error::Timeout {
                which: berth::TimeoutKind::Call,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    client
        .invoke(_ping::SystemPing {})
        .expect("the client goes on");
}

/// Clones of one client called from several threads at once.
#[test]
fn blocking_clones_across_threads() {
    let Some(client) = docker() else { return };
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || {
                for _ in 0..20 {
                    assert_eq!(client.invoke(_ping::SystemPing {}).unwrap().body, "OK");
                    client
                        .invoke(containers::ContainerList::default())
                        .expect("ContainerList");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a calling thread");
    }
    let version = client.server_version().expect("server_version");
    assert!(!version.api_version.is_empty(), "{version:?}");
}

#[path = "../examples/blocking.rs"]
mod example;

/// `examples/blocking.rs` against dockerd: it checks what it did itself.
#[test]
fn blocking_example() {
    let Some(client) = docker() else { return };
    example::run(&client).unwrap_or_else(|e| panic!("examples/blocking.rs: {e}"));
}

/// Podman's libpod API through the blocking client: the same client, another engine.
#[cfg(feature = "podman-v5_1_0")]
#[test]
fn blocking_podman_libpod_calls() {
    use berth::podman::v5_1_0::libpod;
    let uri = common::podman_uri();
    let client = Client::builder(uri.clone())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(60))
        .build_blocking()
        .expect("a podman client");
    match client
        .request(Method::Get, "/_ping")
        .send()
        .and_then(|r| r.text())
    {
        Ok(body) if body == "OK" => {}
        other => {
            common::unavailable::<()>("podman", &uri, &format!("/_ping: {other:?}"));
            return;
        }
    }
    let info = client
        .invoke(libpod::info::SystemInfoLibpod {})
        .expect("SystemInfoLibpod");
    assert!(info.host.is_some(), "{info:?}");
    let cleanup = Cleanup::new_at(client.endpoint());
    let name = common::unique("podman-blocking");
    let created = client
        .invoke(containers::ContainerCreate {
            name: Some(name.clone()),
            body: models::ContainerCreateBody {
                image: Some(common::test_image()),
                cmd: Some(vec!["true".into()]),
                ..Default::default()
            },
            ..Default::default()
        })
        .expect("ContainerCreate through podman's compatible API");
    cleanup.container(created.id.clone());
    let listed = client
        .invoke(libpod::containers::ContainerListLibpod {
            all: Some(true),
            ..Default::default()
        })
        .expect("ContainerListLibpod");
    assert!(
        listed
            .iter()
            .any(|c| c.id.as_deref() == Some(created.id.as_str())),
        "{name} among {listed:?}"
    );
}

// What crosses threads, checked when this file compiles: a client shared by reference,
// streams and stdin moved to another thread.
const _: fn() = || {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<Client>();
    sync::<Client>();
    send::<berth::blocking::Reader>();
    send::<berth::blocking::Iter<berth::JsonLines<models::CreateImageInfo>>>();
    send::<berth::blocking::Iter<berth::FrameStream>>();
    send::<berth::blocking::Multiplexed>();
    send::<berth::blocking::Upgraded>();
    send::<berth::blocking::UpgradedWriter>();
    send::<berth::blocking::RawResponse>();
};

/// A `Read` that gives what a channel sends it, blocking in between (a pipe, a slow disk).
struct ChannelReader {
    chunks: std::sync::mpsc::Receiver<Vec<u8>>,
    left: std::io::Cursor<Vec<u8>>,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.left.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            match self.chunks.recv() {
                Ok(chunk) => self.left = std::io::Cursor::new(chunk),
                Err(_) => return Ok(0), // the sender is gone: the end
            }
        }
    }
}

/// A request body whose `Read` blocks does not stall the client: other calls through it
/// go on meanwhile (the reads run on the runtime's blocking threads), and the upload
/// completes once the reader has its bytes.
#[test]
fn blocking_slow_body_reader_does_not_stall_other_calls() {
    let Some(client) = docker() else { return };
    let cleanup = Cleanup::new_at(client.endpoint());
    let id = create(&client, &cleanup, &["true"], Default::default());
    let (send, chunks) = std::sync::mpsc::channel();
    let reader = ChannelReader {
        chunks,
        left: Default::default(),
    };
    let upload = {
        let (client, id) = (client.clone(), id.clone());
        std::thread::spawn(move || {
            client.invoke(containers::PutContainerArchive {
                id,
                path: "/tmp".into(),
                body: Body::from_std_reader(reader),
                ..Default::default()
            })
        })
    };
    let archive = common::tar_of(&[("slow.txt", 0o644, b"it came in the end")]);
    let (head, tail) = archive.split_at(700);
    send.send(head.to_vec()).unwrap();
    // The upload waits on its reader; calls through the same client go on.
    // (On a thread: a stalled runtime would hang the call, and this test is to fail.)
    let (answered, answers) = std::sync::mpsc::channel();
    let pinger = client.clone();
    std::thread::spawn(move || {
        for _ in 0..5 {
            let _ = answered.send(pinger.invoke(_ping::SystemPing {}));
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    for _ in 0..5 {
        let answer = answers.recv_timeout(Duration::from_secs(10));
        assert_eq!(
            answer.expect("a ping while the upload waits").unwrap().body,
            "OK"
        );
    }
    assert!(!upload.is_finished(), "the upload waits for its reader");
    send.send(tail.to_vec()).unwrap();
    drop(send);
    upload.join().unwrap().expect("PutContainerArchive");
    let mut reader = client
        .invoke(containers::ContainerArchive {
            id,
            path: "/tmp/slow.txt".into(),
        })
        .expect("ContainerArchive");
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).unwrap();
    let file = common::file_in_tar(&bytes, "slow.txt").expect("slow.txt");
    assert_eq!(file, b"it came in the end");
}
