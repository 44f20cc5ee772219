//! Faults on the real engines (issue #10): dockerd killed (SIGKILL) and restarted, the podman
//! service stopped and started, the registry stopped in the middle of a push, and the ssh
//! tunnel's process killed, each in the middle of a call.
//!
//! Each case checks that the call ends promptly with a typed error that says what happened
//! (never a hang, never `Ok` for a truncated stream or an unfinished push), that the same
//! `Client` works once the engine is back (its pooled connections to the dead engine are not
//! used), and that nothing that reported success was lost. Each records a row of the
//! Reliability table (`docs/reliability.md`, `common::report`).
//!
//! The engines are stopped and started with `scripts/engines kill|stop|up SERVICE`, as root.
//! Run alone, one test at a time, under the engine lock:
//! `flock /tmp/berth-engine-tests.lock cargo test --features docker-v1_41,podman-v4_9,podman-v5_1_0 --test faults -- --test-threads=1`
//! (`scripts/test` does, in its reliability stage).

#![cfg(all(feature = "docker-v1_41", feature = "podman-v5_1_0"))]

mod common;

#[path = "faults/dockerd.rs"]
mod dockerd;
#[path = "faults/dockerd_io.rs"]
mod dockerd_io;
#[path = "faults/harness.rs"]
mod harness;
#[path = "faults/outage.rs"]
mod outage;
#[path = "faults/podman.rs"]
mod podman;
#[path = "faults/registry.rs"]
mod registry;
#[path = "faults/ssh.rs"]
mod ssh;
#[path = "faults/streams.rs"]
mod streams;
