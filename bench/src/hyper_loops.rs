//! The two hyper 1.x stacks berth's transport could be built on, timed bare on the same
//! unix socket as everything else:
//!
//! - [`Hyper`]: `hyper::client::conn::http1` over one `tokio::net::UnixStream`, the
//!   connection's future spawned once, `ready` + `send_request` + `collect` per request;
//! - [`HyperUtil`]: `hyper_util::client::legacy::Client` with hyperlocal's `UnixConnector`
//!   (its own pool, a URI made with `hyperlocal::Uri` per request).
//!
//! Both send `Host: localhost` as the raw loop does, read every answer whole (bodies as one
//! `Bytes`, as a client that parses them needs), and count log payload through the raw
//! loop's frame counter.

use bytes::Bytes;
use http::header::{HeaderMap, HOST};
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_util::client::legacy;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyperlocal::UnixConnector;

use crate::raw::FrameCounter;
use crate::Result;

/// A bare hyper keep-alive loop: one connection, made once, its driver spawned once.
pub struct Hyper {
    sender: http1::SendRequest<Empty<Bytes>>,
}

impl Hyper {
    pub async fn connect(socket: &str) -> Result<Hyper> {
        let stream = tokio::net::UnixStream::connect(socket).await?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                eprintln!("hyper connection failed: {e}");
            }
        });
        Ok(Hyper { sender })
    }

    async fn send(&mut self, method: Method, path: &str) -> Result<Response<Incoming>> {
        self.sender.ready().await?;
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, "localhost")
            .body(Empty::new())?;
        Ok(self.sender.send_request(request).await?)
    }

    /// GET a path; the whole body. A status other than 2xx is an error.
    pub async fn get(&mut self, path: &str) -> Result<Bytes> {
        let response = self.send(Method::GET, path).await?;
        whole_body(path, response).await
    }

    /// HEAD a path; the answer's headers. A status other than 2xx is an error.
    pub async fn head(&mut self, path: &str) -> Result<HeaderMap> {
        let response = self.send(Method::HEAD, path).await?;
        let (parts, body) = response.into_parts();
        body.collect().await?;
        if !parts.status.is_success() {
            return Err(format!("HEAD {path}: HTTP {}", parts.status).into());
        }
        Ok(parts.headers)
    }

    /// GET a multiplexed stream (logs without a TTY); the number of payload bytes.
    pub async fn stream(&mut self, path: &str) -> Result<u64> {
        let response = self.send(Method::GET, path).await?;
        count_frames(path, response).await
    }
}

/// hyper-util's pooled client over hyperlocal's connector.
pub struct HyperUtil {
    client: legacy::Client<UnixConnector, Empty<Bytes>>,
    socket: String,
}

impl HyperUtil {
    /// The client; it connects on its first request.
    pub fn new(socket: &str) -> HyperUtil {
        let client = legacy::Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .build(UnixConnector);
        HyperUtil {
            client,
            socket: socket.to_string(),
        }
    }

    async fn send(&self, path: &str) -> Result<Response<Incoming>> {
        let uri: hyper::Uri = hyperlocal::Uri::new(&self.socket, path).into();
        let request = Request::get(uri)
            .header(HOST, "localhost")
            .body(Empty::new())?;
        Ok(self.client.request(request).await?)
    }

    /// GET a path; the whole body. A status other than 2xx is an error.
    pub async fn get(&self, path: &str) -> Result<Bytes> {
        whole_body(path, self.send(path).await?).await
    }

    /// GET a multiplexed stream (logs without a TTY); the number of payload bytes.
    pub async fn stream(&self, path: &str) -> Result<u64> {
        count_frames(path, self.send(path).await?).await
    }
}

async fn whole_body(path: &str, response: Response<Incoming>) -> Result<Bytes> {
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        return Err(format!(
            "GET {path}: HTTP {status}: {}",
            String::from_utf8_lossy(&body).trim_end()
        )
        .into());
    }
    Ok(body)
}

async fn count_frames(path: &str, response: Response<Incoming>) -> Result<u64> {
    if !response.status().is_success() {
        return whole_body(path, response).await.map(|_| 0);
    }
    let mut body = response.into_body();
    let mut frames = FrameCounter::default();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            frames.feed(&data)?;
        }
    }
    Ok(frames.finish()?)
}
