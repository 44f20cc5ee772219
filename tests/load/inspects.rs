//! 10 rounds of 1,000 `ContainerInspect`s at once on one client (more than its cap of 64
//! connections: the rest wait for one), each checked against the container it asked for;
//! more rounds before them warm up.

use std::sync::Arc;

use crate::case::{self, Failures, Measuring, CAP, KIB};
use crate::common::report;
use crate::common::stress::inspect_is;
use crate::common::{self, within, Cleanup};

const ROUNDS: usize = 10;
/// Rounds before memory is measured: the allocator's arenas for 1,000 tasks on two worker
/// threads fill in the first rounds (+3 MiB), then move by allocator noise (trials: +0.3
/// MiB over 38 more rounds in one, +5.4 MiB over 10 in another, starting from a dip).
const WARM_ROUNDS: usize = 3;
const PER_ROUND: usize = 1_000;
const INSPECTED: usize = 10;

/// Runs the case; `fds_start`: the process's descriptors before any client.
pub async fn run(fds_start: usize) {
    let client = case::client();
    let cleanup = Cleanup::new(&client);
    let tag = common::unique("load-inspect");
    let targets = case::containers(&client, &cleanup, &tag, INSPECTED, |k| format!("{tag}-{k}"));
    let targets = Arc::new(targets.await);

    let mut failures = Failures::default();
    let mut measuring = None;
    for round in 0..WARM_ROUNDS + ROUNDS {
        let tasks: Vec<_> = (0..PER_ROUND)
            .map(|j| {
                let (client, targets) = (client.clone(), targets.clone());
                tokio::spawn(async move {
                    let (name, id) = &targets[(round + j) % INSPECTED];
                    inspect_is(&client, name, id).await
                })
            })
            .collect();
        for task in tasks {
            match within(120, "an inspect", task).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => failures.add(format!("round {round}: {e}")),
                Err(panicked) => failures.add(format!("round {round}: {panicked}")),
            }
        }
        eprintln!(
            "load: inspect round {round}: RSS {} KiB, fds {}",
            report::rss_kib(),
            report::open_fds()
        );
        if round + 1 == WARM_ROUNDS {
            measuring = Some(Measuring::start(fds_start));
        }
    }
    let alive = measuring.expect("warmed up").calls_done(CAP).await;
    drop(client);
    let m = alive.client_dropped().await;

    // Generous for the allocator's noise with 1,000 tasks at once: a leak of 1.2 KiB a
    // call (an answer's body, a connection's buffer) would pass it. Smaller leaks per
    // call are the 100,000 pings' to catch.
    let rss_bound = 12 * KIB;
    let checks = [
        m.alive_within_cap(),
        m.back_to_start(),
        m.rss_grew_less(rss_bound, &format!(" over {ROUNDS} rounds")),
    ];
    let figures = format!(
        "{} calls (+{} warm-up), {PER_ROUND} spawned at once per round over {INSPECTED} containers, max_connections {CAP}; \
         wall {:.1}s; {}",
        ROUNDS * PER_ROUND,
        WARM_ROUNDS * PER_ROUND,
        m.wall.as_secs_f64(),
        m.figures(),
    );
    case::conclude(
        "10 × 1,000 concurrent ContainerInspect on one client",
        &failures,
        &checks,
        (
            "every inspect answered its own container; descriptors ≤ start + cap, memory flat",
            "every inspect answered its own container; NOT FLAT (see figures)",
        ),
        &figures,
    );
    drop(cleanup);
}
