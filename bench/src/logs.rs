//! Following the logs of the two log containers, each follow in a child process of its own
//! (see `child`), every client in turn, the order rotating from round to round.

use std::path::Path;
use std::time::Instant;

use berth::docker::v1_41::containers;
use futures_util::StreamExt;

use crate::child::{spawn, Child, Run};
use crate::hyper_loops::{Hyper, HyperUtil};
use crate::measure::cpu_time;
use crate::requests::{block_order, CLIENTS, RAW};
use crate::setup::{logs_path, PING_PATH};
use crate::{raw, Result};

/// The child's side: one follow of a container's logs with one client (`none`: the
/// baseline, which does nothing). The client is made, and connected, before the clock
/// starts.
pub async fn follow(client: &str, socket: &str, id: &str) -> Result<Run> {
    let mut bytes = 0u64;
    let (t, cpu) = match client {
        "none" => (Instant::now(), cpu_time()?),
        "raw" => {
            let mut conn = raw::Conn::connect(socket)?;
            let (t, cpu) = (Instant::now(), cpu_time()?);
            bytes = conn.stream(&logs_path(id))?;
            (t, cpu)
        }
        "hyper" => {
            let mut conn = Hyper::connect(socket).await?;
            let (t, cpu) = (Instant::now(), cpu_time()?);
            bytes = conn.stream(&logs_path(id)).await?;
            (t, cpu)
        }
        "hyper-util" => {
            let client = HyperUtil::new(socket);
            // Its pool connects on the first request: one `_ping` makes the connection.
            client.get(PING_PATH).await?;
            let (t, cpu) = (Instant::now(), cpu_time()?);
            bytes = client.stream(&logs_path(id)).await?;
            (t, cpu)
        }
        "berth" => {
            let berth = berth::Client::new(&format!("unix://{socket}"))?;
            // Like bollard's negotiation below: the server's versions are learnt (and the
            // connection made) before the clock starts.
            berth.server_version().await?;
            let (t, cpu) = (Instant::now(), cpu_time()?);
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
            (t, cpu)
        }
        "bollard" => {
            let docker = crate::setup::bollard(socket, 600).await?;
            let (t, cpu) = (Instant::now(), cpu_time()?);
            let options = bollard::query_parameters::LogsOptions {
                follow: true,
                stdout: true,
                ..Default::default()
            };
            let mut logs = docker.logs(id, Some(options));
            while let Some(item) = logs.next().await {
                bytes += item?.into_bytes().len() as u64;
            }
            (t, cpu)
        }
        other => return Err(format!("unknown client {other:?}").into()),
    };
    let wall = t.elapsed();
    Ok(Run {
        bytes,
        wall,
        cpu: cpu_time()?.saturating_sub(cpu),
    })
}

/// The parent's side: every follow of every round.
pub struct Logs {
    /// [size][client] -> one follow per round; size 0 is the small log, 1 the big one.
    pub runs: [[Vec<Child>; CLIENTS.len()]; 2],
    /// A child that made no client, once per round.
    pub baseline: Vec<Child>,
}

/// `logs` holds (bytes printed, container id) of the small and the big log container.
/// Every follower must read exactly as many payload bytes as the raw loop, which must read
/// what the container printed.
pub fn run(exe: &Path, socket: &str, logs: &[(u64, String); 2], rounds: usize) -> Result<Logs> {
    let mut out = Logs {
        runs: Default::default(),
        baseline: Vec::new(),
    };
    for round in 0..rounds {
        for (size, (expected, id)) in logs.iter().enumerate() {
            let mut read = [0u64; CLIENTS.len()];
            for c in block_order(round) {
                let run = spawn(exe, CLIENTS[c], &["--child", CLIENTS[c], socket, id])?;
                read[c] = run.bytes;
                out.runs[size][c].push(run);
            }
            if read[RAW] != *expected {
                return Err(format!(
                    "the raw loop read {} bytes of logs, but the container printed {expected}",
                    read[RAW]
                )
                .into());
            }
            for (c, bytes) in read.iter().enumerate() {
                if *bytes != read[RAW] {
                    return Err(format!(
                        "{} read {bytes} bytes of logs where the raw loop read {}",
                        CLIENTS[c], read[RAW]
                    )
                    .into());
                }
            }
        }
        out.baseline
            .push(spawn(exe, "baseline", &["--child", "none", socket, ""])?);
    }
    Ok(out)
}
