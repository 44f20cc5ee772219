//! Cancellation against the real dockerd (unix socket): 10,000 calls on ONE client, each
//! raced against a random deadline or dropped mid-stream, interleaved with 5,000 normal
//! calls on the same client, a few dozen in flight and more than its connection cap.
//!
//! The deadlines (`tokio::time::timeout`, 0–5 ms, a quarter of them 5–50 ms) land at every
//! stage of an exchange: waiting for a slot or connecting, writing the request (a streamed
//! 128 KiB upload shows how much of its body hyper had taken), waiting for the head, and
//! reading the body. Streams (logs, events, archive download, attach) are also dropped after
//! a random number of items. Every call that completes — a normal one, or a raced one that
//! beat its deadline — is checked against ITS OWN answer (inspect of container k is k,
//! logs of k are the text k printed, an archive is the file put there, `_ping` is "OK"), and
//! every piece read before a drop must belong to that call's answer. At the end the same
//! client still answers correctly, the process holds at most `start + cap` descriptors
//! while the client lives (the pool keeps at most `max_connections` connections), and
//! exactly `start` once it is dropped.
//!
//! The run is seeded: the seed is printed, `BERTH_CANCEL_SEED=<n>` replays the same plan
//! (which call does what, with which deadline; the timing of the machine is not replayed).
//!
//! Run: `cargo test --features docker-v1_41,podman-v4_9,podman-v5_1_0 --test cancellation`.

#![cfg(feature = "docker-v1_41")]

mod common;

#[path = "cancellation/answers.rs"]
mod answers;
#[path = "cancellation/calls.rs"]
mod calls;
#[path = "cancellation/fixture.rs"]
mod fixture;
#[path = "cancellation/plan.rs"]
mod plan;
#[path = "cancellation/tally.rs"]
mod tally;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use berth::docker::v1_41::_ping;
use berth::Client;
use common::report;
use common::stress::{settle, Sampler};
use common::Cleanup;

use calls::{check_kinds, upload_chunks, Ctx};
use fixture::{Fixture, DONE};
use plan::Kind;
use tally::{run_one, Tally};

