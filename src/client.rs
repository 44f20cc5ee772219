//! `Client`: one engine endpoint, one connection pool, one request pipeline.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{message_of, ApiError};
use crate::failure;
use crate::http::{Answer, AnswerBody, Body, Http, HttpError, Timeouts};
use crate::operation::Operation;
use crate::request::{build_request, Built, RequestParts};
use crate::response::{Headers, RawResponse, ResponseBody};
use crate::socket::ssh::{SshOptions, SshTunnel};
use crate::socket::{Endpoint, Target, TlsMaterial};
use crate::stream::{ByteStream, Upgraded};
use crate::tables::{Method, ResponseKind};
use crate::version::{self, ServerVersion, VersionPolicy};
use crate::Error;
use tracing::Instrument as _;

/// A connection to one engine endpoint. Cheap to clone; clones share the pool.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: Http,
    /// What error messages call the endpoint (`unix:///var/run/docker.sock`).
    endpoint: String,
    call_timeout: Option<Duration>,
    probe_timeout: Duration,
    version_policy: VersionPolicy,
    /// Asked once, on the first call that needs it.
    server_version: tokio::sync::OnceCell<ServerVersion>,
    /// The `ssh -L` child of an `ssh://` endpoint: started by the first request, killed
    /// when the last clone of the client is dropped.
    ssh: Option<SshTunnel>,
}

/// The version probe's limit unless [`ClientBuilder::probe_timeout`] says otherwise.
const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// What one call may have of its own, beside the client's options: see
/// [`Client::invoke_with`].
///
/// ```no_run
/// # #[cfg(feature = "docker-v1_55")]
/// # async fn demo(client: berth::Client) -> berth::Result<()> {
/// use std::time::Duration;
/// use berth::docker::v1_55::containers::ContainerWait;
/// // This wait may take a minute, whatever the client's timeout.
/// let options = berth::CallOptions::default().timeout(Duration::from_secs(60));
/// let waited = client
///     .invoke_with(ContainerWait { id: "web".into(), ..Default::default() }, &options)
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    timeout: Option<Duration>,
}

impl CallOptions {
    /// This call's limit (for a stream: until its answer starts), in place of the client's
    /// [`ClientBuilder::timeout`]; [`TimeoutKind::Call`](crate::TimeoutKind::Call) when it fires.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    pub(crate) fn apply(&self, parts: &mut RequestParts) {
        if let Some(limit) = self.timeout {
            parts.timeout = Some((limit, crate::TimeoutKind::Call));
        }
    }
}

/// Options for a [`Client`].
#[derive(Debug, Clone, Default)]
pub struct ClientBuilder {
    uri: String,
    tls: Option<TlsMaterial>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    call_timeout: Option<Duration>,
    probe_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    max_connections: Option<usize>,
    user_agent: Option<String>,
    version_policy: VersionPolicy,
    ssh: Option<SshOptions>,
}

impl ClientBuilder {
    /// How an `ssh://` endpoint logs in and checks the host key: see [`SshOptions`]
    /// (default: keys from ssh-agent or `~/.ssh`, host key checked against the user's
    /// known_hosts). Refused with [`Error::Config`] for other endpoints.
    ///
    /// ```no_run
    /// # async fn demo() -> berth::Result<()> {
    /// let client = berth::Client::builder("ssh://root@build-host:2222/var/run/docker.sock")
    ///     .ssh(
    ///         berth::SshOptions::new()
    ///             .identity_file("/home/me/.ssh/id_ed25519")
    ///             .known_hosts("/home/me/.ssh/known_hosts"),
    ///     )
    ///     .build()?; // starts nothing yet
    /// client.connect().await?; // optional: starts ssh now, so that its errors come here
    /// # Ok(()) }
    /// ```
    pub fn ssh(mut self, options: SshOptions) -> Self {
        self.ssh = Some(options);
        self
    }

