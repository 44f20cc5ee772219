//! Ten minutes of a busy tool: a CI runner starting a container every 6 s (100 container
//! lifecycles: create, start, wait, logs, archive put and get, inspect, remove; an event
//! query per 5 of them) and a dashboard refreshing every 3 s (200 refreshes: list, 3
//! inspects, image inspect, ping) — about 2,000 calls, run as fast as dockerd allows with
//! the runner's work in 4 lanes beside the dashboard.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use berth::docker::v1_41::{_ping, containers, events, images};
use berth::Client;

use crate::case::{self, Failures, Measuring, CAP, KIB, LABEL};
use crate::common::stress::{self, inspect, label_filter, labelled_ids, run_to_exit};
use crate::common::{self, within, Cleanup};

const LANES: usize = 4;
const LIFECYCLES_PER_LANE: usize = 25;
const EVENTS_EVERY: usize = 5;
const REFRESHES: usize = 200;
const STABLE: usize = 3;

/// The tool: one client shared by the runner's lanes and the dashboard.
struct Tool {
    client: Client,
    cleanup: Cleanup,
    tag: String,
    /// Containers that stay, for the dashboard to list and inspect: (name, id).
    stable: Vec<(String, String)>,
    image_id: String,
    calls: AtomicUsize,
    failures: Mutex<Failures>,
}

impl Tool {
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
        let script = format!("printf '{text}'");
        let id = stress::create(client, &self.cleanup, &name, (LABEL, &self.tag), &script).await?;
        self.count(1);
        run_to_exit(client, &name, &id).await?;
        self.count(2);
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
        let inspected = inspect(client, &id, &name).await?;
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
        let mut filters = label_filter(LABEL, &self.tag);
        filters.insert("type".to_string(), vec!["container".to_string()]);
        let items = self
            .client
            .invoke(events::SystemEvents {
                since: Some(since.to_string()),
                until: Some(until.to_string()),
                filters: Some(filters),
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

    /// One lane of the runner: its lifecycles, and an event query per `EVENTS_EVERY`.
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

    /// One refresh of the dashboard: list, inspect the stable containers, the image, ping.
    async fn refresh(&self) -> Result<(), String> {
        let client = &self.client;
        let listed = labelled_ids(client, LABEL, &self.tag).await?;
        self.count(1);
        for (_, id) in &self.stable {
            if !listed.contains(id) {
                return Err(format!(
                    "ContainerList: {id} missing from {} listed",
                    listed.len()
                ));
            }
        }
        for (name, id) in &self.stable {
            let inspected = inspect(client, name, name).await?;
            self.count(1);
            if inspected.id.as_deref() != Some(id.as_str()) {
                return Err(format!("ContainerInspect {name}: {:?}", inspected.id));
            }
        }
        let image = image_id(client).await?;
        self.count(1);
        if image.as_deref() != Some(self.image_id.as_str()) {
            return Err(format!("ImageInspect: {image:?}"));
        }
        let ping = client
            .invoke(_ping::SystemPing {})
            .await
            .map_err(|e| format!("SystemPing: {e}"))?;
        self.count(1);
        if ping.body != "OK" {
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

/// The test image's id, as `ImageInspect` answers it.
async fn image_id(client: &Client) -> Result<Option<String>, String> {
    let image = images::ImageInspect {
        name: common::test_image(),
    };
    let inspected = client.invoke(image).await;
    Ok(inspected.map_err(|e| format!("ImageInspect: {e}"))?.id)
}

/// Runs the case; `fds_start`: the process's descriptors before any client.
pub async fn run(fds_start: usize) {
    let client = case::client();
    let cleanup = Cleanup::new(&client);
    let tag = common::unique("load-mixed");
    let stable = case::containers(&client, &cleanup, &tag, STABLE, |k| {
        format!("{tag}-stable-{k}")
    })
    .await;
    let image_id = image_id(&client).await.unwrap_or_else(|e| panic!("{e}"));
    let tool = Arc::new(Tool {
        client: client.clone(),
        cleanup,
        tag,
        stable,
        image_id: image_id.expect("the test image's id"),
        calls: Default::default(),
        failures: Default::default(),
    });

    // Warm: one lifecycle and one refresh before measuring.
    if let Err(e) = tool.lifecycle(LANES, 0).await {
        tool.fail(format!("warm-up: {e}"));
    }
    if let Err(e) = tool.refresh().await {
        tool.fail(format!("warm-up: {e}"));
    }
    let warm_calls = tool.calls.swap(0, Ordering::SeqCst);
    let measuring = Measuring::start(fds_start);
    let mut tasks = Vec::new();
    for lane in 0..LANES {
        let tool = tool.clone();
        tasks.push(tokio::spawn(async move { tool.lane(lane).await }));
    }
    {
        let tool = tool.clone();
        tasks.push(tokio::spawn(async move { tool.dashboard().await }));
    }
    for task in tasks {
        task.await.expect("a lane panicked");
    }
    let alive = measuring.calls_done(CAP).await;
    let calls = tool.calls.load(Ordering::SeqCst);
    let failures = std::mem::take(&mut *tool.failures.lock().unwrap());
    drop(client);
    let tool = Arc::into_inner(tool).expect("the lanes are done");
    drop(tool.client);
    let m = alive.client_dropped().await;

    // ~2,000 calls: a leak of 4 KiB a call (a connection's buffers, a body) would be
    // ~8 MiB (a trial grew by 1.7 MiB).
    let rss_bound = 8 * KIB;
    let checks = [
        m.alive_within_cap(),
        m.back_to_start(),
        m.rss_grew_less(rss_bound, ""),
    ];
    let figures = format!(
        "{calls} calls (+{warm_calls} warm-up): {} container lifecycles (create, start, wait, logs, archive put+get, inspect, remove) in {LANES} lanes, {} bounded event queries, {REFRESHES} dashboard refreshes (list, {STABLE} inspects, image inspect, ping); \
         wall {:.1}s; {}",
        LANES * LIFECYCLES_PER_LANE,
        LANES * LIFECYCLES_PER_LANE.div_ceil(EVENTS_EVERY),
        m.wall.as_secs_f64(),
        m.figures(),
    );
    case::conclude(
        "ten minutes of a busy tool, squeezed (mixed calls on one client)",
        &failures,
        &checks,
        (
            "every call answered and checked; descriptors ≤ start + cap, memory flat",
            "every call answered and checked; NOT FLAT (see figures)",
        ),
        &figures,
    );
    drop(tool.cleanup);
}
