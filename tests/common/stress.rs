//! What the cancellation and load tests share: the descriptor and memory figures sampled
//! through a run, and containers labelled with the run's tag (so that list and event
//! filters find this run's containers and no other's).

#![cfg(feature = "docker-v1_41")]

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use berth::docker::v1_41::{containers, models};
use berth::Client;

use super::report::{self, Span};
use super::Cleanup;

/// Descriptors and resident memory, sampled every 25 ms until stopped: the peak between
/// the start and the end figures is what a leak that is given back later would show.
pub struct Sampler {
    fds: Arc<Mutex<Span>>,
    rss: Arc<Mutex<Span>>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Sampler {
    pub fn start(fds_start: usize, rss_start: u64) -> Sampler {
        let fds = Arc::new(Mutex::new(Span::new(fds_start as u64)));
        let rss = Arc::new(Mutex::new(Span::new(rss_start)));
        let stop = Arc::new(AtomicBool::new(false));
        let task = {
            let (fds, rss, stop) = (fds.clone(), rss.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    sample(&fds, &rss);
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

    /// One more sample now (a busy runtime may not have run the sampling task lately).
    pub fn sample(&self) {
        sample(&self.fds, &self.rss);
    }

    /// The descriptors' and resident memory's start / peak / end.
    pub async fn stop(self) -> (Span, Span) {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await.expect("sampler");
        let spans = (*self.fds.lock().unwrap(), *self.rss.lock().unwrap());
        spans
    }
}

fn sample(fds: &Mutex<Span>, rss: &Mutex<Span>) {
    fds.lock().unwrap().sample(report::open_fds() as u64);
    rss.lock().unwrap().sample(report::rss_kib());
}

/// Waits (up to 20 s) for the descriptor count to come down to `limit`, and returns it: a
/// dropped or cancelled call's connection is closed by hyper's connection task, a moment
/// later.
pub async fn settle(limit: usize) -> usize {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let now = report::open_fds();
        if now <= limit || Instant::now() > until {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The filter that finds what carries `label=tag`, for `ContainerList` and `SystemEvents`.
pub fn label_filter(label: &str, tag: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_string(), vec![format!("{label}={tag}")])])
}

/// The ids `ContainerList` answers for the containers (running or not) labelled `label=tag`.
pub async fn labelled_ids(
    client: &Client,
    label: &str,
    tag: &str,
) -> Result<HashSet<String>, String> {
    let listed = client
        .invoke(containers::ContainerList {
            all: Some(true),
            filters: Some(label_filter(label, tag)),
            ..Default::default()
        })
        .await
        .map_err(|e| format!("ContainerList: {e}"))?;
    Ok(listed.into_iter().filter_map(|c| c.id).collect())
}

/// Creates a container of the test image running `sh -c script`, with no network, labelled
/// `berth-it=1` (every test's) and `label=tag` (this run's); it is removed with `cleanup`.
pub async fn create(
    client: &Client,
    cleanup: &Cleanup,
    name: &str,
    (label, tag): (&str, &str),
    script: &str,
) -> Result<String, String> {
    let created = client
        .invoke(containers::ContainerCreate {
            name: Some(name.to_string()),
            body: models::ContainerCreateBody {
                image: Some(super::test_image()),
                cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
                labels: Some(HashMap::from([
                    ("berth-it".to_string(), "1".to_string()),
                    (label.to_string(), tag.to_string()),
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
    cleanup.container(created.id.clone());
    Ok(created.id)
}

/// Starts container `name` and waits for it to exit with 0.
pub async fn run_to_exit(client: &Client, name: &str, id: &str) -> Result<(), String> {
    client
        .invoke(containers::ContainerStart {
            id: id.to_string(),
            ..Default::default()
        })
        .await
        .map_err(|e| format!("ContainerStart {name}: {e}"))?;
    let waited = client
        .invoke(containers::ContainerWait {
            id: id.to_string(),
            ..Default::default()
        })
        .await
        .map_err(|e| format!("ContainerWait {name}: {e}"))?;
    if waited.status_code != 0 {
        return Err(format!("{name} exited {waited:?}"));
    }
    Ok(())
}

/// `ContainerInspect` of `id_or_name`; an error names the container `name`.
pub async fn inspect(
    client: &Client,
    id_or_name: &str,
    name: &str,
) -> Result<models::ContainerInspectResponse, String> {
    client
        .invoke(containers::ContainerInspect {
            id: id_or_name.to_string(),
            ..Default::default()
        })
        .await
        .map_err(|e| format!("ContainerInspect {name}: {e}"))
}

/// `ContainerInspect` of `name` answers that container: its id and its name.
pub async fn inspect_is(client: &Client, name: &str, id: &str) -> Result<(), String> {
    let inspected = inspect(client, name, name).await?;
    let expected_name = format!("/{name}");
    if inspected.id.as_deref() != Some(id) || inspected.name.as_deref() != Some(&expected_name) {
        return Err(format!(
            "ContainerInspect {name} answered {:?} {:?}",
            inspected.id, inspected.name
        ));
    }
    Ok(())
}