    /// TLS material for `https://` (and `tcp://` with TLS): CA, client certificate, key.
    pub fn tls(mut self, tls: TlsMaterial) -> Self {
        self.tls = Some(tls);
        self
    }

    /// How long to wait for a connection to be made, TLS handshake included (default 10 s;
    /// for `ssh://`, how long the tunnel may take to come up, default 15 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long the engine may stay silent while answering: until the answer starts (after
    /// a streamed request body went out), then between the pieces of its body, streams
    /// included. Off by default: without it, a silent engine is waited for forever, as
    /// the docker CLI does; a log follow or an event stream is silent by nature.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// How long sending a streamed request body may stall (the engine not taking bytes).
    /// Off by default.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = Some(timeout);
        self
    }

    /// How many connections the client keeps open to the engine at most (default 64).
    /// Calls beyond it wait for a connection to come back. A stream being read (logs,
    /// events) and a hijacked connection (attach, exec) each hold one until dropped.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = Some(max.max(1));
        self
    }

    /// A `User-Agent` header sent with every request, naming your program to the engine
    /// (its debug log shows it). None by default, as with bollard.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = Some(agent.into());
        self
    }

    /// What to do with a module the server's API version does not cover; see
    /// [`VersionPolicy`] (default: negotiate down to the server's version, as Docker's client does).
    pub fn version_policy(mut self, policy: VersionPolicy) -> Self {
        self.version_policy = policy;
        self
    }

    /// How long a whole call may take (for streams: until the answer starts). Off by default;
    /// one call can have its own ([`Client::invoke_with`]). The version probe has its own
    /// ([`ClientBuilder::probe_timeout`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = Some(timeout);
        self
    }

    /// How long the version probe (`GET /version`, before a client's first call of a
    /// generated module) may take, whatever the calls' timeouts (default: 30 s). Its
    /// timeout is [`TimeoutKind::Probe`](crate::TimeoutKind::Probe), named in the error of
    /// the call that caused it.
    pub fn probe_timeout(mut self, timeout: Duration) -> Self {
        self.probe_timeout = Some(timeout);
        self
    }

    /// Builds the client. This never blocks and connects nowhere: for an `ssh://`
    /// endpoint it only makes the tunnel's private directory, and `ssh` is started by the
    /// first request (or by [`Client::connect`]).
    pub fn build(self) -> crate::Result<Client> {
        let endpoint = Endpoint::parse(&self.uri, self.tls.is_some())?;
        let ssh = match (&endpoint, self.ssh) {
            (Endpoint::Ssh(target), options) => Some(
                SshTunnel::new(
                    target.clone(),
                    options.unwrap_or_default(),
                    self.connect_timeout,
                )
                .map_err(failure::from_ssh)?,
            ),
            (_, Some(_)) => {
                return Err(Error::Config {
                    message: format!(
                        "ssh options were given for {}, which is not an ssh:// endpoint",
                        endpoint.display()
                    ),
                })
            }
            (_, None) => None,
        };
        let local = ssh
            .as_ref()
            .map(|t| Endpoint::Unix(t.socket().to_path_buf()));
        let target = Target::new(local.as_ref().unwrap_or(&endpoint), self.tls.as_ref())?;
        let timeouts = Timeouts {
            read: self.read_timeout,
            write: self.write_timeout,
        };
        let max_connections = self
            .max_connections
            .unwrap_or(crate::http::DEFAULT_MAX_CONNECTIONS);
        let http = Http::new(
            target,
            self.connect_timeout,
            timeouts,
            max_connections,
            self.user_agent.as_deref(),
        )
        .map_err(|message| Error::Config { message })?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                // As the user wrote it (`tcp://...` stays `tcp://...` in every error).
                endpoint: self.uri.trim().to_string(),
                call_timeout: self.call_timeout,
                probe_timeout: self.probe_timeout.unwrap_or(DEFAULT_PROBE_TIMEOUT),
                version_policy: self.version_policy,
                server_version: tokio::sync::OnceCell::new(),
                ssh,
            }),
        })
    }
}

