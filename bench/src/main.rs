//! berth, bollard 0.21 and a raw keep-alive HTTP/1.1 loop, side by side in one run against
//! the same local dockerd: `_ping`, ContainerList of 100 containers, ContainerInspect, and
//! following the logs of a container that printed ~100 MB (each client in its own process,
//! so that its peak RSS is its own).
//!
//! `cargo run --release -p berth-bench [-- --rounds 5 --socket /var/run/docker.sock]`
//! Needs the test image (`scripts/engines up docker`). Rounds are interleaved; each figure is
//! the median over rounds of the mean time per request.

mod raw;

use std::time::Instant;

use berth::docker::v1_41::{_ping, containers, models};
use futures_util::StreamExt;

const IMAGE: &str = "berth-test/busybox:latest";
const LABEL: &str = "berth-bench";
const LOG_BYTES: u64 = 100_000_000;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

struct Options {
    socket: String,
    rounds: usize,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    Options {
        socket: value("--socket").unwrap_or_else(|| "/var/run/docker.sock".into()),
        rounds: value("--rounds").and_then(|r| r.parse().ok()).unwrap_or(5),
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if args.get(1).map(String::as_str) == Some("--child") {
        // A child process: follow the logs with one client, print bytes and peak RSS.
        let (client, socket, id) = (&args[2], &args[3], &args[4]);
        let started = Instant::now();
        let bytes = runtime.block_on(follow_logs(client, socket, id))?;
        println!(
            "{} {} {}",
            bytes,
            started.elapsed().as_micros(),
            peak_rss_kib()
        );
        return Ok(());
    }
    let opts = options();
    runtime.block_on(run(&opts))
}

async fn run(opts: &Options) -> Result<()> {
    let berth = berth::Client::new(&format!("unix://{}", opts.socket))?;
    let bollard =
        bollard::Docker::connect_with_unix(&opts.socket, 120, bollard::API_DEFAULT_VERSION)?
            .negotiate_version()
            .await?;
    let mut raw = raw::Conn::connect(&opts.socket)?;
    let (ids, log_id) = setup(&berth).await?;
    let inspect_id = ids[0].clone();
    println!(
        "dockerd at {}, {} labelled containers, {} rounds\n",
        opts.socket,
        ids.len(),
        opts.rounds
    );

    let mut rows: Vec<(String, [Vec<f64>; 3])> = Vec::new();
    let scenarios: [(&str, usize); 3] = [
        ("_ping", 2000),
        ("ContainerList (100)", 100),
        ("ContainerInspect", 1000),
    ];
    for (name, n) in scenarios {
        let mut samples: [Vec<f64>; 3] = Default::default();
        for _ in 0..opts.rounds {
            // raw, berth, bollard, one after the other in each round.
            let t = Instant::now();
            for _ in 0..n {
                match name {
                    "_ping" => raw.get("/v1.41/_ping")?,
                    "ContainerInspect" => raw.get(&format!("/v1.41/containers/{inspect_id}/json"))?,
                    _ => raw.get(&format!("/v1.41/containers/json?all=true&filters=%7B%22label%22%3A%5B%22{LABEL}%22%5D%7D"))?,
                };
            }
            samples[0].push(per_request(t, n));
            let t = Instant::now();
            for _ in 0..n {
                match name {
                    "_ping" => drop(berth.invoke(_ping::SystemPing::default()).await?),
                    "ContainerInspect" => drop(
                        berth
                            .invoke(containers::ContainerInspect {
                                id: inspect_id.clone(),
                                ..Default::default()
                            })
                            .await?,
                    ),
                    _ => drop(berth.invoke(list_request()).await?),
                }
            }
            samples[1].push(per_request(t, n));
            let t = Instant::now();
            for _ in 0..n {
                match name {
                    "_ping" => drop(bollard.ping().await?),
                    "ContainerInspect" => drop(bollard.inspect_container(&inspect_id, None).await?),
                    _ => {
                        let options = bollard::query_parameters::ListContainersOptions {
                            all: true,
                            filters: Some([("label".to_string(), vec![LABEL.to_string()])].into()),
                            ..Default::default()
                        };
                        drop(bollard.list_containers(Some(options)).await?)
                    }
                }
            }
            samples[2].push(per_request(t, n));
        }
        rows.push((name.to_string(), samples));
    }

    // Logs: each client in its own process, for its own peak RSS.
    let exe = std::env::current_exe()?;
    let mut log_rows: Vec<(String, Vec<f64>, u64)> = Vec::new();
    for client in ["raw", "berth", "bollard"] {
        let (mut times, mut rss) = (Vec::new(), 0);
        for _ in 0..opts.rounds.min(3) {
            let out = std::process::Command::new(&exe)
                .args(["--child", client, &opts.socket, &log_id])
                .output()?;
            if !out.status.success() {
                return Err(format!(
                    "{client} child failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                )
                .into());
            }
            let text = String::from_utf8(out.stdout)?;
            let fields: Vec<u64> = text
                .split_whitespace()
                .map(|f| f.parse().unwrap_or(0))
                .collect();
            if fields[0] < LOG_BYTES {
                return Err(format!("{client} read only {} bytes of logs", fields[0]).into());
            }
            times.push(fields[1] as f64);
            rss = rss.max(fields[2]);
        }
        log_rows.push((client.to_string(), times, rss));
    }

    println!("| scenario | raw loop | berth | bollard 0.21 | berth / raw | bollard / berth |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, samples) in &rows {
        let [raw, berth, bollard] = [
            median(&samples[0]),
            median(&samples[1]),
            median(&samples[2]),
        ];
        println!(
            "| {name} | {raw:.1} µs | {berth:.1} µs | {bollard:.1} µs | {:.2}× | {:.2}× |",
            berth / raw,
            bollard / berth
        );
    }
    let ms = |v: &Vec<f64>| median(v) / 1000.0;
    let [r, b, o] = [ms(&log_rows[0].1), ms(&log_rows[1].1), ms(&log_rows[2].1)];
    println!(
        "| follow ~100 MB of logs | {r:.0} ms | {b:.0} ms | {o:.0} ms | {:.2}× | {:.2}× |",
        b / r,
        o / b
    );
    println!();
    println!("Peak RSS while following ~100 MB of logs (whole process, KiB):");
    for (client, _, rss) in &log_rows {
        println!("  {client:<8} {rss}");
    }
    Ok(())
}

fn list_request() -> containers::ContainerList {
    containers::ContainerList {
        all: Some(true),
        filters: Some([("label".to_string(), vec![LABEL.to_string()])].into()),
        ..Default::default()
    }
}

fn per_request(started: Instant, n: usize) -> f64 {
    started.elapsed().as_secs_f64() * 1e6 / n as f64
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// 100 created containers with the bench label, and one exited container that printed
/// ~100 MB; reused across runs.
async fn setup(client: &berth::Client) -> Result<(Vec<String>, String)> {
    let list = client.invoke(list_request()).await?;
    let mut ids: Vec<String> = list
        .iter()
        .filter(|c| {
            c.names
                .as_ref()
                .is_some_and(|n| !n.iter().any(|n| n.contains("logs")))
        })
        .filter_map(|c| c.id.clone())
        .collect();
    while ids.len() < 100 {
        let created = client
            .invoke(containers::ContainerCreate {
                body: models::ContainerCreateBody {
                    image: Some(IMAGE.into()),
                    cmd: Some(vec!["true".into()]),
                    labels: Some([(LABEL.to_string(), String::new())].into()),
                    ..Default::default()
                },
                ..Default::default()
            })
            .await?;
        ids.push(created.id);
    }
    let log_name = "berth-bench-logs";
    let log_id = match client
        .invoke(containers::ContainerInspect {
            id: log_name.into(),
            ..Default::default()
        })
        .await
    {
        Ok(c) => c.id.unwrap_or_default(),
        Err(e) if e.is_not_found() => {
            let line = "0123456789".repeat(10);
            let script = format!("yes {line} | head -c {LOG_BYTES}");
            let created = client
                .invoke(containers::ContainerCreate {
                    name: Some(log_name.into()),
                    body: models::ContainerCreateBody {
                        image: Some(IMAGE.into()),
                        cmd: Some(vec!["sh".into(), "-c".into(), script]),
                        labels: Some([("berth-bench-logs".to_string(), String::new())].into()),
                        ..Default::default()
                    },
                    ..Default::default()
                })
                .await?;
            client
                .invoke(containers::ContainerStart {
                    id: created.id.clone(),
                    ..Default::default()
                })
                .await?;
            client
                .invoke(containers::ContainerWait {
                    id: created.id.clone(),
                    ..Default::default()
                })
                .await?;
            created.id
        }
        Err(e) => return Err(e.into()),
    };
    Ok((ids, log_id))
}

async fn follow_logs(client: &str, socket: &str, id: &str) -> Result<u64> {
    let mut bytes = 0u64;
    match client {
        "raw" => {
            bytes = raw::Conn::connect(socket)?.stream(&format!(
                "/v1.41/containers/{id}/logs?follow=true&stdout=true"
            ))?
        }
        "berth" => {
            let berth = berth::Client::new(&format!("unix://{socket}"))?;
            let logs = berth
                .invoke(containers::ContainerLogs {
                    id: id.into(),
                    follow: Some(true),
                    stdout: Some(true),
                    ..Default::default()
                })
                .await?;
            let mut frames = logs.frames();
            while let Some(frame) = frames.next().await {
                bytes += frame?.data.len() as u64;
            }
        }
        _ => {
            let docker =
                bollard::Docker::connect_with_unix(socket, 600, bollard::API_DEFAULT_VERSION)?
                    .negotiate_version()
                    .await?;
            let options = bollard::query_parameters::LogsOptions {
                follow: true,
                stdout: true,
                ..Default::default()
            };
            let mut logs = docker.logs(id, Some(options));
            while let Some(item) = logs.next().await {
                bytes += item?.into_bytes().len() as u64;
            }
        }
    }
    Ok(bytes)
}
