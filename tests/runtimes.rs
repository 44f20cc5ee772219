//! One client across many tokio runtimes, as tests and programs share one (a `static`, a
//! `OnceLock`) while each `#[tokio::test]` has a runtime of its own: runtimes created and
//! dropped in turn, several alive at once, every call answered; the connections of a
//! runtime that ended are closed with it (descriptors back to where they were).

#![cfg(feature = "docker-v1_41")]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use berth::docker::v1_41::_ping::SystemPing;
use berth::Client;

const THREADS: usize = 4;
const RUNTIMES_PER_THREAD: usize = 5;
const CALLS_PER_RUNTIME: usize = 100;

static CLIENT: OnceLock<Client> = OnceLock::new();

/// `CALLS_PER_RUNTIME` pings on the shared client, four at a time, in a runtime of its own
/// that is dropped at the end (current-thread and multi-thread in turn).
fn one_runtime(index: usize, failures: &AtomicUsize, first_failure: &OnceLock<String>) {
    let runtime = if index % 2 == 0 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    }
    .worker_threads(2)
    .enable_all()
    .build()
    .expect("a runtime");
    runtime.block_on(async {
        let client = CLIENT.get().expect("the client");
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let client = client.clone();
            calls.spawn(async move {
                let mut failed = Vec::new();
                for _ in 0..CALLS_PER_RUNTIME / 4 {
                    match client.invoke(SystemPing {}).await {
                        Ok(pong) if pong.body == "OK" => {}
                        other => failed.push(format!("{other:?}")),
                    }
                }
                failed
            });
        }
        while let Some(done) = calls.join_next().await {
            for failure in done.expect("a calling task") {
                failures.fetch_add(1, Ordering::SeqCst);
                let _ = first_failure.set(failure);
            }
        }
    });
    drop(runtime);
}

#[test]
fn one_client_serves_runtime_after_runtime() {
    let setup = tokio::runtime::Runtime::new().unwrap();
    let Some(client) = setup.block_on(common::docker()) else {
        return;
    };
    drop(setup);
    let fds_start = common::report::open_fds();
    assert!(CLIENT.set(client).is_ok(), "set once");

    let failures = AtomicUsize::new(0);
    let first_failure = OnceLock::new();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (failures, first_failure) = (&failures, &first_failure);
            scope.spawn(move || {
                for round in 0..RUNTIMES_PER_THREAD {
                    one_runtime(
                        thread * RUNTIMES_PER_THREAD + round,
                        failures,
                        first_failure,
                    );
                }
            });
        }
    });
    let calls = THREADS * RUNTIMES_PER_THREAD * CALLS_PER_RUNTIME;
    eprintln!(
        "{calls} calls from {} runtimes ({THREADS} alive at once) in {:.1}s",
        THREADS * RUNTIMES_PER_THREAD,
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        failures.load(Ordering::SeqCst),
        0,
        "calls failed; the first: {:?}",
        first_failure.get()
    );

    // Every runtime has ended, and with it its connections' tasks and sockets.
    let deadline = Instant::now() + Duration::from_secs(10);
    while common::report::open_fds() > fds_start && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        common::report::open_fds(),
        fds_start,
        "descriptors left open by runtimes that ended"
    );

    // And the client still serves a runtime that comes after them all.
    let last = tokio::runtime::Runtime::new().unwrap();
    let pong = last
        .block_on(CLIENT.get().unwrap().invoke(SystemPing {}))
        .expect("a ping from a new runtime");
    assert_eq!(pong.body, "OK");
    drop(last);

    // One test, not two: the descriptors counted above are the whole process's.
    #[cfg(feature = "blocking")]
    blocking_clients_across_threads();
}

/// The blocking client shared by threads, each calling while the others do, and a blocking
/// client built and dropped per thread beside it: every call answered.
#[cfg(feature = "blocking")]
fn blocking_clients_across_threads() {
    let shared = berth::blocking::Client::new(&common::docker_uri()).expect("a blocking client");
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            let shared = shared.clone();
            scope.spawn(move || {
                let own = berth::blocking::Client::new(&common::docker_uri()).expect("own");
                for n in 0..50 {
                    let client = if n % 2 == 0 { &shared } else { &own };
                    let pong = client.invoke(SystemPing {}).expect("a ping");
                    assert_eq!(pong.body, "OK");
                }
            });
        }
    });
}
