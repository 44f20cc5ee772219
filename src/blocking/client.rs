//! The blocking `Client`: the async client and the runtime that drives it.

use std::sync::Arc;

use super::{IntoBlocking, Runtime};
use crate::{ClientBuilder, Operation, RequestParts, ServerVersion};

/// A blocking connection to one engine endpoint: the same calls as [`crate::Client`],
/// without `async`. Cheap to clone; clones share the connection pool and the runtime.
/// How it runs, and where it refuses to: see [the module](crate::blocking).
#[derive(Clone, Debug)]
pub struct Client {
    // Dropped before the runtime, which it may be the last to hold.
    client: crate::Client,
    runtime: Arc<Runtime>,
}

impl ClientBuilder {
    /// Builds a blocking [`Client`] with these options (feature `blocking`); it starts
    /// the runtime thread, and connects nowhere yet. Refused with
    /// [`Error::InsideRuntime`](crate::Error::InsideRuntime) inside an async runtime.
    ///
    /// ```no_run
    /// # fn demo() -> berth::Result<()> {
    /// use std::time::Duration;
    /// let docker = berth::blocking::Client::builder("unix:///var/run/docker.sock")
    ///     .timeout(Duration::from_secs(60))
    ///     .build_blocking()?;
    /// # Ok(()) }
    /// ```
    pub fn build_blocking(self) -> crate::Result<Client> {
        let runtime = Runtime::new()?;
        // Built in the runtime's context: whatever it sets up belongs to that runtime.
        let client = {
            let _context = runtime.enter();
            self.build()?
        };
        Ok(Client { client, runtime })
    }
}

impl Client {
    /// A blocking client for an endpoint URI, with the default options: the URIs of
    /// [`crate::Client::new`] (`unix://`, `tcp://`, `http://`, `https://`, `ssh://`).
    pub fn new(uri: &str) -> crate::Result<Client> {
        crate::Client::builder(uri).build_blocking()
    }

    /// The options of [`crate::Client::builder`]; finish with
    /// [`ClientBuilder::build_blocking`].
    pub fn builder(uri: impl Into<String>) -> ClientBuilder {
        crate::Client::builder(uri)
    }

    /// Docker's defaults (see [`crate::Client::docker_from_env`]); finish with
    /// [`ClientBuilder::build_blocking`].
    pub fn docker_from_env() -> crate::Result<ClientBuilder> {
        crate::Client::docker_from_env()
    }

    /// Podman's defaults (see [`crate::Client::podman_from_env`]); finish with
    /// [`ClientBuilder::build_blocking`].
    pub fn podman_from_env() -> crate::Result<ClientBuilder> {
        crate::Client::podman_from_env()
    }

    /// The endpoint, as error messages name it.
    pub fn endpoint(&self) -> &str {
        self.client.endpoint()
    }

    /// Makes sure the transport is up (an `ssh://` endpoint's tunnel): see
    /// [`crate::Client::connect`].
    pub fn connect(&self) -> crate::Result<()> {
        self.runtime.block_on("connect", self.client.connect())?
    }

    /// The pid of the `ssh` process of an `ssh://` client, while it runs.
    pub fn ssh_pid(&self) -> Option<u32> {
        self.client.ssh_pid()
    }

    /// The server's API versions, asked once per client: see
    /// [`crate::Client::server_version`].
    pub fn server_version(&self) -> crate::Result<ServerVersion> {
        self.runtime
            .block_on("server_version", self.client.server_version())?
    }

    /// Calls a generated operation, blocking until it is answered. A buffered answer is
    /// the async client's; a stream comes back as its blocking counterpart (see
    /// [`IntoBlocking`]), read as it arrives.
    ///
    /// ```no_run
    /// # #[cfg(feature = "docker-v1_55")]
    /// # fn demo(docker: berth::blocking::Client) -> berth::Result<()> {
    /// use berth::docker::v1_55::containers::{ContainerStart, ContainerStartResponse};
    /// let started = docker.invoke(ContainerStart { id: "conny".into(), ..Default::default() })?;
    /// if started == ContainerStartResponse::NotModified {
    ///     println!("it was running already");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn invoke<O>(&self, operation: O) -> crate::Result<<O::Output as IntoBlocking>::Blocking>
    where
        O: Operation,
        O::Output: IntoBlocking,
    {
        let output = self
            .runtime
            .block_on(O::INFO.id, self.client.invoke(operation))??;
        Ok(output.into_blocking(self))
    }

    /// [`Client::invoke`](Self::invoke) with options of this call's own (a timeout): see
    /// [`CallOptions`](crate::CallOptions).
    pub fn invoke_with<O>(
        &self,
        operation: O,
        options: &crate::CallOptions,
    ) -> crate::Result<<O::Output as IntoBlocking>::Blocking>
    where
        O: Operation,
        O::Output: IntoBlocking,
    {
        let output = self
            .runtime
            .block_on(O::INFO.id, self.client.invoke_with(operation, options))??;
        Ok(output.into_blocking(self))
    }

    /// Sends filled request parts through the one request pipeline: see
    /// [`crate::Client::execute`].
    pub fn execute(&self, parts: RequestParts) -> crate::Result<super::RawResponse> {
        let what = parts.operation.clone();
        let response = self.runtime.block_on(&what, self.client.execute(parts))??;
        Ok(super::RawResponse::new(response, self.clone()))
    }

    /// The async client inside, for the raw and by-name calls.
    pub(super) fn inner(&self) -> &crate::Client {
        &self.client
    }

    /// The async client it drives (for what `invoke` does not cover, such as a BuildKit
    /// build).
    #[cfg(feature = "buildkit")]
    pub(crate) fn async_client(&self) -> &crate::Client {
        &self.client
    }

    /// The runtime, for what outlives a call (streams).
    pub(crate) fn runtime(&self) -> Arc<Runtime> {
        self.runtime.clone()
    }

    /// Drives a future of this client on the caller's thread.
    pub(crate) fn block_on<F: std::future::Future>(
        &self,
        what: &str,
        future: F,
    ) -> crate::Result<F::Output> {
        self.runtime.block_on(what, future)
    }
}
