//! Fake container engines for the transport tests: tokio servers on a unix socket in a
//! temporary directory, on 127.0.0.1, or behind TLS on 127.0.0.1. They read requests
//! properly (the head up to CRLFCRLF, bodies by Content-Length or chunks, see `wire.rs`),
//! count connections and requests, and answer by the request path ([`engine`]) unless a
//! test's handler does something else. A fake stops when it is dropped: its listener and
//! every connection task with it.

#![allow(dead_code)]

mod tls;
mod util;
mod wire;

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream, UnixListener};
use tokio::task::JoinSet;

pub use util::{full_listener, within, Checks};
pub use wire::{Request, Wire};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Unix,
    Tcp,
    Tls,
}

pub const TRANSPORTS: [Transport; 3] = [Transport::Unix, Transport::Tcp, Transport::Tls];

/// What a handler gives back: the connection, to read its next request, or `None` to close it.
pub type Served = io::Result<Option<Wire>>;
pub type Handler =
    Arc<dyn Fn(Request, Wire) -> Pin<Box<dyn Future<Output = Served> + Send>> + Send + Sync>;

/// A handler from an async closure taking the request head and its connection.
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Request, Wire) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Served> + Send + 'static,
{
    Arc::new(move |request, wire| Box::pin(f(request, wire)))
}

/// The plain engine: answers every request by its path.
pub fn engine_handler() -> Handler {
    handler(engine)
}

/// Answers as an engine would, by the request's path: `_ping`; ContainerInspect with the
/// id from the path and a `Name` saying which request and connection it answers;
/// ContainerCreate, kill, delete, archive upload; `POST /v1.41/upload` with the count of
/// body bytes it read. Anything else is a 404.
pub async fn engine(request: Request, mut wire: Wire) -> Served {
    let body = wire.read_body(&request).await?;
    let route = request.route().to_string();
    let parts: Vec<&str> = route.trim_start_matches('/').split('/').collect();
    let json = |value: serde_json::Value| value.to_string().into_bytes();
    let (status, content_type, answer) = match (request.method.as_str(), parts.as_slice()) {
        ("GET" | "HEAD", ["_ping"] | [_, "_ping"]) => (200, "text/plain", b"OK".to_vec()),
        ("GET", [_, "containers", id, "json"]) => {
            let name = format!("/served-{}-on-{}", request.seq, request.conn);
            let value = serde_json::json!({"Id": id, "Name": name});
            (200, "application/json", json(value))
        }
        ("POST", [_, "containers", "create"]) => {
            let sent: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let image = sent["Image"].as_str().unwrap_or("none").to_string();
            let id = format!("created-{}", request.seq);
            let value = serde_json::json!({"Id": id, "Warnings": [format!("image {image}")]});
            (201, "application/json", json(value))
        }
        ("POST", [_, "containers", _, "kill"]) | ("DELETE", [_, "containers", _]) => {
            (204, "", Vec::new())
        }
        ("PUT", [_, "containers", _, "archive"]) => (200, "", Vec::new()),
        ("POST", [_, "upload"]) => {
            let value = serde_json::json!({"received": body.len()});
            (200, "application/json", json(value))
        }
        _ => {
            let value = serde_json::json!({"message": format!("page not found: {route}")});
            (404, "application/json", json(value))
        }
    };
    wire.respond(status, content_type, &answer).await?;
    Ok(Some(wire))
}

/// What the fake saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub conn: usize,
    /// Which request it was (1 for the first this fake read).
    pub seq: usize,
    pub method: String,
    pub path: String,
}

impl Seen {
    /// The path without its query.
    pub fn route(&self) -> &str {
        self.path.split('?').next().unwrap_or_default()
    }
}

/// Counts kept by a fake.
#[derive(Debug, Default)]
pub struct Stats {
    accepted: AtomicUsize,
    closed: AtomicUsize,
    max_open: AtomicUsize,
    /// A duplicate of each open connection's socket, to peek at whether the client has
    /// closed it (whatever the connection's task has seen yet).
    sockets: Mutex<HashMap<usize, socket2::Socket>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    requests: Mutex<Vec<Seen>>,
    problems: Mutex<Vec<String>>,
}

