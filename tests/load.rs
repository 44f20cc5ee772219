//! Load on the real dockerd (unix socket), one client per case: 100,000 sequential pings,
//! 10 rounds of 1,000 concurrent inspects, and ten minutes of a busy tool's mixed calls
//! squeezed into one bounded run. No call may fail or get a wrong answer; descriptors and
//! resident memory are sampled through each run (start / peak / end) and must stay flat:
//!
//! - descriptors: at most `start + max_connections` while the client lives (the pool keeps
//!   at most that many connections), exactly `start` once it is dropped; for sequential
//!   calls, one connection (`start + 1`): the pool reuses it;
//! - resident memory: measured from after a warm-up (allocator arenas, hyper's buffers, the
//!   runtime's), it may grow by some allocator noise (trials: 0.2–1.7 MiB), but less than
//!   a small leak per call would add (4 MiB for the pings, ~50 bytes a call; the bounds and
//!   what they catch are at each case).
//!
//! The cases share the process's descriptor and memory figures, so they run one at a
//! time (a lock), each on a runtime of its own made after taking the lock.
//!
//! Run: `cargo test --features docker-v1_41,podman-v4_9,podman-v5_1_0 --test load`.

#![cfg(feature = "docker-v1_41")]

mod common;

#[path = "load/busy_tool.rs"]
mod busy_tool;
#[path = "load/case.rs"]
mod case;
#[path = "load/inspects.rs"]
mod inspects;
#[path = "load/pings.rs"]
mod pings;

// The cases, named as they always were: the harness runs them (and they record their rows)
// in the order of their names. Each module says what its case does and what it bounds.

#[test]
fn load_100k_sequential_pings() {
    case::run_case(pings::run);
}

#[test]
fn load_10x1000_concurrent_inspects() {
    case::run_case(inspects::run);
}

#[test]
fn load_mixed_ten_minutes_of_a_busy_tool() {
    case::run_case(busy_tool::run);
}
