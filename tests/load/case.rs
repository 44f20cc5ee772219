//! What every load case does the same way: its runtime and its turn, its client, its
//! failures, the descriptors and memory measured around its calls, and its row and checks.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use berth::Client;

use crate::common::report::{self, Span};
use crate::common::stress::{self, settle, Sampler};
use crate::common::{self, Cleanup};

pub const KIB: u64 = 1024;
/// Every case's client: `max_connections`.
pub const CAP: usize = 64;
/// The label that marks a case's containers, valued with its tag.
pub const LABEL: &str = "berth-load";

/// One case at a time: descriptors and memory are the process's.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `case` on a runtime of its own once no other case runs, with dockerd answering (see
/// `common::docker`: a missing engine skips, or fails under `CI`). The case gets the
/// process's descriptors before any client (the gate's closed again).
pub fn run_case<F: Future<Output = ()>>(case: impl FnOnce(usize) -> F) {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let fds_start = report::open_fds();
        let Some(gate) = common::docker().await else {
            return;
        };
        drop(gate);
        assert_eq!(
            settle(fds_start).await,
            fds_start,
            "the gate's client closed"
        );
        case(fds_start).await;
    });
}

pub fn client() -> Client {
    Client::builder(common::docker_uri())
        .max_connections(CAP)
        .build()
        .expect("client")
}

/// `n` containers that only exit (created, not started), labelled with the case's `tag`,
/// for its calls to find: (name, id).
pub async fn containers(
    client: &Client,
    cleanup: &Cleanup,
    tag: &str,
    n: usize,
    name: impl Fn(usize) -> String,
) -> Vec<(String, String)> {
    let mut made = Vec::new();
    for k in 0..n {
        let name = name(k);
        let id = stress::create(client, cleanup, &name, (LABEL, tag), "true")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        made.push((name, id));
    }
    made
}

/// Errors and wrong answers of a case: counted, the first few kept.
#[derive(Default)]
pub struct Failures {
    pub count: usize,
    first: Vec<String>,
}

impl Failures {
    pub fn add(&mut self, what: String) {
        self.count += 1;
        if self.first.len() < 20 {
            self.first.push(what);
        }
    }

    pub fn summary(&self) -> String {
        format!("{} failed calls: {}", self.count, self.first.join("; "))
    }
}

/// The measured part of a case (after its warm-up): wall time, and descriptors and
/// resident memory sampled through it.
pub struct Measuring {
    fds_start: usize,
    sampler: Sampler,
    started: Instant,
}

impl Measuring {
    /// From now; memory's start is now (after the warm-up), descriptors' before any client.
    pub fn start(fds_start: usize) -> Measuring {
        Measuring {
            fds_start,
            sampler: Sampler::start(fds_start, report::rss_kib()),
            started: Instant::now(),
        }
    }

    /// One more sample now (sequential calls keep the sampling task from running).
    pub fn sample(&self) {
        self.sampler.sample();
    }

    /// The calls are done: the figures with the client alive, once its connections have
    /// settled to at most `start + alive`.
    pub async fn calls_done(self, alive: usize) -> Alive {
        let wall = self.started.elapsed();
        let fds_alive = settle(self.fds_start + alive).await;
        self.sampler.sample();
        let (fds, rss) = self.sampler.stop().await;
        Alive(Measured {
            fds_start: self.fds_start,
            wall,
            fds_alive,
            fds,
            rss,
            fds_end: 0,
        })
    }
}

/// The figures with the client still alive; [`Alive::client_dropped`] completes them.
pub struct Alive(Measured);

impl Alive {
    /// Once the client is dropped: the descriptors it leaves open (none).
    pub async fn client_dropped(self) -> Measured {
        let mut measured = self.0;
        measured.fds_end = settle(measured.fds_start).await;
        measured.fds.sample(measured.fds_end as u64);
        measured
    }
}

pub struct Measured {
    pub fds_start: usize,
    pub wall: Duration,
    pub fds_alive: usize,
    pub fds: Span,
    pub rss: Span,
    pub fds_end: usize,
}

/// A bound a case checks: whether it held, and what to say when it did not.
pub struct Check {
    held: bool,
    failure: String,
}

impl Check {
    pub fn new(held: bool, failure: String) -> Check {
        Check { held, failure }
    }
}

impl Measured {
    /// `fds start/peak/end …; RSS KiB start/peak/end …`
    pub fn figures(&self) -> String {
        format!(
            "fds start/peak/end {} (alive after {}); RSS KiB start/peak/end {}",
            self.fds, self.fds_alive, self.rss
        )
    }

    /// With the client alive, at most `start + CAP` descriptors: the pool keeps at most
    /// that many connections.
    pub fn alive_within_cap(&self) -> Check {
        Check::new(
            self.fds_alive <= self.fds_start + CAP,
            format!(
                "{} descriptors with the client alive: more than {} + {CAP}",
                self.fds_alive, self.fds_start
            ),
        )
    }

    /// Once the client is dropped, exactly the descriptors from before it was made.
    pub fn back_to_start(&self) -> Check {
        Check::new(
            self.fds_end == self.fds_start,
            format!(
                "descriptors after the client was dropped: {}, not {} as before it",
                self.fds_end, self.fds_start
            ),
        )
    }

    /// Resident memory grew by less than `bound` KiB from its start (`over`: the calls).
    pub fn rss_grew_less(&self, bound: u64, over: &str) -> Check {
        let grew = self.rss.end.saturating_sub(self.rss.start);
        Check::new(
            grew < bound,
            format!(
                "resident memory grew by {grew} KiB{over} (start/peak/end {} KiB)",
                self.rss
            ),
        )
    }
}

/// Records the case's row and makes its checks: no failure, then every bound. The row's
/// outcome is `flat` when all bounds held, `not_flat` when some did not.
pub fn conclude(
    case: &str,
    failures: &Failures,
    checks: &[Check],
    (flat, not_flat): (&str, &str),
    figures: &str,
) {
    let held = checks.iter().all(|c| c.held);
    let outcome = match (failures.count, held) {
        (0, true) => flat.to_string(),
        (0, false) => not_flat.to_string(),
        _ => format!("FAILED: {}", failures.summary()),
    };
    report::record("load", case, &outcome, figures);

    assert_eq!(failures.count, 0, "{}", failures.summary());
    for check in checks {
        assert!(check.held, "{}", check.failure);
    }
}
