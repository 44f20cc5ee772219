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

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use berth::docker::v1_41::{_ping, containers, events, images, models};
use berth::Client;
use common::report::{self, Span};
use common::{within, Cleanup};

const KIB: u64 = 1024;

/// One case at a time: descriptors and memory are the process's.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial<F: Future<Output = ()>>(case: impl FnOnce() -> F) {
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(case());
}

/// Descriptors and resident memory, sampled every 25 ms until stopped.
struct Sampler {
    fds: Arc<Mutex<Span>>,
    rss: Arc<Mutex<Span>>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    fn start(fds_start: usize, rss_start: u64) -> Sampler {
        let fds = Arc::new(Mutex::new(Span::new(fds_start as u64)));
        let rss = Arc::new(Mutex::new(Span::new(rss_start)));
        let stop = Arc::new(AtomicBool::new(false));
        let task = {
            let (fds, rss, stop) = (fds.clone(), rss.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    fds.lock().unwrap().sample(report::open_fds() as u64);
                    rss.lock().unwrap().sample(report::rss_kib());
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
            })
        };
        Sampler {
            fds,
            rss,
            stop,
            task,
        }
    }

    fn sample(&self) {
        self.fds.lock().unwrap().sample(report::open_fds() as u64);
        self.rss.lock().unwrap().sample(report::rss_kib());
    }

    async fn stop(self) -> (Span, Span) {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await.expect("sampler");
        let spans = (*self.fds.lock().unwrap(), *self.rss.lock().unwrap());
        spans
    }
}