impl Client {
    /// A client for an endpoint URI: `unix:///var/run/docker.sock`, `tcp://host:2375`,
    /// `http://host:port`, `https://host:port` (with [`ClientBuilder::tls`] for mTLS),
    /// `ssh://user@host[:port][/path/to/engine.sock]` (with [`ClientBuilder::ssh`]).
    ///
    /// An `ssh://` client runs the system's OpenSSH client (`ssh -N -L`, in batch mode,
    /// host key checked) to forward a unix socket in a private temporary directory to the
    /// remote engine's socket (default `/var/run/docker.sock`; Podman's is usually
    /// `/run/podman/podman.sock`), and is the same `Client` on top. `ssh` starts with the
    /// first request (or [`Client::connect`]), starts again if it has exited, and is killed
    /// when the last clone of the client is dropped. A refused key or host key is an
    /// [`Error::Ssh`] carrying what ssh said.
    pub fn new(uri: &str) -> crate::Result<Client> {
        Client::builder(uri).build()
    }

    ///
    /// ```no_run
    /// # fn demo() -> berth::Result<()> {
    /// use std::time::Duration;
    /// let docker = berth::Client::builder("https://127.0.0.1:2376")
    ///     .tls(berth::TlsMaterial::from_dir("/etc/docker/client")?)
    ///     .connect_timeout(Duration::from_secs(5))
    ///     .read_timeout(Duration::from_secs(30))
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    /// More in `examples/mtls.rs`.
    pub fn builder(uri: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            uri: uri.into(),
            ..Default::default()
        }
    }

    /// The engine the docker CLI would use: `DOCKER_HOST` (with `DOCKER_TLS`,
    /// `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`), else the context named by `DOCKER_CONTEXT`,
    /// else `currentContext` in `config.json`, else `unix:///var/run/docker.sock`. See
    /// [`DockerContext`](crate::context::DockerContext) for the details, and for
    /// resolving against variables of your own.
    ///
    /// ```no_run
    /// # fn demo() -> berth::Result<()> {
    /// use std::time::Duration;
    /// use berth::{context::DockerContext, env::Environment};
    ///
    /// // Where `docker ps` would connect, with the program's own options on top.
    /// let docker = berth::Client::docker_from_env()?
    ///     .connect_timeout(Duration::from_secs(5))
    ///     .timeout(Duration::from_secs(120))
    ///     .build()?;
    /// println!("using {}", docker.endpoint());
    ///
    /// // What it does, with the chosen context in hand (its name, and what chose it).
    /// let context = DockerContext::resolve(&Environment::process())?;
    /// println!("context {} chosen by {}", context.name(), context.chosen_by());
    /// let docker = context.client_builder().build()?;
    /// # Ok(()) }
    /// ```
    pub fn docker_from_env() -> crate::Result<ClientBuilder> {
        let env = crate::env::Environment::process();
        Ok(crate::context::DockerContext::resolve(&env)?.client_builder())
    }

    /// Podman's defaults: `CONTAINER_HOST`, else `$XDG_RUNTIME_DIR/podman/podman.sock`,
    /// else `/run/podman/podman.sock`.
    /// Example: `examples/podman_apis.rs`.
    pub fn podman_from_env() -> crate::Result<ClientBuilder> {
        Ok(Client::builder(crate::env::podman().uri))
    }

    /// The endpoint, as error messages name it.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// Makes sure the transport is up: for an `ssh://` endpoint, starts `ssh` unless it
    /// runs and waits until its tunnel accepts (bounded by the connect timeout, 15 s when
    /// unset), failing with [`Error::Ssh`]. Requests do this themselves; calling it first
    /// only moves the wait and its errors here. Other endpoints: nothing to do.
    pub async fn connect(&self) -> crate::Result<()> {
        match &self.inner.ssh {
            // Boxed: only ssh clients carry the tunnel's future.
            Some(tunnel) => Box::pin(tunnel.ensure()).await.map_err(failure::from_ssh),
            None => Ok(()),
        }
    }

    /// The pid of the `ssh` process carrying an `ssh://` client's tunnel, while it runs.
    pub fn ssh_pid(&self) -> Option<u32> {
        self.inner.ssh.as_ref().and_then(SshTunnel::pid)
    }

    /// Calls a generated operation.
    ///
    /// ```no_run
    /// # #[cfg(feature = "docker-v1_55")]
    /// # async fn demo(docker: berth::Client) -> berth::Result<()> {
    /// use berth::docker::v1_55::containers::{ContainerStart, ContainerStartResponse};
    /// let started = docker.invoke(ContainerStart { id: "conny".into(), ..Default::default() }).await?;
    /// if started == ContainerStartResponse::NotModified {
    ///     println!("it was running already");
    /// }
    /// # Ok(()) }
    /// ```
    /// More in `examples/create_start_container.rs`.
    pub async fn invoke<O: Operation>(&self, operation: O) -> crate::Result<O::Output> {
        let mut parts = RequestParts::for_operation(O::INFO);
        operation.write(&mut parts);
        O::decode(self.execute(parts).await?)
    }

    /// [`Client::invoke`] with options of this call's own: see [`CallOptions`].
    pub async fn invoke_with<O: Operation>(
        &self,
        operation: O,
        options: &CallOptions,
    ) -> crate::Result<O::Output> {
        let mut parts = RequestParts::for_operation(O::INFO);
        operation.write(&mut parts);
        options.apply(&mut parts);
        O::decode(self.execute(parts).await?)
    }

    /// A raw request for an endpoint no spec describes: `path` is sent as given, so it
    /// carries its own version prefix (`/v1.41/containers/conny/checkpoints`).
    ///
    /// ```no_run
    /// # async fn demo(docker: berth::Client) -> berth::Result<()> {
    /// let answer = docker.request(berth::Method::Get, "/v1.41/containers/conny/checkpoints").send().await;
    /// if let Err(e) = answer {
    ///     println!("{e}"); // the engine's own message, with the status
    /// }
    /// # Ok(()) }
    /// ```
    /// More in `examples/raw_requests.rs`.
    pub fn request(&self, method: Method, path: impl Into<String>) -> RawRequest {
        RawRequest {
            client: self.clone(),
            parts: RequestParts::raw(method, path),
        }
    }

    /// The one request pipeline: typed calls, calls by name and raw requests all end here.
    ///
    /// Each call is a `tracing` span, `berth.call` at DEBUG level, with the operation, the
    /// method, the path template (`/containers/{id}/json`; a raw request's path as given),
    /// the endpoint, and once it ends the status (or the error's kind) and its duration in
    /// microseconds (for a stream: until its answer starts). Never a header, a parameter
    /// value or a body. With no subscriber the span costs a check of a cached flag.
    /// Example: `examples/tracing.rs`.
    pub async fn execute(&self, parts: RequestParts) -> crate::Result<RawResponse> {
        let span = tracing::debug_span!(
            "berth.call",
            operation = &*parts.operation,
            method = parts.method.as_str(),
            path = &*parts.path,
            endpoint = &*self.inner.endpoint,
            status = tracing::field::Empty,
            error = tracing::field::Empty,
            duration_us = tracing::field::Empty,
        );
        if span.is_disabled() {
            return self.execute_untraced(parts).await;
        }
        let mut answer = traced(&span, self.execute_untraced(parts)).await;
        if let Ok(response) = &mut answer {
            // The answer's later errors (an error item in its stream, a body that does not
            // decode) are recorded on it too; it closes when the answer is dropped.
            response.span = span;
        }
        answer
    }

    async fn execute_untraced(&self, parts: RequestParts) -> crate::Result<RawResponse> {
        let prefix = match parts.info {
            Some(info) => match self.known_prefix(info) {
                Some(prefix) => prefix?,
                // Asked once per client; boxed, so that every call's future stays small.
                None => Box::pin(self.prefix_for(info)).await?,
            },
            None => "".into(),
        };
        self.send_parts(parts, &prefix).await
    }

    /// Sends parts under an API version prefix (empty for raw requests).
    async fn send_parts(&self, parts: RequestParts, prefix: &str) -> crate::Result<RawResponse> {
        if self.inner.ssh.is_some() {
            // Boxed: only ssh clients carry the second attempt.
            return Box::pin(self.send_through_tunnel(parts, prefix)).await;
        }
        self.send_once(parts, prefix).await
    }

    /// An ssh tunnel can be caught on its way out between the check that it runs and the
    /// request (the faults stage saw a refused connect and a reset): a body-less GET or
    /// HEAD that fails to connect or on the wire goes once more, through a tunnel checked
    /// anew by a probe and started again if it fails ([`SshTunnel::recover`]). Other
    /// requests are not sent twice.
    async fn send_through_tunnel(
        &self,
        parts: RequestParts,
        prefix: &str,
    ) -> crate::Result<RawResponse> {
        let again = parts.replay();
        match self.send_once(parts, prefix).await {
            Err(Error::Connect { .. } | Error::Transport { .. }) if again.is_some() => {
                if let Some(tunnel) = &self.inner.ssh {
                    tunnel.recover().await.map_err(failure::from_ssh)?;
                }
                self.send_once(again.expect("checked"), prefix).await
            }
            answer => answer,
        }
    }

    async fn send_once(&self, parts: RequestParts, prefix: &str) -> crate::Result<RawResponse> {
        self.connect().await?;
        let operation = parts.operation.clone();
        let limit = parts.timeout.or_else(|| {
            self.inner
                .call_timeout
                .map(|limit| (limit, crate::TimeoutKind::Call))
        });
        let request = build_request(parts, prefix).map_err(|message| Error::InvalidRequest {
            operation: operation.to_string(),
            message,
        })?;
        let exchange = self.exchange(request, operation.clone());
        match limit {
            // For a stream, the call ends when its answer starts.
            Some((limit, which)) => tokio::time::timeout(limit, exchange)
                .await
                .map_err(|_| self.timeout(&operation, which))?,
            None => exchange.await,
        }
    }

    /// Sends a request and reads its answer as the response kind says: an error status, or
    /// a status the operation does not list, is an error that keeps the body.
    async fn exchange(
        &self,
        request: Built,
        name: std::borrow::Cow<'static, str>,
    ) -> crate::Result<RawResponse> {
        let operation: &str = &name;
        let Built {
            request,
            kind,
            success,
        } = request;
        let upgrade = matches!(kind, ResponseKind::Upgrade | ResponseKind::WebSocket);
        // The accept key the engine must answer a WebSocket handshake with.
        let websocket_key = (kind == ResponseKind::WebSocket)
            .then(|| {
                request
                    .headers()
                    .get(http::header::SEC_WEBSOCKET_KEY)
                    .cloned()
            })
            .flatten();
        let Answer {
            status,
            headers,
            body,
        } = self
            .inner
            .http
            .send(request, upgrade)
            .await
            .map_err(|e| self.error(e, operation))?;
        let headers = Headers::new(headers);
        let body = match body {
            AnswerBody::Upgraded(io) => {
                if let Some(key) = &websocket_key {
                    let accept = headers.get("sec-websocket-accept").unwrap_or_default();
                    if !crate::stream::accepts(key.as_bytes(), accept.as_bytes()) {
                        return Err(Error::UnexpectedStatus {
                            operation: operation.to_string(),
                            status,
                            body: bytes::Bytes::from(format!(
                                "a WebSocket handshake answered with Sec-WebSocket-Accept {accept:?}, not the key's"
                            )),
                        });
                    }
                }
                let upgraded = Upgraded::hijacked(io, operation.to_string());
                return Ok(RawResponse {
                    span: tracing::Span::none(),
                    operation: name,
                    status,
                    headers,
                    body: ResponseBody::Upgraded(upgraded),
                });
            }
            AnswerBody::Body(body) => body,
        };
        let read_answer = |body: Body| async move {
            body.collect_answer()
                .await
                .map_err(|e| self.error(e, operation))
        };
        let listed = match success {
            Some(success) if !success.is_empty() => success.contains(&status),
            _ => (200..300).contains(&status) || status == 304,
        };
        // A redirect is not followed: the engines never send one for a request they
        // serve, and following it would ask for another resource than the one named (Go's
        // router redirects a path holding `..` to its cleaned form).
        if status >= 400 || (300..400).contains(&status) && !listed {
            let body = read_answer(body).await?;
            let message = match headers.get("location") {
                Some(to) if status < 400 => {
                    format!("redirected to {to} (berth does not follow redirects)")
                }
                _ => message_of(&body),
            };
            return Err(Error::Api(ApiError {
                status,
                operation: operation.to_string(),
                message,
                body,
            }));
        }
        if !listed || status == 101 {
            return Err(Error::UnexpectedStatus {
                operation: operation.to_string(),
                status,
                body: read_answer(body).await?,
            });
        }
        let body = if kind == ResponseKind::Buffered {
            ResponseBody::Buffered(body.collect().await.map_err(|e| self.error(e, operation))?)
        } else {
            ResponseBody::Streaming(ByteStream::from_body(
                body,
                self.inner.endpoint.clone(),
                operation.to_string(),
            ))
        };
        Ok(RawResponse {
            span: tracing::Span::none(),
            operation: name,
            status,
            headers,
            body,
        })
    }

    /// The SDK's error for what failed in an exchange.
    fn error(&self, error: HttpError, operation: &str) -> Error {
        failure::from_http(error, &self.inner.endpoint, operation)
    }

    /// The API version prefix for an operation, after the version policy has had its say;
    /// `None` while the server's versions are still to be asked.
    fn known_prefix(
        &self,
        info: &'static crate::OperationInfo,
    ) -> Option<crate::Result<std::borrow::Cow<'static, str>>> {
        let api = info.api;
        if let Some(prefix) = info.fixed_prefix {
            return Some(Ok(prefix.into()));
        }
        // `_ping` follows the policy like every call: its module's prefix is refused by an
        // older dockerd ("client version is too new").
        if self.inner.version_policy == VersionPolicy::Off {
            return Some(Ok(api.prefix.into()));
        }
        let server = self.inner.server_version.get()?;
        Some(
            match version::decide(self.inner.version_policy, api.engine, api.version, server) {
                Ok(None) => Ok(api.prefix.into()),
                Ok(Some(negotiated)) => Ok(format!("/v{negotiated}").into()),
                Err((min, max)) => Err(Error::UnsupportedVersion {
                    operation: info.id.to_string(),
                    requested: api.version.to_string(),
                    server_min: min.to_string(),
                    server_max: max.to_string(),
                }),
            },
        )
    }

    /// The prefix once the server's versions are known (asked here the first time).
    async fn prefix_for(
        &self,
        info: &'static crate::OperationInfo,
    ) -> crate::Result<std::borrow::Cow<'static, str>> {
        // Its errors and timeouts name the call that caused it, and say it was the probe.
        let probe = format!("{} (version probe: GET /version)", info.id);
        self.probe_server_version(probe).await?;
        self.known_prefix(info)
            .expect("the server's versions are known once asked")
    }

    /// The server's API versions (`GET /version`), asked once per client and kept. A
    /// server that does not answer it (an API error) is taken as unknown: calls go as is.
    /// What is done with them is the client's [`VersionPolicy`], set with
    /// [`ClientBuilder::version_policy`].
    ///
    /// ```no_run
    /// # #[cfg(feature = "docker-v1_55")]
    /// # async fn demo() -> berth::Result<()> {
    /// use berth::{Client, Error, VersionPolicy};
    /// let docker = Client::builder("unix:///var/run/docker.sock")
    ///     .version_policy(VersionPolicy::Strict)
    ///     .build()?;
    /// let server = docker.server_version().await?;
    /// // dockerd 20.10: "20.10.24", API "1.41" down to "1.12" (empty where the server says
    /// // nothing). Podman also gives its libpod API versions, which `podman::*` modules are
    /// // held against.
    /// println!("{} (API {} down to {})", server.version, server.api_version, server.min_api_version);
    /// if !server.libpod_api_version.is_empty() {
    ///     println!("libpod API {}", server.libpod_api_version);
    /// }
    ///
    /// // Under `Strict` a module newer than the server fails before sending; under the
    /// // default, `Negotiate`, it would be sent at the server's version instead.
    /// let pinged = docker.invoke(berth::docker::v1_55::_ping::SystemPing::default()).await;
    /// if let Err(Error::UnsupportedVersion { requested, server_max, .. }) = &pinged {
    ///     eprintln!("this engine speaks up to {server_max}, not {requested}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn server_version(&self) -> crate::Result<ServerVersion> {
        self.probe_server_version("GET /version".into()).await
    }

    async fn probe_server_version(&self, operation: String) -> crate::Result<ServerVersion> {
        let asked = self
            .inner
            .server_version
            .get_or_try_init(|| async {
                let mut parts = RequestParts::raw(Method::Get, "/version");
                parts.operation = operation.into();
                parts.timeout = Some((self.inner.probe_timeout, crate::TimeoutKind::Probe));
                // A span of its own, inside the first call's: its time is not the call's.
                let span = tracing::debug_span!(
                    "berth.probe",
                    endpoint = &*self.inner.endpoint,
                    status = tracing::field::Empty,
                    error = tracing::field::Empty,
                    duration_us = tracing::field::Empty,
                );
                match traced(&span, self.send_parts(parts, "")).await {
                    Ok(response) => Ok(response.json::<ServerVersion>().unwrap_or_default()),
                    Err(Error::Api(_)) => Ok(ServerVersion::default()),
                    Err(e) => Err(e),
                }
            })
            .await?;
        Ok(asked.clone())
    }

    fn timeout(&self, operation: &str, which: crate::TimeoutKind) -> Error {
        Error::Timeout {
            endpoint: self.inner.endpoint.clone(),
            operation: operation.to_string(),
            which,
        }
    }
}

