//! Small helpers of the fake-engine tests: time bounds, gathered checks, a listener that
//! never completes connections.

use std::future::Future;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// Runs `future` within `secs` seconds, or fails the test saying what did not finish.
pub async fn within<T>(secs: u64, what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(secs), future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out after {secs} s: {what}"),
    }
}

/// Failed checks, gathered so that one run reports all of them.
#[derive(Debug, Default)]
pub struct Checks(Vec<String>);

impl Checks {
    pub fn check(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            self.0.push(what.into());
        }
    }

    /// Fails the test with every failed check.
    pub fn finish(self) {
        if !self.0.is_empty() {
            panic!(
                "{} check(s) failed:\n  - {}",
                self.0.len(),
                self.0.join("\n  - ")
            );
        }
    }
}

/// A loopback listener whose accept queue is full: new connections are never completed,
/// so connecting hangs until a connect timeout. Keep all three alive while using it.
pub async fn full_listener() -> (TcpListener, Vec<TcpStream>, std::net::SocketAddr) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    // Linux keeps backlog + 1 completed connections; stop once one no longer completes.
    let mut held = Vec::new();
    for _ in 0..16 {
        let connect = TcpStream::connect(addr);
        match tokio::time::timeout(Duration::from_millis(300), connect).await {
            Ok(Ok(stream)) => held.push(stream),
            _ => break,
        }
    }
    assert!(
        !held.is_empty() && held.len() < 16,
        "the accept queue filled up after {} connections",
        held.len()
    );
    (listener, held, addr)
}