/// Waits (up to 20 s) for the descriptor count to come down to `limit`: a dropped
/// connection is closed by hyper's connection task, a moment later.
async fn settle(limit: usize) -> usize {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let now = report::open_fds();
        if now <= limit || Instant::now() > until {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Errors and wrong answers of a case: counted, the first few kept.
#[derive(Default)]
struct Failures {
    count: usize,
    first: Vec<String>,
}

impl Failures {
    fn add(&mut self, what: String) {
        self.count += 1;
        if self.first.len() < 20 {
            self.first.push(what);
        }
    }

    fn summary(&self) -> String {
        format!("{} failed calls: {}", self.count, self.first.join("; "))
    }
}

fn client(cap: usize) -> Client {
    Client::builder(common::docker_uri())
        .max_connections(cap)
        .build()
        .expect("client")
}

async fn create(client: &Client, cleanup: &Cleanup, name: &str, tag: &str, cmd: &str) -> String {
    let created = client
        .invoke(containers::ContainerCreate {
            name: Some(name.to_string()),
            body: models::ContainerCreateBody {
                image: Some(common::test_image()),
                cmd: Some(vec!["sh".into(), "-c".into(), cmd.into()]),
                labels: Some(HashMap::from([
                    ("berth-it".to_string(), "1".to_string()),
                    ("berth-load".to_string(), tag.to_string()),
                ])),
                host_config: Some(models::HostConfig {
                    network_mode: Some("none".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("ContainerCreate {name}: {e}"));
    cleanup.container(created.id.clone());
    created.id
}

const PINGS: usize = 100_000;
const PING_WARMUP: usize = 1_000;

/// 100,000 `_ping`s one after the other on one client: one connection, reused throughout.
#[test]
fn load_100k_sequential_pings() {
    serial(|| async {
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
        const CAP: usize = 64;
        let client = client(CAP);
        let mut failures = Failures::default();
        for n in 0..PING_WARMUP {
            match client.invoke(_ping::SystemPing {}).await {
                Ok(answer) if answer == "OK" => {}
                other => failures.add(format!("warm-up ping {n}: {other:?}")),
            }
        }
        let rss_start = report::rss_kib();
        let sampler = Sampler::start(fds_start, rss_start);
        let started = Instant::now();
        let mut rss_half = 0;
        for n in 0..PINGS {
            match client.invoke(_ping::SystemPing {}).await {
                Ok(answer) if answer == "OK" => {}
                other => failures.add(format!("ping {n}: {other:?}")),
            }
            if n % 1_000 == 999 {
                sampler.sample();
            }
            if n == PINGS / 2 {
                rss_half = report::rss_kib();
            }
        }
        let wall = started.elapsed();
        let fds_alive = settle(fds_start + 1).await;
        let rss_end = report::rss_kib();
        let (mut fds, mut rss) = sampler.stop().await;
        rss.sample(rss_end);
        drop(client);
        let fds_end = settle(fds_start).await;
        fds.sample(fds_end as u64);

        // A leak of 50 bytes a call would be ~4.8 MiB over the run, ~2.4 MiB per half
        // (a trial grew by 0.2 MiB).
        let rss_bound = 4 * KIB;
        let half_bound = 2 * KIB;
        let flat = fds_alive <= fds_start + 1
            && fds.peak as usize <= fds_start + CAP
            && fds_end == fds_start
            && rss.end.saturating_sub(rss.start) < rss_bound
            && rss.end.saturating_sub(rss_half) < half_bound;
        let outcome = match (failures.count, flat) {
            (0, true) => {
                "all answered OK on one reused connection; descriptors and memory flat".to_string()
            }
            (0, false) => "all answered OK; NOT FLAT (see figures)".to_string(),
            _ => format!("FAILED: {}", failures.summary()),
        };
        let figures = format!(
            "{PINGS} calls (+{PING_WARMUP} warm-up), typed SystemPing, sequential; wall {:.1}s ({:.0} µs/call); \
             fds start/peak/end {fds} (alive after {fds_alive}); RSS KiB start/peak/end {rss} (half-way {rss_half})",
            wall.as_secs_f64(),
            wall.as_micros() as f64 / PINGS as f64,
        );
        report::record(
            "load",
            "100,000 sequential _ping on one client",
            &outcome,
            &figures,
        );

        assert_eq!(failures.count, 0, "{}", failures.summary());
        assert!(
            fds_alive <= fds_start + 1,
            "sequential calls use one connection: {fds_alive} descriptors open vs {fds_start} before the client"
        );
        assert!(fds.peak as usize <= fds_start + CAP, "descriptors {fds}");
        assert_eq!(
            fds_end, fds_start,
            "descriptors after the client was dropped"
        );
        assert!(
            rss.end.saturating_sub(rss.start) < rss_bound,
            "resident memory grew by {} KiB over {PINGS} pings (start/peak/end {rss} KiB)",
            rss.end.saturating_sub(rss.start)
        );
        assert!(
            rss.end.saturating_sub(rss_half) < half_bound,
            "resident memory grew by {} KiB over the second {} pings (half-way {rss_half}, end {} KiB)",
            rss.end.saturating_sub(rss_half),
            PINGS / 2,
            rss.end
        );
    });
}

const ROUNDS: usize = 10;
/// Rounds before memory is measured: the allocator's arenas for 1,000 tasks on two worker
/// threads fill in the first rounds (+3 MiB), then move by allocator noise (trials: +0.3
/// MiB over 38 more rounds in one, +5.4 MiB over 10 in another, starting from a dip).
const WARM_ROUNDS: usize = 3;
const PER_ROUND: usize = 1_000;
const INSPECTED: usize = 10;

/// 10 rounds of 1,000 `ContainerInspect`s at once on one client (more than its cap of 64
/// connections: the rest wait for one), each checked against the container it asked for;
/// two more rounds before them warm up.
#[test]
fn load_10x1000_concurrent_inspects() {
    serial(|| async {
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
        const CAP: usize = 64;
        let client = client(CAP);
        let cleanup = Cleanup::new(&client);
        let tag = common::unique("load-inspect");
        let mut targets = Vec::new();
        for k in 0..INSPECTED {
            let name = format!("{tag}-{k}");
            let id = create(&client, &cleanup, &name, &tag, "true").await;
            targets.push((name, id));
        }
        let targets = Arc::new(targets);

        let mut failures = Failures::default();
        let mut rss_start = 0;
        let mut sampler = None;
        let mut started = Instant::now();
        for round in 0..WARM_ROUNDS + ROUNDS {
            let tasks: Vec<_> = (0..PER_ROUND)
                .map(|j| {
                    let (client, targets) = (client.clone(), targets.clone());
                    tokio::spawn(async move {
                        let (name, id) = &targets[(round + j) % INSPECTED];
                        let inspected = client
                            .invoke(containers::ContainerInspect {
                                id: name.clone(),
                                ..Default::default()
                            })
                            .await
                            .map_err(|e| format!("ContainerInspect {name}: {e}"))?;
                        let expected_name = format!("/{name}");
                        if inspected.id.as_deref() != Some(id.as_str())
                            || inspected.name.as_deref() != Some(expected_name.as_str())
                        {
                            return Err(format!(
                                "ContainerInspect {name} answered {:?} {:?}",
                                inspected.id, inspected.name
                            ));
                        }
                        Ok(())
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
                rss_start = report::rss_kib();
                sampler = Some(Sampler::start(fds_start, rss_start));
                started = Instant::now();
            }
        }
        let wall = started.elapsed();
        let sampler = sampler.expect("sampler");
        sampler.sample();
        let fds_alive = settle(fds_start + CAP).await;
        let (mut fds, rss) = sampler.stop().await;
        drop(client);
        let fds_end = settle(fds_start).await;
        fds.sample(fds_end as u64);

        // Generous for the allocator's noise with 1,000 tasks at once: a leak of 1.2 KiB a
        // call (an answer's body, a connection's buffer) would pass it. Smaller leaks per
        // call are the 100,000 pings' to catch.
        let rss_bound = 12 * KIB;
        let flat = fds_alive <= fds_start + CAP
            && fds_end == fds_start
            && rss.end.saturating_sub(rss_start) < rss_bound;
        let outcome = match (failures.count, flat) {
            (0, true) => {
                "every inspect answered its own container; descriptors ≤ start + cap, memory flat"
                    .to_string()
            }
            (0, false) => {
                "every inspect answered its own container; NOT FLAT (see figures)".to_string()
            }
            _ => format!("FAILED: {}", failures.summary()),
        };
        let figures = format!(
            "{} calls (+{} warm-up), {PER_ROUND} spawned at once per round over {INSPECTED} containers, max_connections {CAP}; \
             wall {:.1}s; fds start/peak/end {fds} (alive after {fds_alive}); RSS KiB start/peak/end {rss}",
            ROUNDS * PER_ROUND,
            WARM_ROUNDS * PER_ROUND,
            wall.as_secs_f64(),
        );
        report::record(
            "load",
            "10 × 1,000 concurrent ContainerInspect on one client",
            &outcome,
            &figures,
        );

        assert_eq!(failures.count, 0, "{}", failures.summary());
        assert!(
            fds_alive <= fds_start + CAP,
            "{fds_alive} descriptors with the client alive: more than {fds_start} + {CAP}"
        );
        assert_eq!(
            fds_end, fds_start,
            "descriptors after the client was dropped"
        );
        assert!(
            rss.end.saturating_sub(rss_start) < rss_bound,
            "resident memory grew by {} KiB over {ROUNDS} rounds (start/peak/end {rss} KiB)",
            rss.end.saturating_sub(rss_start)
        );
        drop(cleanup);
    });
}

/// Ten minutes of a busy tool: a CI runner starting a container every 6 s (100 container
/// lifecycles: create, start, wait, logs, archive put and get, inspect, remove; an event
/// query per 5 of them) and a dashboard refreshing every 3 s (200 refreshes: list, 3
/// inspects, image inspect, ping) — about 2,000 calls, run as fast as dockerd allows with
/// the runner's work in 4 lanes beside the dashboard.
const LANES: usize = 4;
const LIFECYCLES_PER_LANE: usize = 25;
const EVENTS_EVERY: usize = 5;
const REFRESHES: usize = 200;
const STABLE: usize = 3;

struct Mixed {
    client: Client,
    cleanup: Cleanup,
    tag: String,
    stable: Vec<(String, String)>,
    image_id: String,
    calls: std::sync::atomic::AtomicUsize,
    failures: Mutex<Failures>,
}

impl Mixed {
    fn count(&self, n: usize) {
        self.calls.fetch_add(n, Ordering::SeqCst);
    }

    fn fail(&self, what: String) {
        self.failures.lock().unwrap().add(what);
    }

    /// One container's life; every answer checked.
    async fn lifecycle(&self, lane: usize, n: usize) -> Result<String, String> {
        let client = &self.client;
        let name = format!("{}-run-{lane}-{n}", self.tag);
        let text = format!("hello from lifecycle {lane}/{n}\n");
        let created = client
            .invoke(containers::ContainerCreate {
                name: Some(name.clone()),
                body: models::ContainerCreateBody {
                    image: Some(common::test_image()),
                    cmd: Some(vec!["sh".into(), "-c".into(), format!("printf '{text}'")]),
                    labels: Some(HashMap::from([
                        ("berth-it".to_string(), "1".to_string()),
                        ("berth-load".to_string(), self.tag.clone()),
                    ])),
                    host_config: Some(models::HostConfig {
                        network_mode: Some("none".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                ..Default::default()
            })
            .await
            .map_err(|e| format!("ContainerCreate {name}: {e}"))?;
        self.count(1);
        let id = created.id;
        self.cleanup.container(id.clone());
        client
            .invoke(containers::ContainerStart {
                id: id.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| format!("ContainerStart {name}: {e}"))?;
        let waited = client
            .invoke(containers::ContainerWait {
                id: id.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| format!("ContainerWait {name}: {e}"))?;
        self.count(2);
        if waited.status_code != 0 {
            return Err(format!("{name} exited {waited:?}"));
        }
        let (out, err) = client
            .invoke(containers::ContainerLogs {
                id: id.clone(),
                stdout: Some(true),
                stderr: Some(true),
                ..Default::default()
            })
            .await
            .map_err(|e| format!("ContainerLogs {name}: {e}"))?
            .frames()
            .collect_output()
            .await
            .map_err(|e| format!("ContainerLogs {name}: {e}"))?;
        self.count(1);
        if out != text.as_bytes() || !err.is_empty() {
            return Err(format!(
                "ContainerLogs {name}: {:?} / {:?}",
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&err)
            ));
        }
        let content = format!("{name} archive\n").repeat(64);
        client
            .invoke(containers::PutContainerArchive {
                id: id.clone(),
                path: "/tmp".into(),
                body: common::streamed(common::tar_of(&[("in.txt", 0o644, content.as_bytes())])),
                ..Default::default()
            })
            .await
            .map_err(|e| format!("PutContainerArchive {name}: {e}"))?;
        let archive = client
            .invoke(containers::ContainerArchive {
                id: id.clone(),
                path: "/tmp/in.txt".into(),
            })
            .await
            .map_err(|e| format!("ContainerArchive {name}: {e}"))?
            .collect()
            .await
            .map_err(|e| format!("ContainerArchive {name}: {e}"))?;
        self.count(2);
        if common::file_in_tar(&archive, "in.txt").as_deref() != Some(content.as_bytes()) {
            return Err(format!("ContainerArchive {name}: not the file put there"));
        }
        let inspected = client
            .invoke(containers::ContainerInspect {
                id: id.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| format!("ContainerInspect {name}: {e}"))?;
        self.count(1);
        let state = inspected.state.unwrap_or_default();
        if inspected.id.as_deref() != Some(id.as_str())
            || state.running != Some(false)
            || state.exit_code != Some(0)
        {
            return Err(format!(
                "ContainerInspect {name}: {:?} {state:?}",
                inspected.id
            ));
        }
        client
            .invoke(containers::ContainerDelete {
                id: id.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| format!("ContainerDelete {name}: {e}"))?;
        self.count(1);
        Ok(id)
    }

    /// The runner's events for containers it ran since `since`: each was created, started,
    /// died and was destroyed. `until` is the next second (the daemon leaves out events
    /// after `until`, and an `until` of this second would cut off its last events), so
    /// the daemon ends the stream within a second.
    async fn events(&self, since: i64, ids: &[String]) -> Result<(), String> {
        let until = common::now_secs() + 1;
        let items = self
            .client
            .invoke(events::SystemEvents {
                since: Some(since.to_string()),
                until: Some(until.to_string()),
                filters: Some(HashMap::from([
                    (
                        "label".to_string(),
                        vec![format!("berth-load={}", self.tag)],
                    ),
                    ("type".to_string(), vec!["container".to_string()]),
                ])),
            })
            .await
            .map_err(|e| format!("SystemEvents: {e}"))?
            .collect_all()
            .await
            .map_err(|e| format!("SystemEvents: {e}"))?;
        self.count(1);
        for id in ids {
            for action in ["create", "start", "die", "destroy"] {
                let seen = items.iter().any(|e| {
                    e.action.as_deref() == Some(action)
                        && e.actor.as_ref().and_then(|a| a.id.as_deref()) == Some(id.as_str())
                });
                if !seen {
                    return Err(format!(
                        "SystemEvents {since}..{until}: no {action} of {id} among {} events",
                        items.len()
                    ));
                }
            }
        }
        Ok(())
    }

    async fn lane(&self, lane: usize) {
        let mut batch = Vec::new();
        let mut since = common::now_secs() - 1;
        for n in 0..LIFECYCLES_PER_LANE {
            match within(120, "a lifecycle", self.lifecycle(lane, n)).await {
                Ok(id) => batch.push(id),
                Err(e) => self.fail(e),
            }
            if batch.len() == EVENTS_EVERY || n + 1 == LIFECYCLES_PER_LANE {
                if let Err(e) = within(60, "events", self.events(since, &batch)).await {
                    self.fail(e);
                }
                batch.clear();
                since = common::now_secs() - 1;
            }
        }
    }

    async fn refresh(&self) -> Result<(), String> {
        let client = &self.client;
        let listed = client
            .invoke(containers::ContainerList {
                all: Some(true),
                filters: Some(HashMap::from([(
                    "label".to_string(),
                    vec![format!("berth-load={}", self.tag)],
                )])),
                ..Default::default()
            })
            .await
            .map_err(|e| format!("ContainerList: {e}"))?;
        self.count(1);
        for (_, id) in &self.stable {
            if !listed.iter().any(|c| c.id.as_deref() == Some(id.as_str())) {
                return Err(format!(
                    "ContainerList: {id} missing from {} listed",
                    listed.len()
                ));
            }
        }
        for (name, id) in &self.stable {
            let inspected = client
                .invoke(containers::ContainerInspect {
                    id: name.clone(),
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("ContainerInspect {name}: {e}"))?;
            self.count(1);
            if inspected.id.as_deref() != Some(id.as_str()) {
                return Err(format!("ContainerInspect {name}: {:?}", inspected.id));
            }
        }
        let image = client
            .invoke(images::ImageInspect {
                name: common::test_image(),
            })
            .await
            .map_err(|e| format!("ImageInspect: {e}"))?;
        self.count(1);
        if image.id.as_deref() != Some(self.image_id.as_str()) {
            return Err(format!("ImageInspect: {:?}", image.id));
        }
        let ping = client
            .invoke(_ping::SystemPing {})
            .await
            .map_err(|e| format!("SystemPing: {e}"))?;
        self.count(1);
        if ping != "OK" {
            return Err(format!("SystemPing: {ping:?}"));
        }
        Ok(())
    }

    async fn dashboard(&self) {
        for n in 0..REFRESHES {
            if let Err(e) = within(60, "a refresh", self.refresh()).await {
                self.fail(format!("refresh {n}: {e}"));
            }
        }
    }
}

#[test]
fn load_mixed_ten_minutes_of_a_busy_tool() {
    serial(|| async {
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
        const CAP: usize = 64;
        let client = client(CAP);
        let cleanup = Cleanup::new(&client);
        let tag = common::unique("load-mixed");
        let mut stable = Vec::new();
        for k in 0..STABLE {
            let name = format!("{tag}-stable-{k}");
            let id = create(&client, &cleanup, &name, &tag, "true").await;
            stable.push((name, id));
        }
        let image_id = client
            .invoke(images::ImageInspect {
                name: common::test_image(),
            })
            .await
            .expect("ImageInspect")
            .id
            .expect("the test image's id");
        let mixed = Arc::new(Mixed {
            client: client.clone(),
            cleanup,
            tag,
            stable,
            image_id,
            calls: Default::default(),
            failures: Default::default(),
        });

        // Warm: one lifecycle and one refresh before measuring.
        if let Err(e) = mixed.lifecycle(LANES, 0).await {
            mixed.fail(format!("warm-up: {e}"));
        }
        if let Err(e) = mixed.refresh().await {
            mixed.fail(format!("warm-up: {e}"));
        }
        let warm_calls = mixed.calls.swap(0, Ordering::SeqCst);
        let rss_start = report::rss_kib();
        let sampler = Sampler::start(fds_start, rss_start);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for lane in 0..LANES {
            let mixed = mixed.clone();
            tasks.push(tokio::spawn(async move { mixed.lane(lane).await }));
        }
        {
            let mixed = mixed.clone();
            tasks.push(tokio::spawn(async move { mixed.dashboard().await }));
        }
        for task in tasks {
            task.await.expect("a lane panicked");
        }
        let wall = started.elapsed();
        sampler.sample();
        let fds_alive = settle(fds_start + CAP).await;
        let (mut fds, rss) = sampler.stop().await;
        let calls = mixed.calls.load(Ordering::SeqCst);
        let failures = std::mem::take(&mut *mixed.failures.lock().unwrap());
        drop(client);
        let mixed = Arc::into_inner(mixed).expect("the lanes are done");
        drop(mixed.client);
        let fds_end = settle(fds_start).await;
        fds.sample(fds_end as u64);

        // ~2,000 calls: a leak of 4 KiB a call (a connection's buffers, a body) would be
        // ~8 MiB (a trial grew by 1.7 MiB).
        let rss_bound = 8 * KIB;
        let flat = fds_alive <= fds_start + CAP
            && fds_end == fds_start
            && rss.end.saturating_sub(rss.start) < rss_bound;
        let outcome = match (failures.count, flat) {
            (0, true) => "every call answered and checked; descriptors ≤ start + cap, memory flat"
                .to_string(),
            (0, false) => "every call answered and checked; NOT FLAT (see figures)".to_string(),
            _ => format!("FAILED: {}", failures.summary()),
        };
        let figures = format!(
            "{calls} calls (+{warm_calls} warm-up): {} container lifecycles (create, start, wait, logs, archive put+get, inspect, remove) in {LANES} lanes, {} bounded event queries, {REFRESHES} dashboard refreshes (list, {STABLE} inspects, image inspect, ping); \
             wall {:.1}s; fds start/peak/end {fds} (alive after {fds_alive}); RSS KiB start/peak/end {rss}",
            LANES * LIFECYCLES_PER_LANE,
            LANES * LIFECYCLES_PER_LANE.div_ceil(EVENTS_EVERY),
            wall.as_secs_f64(),
        );
        report::record(
            "load",
            "ten minutes of a busy tool, squeezed (mixed calls on one client)",
            &outcome,
            &figures,
        );

        assert_eq!(failures.count, 0, "{}", failures.summary());
        assert!(
            fds_alive <= fds_start + CAP,
            "{fds_alive} descriptors with the client alive: more than {fds_start} + {CAP}"
        );
        assert_eq!(
            fds_end, fds_start,
            "descriptors after the client was dropped"
        );
        assert!(
            rss.end.saturating_sub(rss.start) < rss_bound,
            "resident memory grew by {} KiB (start/peak/end {rss} KiB)",
            rss.end.saturating_sub(rss.start)
        );
        drop(mixed.cleanup);
    });
}
