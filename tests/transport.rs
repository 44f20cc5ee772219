//! Transports and their failures: the unix socket, each timeout, refused connections, bad
//! URIs, and what goes on the wire (against local listeners). TLS is in `tls.rs`.

#![cfg(feature = "docker-v1_41")]

mod common;

use std::time::{Duration, Instant};

use berth::docker::v1_41::{_ping, events};
use berth::{Client, Error};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

#[tokio::test]
async fn unix_socket_ping() {
    let Some(client) = common::docker().await else {
        return;
    };
    assert_eq!(client.endpoint(), common::docker_uri());
    assert_eq!(
        client.invoke(_ping::SystemPing {}).await.unwrap().body,
        "OK"
    );
    for _ in 0..3 {
        assert_eq!(
            client.invoke(_ping::SystemPing {}).await.unwrap().body,
            "OK"
        );
    }
}

/// A loopback listener whose accept queue is full: new connections are never completed,
/// so connecting hangs until the connect timeout.
async fn full_listener() -> (TcpListener, Vec<TcpStream>, std::net::SocketAddr) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    // Fill the queue (Linux keeps backlog + 1 completed connections); stop once a
    // connection no longer completes.
    let mut held = Vec::new();
    for _ in 0..16 {
        match tokio::time::timeout(Duration::from_millis(300), TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => held.push(stream),
            _ => break,
        }
    }
    (listener, held, addr)
}

#[tokio::test]
async fn connect_timeout_fires() {
    let (_listener, held, addr) = full_listener().await;
    assert!(
        !held.is_empty() && held.len() < 16,
        "the accept queue filled up after {} connections",
        held.len()
    );
    let client = Client::builder(format!("http://{addr}"))
        // A stand-in server, not an engine: it is not asked for its API versions.
        .version_policy(berth::VersionPolicy::Off)
        .connect_timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client
        .invoke(_ping::SystemPing {})
        .await
        .expect_err("nothing completes the connection");
    let elapsed = started.elapsed();
    match &error {
        Error::Timeout {
            endpoint,
            operation,
            which,
        } => {
            assert_eq!(*which, berth::TimeoutKind::Connect, "{error}");
            assert_eq!(endpoint, &format!("http://{addr}"));
            assert_eq!(operation, "SystemPing");
        }
        other => panic!("expected a connect timeout, got {other:?}"),
    }
    assert!(
        elapsed >= Duration::from_millis(350) && elapsed < Duration::from_secs(10),
        "{elapsed:?}"
    );
}

