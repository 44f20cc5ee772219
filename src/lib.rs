//! berth: a typed Rust SDK for container engines — the Docker Engine API and Podman's
//! libpod and Docker-compatible APIs — generated at build time from the engines' own specs.
//!
//! ```no_run
//! # #[cfg(feature = "docker-v1_55")]
//! # async fn demo() -> berth::Result<()> {
//! use berth::docker::v1_55::ops::ContainerList;
//! let client = berth::Client::docker_from_env()?.build()?;
//! let containers = client.invoke(ContainerList { all: Some(true), ..Default::default() }).await?;
//! # Ok(()) }
//! ```
//!
//! # Finding an operation
//!
//! Operations are named by the engines' own `operationId`s, the names of Docker's and
//! Podman's API references (`ContainerList`, `ImageCreate`, `ContainerCreateLibpod`).
//! - `berth::docker::v1_55::ops` holds every operation of that version in one flat list,
//!   each with its answer type (`ContainerList`, `ContainerListResponse`).
//! - The same types live in one module per category of the spec (`containers`, `images`,
//!   `exec`, `_ping`, Podman's `libpod::containers`); each category's page lists its
//!   operations with their method, path and summary. Types shared by operations are in
//!   `models`.
//! - Each operation's page links to its engine's API reference.
//! - By name, at run time: [`dynamic`] lists categories and operations and invokes one with
//!   JSON parameters.
//! - `berth::docker::newest` is the newest Docker version enabled.
//!
//! # Cargo features
//!
//! One feature per engine version: `docker-v1_25` … `docker-v1_55`, `podman-v4_9`,
//! `podman-v5_1_0`, and the umbrellas `docker`, `podman`, `full`. Default: the newest Docker
//! version and `tls` (HTTPS and mTLS endpoints, rustls). `blocking` adds
//! `berth::blocking::Client`, `websocket` WebSocket attach. A version module's page
//! says which feature enables it; these docs show the modules of the features they were built
//! with (docs.rs: Podman, Docker v1.41, v1.44 and v1.55, `blocking` and `websocket`; a
//! default `cargo doc`: Docker v1.55 alone).
//!
//! # Examples
//!
//! Every scenario of the original guide is an example under `examples/` (shipped with the
//! crate), run by the tests against real engines: `pull_image`, `build_image`,
//! `create_start_container`, `create_network`, `stream_logs`, `attach_stdin`,
//! `registry_auth`, `mtls`, `multiple_values`, `archive_get`, `archive_put`,
//! `raw_requests`, `error_body`, `podman_apis`, `data_driven`, `swarm`, `tracing` and the
//! `tour`.
//!
//! # Without async
//!
//! `berth::blocking` (feature `blocking`) makes the same calls from plain threads, with
//! streams as iterators and `std::io::Read`; its page shows how.
//!
//! # Building images
//!
//! [`build_context::BuildContext`] streams a directory as a build context, honouring
//! `.dockerignore` as the docker CLI does:
//!
//! ```no_run
//! # #[cfg(feature = "docker-v1_55")]
//! # async fn demo(docker: berth::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use berth::build_context::BuildContext;
//! use berth::docker::v1_55::build::ImageBuild;
//! use futures_util::StreamExt;
//!
//! let context = BuildContext::from_dir("./app").await?;
//! let mut output = docker
//!     .invoke(ImageBuild {
//!         t: Some("app:latest".into()),
//!         body: Some(context.into_body()),
//!         ..Default::default()
//!     })
//!     .await?;
//! while let Some(line) = output.next().await {
//!     print!("{}", line?.stream.unwrap_or_default());
//! }
//! # Ok(()) }
//! ```
//!
//! # Guides
//!
//! The repository's `docs/guide.md` walks through transports, API versions, answers,
//! contexts, stored credentials, the blocking client, build contexts and tracing; its
//! examples compile as this crate's doctests.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod macros;

pub mod auth;
#[cfg(feature = "blocking")]
#[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
pub mod blocking;
pub mod build_context;
#[cfg(feature = "buildkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "buildkit")))]
pub mod buildkit;
mod client;
pub mod context;
pub mod credentials;
mod de;
pub mod dynamic;
pub mod env;
mod error;
mod extra;
mod failure;
mod http;
mod operation;
mod redact;
mod request;
mod response;
mod socket;
pub mod stream;
mod tables;
#[cfg(test)]
mod test_dir;
pub mod values;
pub mod version;

pub use client::{CallOptions, Client, ClientBuilder, RawRequest};
pub use error::{ApiError, Error, Result, TimeoutKind};
pub use extra::Extra;
pub use operation::Operation;
pub use request::{Body, ParamValue, RequestParts};
pub use response::{Headers, RawResponse};
pub use socket::ssh::{SshOptions, SshTarget};
pub use socket::{Endpoint, TlsMaterial};
pub use stream::{
    ByteStream, Frame, FrameStream, JsonLines, Multiplexed, StreamKind, Upgraded, WebSocket,
};

/// What goes over [`WebSocket`] attach (feature `websocket`): tungstenite's messages.
#[cfg(feature = "websocket")]
pub mod websocket {
    pub use tokio_tungstenite::tungstenite::Message;
}
pub use tables::{
    ApiInfo, BodyInfo, Method, OperationInfo, ParamEncoding, ParamInfo, ParamLocation, ResponseKind,
};
pub use version::{ServerVersion, VersionPolicy};

include!(concat!(env!("OUT_DIR"), "/engines.rs"));

// The Rust blocks of the README and the guide compile as doctests with the default features
// (the quick start as written), and with `blocking` the blocking client's too.
#[cfg(all(doctest, feature = "docker-v1_55"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(all(doctest, feature = "docker-v1_55"))]
#[doc = include_str!("../docs/guide.md")]
struct GuideDoctests;

#[cfg(all(doctest, feature = "buildkit"))]
#[doc = include_str!("../docs/buildkit.md")]
struct BuildKitDoctests;