impl Stats {
    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(SeqCst)
    }

    /// Connections that have ended (the client closed them, or the fake did).
    pub fn closed(&self) -> usize {
        self.closed.load(SeqCst)
    }

    /// The most connections open at once, counted 10 ms after each accept: the sockets
    /// the client has not closed, as the kernel says (so a connection the client closed
    /// just before opening another is not counted with it, however late the fake's task
    /// for it runs). Exact for plain sockets; a TLS close_notify waiting to be read
    /// counts as open.
    pub fn max_open(&self) -> usize {
        self.max_open.load(SeqCst)
    }

    /// How many of the fake's connections the client has not closed.
    fn open_now(&self) -> usize {
        let sockets = self.sockets.lock().unwrap();
        let open = |socket: &socket2::Socket| {
            let mut byte = [std::mem::MaybeUninit::uninit(); 1];
            match socket.peek(&mut byte) {
                Ok(n) => n > 0,
                Err(e) => e.kind() == io::ErrorKind::WouldBlock,
            }
        };
        sockets.values().filter(|s| open(s)).count()
    }

    /// The most requests at once between their head arriving and their answer starting:
    /// never more than the client's connections, with no timing slack at all.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(SeqCst)
    }

    /// Every request head read, in order.
    pub fn requests(&self) -> Vec<Seen> {
        self.requests.lock().unwrap().clone()
    }

    /// The requests with this method and path (the query not compared).
    pub fn seen(&self, method: &str, route: &str) -> Vec<Seen> {
        let requests = self.requests.lock().unwrap();
        let matching = requests
            .iter()
            .filter(|s| s.method == method && s.route() == route);
        matching.cloned().collect()
    }

    /// What broke the HTTP framing (a request that does not parse, bytes of another
    /// request inside a body, a failed TLS handshake).
    pub fn problems(&self) -> Vec<String> {
        self.problems.lock().unwrap().clone()
    }

    pub fn problem(&self, what: impl Into<String>) {
        self.problems.lock().unwrap().push(what.into());
    }

    /// Waits (up to 10 s) until at least `n` connections have ended.
    pub async fn wait_closed(&self, n: usize) {
        within(10, "the fake's connections to end", async {
            while self.closed() < n {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
        .await
    }

    fn record(&self, mut seen: Seen) -> usize {
        let mut requests = self.requests.lock().unwrap();
        seen.seq = requests.len() + 1;
        requests.push(seen);
        let now = self.in_flight.fetch_add(1, SeqCst) + 1;
        self.max_in_flight.fetch_max(now, SeqCst);
        requests.len()
    }

    fn answered(&self) {
        self.in_flight.fetch_sub(1, SeqCst);
    }
}

/// How the fake's sockets are set up.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// SO_SNDBUF of each accepted socket (the kernel's minimum when tiny): its writes then
    /// block as soon as the client stops reading.
    pub send_buffer: Option<usize>,
}

/// A running fake engine; dropping it stops it.
pub struct Fake {
    pub uri: String,
    pub stats: Arc<Stats>,
    tls: Option<berth::TlsMaterial>,
    socket: Option<PathBuf>,
    server: tokio::task::JoinHandle<()>,
}

enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener, Option<tokio_rustls::TlsAcceptor>),
}

static FAKES: AtomicUsize = AtomicUsize::new(0);

impl Fake {
    pub async fn start(transport: Transport, handler: Handler) -> Fake {
        Fake::start_with(transport, Options::default(), handler).await
    }

    pub async fn start_with(transport: Transport, options: Options, handler: Handler) -> Fake {
        let stats = Arc::new(Stats::default());
        let (listener, uri, tls, socket) = match transport {
            Transport::Unix => {
                let n = FAKES.fetch_add(1, SeqCst);
                let dir =
                    std::env::temp_dir().join(format!("berth-fake-{}-{n}", std::process::id()));
                let _ = std::fs::remove_dir_all(&dir);
                std::fs::create_dir_all(&dir).unwrap();
                let path = dir.join("engine.sock");
                let listener = UnixListener::bind(&path).unwrap();
                let uri = format!("unix://{}", path.display());
                (Listener::Unix(listener), uri, None, Some(path))
            }
            Transport::Tcp | Transport::Tls => {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                if transport == Transport::Tcp {
                    let uri = format!("http://{addr}");
                    (Listener::Tcp(listener, None), uri, None, None)
                } else {
                    let certs = tls::certs();
                    let uri = format!("https://{addr}");
                    let listener = Listener::Tcp(listener, Some(certs.acceptor));
                    (listener, uri, Some(certs.material), None)
                }
            }
        };
        let server = tokio::spawn(accept_loop(listener, options, stats.clone(), handler));
        Fake {
            uri,
            stats,
            tls,
            socket,
            server,
        }
    }

