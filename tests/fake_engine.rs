//! What the HTTP transport must do, against fake engines (`fake/`): tokio servers on a
//! unix socket, on 127.0.0.1 and behind TLS on 127.0.0.1, that read requests as a server
//! must, count connections and requests, and answer by the request path, so that a wrong
//! answer, a request sent twice or a connection reused when it must not be shows.
//!
//! Every test is bounded in time, stops its fakes itself and needs no engine.

// TLS is one of the transports every case runs on.
#![cfg(all(feature = "docker-v1_41", feature = "tls"))]

mod fake;

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth::docker::v1_41::_ping::SystemPing;
use berth::docker::v1_41::containers::{
    ContainerCreate, ContainerDelete, ContainerInspect, ContainerKill, PutContainerArchive,
};
use berth::docker::v1_41::models::ContainerCreateBody;
use berth::{Body, Client, Error, Method, ResponseKind};
use fake::{within, Checks, Fake, Transport, TRANSPORTS};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MIB: usize = 1 << 20;
static CHUNK: [u8; 64 * 1024] = [b'x'; 64 * 1024];

fn inspect(id: &str) -> ContainerInspect {
    ContainerInspect {
        id: id.into(),
        ..Default::default()
    }
}

/// A body of `count` chunks of `size` bytes.
fn chunks(
    count: usize,
    size: usize,
) -> impl futures_util::Stream<Item = io::Result<&'static [u8]>> {
    futures_util::stream::iter((0..count).map(move |_| Ok(&CHUNK[..size])))
}

// ---------------------------------------------------------------------------------------
// The fakes are sound: the happy path on each transport.

async fn happy_path(transport: Transport) {
    let fake = Fake::start(transport, fake::engine_handler()).await;
    let client = fake
        .client()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    within(60, "the happy path", async {
        assert_eq!(client.invoke(SystemPing {}).await.unwrap().body, "OK");
        for id in ["a", "b", "c"] {
            let answer = client.invoke(inspect(id)).await.unwrap();
            assert_eq!(answer.id.as_deref(), Some(id));
        }
        let body = ContainerCreateBody {
            image: Some("alpine".into()),
            ..Default::default()
        };
        let create = ContainerCreate {
            name: Some("web".into()),
            body,
            ..Default::default()
        };
        let created = client.invoke(create).await.unwrap();
        assert_eq!(created.warnings, ["image alpine"]);
        let kill = ContainerKill {
            id: "web".into(),
            ..Default::default()
        };
        client.invoke(kill).await.unwrap();
        let delete = ContainerDelete {
            id: "web".into(),
            ..Default::default()
        };
        client.invoke(delete).await.unwrap();
        let upload = client
            .request(Method::Post, "/v1.41/upload")
            .body(
                Body::wrap_stream(chunks(3, 1000)),
                "application/octet-stream",
            )
            .send()
            .await
            .unwrap();
        let received: serde_json::Value = upload.json().unwrap();
        assert_eq!(received["received"], 3000);
    })
    .await;
    assert_eq!(fake.stats.requests().len(), 8);
    assert_eq!(fake.stats.accepted(), 1, "one kept-alive connection");
    assert_eq!(fake.stats.problems(), Vec::<String>::new());
}

#[tokio::test]
async fn happy_path_unix() {
    happy_path(Transport::Unix).await;
}

#[tokio::test]
async fn happy_path_tcp() {
    happy_path(Transport::Tcp).await;
}

#[tokio::test]
async fn happy_path_tls() {
    happy_path(Transport::Tls).await;
}

// ---------------------------------------------------------------------------------------
// 1. Bytes that arrive on an idle connection never become an answer.