/// A loopback server that accepts connections, reads the request and never answers.
async fn silent_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn read_timeout_fires() {
    let addr = silent_server().await;
    let client = Client::builder(format!("http://{addr}"))
        // A stand-in server, not an engine: it is not asked for its API versions.
        .version_policy(berth::VersionPolicy::Off)
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client
        .invoke(_ping::SystemPing {})
        .await
        .expect_err("the server never answers");
    match &error {
        Error::Timeout {
            which, endpoint, ..
        } => {
            assert_eq!(*which, berth::TimeoutKind::Read, "{error}");
            assert_eq!(endpoint, &format!("http://{addr}"));
        }
        other => panic!("expected a read timeout, got {other:?}"),
    }
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(10),
        "{took:?}"
    );

    // A streaming operation too (the answer never starts).
    let error = client
        .invoke(events::SystemEvents::default())
        .await
        .expect_err("the server never answers");
    assert!(
        matches!(
            &error,
            Error::Timeout {
                which: berth::TimeoutKind::Read,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn call_timeout_fires() {
    let addr = silent_server().await;
    let client = Client::builder(format!("http://{addr}"))
        // A stand-in server, not an engine: it is not asked for its API versions.
        .version_policy(berth::VersionPolicy::Off)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client
        .invoke(_ping::SystemPing {})
        .await
        .expect_err("the server never answers");
    match &error {
        Error::Timeout {
            which, operation, ..
        } => {
            assert_eq!(*which, berth::TimeoutKind::Call, "{error}");
            assert_eq!(operation, "SystemPing");
        }
        other => panic!("expected a call timeout, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        error.to_string(),
        format!("SystemPing: call timeout against http://{addr}")
    );

    // For a stream the call timeout bounds the wait for the answer to start.
    let error = client
        .invoke(events::SystemEvents::default())
        .await
        .expect_err("the server never answers");
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

    // With both set, the shorter one is the one that fires.
    let client = Client::builder(format!("http://{addr}"))
        // A stand-in server, not an engine: it is not asked for its API versions.
        .version_policy(berth::VersionPolicy::Off)
        .timeout(Duration::from_millis(300))
        .read_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let error = client.invoke(_ping::SystemPing {}).await.unwrap_err();
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
}

#[tokio::test]
async fn a_read_timeout_between_stream_chunks() {
    let Some(_) = common::docker().await else {
        return;
    };
    // The events stream stays silent when nothing happens: the read timeout ends it.
    let client = Client::builder(common::docker_uri())
        .read_timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let filters =
        std::collections::HashMap::from([("container".to_string(), vec![common::unique("never")])]);
    let mut stream = client
        .invoke(events::SystemEvents {
            filters: Some(filters),
            ..Default::default()
        })
        .await
        .unwrap();
    let item = common::within(
        20,
        "events read timeout",
        futures_util::StreamExt::next(&mut stream),
    )
    .await;
    match item {
        Some(Err(Error::Timeout {
            which: berth::TimeoutKind::Read,
            ..
        })) => {}
        other => panic!("expected a read timeout item, got {other:?}"),
    }
}

#[tokio::test]
async fn connection_refused_names_the_endpoint() {
    // A port that was just free: nothing listens there.
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let client = Client::new(&format!("tcp://{addr}")).unwrap();
    let error = client
        .invoke(_ping::SystemPing {})
        .await
        .expect_err("nothing listens");
    match &error {
        // As written: tcp://, not the http:// it means.
        Error::Connect { endpoint, .. } => assert_eq!(endpoint, &format!("tcp://{addr}")),
        other => panic!("expected Error::Connect, got {other:?}"),
    }
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("cannot connect to tcp://{addr}: ")),
        "{text}"
    );
    assert!(
        text.to_lowercase().contains("refused"),
        "the cause is said: {text}"
    );

    // A unix socket that does not exist.
    let path = format!("/tmp/{}.sock", common::unique("nosock"));
    let client = Client::new(&format!("unix://{path}")).unwrap();
    let error = client
        .invoke(_ping::SystemPing {})
        .await
        .expect_err("no such socket");
    match &error {
        Error::Connect { endpoint, .. } => assert_eq!(endpoint, &format!("unix://{path}")),
        other => panic!("expected Error::Connect, got {other:?}"),
    }
    assert!(error.to_string().contains(&path), "{error}");
}

#[tokio::test]
async fn bad_uris_are_refused_with_a_reason() {
    for (uri, reason) in [
        ("/var/run/docker.sock", "scheme://"),
        ("unix://var/run/docker.sock", "absolute"),
        ("tcp://127.0.0.1:99999", "port"),
        ("http://127.0.0.1:2375/v1.41", "no path"),
        ("gopher://127.0.0.1", "unknown scheme"),
        ("ssh://user:secret@host", "password"),
        ("https://user:secret@127.0.0.1:2376", "credentials"),
        ("npipe:////./pipe/docker_engine", "named pipes"),
        ("tcp://", "host:port"),
    ] {
        match Client::new(uri) {
            Err(Error::InvalidUri {
                uri: got,
                reason: why,
            }) => {
                // The URI comes back as given, less its password.
                assert_eq!(got, uri.replace(":secret@", ":<redacted>@"));
                assert!(why.contains(reason), "{uri}: {why}");
            }
            other => panic!("{uri}: expected Error::InvalidUri, got {other:?}"),
        }
    }
}

/// A loopback server that answers every request `200` with an empty JSON-lines body and
/// hands the request head (request line and headers, lowercased) to the test.
async fn recording_server() -> (
    std::net::SocketAddr,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    use tokio::io::AsyncWriteExt;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (heads, received) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let heads = heads.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = heads.send(String::from_utf8_lossy(&head).to_lowercase());
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (addr, received)
}

#[tokio::test]
async fn a_body_has_exactly_one_content_type() {
    use berth::docker::v1_41::{build, models};
    let (addr, mut heads) = recording_server().await;
    let client = Client::builder(format!("http://{addr}"))
        // A stand-in server, not an engine: it is not asked for its API versions.
        .version_policy(berth::VersionPolicy::Off)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let content_types = |head: &str| {
        head.lines()
            .filter(|l| l.starts_with("content-type:"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };

    // Nothing set by hand: the spec's content type.
    let items = client
        .invoke(build::ImageBuild {
            body: Some(berth::Body::from(b"not really a tar".to_vec())),
            ..Default::default()
        })
        .await
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    assert!(items.is_empty());
    let head = heads.recv().await.unwrap();
    assert!(head.starts_with("post /v1.41/build http/1.1\r\n"), "{head}");
    assert_eq!(content_types(&head), ["content-type: application/x-tar"]);

    // The operation's own Content-type parameter replaces it rather than doubling it.
    client
        .invoke(build::ImageBuild {
            content_type: Some(models::ImageBuildContentType::ApplicationXTar),
            body: Some(berth::Body::from(b"x".to_vec())),
            ..Default::default()
        })
        .await
        .unwrap();
    let head = heads.recv().await.unwrap();
    assert_eq!(
        content_types(&head),
        ["content-type: application/x-tar"],
        "{head}"
    );

    // A raw request's header wins over the body's content type too.
    client
        .request(berth::Method::Post, "/v1.41/whatever")
        .header("Content-Type", "application/json; charset=utf-8")
        .body(b"{}".to_vec(), "application/octet-stream")
        .send()
        .await
        .unwrap();
    let head = heads.recv().await.unwrap();
    assert_eq!(
        content_types(&head),
        ["content-type: application/json; charset=utf-8"],
        "{head}"
    );
}

#[tokio::test]
async fn the_host_and_a_chosen_user_agent_are_sent_once() {
    let (addr, mut heads) = recording_server().await;
    let plain = Client::builder(format!("http://{addr}"))
        .version_policy(berth::VersionPolicy::Off)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    plain.invoke(_ping::SystemPing {}).await.unwrap();
    let head = heads.recv().await.unwrap();
    assert_eq!(
        head.matches(&format!("host: {addr}\r\n")).count(),
        1,
        "{head}"
    );
    assert!(!head.contains("user-agent:"), "none unless chosen: {head}");

    let named = Client::builder(format!("http://{addr}"))
        .version_policy(berth::VersionPolicy::Off)
        .user_agent("conny-tool/1.0")
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    named.invoke(_ping::SystemPing {}).await.unwrap();
    let head = heads.recv().await.unwrap();
    assert_eq!(
        head.matches("user-agent: conny-tool/1.0\r\n").count(),
        1,
        "{head}"
    );
    let error = Client::builder(format!("http://{addr}"))
        .user_agent("bad\nagent")
        .build()
        .unwrap_err();
    assert!(matches!(error, Error::Config { .. }), "{error}");
}

/// A loopback server that answers `_ping` with keep-alive, then closes each connection
/// after `answers_per_connection` answers, as an engine closing idle connections would;
/// it counts the connections it accepted.
async fn closing_server(
    answers_per_connection: usize,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::AsyncWriteExt;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut pending = Vec::new();
                let mut buf = [0u8; 4096];
                for _ in 0..answers_per_connection {
                    while !pending.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&buf[..n]),
                        }
                    }
                    let end = pending.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
                    pending.drain(..end + 4);
                    let answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK";
                    if stream.write_all(answer).await.is_err() {
                        return;
                    }
                }
                // Closed without a word, as an idle connection is.
            });
        }
    });
    (addr, accepted)
}