/// Runs a request in `span`, recording its status (or error kind) and duration.
async fn traced(
    span: &tracing::Span,
    request: impl std::future::Future<Output = crate::Result<RawResponse>>,
) -> crate::Result<RawResponse> {
    let started = std::time::Instant::now();
    let answer = request.instrument(span.clone()).await;
    match &answer {
        Ok(response) => span.record("status", response.status),
        Err(error) => match error.status() {
            Some(status) => span.record("status", status),
            None => span.record("error", error.kind()),
        },
    };
    span.record("duration_us", started.elapsed().as_micros() as u64);
    answer
}

/// A raw request being built; see [`Client::request`].
pub struct RawRequest {
    client: Client,
    parts: RequestParts,
}

impl RawRequest {
    pub fn query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parts.query.push((name.into().into(), value.into()));
        self
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parts.headers.push((name.into().into(), value.into()));
        self
    }

    /// A JSON body.
    pub fn json(mut self, value: &impl serde::Serialize) -> Self {
        self.parts.json_body(value);
        self
    }

    /// A byte body (a stream stays a stream) with its content type.
    pub fn body(mut self, body: impl Into<crate::Body>, content_type: &'static str) -> Self {
        self.parts.body(body.into());
        self.parts.content_type = Some(content_type.into());
        self
    }

    /// How to read the answer (default: whole).
    pub fn response(mut self, kind: ResponseKind) -> Self {
        self.parts.response = kind;
        self
    }

    pub async fn send(self) -> crate::Result<RawResponse> {
        self.client.execute(self.parts).await
    }
}