/// After answering ContainerInspect `a`, the fake waits until the test says the call
/// returned, then writes a whole unasked answer claiming `b` on that connection.
async fn unsolicited_bytes_on_idle(transport: Transport, idle: Duration) {
    let (go, written) = (
        Arc::new(tokio::sync::Notify::new()),
        Arc::new(tokio::sync::Notify::new()),
    );
    let (g, w) = (go.clone(), written.clone());
    let handler = fake::handler(move |request, wire| {
        let (go, written) = (g.clone(), w.clone());
        async move {
            if request.route() != "/v1.41/containers/a/json" {
                return fake::engine(request, wire).await;
            }
            let Some(mut wire) = fake::engine(request, wire).await? else {
                return Ok(None);
            };
            go.notified().await;
            let body = r#"{"Id":"b","Name":"/unsolicited"}"#;
            let unasked = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            wire.write(unasked.as_bytes()).await?;
            written.notify_one();
            Ok(Some(wire))
        }
    });
    let fake = Fake::start(transport, handler).await;
    let client = fake
        .client()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut checks = Checks::default();
    within(30, "the calls", async {
        let a = client.invoke(inspect("a")).await.unwrap();
        assert_eq!(a.id.as_deref(), Some("a"));
        go.notify_one();
        written.notified().await;
        tokio::time::sleep(idle).await;
        let b = client.invoke(inspect("b")).await;
        let seen = fake.stats.seen("GET", "/v1.41/containers/b/json");
        checks.check(
            seen.len() == 1,
            format!("the fake saw request b {} times", seen.len()),
        );
        match (&b, seen.first()) {
            (Ok(b), Some(seen)) => {
                let real = format!("/served-{}-on-{}", seen.seq, seen.conn);
                checks.check(
                    b.name.as_deref() == Some(&real),
                    format!(
                        "b answered with Name {:?}, not the fake's answer {real:?}",
                        b.name
                    ),
                );
                checks.check(
                    seen.conn != 1,
                    "b went on the connection that got unasked bytes",
                );
            }
            (Ok(b), None) => checks.check(
                false,
                format!(
                    "b answered with Name {:?} although the fake never saw it",
                    b.name
                ),
            ),
            (Err(e), _) => checks.check(false, format!("b failed: {e}")),
        }
        checks.check(
            fake.stats.accepted() == 2,
            format!("{} connections accepted, not 2", fake.stats.accepted()),
        );
    })
    .await;
    checks.finish();
}

#[tokio::test]
async fn idle_bytes_are_no_answer_unix_after_10ms() {
    unsolicited_bytes_on_idle(Transport::Unix, Duration::from_millis(10)).await;
}

#[tokio::test]
async fn idle_bytes_are_no_answer_unix_after_1500ms() {
    unsolicited_bytes_on_idle(Transport::Unix, Duration::from_millis(1500)).await;
}

#[tokio::test]
async fn idle_bytes_are_no_answer_tcp_after_10ms() {
    unsolicited_bytes_on_idle(Transport::Tcp, Duration::from_millis(10)).await;
}

#[tokio::test]
async fn idle_bytes_are_no_answer_tcp_after_1500ms() {
    unsolicited_bytes_on_idle(Transport::Tcp, Duration::from_millis(1500)).await;
}

#[tokio::test]
async fn idle_bytes_are_no_answer_tls_after_10ms() {
    unsolicited_bytes_on_idle(Transport::Tls, Duration::from_millis(10)).await;
}

#[tokio::test]
async fn idle_bytes_are_no_answer_tls_after_1500ms() {
    unsolicited_bytes_on_idle(Transport::Tls, Duration::from_millis(1500)).await;
}

// ---------------------------------------------------------------------------------------
// 2. A request is sent again on a new connection only if none of it was written.

#[derive(Debug, Clone, Copy)]
enum Call {
    Inspect,
    Kill,
    Create,
    Delete,
    Put,
}

impl Call {
    const ALL: [Call; 5] = [
        Call::Inspect,
        Call::Kill,
        Call::Create,
        Call::Delete,
        Call::Put,
    ];