#[tokio::test]
async fn connections_are_kept_alive_and_a_closed_one_is_replaced() {
    use std::sync::atomic::Ordering;
    let (addr, accepted) = closing_server(usize::MAX).await;
    let client = Client::builder(format!("http://{addr}")).build().unwrap();
    for _ in 0..20 {
        assert_eq!(
            client.invoke(_ping::SystemPing {}).await.unwrap().body,
            "OK"
        );
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "one connection for 20 calls"
    );

    // The server closes each connection after one answer: the next call finds its pooled
    // connection closed, and goes on a new one without failing, at once and after a pause.
    // (No version probe, so that each call is one connection.)
    let (addr, accepted) = closing_server(1).await;
    let client = Client::builder(format!("http://{addr}"))
        .version_policy(berth::VersionPolicy::Off)
        .build()
        .unwrap();
    for round in 0..6 {
        if round == 3 {
            tokio::time::sleep(Duration::from_millis(1100)).await;
        }
        assert_eq!(
            client.invoke(_ping::SystemPing {}).await.unwrap().body,
            "OK",
            "call {round}"
        );
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 6);
}

/// A unix-socket server on its own threads that answers every request at once with a
/// keep-alive `200 OK`; returns its socket's path.
fn quick_unix_server() -> std::path::PathBuf {
    use std::io::{Read, Write};
    let dir = std::env::temp_dir().join(format!("berth-quick-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("engine.sock");
    let _ = std::fs::remove_file(&path);
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let (mut pending, mut chunk) = (Vec::new(), [0u8; 4096]);
                loop {
                    while !pending.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => pending.extend_from_slice(&chunk[..n]),
                        }
                    }
                    pending.clear();
                    let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK";
                    if stream.write_all(answer).is_err() {
                        return;
                    }
                }
            });
        }
    });
    path
}

/// On a multi-thread runtime the answer may arrive on another worker than the call's;
/// no answer is lost and none waits (20,000 calls, each with a read timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_is_lost_on_a_multi_thread_runtime() {
    let path = quick_unix_server();
    let client = Client::builder(format!("unix://{}", path.display()))
        .version_policy(berth::VersionPolicy::Off)
        .read_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for i in 0..20_000 {
        match client.invoke(_ping::SystemPing {}).await {
            Ok(answer) => assert_eq!(answer.body, "OK"),
            Err(e) => panic!("request {i}: {e}"),
        }
    }
}

