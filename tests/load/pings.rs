//! 100,000 `_ping`s one after the other on one client: one connection, reused throughout.

use berth::docker::v1_41::_ping;
use berth::Client;

use crate::case::{self, Check, Failures, Measuring, CAP, KIB};
use crate::common::report;

const PINGS: usize = 100_000;
const PING_WARMUP: usize = 1_000;

async fn ping(client: &Client, failures: &mut Failures, what: &str, n: usize) {
    match client.invoke(_ping::SystemPing {}).await {
        Ok(answer) if answer.body == "OK" => {}
        other => failures.add(format!("{what} {n}: {other:?}")),
    }
}

/// Runs the case; `fds_start`: the process's descriptors before any client.
pub async fn run(fds_start: usize) {
    let client = case::client();
    let mut failures = Failures::default();
    for n in 0..PING_WARMUP {
        ping(&client, &mut failures, "warm-up ping", n).await;
    }
    let measuring = Measuring::start(fds_start);
    let mut rss_half = 0;
    for n in 0..PINGS {
        ping(&client, &mut failures, "ping", n).await;
        if n % 1_000 == 999 {
            measuring.sample();
        }
        if n == PINGS / 2 {
            rss_half = report::rss_kib();
        }
    }
    // Sequential calls: the pool reuses one connection.
    let alive = measuring.calls_done(1).await;
    drop(client);
    let m = alive.client_dropped().await;

    // A leak of 50 bytes a call would be ~4.8 MiB over the run, ~2.4 MiB per half
    // (a trial grew by 0.2 MiB).
    let (rss_bound, half_bound) = (4 * KIB, 2 * KIB);
    let grew_since_half = m.rss.end.saturating_sub(rss_half);
    let checks = [
        Check::new(
            m.fds_alive <= fds_start + 1,
            format!(
                "sequential calls use one connection: {} descriptors open vs {fds_start} before the client",
                m.fds_alive
            ),
        ),
        Check::new(
            m.fds.peak as usize <= fds_start + CAP,
            format!("descriptors {}", m.fds),
        ),
        m.back_to_start(),
        m.rss_grew_less(rss_bound, &format!(" over {PINGS} pings")),
        Check::new(
            grew_since_half < half_bound,
            format!(
                "resident memory grew by {grew_since_half} KiB over the second {} pings (half-way {rss_half}, end {} KiB)",
                PINGS / 2,
                m.rss.end
            ),
        ),
    ];
    let figures = format!(
        "{PINGS} calls (+{PING_WARMUP} warm-up), typed SystemPing, sequential; wall {:.1}s ({:.0} µs/call); \
         {} (half-way {rss_half})",
        m.wall.as_secs_f64(),
        m.wall.as_micros() as f64 / PINGS as f64,
        m.figures(),
    );
    case::conclude(
        "100,000 sequential _ping on one client",
        &failures,
        &checks,
        (
            "all answered OK on one reused connection; descriptors and memory flat",
            "all answered OK; NOT FLAT (see figures)",
        ),
        &figures,
    );
}