    /// The method and path the fake sees.
    fn route(self) -> (&'static str, &'static str) {
        match self {
            Call::Inspect => ("GET", "/v1.41/containers/x/json"),
            Call::Kill => ("POST", "/v1.41/containers/x/kill"),
            Call::Create => ("POST", "/v1.41/containers/create"),
            Call::Delete => ("DELETE", "/v1.41/containers/x"),
            Call::Put => ("PUT", "/v1.41/containers/x/archive"),
        }
    }

    async fn run(self, client: &Client) -> berth::Result<()> {
        let id = String::from("x");
        match self {
            Call::Inspect => client.invoke(inspect(&id)).await.map(drop),
            Call::Kill => {
                client
                    .invoke(ContainerKill {
                        id,
                        ..Default::default()
                    })
                    .await
            }
            Call::Create => {
                let body = ContainerCreateBody {
                    image: Some("alpine".into()),
                    ..Default::default()
                };
                let create = ContainerCreate {
                    name: Some(id),
                    body,
                    ..Default::default()
                };
                client.invoke(create).await.map(drop)
            }
            Call::Delete => {
                client
                    .invoke(ContainerDelete {
                        id,
                        ..Default::default()
                    })
                    .await
            }
            Call::Put => {
                client
                    .invoke(PutContainerArchive {
                        id,
                        path: "/tmp".into(),
                        body: Body::from(b"not really a tar".to_vec()),
                        ..Default::default()
                    })
                    .await
            }
        }
    }
}

/// The fake answers `_ping`, and reads any other request whole and closes the connection
/// without a word. With `warm`, the call goes on a pooled connection that carried a ping.
async fn written_requests_are_not_sent_again(warm: bool) {
    let mut checks = Checks::default();
    for transport in TRANSPORTS {
        for call in Call::ALL {
            let handler = fake::handler(|request, mut wire| async move {
                if request.route().ends_with("/_ping") {
                    return fake::engine(request, wire).await;
                }
                wire.read_body(&request).await?;
                Ok(None)
            });
            let fake = Fake::start(transport, handler).await;
            let client = fake
                .client()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let result = within(30, "the call", async {
                if warm {
                    assert_eq!(client.invoke(SystemPing {}).await.unwrap().body, "OK");
                }
                call.run(&client).await
            })
            .await;
            let what = format!("{transport:?} {call:?}");
            checks.check(
                matches!(result, Err(Error::Transport { .. })),
                format!("{what}: expected a transport error, got {result:?}"),
            );
            let (method, route) = call.route();
            let seen = fake.stats.seen(method, route).len();
            checks.check(
                seen == 1,
                format!("{what}: the fake saw the request {seen} times"),
            );
        }
    }
    checks.finish();
}

#[tokio::test]
async fn an_unanswered_request_on_a_new_connection_is_not_sent_again() {
    written_requests_are_not_sent_again(false).await;
}

#[tokio::test]
async fn an_unanswered_request_on_a_pooled_connection_is_not_sent_again() {
    written_requests_are_not_sent_again(true).await;
}

/// The fake closes each connection (FIN) right after answering; the next call, once the
/// close has happened, goes on a new connection and succeeds.
#[tokio::test]
async fn a_connection_closed_while_idle_is_replaced() {
    let mut checks = Checks::default();
    for transport in TRANSPORTS {
        for call in [Call::Inspect, Call::Kill] {
            let handler = fake::handler(|request, wire| async move {
                fake::engine(request, wire).await?;
                Ok(None)
            });
            let fake = Fake::start(transport, handler).await;
            let client = fake
                .client()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let result = within(30, "the calls", async {
                assert_eq!(client.invoke(SystemPing {}).await.unwrap().body, "OK");
                fake.stats.wait_closed(1).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
                call.run(&client).await
            })
            .await;
            let what = format!("{transport:?} {call:?}");
            checks.check(result.is_ok(), format!("{what}: {result:?}"));
            let (method, route) = call.route();
            let seen = fake.stats.seen(method, route);
            checks.check(
                seen.len() == 1,
                format!("{what}: seen {} times", seen.len()),
            );
            checks.check(
                seen.iter().all(|s| s.conn == 2),
                format!("{what}: seen on connections {seen:?}"),
            );
        }
    }
    checks.finish();
}

