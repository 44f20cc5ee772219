//! berth: a typed Rust SDK for container engines — the Docker Engine API and Podman's
//! libpod and Docker-compatible APIs — generated at build time from the engines' own specs.
//!
//! ```no_run
//! # #[cfg(feature = "docker-v1_53")]
//! # async fn demo() -> berth::Result<()> {
//! use berth::docker::v1_53::containers::ContainerList;
//! let client = berth::Client::new("unix:///var/run/docker.sock")?;
//! let containers = client.invoke(ContainerList { all: Some(true), ..Default::default() }).await?;
//! # Ok(()) }
//! ```
//!
//! Every scenario of the original guide is an example under `examples/`, run by the tests
//! against real engines: `pull_image`, `build_image`, `create_start_container`,
//! `create_network`, `stream_logs`, `attach_stdin`, `registry_auth`, `mtls`,
//! `multiple_values`, `archive_get`, `archive_put`, `raw_requests`, `error_body`,
//! `podman_apis`, `data_driven`, `swarm` and the `tour`.
//!
//! Without async: `berth::blocking` (feature `blocking`) makes the same calls from plain
//! threads, streams as iterators and `std::io::Read`; see `examples/blocking.rs`.

mod macros;

pub mod auth;
#[cfg(feature = "blocking")]
pub mod blocking;
mod client;
mod de;
pub mod dynamic;
mod env;
mod error;
mod failure;
mod http;
mod operation;
mod redact;
mod request;
mod response;
mod socket;
pub mod stream;
mod tables;
pub mod version;

pub use client::{Client, ClientBuilder, RawRequest};
pub use error::{ApiError, Error, Result};
pub use operation::Operation;
pub use request::{Body, ParamValue, RequestParts};
pub use response::{Headers, RawResponse};
pub use socket::ssh::{SshOptions, SshTarget};
pub use socket::{Endpoint, TlsMaterial};
pub use stream::{ByteStream, Frame, FrameStream, JsonLines, Multiplexed, StreamKind, Upgraded};
pub use tables::{
    ApiInfo, BodyInfo, Method, OperationInfo, ParamEncoding, ParamInfo, ParamLocation, ResponseKind,
};
pub use version::{ServerVersion, VersionPolicy};

include!(concat!(env!("OUT_DIR"), "/engines.rs"));
