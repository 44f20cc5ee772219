//! Runs every example of `examples/` against the real engines: each example's source is
//! included as a module and its `run` is called with a client from `tests/common` (so a
//! missing engine fails under `CI` and is reported otherwise, like the rest of the suite).
//! An example that only compiled would not be enough: each `run` checks what it did.

#![cfg(all(feature = "docker-v1_41", feature = "podman-v5_1_0"))]
// Every example includes `examples/support/mod.rs`; here that makes one copy per example.
#![allow(clippy::duplicate_mod)]

mod common;

// Each example as a module (its `main` is then unused: the examples allow that).
#[path = "../examples/archive_get.rs"]
mod archive_get;
#[path = "../examples/archive_put.rs"]
mod archive_put;
#[path = "../examples/attach_stdin.rs"]
mod attach_stdin;
#[path = "../examples/build_image.rs"]
mod build_image;
#[cfg(feature = "buildkit")]
#[path = "../examples/buildkit.rs"]
mod buildkit;
#[path = "../examples/create_network.rs"]
mod create_network;
#[path = "../examples/create_start_container.rs"]
mod create_start_container;
#[path = "../examples/data_driven.rs"]
mod data_driven;
#[path = "../examples/error_body.rs"]
mod error_body;
#[path = "../examples/mtls.rs"]
mod mtls;
#[path = "../examples/multiple_values.rs"]
mod multiple_values;
#[path = "../examples/podman_apis.rs"]
mod podman_apis;
#[path = "../examples/pull_image.rs"]
mod pull_image;
#[path = "../examples/raw_requests.rs"]
mod raw_requests;
#[path = "../examples/registry_auth.rs"]
mod registry_auth;
#[path = "../examples/stream_logs.rs"]
mod stream_logs;
#[path = "../examples/swarm.rs"]
mod swarm;
#[path = "../examples/tracing.rs"]
mod tracing_spans;

macro_rules! examples {
    ($($(#[$attr:meta])* $engine:ident: $name:ident),* $(,)?) => {
        $(
            $(#[$attr])*
            #[tokio::test]
            async fn $name() {
                examples!(@run $engine $name);
            }
        )*
    };
    (@run docker $name:ident) => {
        let Some(client) = common::docker().await else { return };
        common::within(300, stringify!($name), $name::run(&client))
            .await
            .unwrap_or_else(|e| panic!("example {}: {e}", stringify!($name)));
    };
    (@run podman $name:ident) => {
        let Some(client) = common::podman().await else { return };
        common::within(300, stringify!($name), $name::run(&client))
            .await
            .unwrap_or_else(|e| panic!("example {}: {e}", stringify!($name)));
    };
    (@run registry $name:ident) => {
        let Some(client) = common::docker().await else { return };
        if !common::registry_up().await {
            return;
        }
        common::within(300, stringify!($name), $name::run(&client))
            .await
            .unwrap_or_else(|e| panic!("example {}: {e}", stringify!($name)));
    };
    (@run docker_tls $name:ident) => {
        if common::docker_tls().await.is_none() {
            return;
        }
        common::within(300, stringify!($name), $name::run())
            .await
            .unwrap_or_else(|e| panic!("example {}: {e}", stringify!($name)));
    };
}

examples! {
    registry: pull_image,
    docker: build_image,
    #[cfg(feature = "buildkit")]
    docker: buildkit,
    docker: create_start_container,
    docker: create_network,
    docker: stream_logs,
    docker: attach_stdin,
    registry: registry_auth,
    docker_tls: mtls,
    podman: multiple_values,
    docker: archive_get,
    docker: archive_put,
    docker: raw_requests,
    docker: error_body,
    podman: podman_apis,
    docker: data_driven,
    docker: swarm,
    docker: tracing_spans,
}