/// An engine that dies closes its connections all at once, but hyper may see the end of an
/// idle one only later. When a call's connection fails, the idle ones are not used again:
/// here the idle connection stays open but never answers another request, so a ping sent on
/// it would fail; the ping after the failed log follow must go on a new connection.
#[tokio::test]
async fn after_a_connection_fails_the_idle_ones_are_not_reused() {
    use berth::docker::v1_41::containers::ContainerLogs;
    let mut checks = Checks::default();
    for transport in TRANSPORTS {
        let pinged = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));
        let handler = fake::handler(move |request, mut wire| {
            let pinged = pinged.clone();
            async move {
                if request.route().ends_with("/logs") {
                    wire.answer(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\nTransfer-Encoding: chunked\r\n\r\n").await?;
                    wire.write(b"d\r\n\x01\0\0\0\0\0\0\x05hello\r\n").await?;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    return Ok(None); // the engine dies mid-answer
                }
                if !pinged.lock().unwrap().insert(request.conn) {
                    return Ok(None); // a connection of the dead engine
                }
                fake::engine(request, wire).await
            }
        });
        let fake = Fake::start(transport, handler).await;
        let client = fake.client().build().unwrap();
        let result = within(30, "the calls", async {
            let logs = ContainerLogs {
                id: "x".into(),
                follow: Some(true),
                stdout: Some(true),
                ..Default::default()
            };
            let mut output = client.invoke(logs).await?.raw();
            // While the follow holds the first connection, a ping leaves a second one idle.
            assert_eq!(client.invoke(SystemPing {}).await?.body, "OK");
            while let Some(chunk) = output.next().await {
                if let Err(e) = chunk {
                    assert!(matches!(e, Error::Transport { .. }), "{e:?}");
                    return client.invoke(SystemPing {}).await;
                }
            }
            panic!("the follow ended without an error");
        })
        .await;
        checks.check(
            matches!(result.as_ref().map(|pong| pong.body.as_str()), Ok("OK")),
            format!("{transport:?}: the ping after the failure: {result:?}"),
        );
    }
    checks.finish();
}

// ---------------------------------------------------------------------------------------
// 3. A request body that fails, or is abandoned, ends the call; its connection is not reused.

/// Chunks, then (after 300 ms, so that the fake's early answer has arrived) an error.
fn failing_body() -> Body {
    let failure = futures_util::stream::once(async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Err::<&'static [u8], _>(io::Error::other("disk on fire"))
    });
    Body::wrap_stream(chunks(4, 16 * 1024).chain(failure))
}

/// Whether the call after a broken upload got its answer, on a new connection, with no
/// bytes of it inside the upload's body.
async fn next_call_is_clean(client: &Client, fake: &Fake, what: &str, checks: &mut Checks) {
    let after = client.invoke(inspect("after")).await;
    checks.check(
        matches!(&after, Ok(a) if a.id.as_deref() == Some("after")),
        format!("{what}: the next call answered {after:?}"),
    );
    let upload = fake.stats.seen("POST", "/v1.41/upload");
    let next = fake.stats.seen("GET", "/v1.41/containers/after/json");
    checks.check(
        next.len() == 1 && upload.len() == 1 && next[0].conn != upload[0].conn,
        format!("{what}: upload seen as {upload:?}, the next call as {next:?}"),
    );
    let problems = fake.stats.problems();
    checks.check(
        problems.is_empty(),
        format!("{what}: the fake saw {problems:?}"),
    );
}