/// An engine that answers an attach with `101` and, in the same write, the first frame of
/// output; then echoes each stdin chunk back as a stdout frame, and ends when stdin closes.
async fn hijacking_server() -> std::net::SocketAddr {
    use tokio::io::AsyncWriteExt;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let head = String::from_utf8_lossy(&head).to_lowercase();
        assert!(head.contains("upgrade: tcp\r\n"), "{head}");
        let frame = |data: &[u8]| {
            let mut f = vec![1, 0, 0, 0];
            f.extend_from_slice(&(data.len() as u32).to_be_bytes());
            f.extend_from_slice(data);
            f
        };
        let mut first = b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n".to_vec();
        first.extend(frame(b"early bytes\n"));
        stream.write_all(&first).await.unwrap();
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => stream.write_all(&frame(&buf[..n])).await.unwrap(),
            }
        }
        let _ = stream.shutdown().await;
    });
    addr
}

async fn next_frame(output: &mut berth::FrameStream) -> berth::Frame {
    use futures_util::StreamExt;
    tokio::time::timeout(Duration::from_secs(10), output.next())
        .await
        .expect("bounded")
        .expect("a frame")
        .unwrap()
}

/// hyper's upgrade hands over the connection with the bytes that came with the 101 head:
/// none of them is lost, and stdin and output then flow both ways.
#[tokio::test]
async fn an_upgrade_keeps_the_bytes_that_came_with_its_head() {
    use berth::docker::v1_41::containers::ContainerAttach;
    use futures_util::StreamExt;
    use tokio::io::AsyncWriteExt;
    let addr = hijacking_server().await;
    let client = Client::builder(format!("http://{addr}"))
        .version_policy(berth::VersionPolicy::Off)
        .build()
        .unwrap();
    let attached = tokio::time::timeout(Duration::from_secs(10), async {
        client
            .invoke(ContainerAttach {
                id: "conny".into(),
                stream: Some(true),
                stdin: Some(true),
                stdout: Some(true),
                ..Default::default()
            })
            .await
    })
    .await
    .expect("bounded")
    .unwrap();
    let (mut output, mut stdin) = attached.split(false);
    assert_eq!(&next_frame(&mut output).await.data[..], b"early bytes\n");
    stdin.write_all(b"hello").await.unwrap();
    assert_eq!(&next_frame(&mut output).await.data[..], b"hello");
    stdin.shutdown().await.unwrap();
    let end = tokio::time::timeout(Duration::from_secs(10), output.next())
        .await
        .expect("bounded");
    assert!(end.is_none(), "the output ends with stdin closed: {end:?}");
}

/// One call's own timeout, on the real engine: a wait longer than it fails with a call
/// timeout while the client has none, the client's next call is unaffected; and a client
/// whose calls may take 1 ms still learns the server's versions (the probe's limit is its
/// own), the call then failing on its own limit.
#[tokio::test]
async fn a_timeout_for_one_call() {
    let Some(client) = common::docker().await else {
        return;
    };
    use berth::docker::v1_41::containers;
    let cleanup = common::Cleanup::new(&client);
    let created = client
        .invoke(containers::ContainerCreate {
            name: Some(common::unique("slow")),
            body: berth::docker::v1_41::models::ContainerCreateBody {
                image: Some(common::test_image()),
                cmd: Some(vec!["sleep".into(), "30".into()]),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .expect("ContainerCreate");
    cleanup.container(&created.id);
    client
        .invoke(containers::ContainerStart {
            id: created.id.clone(),
            ..Default::default()
        })
        .await
        .expect("ContainerStart");
    let short = berth::CallOptions::default().timeout(Duration::from_millis(300));
    let started = Instant::now();
    let error = client
        .invoke_with(
            containers::ContainerWait {
                id: created.id.clone(),
                ..Default::default()
            },
            &short,
        )
        .await
        .expect_err("the container sleeps 30 s");
    assert!(
        matches!(&error, Error::Timeout { which: berth::TimeoutKind::Call, operation, .. } if operation == "ContainerWait"),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    client
        .invoke(_ping::SystemPing {})
        .await
        .expect("the next call has no limit of its own");

    let hasty = Client::builder(common::docker_uri())
        .timeout(Duration::from_millis(1))
        .build()
        .unwrap();
    let _ = hasty.invoke(_ping::SystemPing {}).await;
    let server = hasty
        .server_version()
        .await
        .expect("the probe is not held to the calls' 1 ms");
    assert!(!server.api_version.is_empty());
    let relaxed = berth::CallOptions::default().timeout(Duration::from_secs(30));
    hasty
        .invoke_with(_ping::SystemPing {}, &relaxed)
        .await
        .expect("its own limit replaces the client's");
}