/// Calls raced against a deadline or dropped mid-stream.
const RACED: usize = 10_000;
/// Every third call is a normal one: 5,000 of them.
const TOTAL: usize = RACED * 3 / 2;
/// Calls in flight at once.
const IN_FLIGHT: usize = 32;
/// The client's `max_connections`: below `IN_FLIGHT`, so calls also wait for a slot (and
/// are cancelled while waiting).
const CAP: usize = 24;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_at_every_stage_on_one_client() {
    // Before any client: the runtime's own descriptors and the test harness's.
    let fds_start = report::open_fds();
    let rss_start = report::rss_kib();
    let Some(gate) = common::docker().await else {
        return;
    };
    drop(gate);
    let seed = plan::seed();
    eprintln!("cancellation: seed {seed} (replay with BERTH_CANCEL_SEED={seed})");

    let client = Client::builder(common::docker_uri())
        .max_connections(CAP)
        .build()
        .expect("client");
    let cleanup = Cleanup::new(&client);
    let fx = Fixture::make(&client, &cleanup, seed).await;
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        fx,
        seed,
    });

    // The fixtures answer as expected before anything is cancelled (the open-ended
    // streams: their first 3 items).
    let whole = [
        Kind::Ping,
        Kind::Inspect,
        Kind::List,
        Kind::Logs,
        Kind::ArchiveNote,
        Kind::ArchiveBig,
        Kind::AttachLogs,
    ];
    let open_ended = [Kind::LogsFollowChatty, Kind::AttachChatty, Kind::Events];
    let mut before = check_kinds(&ctx, "before the run", &whole, 0..1, None).await;
    before.extend(check_kinds(&ctx, "before the run", &open_ended, 0..1, Some(3)).await);
    if let Some(first) = before.first() {
        panic!("{first}");
    }

    let sampler = Sampler::start(fds_start, rss_start);
    let started = Instant::now();
    let chunks = upload_chunks();
    let next = Arc::new(AtomicUsize::new(0));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let workers: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let (ctx, next, tally) = (ctx.clone(), next.clone(), tally.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= TOTAL {
                        return;
                    }
                    run_one(&ctx, i, chunks, &tally).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("a worker panicked");
    }
    let wall = started.elapsed();
    let mut tally = std::mem::take(&mut *tally.lock().unwrap());

    // The same client, after all that: every kind still gets its own answer.
    let after = [
        Kind::Inspect,
        Kind::Logs,
        Kind::ArchiveNote,
        Kind::AttachLogs,
    ];
    tally
        .failures
        .extend(check_kinds(&ctx, "after the run", &after, 0..DONE, None).await);
    let ping = client.invoke(_ping::SystemPing {}).await;

    // With the client alive: at most `CAP` connections open (idle ones kept by the pool).
    let fds_alive = settle(fds_start + CAP).await;
    let (mut fds, mut rss) = sampler.stop().await;
    drop(ctx);
    drop(client);
    // Dropped: hyper's connection tasks end with their idle connections.
    let fds_end = settle(fds_start).await;
    fds.sample(fds_end as u64);
    rss.sample(report::rss_kib());

    tally.print_rows();
    let figures = format!(
        "seed {seed}; {TOTAL} calls ({} raced, {} dropped mid-stream, {} normal) + {} upload read-backs, \
         {IN_FLIGHT} in flight, max_connections {CAP}; cancelled by the deadline: {}; \
         completed before the deadline {}; answers checked {}; wall {:.1}s; \
         fds start/peak/end {fds} (alive after the run {fds_alive}, cap {CAP}); RSS KiB {rss}",
        tally.raced(),
        tally.dropped,
        tally.normal,
        tally.upload_checks,
        tally.stages_text(),
        tally.beat_deadline,
        tally.checked + tally.upload_checks,
        wall.as_secs_f64(),
    );
    let failed = !tally.failures.is_empty()
        || ping.as_ref().ok().map(|pong| pong.body.as_str()) != Some("OK")
        || fds_alive > fds_start + CAP
        || fds_end != fds_start;
    let outcome = if failed {
        format!(
            "FAILED: {} wrong or failed answers (first: {:?}); ping after {:?}; fds alive {fds_alive}, end {fds_end} vs start {fds_start}",
            tally.failures.len(),
            tally.failures.first(),
            ping
        )
    } else {
        "every completed call had its own answer; no error, panic or hang; the client answers after; \
         descriptors ≤ start + cap while it lives, back to start when dropped"
            .to_string()
    };
    report::record(
        "cancellation",
        "10,000 calls raced against 0–5 ms deadlines (a quarter 5–50 ms) or dropped mid-stream, among 5,000 normal ones, 32 in flight on one client (dockerd)",
        &outcome,
        &figures,
    );

    assert!(
        tally.failures.is_empty(),
        "{} calls got a wrong answer or failed; the first ones:\n{}",
        tally.failures.len(),
        tally.failures[..tally.failures.len().min(20)].join("\n")
    );
    assert_eq!(ping.expect("SystemPing after the run").body, "OK");
    assert_eq!(tally.raced() + tally.dropped, RACED);
    // Open-ended streams (chatty logs and attach, live events) never end: their raced
    // calls are all cancelled, so the deadlines did cancel calls.
    assert!(
        tally.cancelled() > 0,
        "no call was cancelled by its deadline"
    );
    assert!(
        fds_alive <= fds_start + CAP,
        "{fds_alive} descriptors open with the client alive after the run: more than {fds_start} + {CAP} (its cap)"
    );
    assert_eq!(
        fds_end, fds_start,
        "descriptors after the client was dropped vs before it was made"
    );
    drop(cleanup);
}