#[tokio::test]
async fn a_failing_request_body_fails_the_call() {
    let mut checks = Checks::default();
    for transport in TRANSPORTS {
        // The upload is answered 200 right after its head; its body is read after that.
        let handler = fake::handler(|request, mut wire| async move {
            if request.route() != "/v1.41/upload" {
                return fake::engine(request, wire).await;
            }
            wire.respond(200, "application/json", br#"{"early":true}"#)
                .await?;
            wire.read_body(&request).await?;
            Ok(Some(wire))
        });
        let fake = Fake::start(transport, handler).await;
        let client = fake
            .client()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        within(30, "the calls", async {
            let result = client
                .request(Method::Post, "/v1.41/upload")
                .body(failing_body(), "application/octet-stream")
                .send()
                .await;
            let ok = matches!(&result, Err(e) if e.to_string().contains("disk on fire"));
            let what = format!("{transport:?}");
            checks.check(
                ok,
                format!("{what}: expected the body's error, got {result:?}"),
            );
            next_call_is_clean(&client, &fake, &what, &mut checks).await;
        })
        .await;
    }
    checks.finish();
}

#[tokio::test]
async fn an_abandoned_upload_leaves_its_connection_unused() {
    let mut checks = Checks::default();
    for transport in TRANSPORTS {
        let fake = Fake::start(transport, fake::engine_handler()).await;
        let client = fake
            .client()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        within(30, "the calls", async {
            let stalls = chunks(4, 16 * 1024).chain(futures_util::stream::pending());
            let upload = client
                .request(Method::Post, "/v1.41/upload")
                .body(Body::wrap_stream(stalls), "application/octet-stream")
                .send();
            let dropped = tokio::time::timeout(Duration::from_millis(500), upload).await;
            let what = format!("{transport:?}");
            checks.check(
                dropped.is_err(),
                format!("{what}: the upload ended: {dropped:?}"),
            );
            next_call_is_clean(&client, &fake, &what, &mut checks).await;
        })
        .await;
    }
    checks.finish();
}

// ---------------------------------------------------------------------------------------
// 4. Full duplex: the answer is read while the body is still being sent.

const DUPLEX_MIB: usize = 64;

/// Reads a chunked upload and writes a progress line after every MiB, its answer started
/// right after the request head. Its send buffer is the kernel's smallest, so its writes
/// block as soon as the client stops reading, and it then reads nothing more.
async fn duplex_fake() -> Fake {
    let handler = fake::handler(|request, mut wire| async move {
        if request.route() != "/v1.41/duplex" {
            return fake::engine(request, wire).await;
        }
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        wire.answer(head.as_bytes()).await?;
        let (mut body, mut total, mut mark) = (request.body(), 0, MIB);
        while let Some(data) = wire.body_data(&mut body, mark - total).await? {
            total += data.len();
            if total == mark {
                let line = format!("{{\"status\":\"{} MiB\"}}\n", total / MIB);
                wire.write(format!("{:x}\r\n{line}\r\n", line.len()).as_bytes())
                    .await?;
                mark += MIB;
            }
        }
        wire.write(b"0\r\n\r\n").await?;
        Ok(Some(wire))
    });
    let options = fake::Options {
        send_buffer: Some(1),
    };
    Fake::start_with(Transport::Unix, options, handler).await
}

fn duplex_body() -> Body {
    Body::wrap_stream(chunks(DUPLEX_MIB * MIB / CHUNK.len(), CHUNK.len()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_and_its_progress_go_both_ways_at_once() {
    let fake = duplex_fake().await;
    let client = fake.client().build().unwrap();
    let call = client
        .request(Method::Post, "/v1.41/duplex")
        .body(duplex_body(), "application/octet-stream")
        .response(ResponseKind::JsonLines)
        .send();
    let what = "the answer to start while the body is being sent (a client that sends the \
                whole body before reading never gets it: the fake stops reading once its \
                progress lines are not read)";
    let response = within(30, what, call).await.unwrap();
    let mut lines = response.into_json_lines::<serde_json::Value>();
    let mut statuses = Vec::new();
    while let Some(line) = within(20, "the next progress line", lines.next()).await {
        statuses.push(line.unwrap()["status"].as_str().unwrap_or("?").to_string());
    }
    let expected: Vec<String> = (1..=DUPLEX_MIB).map(|n| format!("{n} MiB")).collect();
    assert_eq!(statuses, expected);
    assert_eq!(fake.stats.problems(), Vec::<String>::new());
}

/// The duplex fake itself: a client that writes and reads at once gets every line, and
/// one that writes the whole body first stalls (so the test above can fail).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_duplex_fake_needs_a_full_duplex_client() {
    let head =
        b"POST /v1.41/duplex HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";
    let send = |mut write: tokio::net::unix::OwnedWriteHalf| async move {
        write.write_all(head).await?;
        for _ in 0..DUPLEX_MIB * MIB / CHUNK.len() {
            write
                .write_all(format!("{:x}\r\n", CHUNK.len()).as_bytes())
                .await?;
            write.write_all(&CHUNK).await?;
            write.write_all(b"\r\n").await?;
        }
        write.write_all(b"0\r\n\r\n").await
    };

    let fake = duplex_fake().await;
    let stream = tokio::net::UnixStream::connect(fake.socket_path())
        .await
        .unwrap();
    let (mut read, write) = stream.into_split();
    let writer = tokio::spawn(send(write));
    let mut answer = Vec::new();
    within(60, "the whole answer to a full-duplex client", async {
        while !answer.ends_with(b"\r\n0\r\n\r\n") {
            assert!(
                read.read_buf(&mut answer).await.unwrap() > 0,
                "closed early"
            );
        }
    })
    .await;
    writer.await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&answer);
    assert_eq!(text.matches(" MiB\"}").count(), DUPLEX_MIB, "{text}");

    let fake = duplex_fake().await;
    let stream = tokio::net::UnixStream::connect(fake.socket_path())
        .await
        .unwrap();
    let (_read, write) = stream.into_split();
    let sent = tokio::time::timeout(Duration::from_secs(3), send(write)).await;
    assert!(
        sent.is_err(),
        "a client that does not read sent it all: {sent:?}"
    );
}

// ---------------------------------------------------------------------------------------
// 5. Raw requests refuse framing headers and control characters.

#[tokio::test]
async fn raw_requests_refuse_framing_headers_and_control_characters() {
    let fake = Fake::start(Transport::Tcp, fake::engine_handler()).await;
    let client = fake
        .client()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let cases = [
        ("Content-Length", "5"),
        ("content-length", "0"),
        ("Transfer-Encoding", "chunked"),
        ("TRANSFER-ENCODING", "identity"),
        ("Host", "evil.example"),
        ("host", "localhost"),
        ("Connection", "close"),
        ("connection", "keep-alive"),
        ("Upgrade", "tcp"),
        ("uPgRaDe", "h2c"),
        ("X-Bad\r", "x"),
        ("X-Bad\nName", "x"),
        ("X-\u{1}", "x"),
        ("X-Value", "a\rb"),
        ("X-Value", "a\nb"),
        ("X-Value", "a\r\nInjected: yes"),
        ("X-Value", "a\0b"),
        ("X-Value", "a\u{1}b"),
        ("X-Value", "a\u{1f}b"),
        ("X-Value", "a\u{7f}b"),
    ];
    let mut checks = Checks::default();
    within(60, "the raw requests", async {
        for (i, (name, value)) in cases.iter().enumerate() {
            let result = client
                .request(Method::Get, format!("/v1.41/containers/case{i}/json"))
                .header(*name, *value)
                .send()
                .await;
            checks.check(
                matches!(result, Err(Error::InvalidRequest { .. })),
                format!("{name:?}: {value:?}: expected Error::InvalidRequest, got {result:?}"),
            );
        }
        // An ordinary header goes through.
        let fine = client
            .request(Method::Get, "/v1.41/containers/fine/json")
            .header("X-Registry-Auth", "e30=")
            .send()
            .await;
        checks.check(fine.is_ok(), format!("an ordinary header: {fine:?}"));
    })
    .await;
    let paths: Vec<String> = fake.stats.requests().into_iter().map(|s| s.path).collect();
    checks.check(
        paths == ["/v1.41/containers/fine/json"],
        format!("the fake saw {paths:?}"),
    );
    checks.finish();
}

// ---------------------------------------------------------------------------------------
// 6. Success statuses must be ones the spec lists.

#[tokio::test]
async fn an_unlisted_success_status_is_an_error() {
    let handler = fake::handler(|request, mut wire| async move {
        wire.read_body(&request).await?;
        let answer = "HTTP/1.1 206 Partial Content\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n\r\npartial!";
        wire.answer(answer.as_bytes()).await?;
        Ok(Some(wire))
    });
    let fake = Fake::start(Transport::Tcp, handler).await;
    let client = fake
        .client()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let kill = ContainerKill {
        id: "x".into(),
        ..Default::default()
    };
    let result = within(30, "ContainerKill", client.invoke(kill)).await;
    match result {
        Err(Error::UnexpectedStatus {
            status, ref body, ..
        }) => {
            assert_eq!(status, 206);
            assert_eq!(&body[..], b"partial!");
            let error = result.unwrap_err();
            assert_eq!(error.body().map(|b| &b[..]), Some(&b"partial!"[..]));
        }
        other => panic!("expected Error::UnexpectedStatus 206, got {other:?}"),
    }
}

#[tokio::test]
async fn switching_protocols_unasked_is_an_error() {
    let handler = fake::handler(|request, mut wire| async move {
        wire.read_body(&request).await?;
        let answer =
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
        wire.answer(answer.as_bytes()).await?;
        tokio::time::timeout(Duration::from_secs(10), wire.until_eof())
            .await
            .ok();
        Ok(None)
    });
    let fake = Fake::start(Transport::Tcp, handler).await;
    let client = fake
        .client()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut checks = Checks::default();
    within(30, "the calls", async {
        let ping = client.invoke(SystemPing {}).await;
        let ok = matches!(&ping, Err(e) if e.to_string().contains("101"));
        checks.check(
            ok,
            format!("SystemPing: expected an error naming 101, got {ping:?}"),
        );
        let kill = ContainerKill {
            id: "x".into(),
            ..Default::default()
        };
        let kill = client.invoke(kill).await;
        let ok = matches!(&kill, Err(e) if e.to_string().contains("101"));
        checks.check(
            ok,
            format!("ContainerKill: expected an error naming 101, got {kill:?}"),
        );
    })
    .await;
    checks.finish();
}

// ---------------------------------------------------------------------------------------
// 7. A connection closed mid-body is an error; a response head over the limit is refused.

/// Answers `/v1.41/containers/{case}/json` and `/v1.41/stream/{case}` by the case: a body
/// cut short (`short`: Content-Length 100, 50 bytes; `chunky`: no last chunk) then a
/// close, or a head with a big header (`head{bytes}`). The bodies that arrive are valid
/// JSON, so that a short body taken as whole would decode.
async fn cutting_fake() -> Fake {
    let handler = fake::handler(|request, mut wire| async move {
        wire.read_body(&request).await?;
        let case = request
            .route()
            .split('/')
            .nth(3)
            .unwrap_or_default()
            .to_string();
        let json = format!(r#"{{"Id":"{case}"}}"#);
        let answer = match case.as_str() {
            "short" => format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{json:<50}"
            ),
            "chunky" => format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{json}\r\n",
                json.len()
            ),
            head => {
                let size: usize = head.trim_start_matches("head").parse().unwrap_or(0);
                format!(
                    "HTTP/1.1 200 OK\r\nX-Big: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
                    "a".repeat(size),
                    json.len()
                )
            }
        };
        let close = !case.starts_with("head");
        wire.answer(answer.as_bytes()).await?;
        Ok(if close { None } else { Some(wire) })
    });
    Fake::start(Transport::Tcp, handler).await
}

#[tokio::test]
async fn a_connection_closed_mid_body_is_an_error() {
    let fake = cutting_fake().await;
    let client = fake
        .client()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut checks = Checks::default();
    within(30, "the calls", async {
        for case in ["short", "chunky"] {
            let buffered = client.invoke(inspect(case)).await;
            checks.check(
                buffered.is_err(),
                format!("ContainerInspect {case}: {buffered:?}"),
            );
            let streamed = client
                .request(Method::Get, format!("/v1.41/stream/{case}"))
                .response(ResponseKind::Bytes)
                .send()
                .await;
            let collected = match streamed {
                Ok(response) => response.into_byte_stream().collect().await,
                Err(e) => Err(e),
            };
            // and it says that the engine closed the connection, not a decoder's words
            checks.check(
                collected.as_ref().is_err_and(|e| {
                    matches!(e, berth::Error::Transport { .. })
                        && e.to_string().contains(
                            "the engine closed the connection before its answer was complete",
                        )
                }),
                format!("streamed {case}: {collected:?}"),
            );
        }
    })
    .await;
    checks.finish();
}

#[tokio::test]
async fn a_response_head_over_the_limit_is_refused() {
    let fake = cutting_fake().await;
    let client = fake
        .client()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    within(30, "the calls", async {
        let big = client.invoke(inspect(&format!("head{MIB}"))).await;
        assert!(big.is_err(), "a 1 MiB header value: {big:?}");
        let fine = client.invoke(inspect("head8000")).await.unwrap();
        assert_eq!(fine.id.as_deref(), Some("head8000"), "an 8 KiB head");
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 8. A connect timeout is on by default.

#[tokio::test]
async fn a_connect_timeout_is_on_by_default() {
    let (_listener, _held, addr) = fake::full_listener().await;
    let client = Client::builder(format!("http://{addr}"))
        .version_policy(berth::VersionPolicy::Off)
        .build()
        .unwrap();
    let started = Instant::now();
    let what = "a call to a listener that never completes the connection, with no \
                connect timeout set (the default must end it)";
    let error = within(30, what, client.invoke(SystemPing {}))
        .await
        .expect_err("nothing completes the connection");
    assert!(
        matches!(
            error,
            Error::Timeout {
                which: berth::TimeoutKind::Connect,
                ..
            }
        ),
        "expected a connect timeout, got {error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
}

// ---------------------------------------------------------------------------------------
// 9. A cap on the connections a client opens.

/// 1000 concurrent ContainerInspects with distinct ids, answered 5 ms after they arrive.
async fn many_calls(cap: Option<usize>, expected_max: usize) {
    let handler = fake::handler(|request, wire| async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        fake::engine(request, wire).await
    });
    let fake = Fake::start(Transport::Tcp, handler).await;
    let mut builder = fake.client().timeout(Duration::from_secs(60));
    if let Some(cap) = cap {
        builder = builder.max_connections(cap);
    }
    let client = builder.build().unwrap();
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..1000 {
        let client = client.clone();
        calls.spawn(async move {
            let id = format!("c{i}");
            let answer = client.invoke(inspect(&id)).await;
            (id, answer)
        });
    }
    let mut checks = Checks::default();
    let mut wrong = Vec::new();
    within(120, "1000 concurrent calls", async {
        while let Some(joined) = calls.join_next().await {
            let (id, answer) = joined.unwrap();
            match answer {
                Ok(a) if a.id.as_deref() == Some(&id) => {}
                other => wrong.push(format!("{id}: {other:?}")),
            }
        }
    })
    .await;
    let few: Vec<&String> = wrong.iter().take(3).collect();
    checks.check(
        wrong.is_empty(),
        format!("{} calls went wrong, e.g. {few:?}", wrong.len()),
    );
    let (open, in_flight) = (fake.stats.max_open(), fake.stats.max_in_flight());
    checks.check(
        open <= expected_max,
        format!("up to {open} connections open at once, over {expected_max}"),
    );
    checks.check(
        in_flight <= expected_max,
        format!("up to {in_flight} requests in flight at once, over {expected_max}"),
    );
    checks.finish();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_connections_caps_open_connections() {
    many_calls(Some(8), 8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_capped_at_64_by_default() {
    many_calls(None, 64).await;
}