    /// A client builder for this fake: not asking for versions, with the fake's TLS
    /// material when it has some.
    pub fn client(&self) -> berth::ClientBuilder {
        let builder = berth::Client::builder(&self.uri).version_policy(berth::VersionPolicy::Off);
        match &self.tls {
            Some(material) => builder.tls(material.clone()),
            None => builder,
        }
    }

    /// The socket path of a unix fake.
    pub fn socket_path(&self) -> &std::path::Path {
        self.socket.as_deref().expect("a unix fake")
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        // The accept loop owns the connection tasks (a JoinSet): aborting it ends them.
        self.server.abort();
        if let Some(dir) = self.socket.as_ref().and_then(|p| p.parent()) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

async fn accept_loop(listener: Listener, options: Options, stats: Arc<Stats>, handler: Handler) {
    let mut tasks = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = accept(&listener) => accepted,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
        };
        let (io, acceptor) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                stats.problem(format!("accept failed: {e}"));
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let socket = match &io {
            Accepted::Unix(s) => socket2::SockRef::from(s),
            Accepted::Tcp(s) => socket2::SockRef::from(s),
        };
        if let Some(size) = options.send_buffer {
            socket.set_send_buffer_size(size).expect("SO_SNDBUF");
        }
        let conn = stats.accepted.fetch_add(1, SeqCst) + 1;
        let dup = socket.try_clone().expect("a duplicate of the socket");
        stats.sockets.lock().unwrap().insert(conn, dup);
        let sampled = stats.clone();
        tasks.spawn(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            sampled.max_open.fetch_max(sampled.open_now(), SeqCst);
        });
        let (stats, handler) = (stats.clone(), handler.clone());
        tasks.spawn(async move {
            let io: Option<Box<dyn wire::Io>> = match (io, acceptor) {
                (Accepted::Unix(s), _) => Some(Box::new(s)),
                (Accepted::Tcp(s), None) => Some(Box::new(s)),
                (Accepted::Tcp(s), Some(acceptor)) => match acceptor.accept(s).await {
                    Ok(tls) => Some(Box::new(tls)),
                    Err(e) => {
                        stats.problem(format!("TLS handshake on connection {conn}: {e}"));
                        None
                    }
                },
            };
            if let Some(io) = io {
                serve(Wire::new(io, conn, stats.clone()), handler).await;
            }
            // The duplicate goes too: only now is the socket closed.
            stats.sockets.lock().unwrap().remove(&conn);
            stats.closed.fetch_add(1, SeqCst);
        });
    }
}

enum Accepted {
    Unix(tokio::net::UnixStream),
    Tcp(TcpStream),
}

async fn accept(listener: &Listener) -> io::Result<(Accepted, Option<tokio_rustls::TlsAcceptor>)> {
    Ok(match listener {
        Listener::Unix(l) => (Accepted::Unix(l.accept().await?.0), None),
        Listener::Tcp(l, acceptor) => (Accepted::Tcp(l.accept().await?.0), acceptor.clone()),
    })
}

/// Reads requests on one connection and hands each to the handler, until either side
/// closes it. Broken framing is recorded as a problem.
async fn serve(mut wire: Wire, handler: Handler) {
    loop {
        let request = match wire.read_head().await {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(e) => return wire.note(e),
        };
        let stats = wire.stats.clone();
        match handler(request, wire).await {
            Ok(Some(next)) => wire = next,
            Ok(None) => return,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                return stats.problem(e.to_string())
            }
            Err(_) => return,
        }
    }
}
