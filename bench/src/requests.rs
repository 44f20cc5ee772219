//! The request scenarios (`_ping`, ContainerList of 100 containers, ContainerInspect), every
//! client in turn on the same daemon, interleaved in blocks.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use berth::docker::v1_41::{_ping, containers};

use crate::hyper_loops::{Hyper, HyperUtil};
use crate::measure::cpu_time;
use crate::setup::{bollard_list, inspect_path, list_path, list_request, PING_PATH};
use crate::{raw, Result};

#[derive(Clone, Copy, PartialEq)]
pub enum Scenario {
    Ping,
    List,
    Inspect,
}

impl Scenario {
    pub const ALL: [Scenario; 3] = [Scenario::Ping, Scenario::List, Scenario::Inspect];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Ping => "_ping",
            Scenario::List => "ContainerList (100)",
            Scenario::Inspect => "ContainerInspect",
        }
    }

    /// Requests per client per round.
    pub fn requests(self) -> usize {
        match self {
            Scenario::Ping => 2000,
            Scenario::List => 120,
            Scenario::Inspect => 1000,
        }
    }
}

/// The clients, by index: in the request scenarios and in the log follows alike.
pub const CLIENTS: [&str; 5] = ["raw", "berth", "bollard", "hyper", "hyper-util"];
pub const RAW: usize = 0;
pub const BERTH: usize = 1;
pub const BOLLARD: usize = 2;
pub const HYPER: usize = 3;
pub const HYPER_UTIL: usize = 4;
const N: usize = CLIENTS.len();

/// Each round of a scenario runs the clients in turn on blocks of its requests, so that a
/// drift of the machine (these have 2 noisy cores) falls on every client alike instead of
/// on whichever ran during it. The order rotates from block to block, and runs backwards
/// in the second half, so that every client takes every place, behind different
/// neighbours, equally often.
const BLOCKS: usize = 2 * N;

/// The order of the clients in block `block` of a round (also used, by round, for the
/// order of the log follows).
pub fn block_order(block: usize) -> [usize; N] {
    let mut order: [usize; N] = std::array::from_fn(|place| (block + place) % N);
    if (block / N) % 2 == 1 {
        order.reverse();
    }
    order
}

pub struct Clients {
    pub raw: raw::Conn,
    pub berth: berth::Client,
    pub bollard: bollard::Docker,
    pub hyper: Hyper,
    pub hyper_util: HyperUtil,
    pub inspect_id: String,
    paths: Paths,
}

/// The raw paths of the scenarios, for the raw and hyper loops.
struct Paths {
    list: String,
    inspect: String,
}

impl Paths {
    fn of(&self, scenario: Scenario) -> &str {
        match scenario {
            Scenario::Ping => PING_PATH,
            Scenario::List => &self.list,
            Scenario::Inspect => &self.inspect,
        }
    }
}

impl Clients {
    pub async fn new(
        socket: &str,
        berth: berth::Client,
        bollard: bollard::Docker,
        inspect_id: String,
    ) -> Result<Clients> {
        Ok(Clients {
            raw: raw::Conn::connect(socket)?,
            berth,
            bollard,
            hyper: Hyper::connect(socket).await?,
            hyper_util: HyperUtil::new(socket),
            paths: Paths {
                list: list_path(),
                inspect: inspect_path(&inspect_id),
            },
            inspect_id,
        })
    }

    fn inspect_request(&self) -> containers::ContainerInspect {
        containers::ContainerInspect {
            id: self.inspect_id.clone(),
            ..Default::default()
        }
    }

    /// One request of a scenario with one client (an index into `CLIENTS`).
    async fn call(&mut self, client: usize, scenario: Scenario) -> Result<()> {
        match client {
            RAW => drop(self.raw.get(self.paths.of(scenario))?),
            HYPER => drop(self.hyper.get(self.paths.of(scenario)).await?),
            HYPER_UTIL => drop(self.hyper_util.get(self.paths.of(scenario)).await?),
            BERTH => match scenario {
                Scenario::Ping => drop(self.berth.invoke(_ping::SystemPing::default()).await?),
                Scenario::List => drop(self.berth.invoke(list_request()).await?),
                Scenario::Inspect => drop(self.berth.invoke(self.inspect_request()).await?),
            },
            BOLLARD => match scenario {
                Scenario::Ping => drop(self.bollard.ping().await?),
                Scenario::List => drop(self.bollard.list_containers(Some(bollard_list())).await?),
                Scenario::Inspect => drop(
                    self.bollard
                        .inspect_container(&self.inspect_id, None)
                        .await?,
                ),
            },
            other => return Err(format!("no client {other}").into()),
        }
        Ok(())
    }

    /// Before timing: every client gives the same answers. The raw loop's are checked
    /// against what was made; the hyper loops' bodies must be the raw loop's byte for byte;
    /// berth's and bollard's decoded answers must hold the same containers.
    pub async fn check_answers(&mut self, ids: &[String]) -> Result<()> {
        let mut raw_bodies = Vec::new();
        for scenario in Scenario::ALL {
            let path = self.paths.of(scenario);
            let raw = self.raw.get_body(path)?;
            let hyper = self.hyper.get(path).await?;
            let hyper_util = self.hyper_util.get(path).await?;
            for (client, body) in [("hyper", &hyper), ("hyper-util", &hyper_util)] {
                if body[..] != raw[..] {
                    return Err(format!(
                        "{}: {client} read {} bytes that differ from the raw loop's {} bytes",
                        scenario.name(),
                        body.len(),
                        raw.len()
                    )
                    .into());
                }
            }
            raw_bodies.push(String::from_utf8(raw)?);
        }
        let [raw_ping, raw_list, raw_inspect] = &raw_bodies[..] else {
            unreachable!("three scenarios")
        };

        let ping = [
            raw_ping.clone(),
            self.berth.invoke(_ping::SystemPing::default()).await?.body,
            self.bollard.ping().await?,
        ];
        if ping.iter().any(|p| p != "OK") {
            return Err(format!("_ping answers differ (raw, berth, bollard): {ping:?}").into());
        }

        let expected: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
        let raw_ids = raw_list.matches("\"Id\":").count();
        let berth_list = self.berth.invoke(list_request()).await?;
        let berth_ids: BTreeSet<&str> = berth_list.iter().filter_map(|c| c.id.as_deref()).collect();
        let bollard_list = self.bollard.list_containers(Some(bollard_list())).await?;
        let bollard_ids: BTreeSet<&str> = bollard_list
            .iter()
            .filter_map(|c| c.id.as_deref())
            .collect();
        let raw_has_all = ids
            .iter()
            .all(|id| raw_list.contains(&format!("\"Id\":\"{id}\"")));
        if raw_ids != ids.len() || !raw_has_all || berth_ids != expected || bollard_ids != expected
        {
            return Err(format!(
                "ContainerList answers differ: {} expected, raw {raw_ids} (all there: {raw_has_all}), berth {}, bollard {}",
                ids.len(),
                berth_ids.len(),
                bollard_ids.len()
            )
            .into());
        }

        let berth_inspect = self.berth.invoke(self.inspect_request()).await?;
        let bollard_inspect = self
            .bollard
            .inspect_container(&self.inspect_id, None)
            .await?;
        let id = self.inspect_id.as_str();
        if !raw_inspect.contains(&format!("\"Id\":\"{id}\""))
            || berth_inspect.id.as_deref() != Some(id)
            || bollard_inspect.id.as_deref() != Some(id)
        {
            return Err("ContainerInspect answers differ".into());
        }
        Ok(())
    }
}

/// One request scenario: per-request times (µs) pooled over rounds, and the process's CPU
/// time per request (µs) in each round, per client.
pub struct Row {
    pub scenario: Scenario,
    pub samples: [Vec<f64>; N],
    pub cpu: [Vec<f64>; N],
}

/// Every scenario, `rounds` interleaved rounds each, after an untimed warm-up of a tenth
/// of a round per client.
pub async fn run(clients: &mut Clients, rounds: usize) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for scenario in Scenario::ALL {
        let n = scenario.requests();
        for client in 0..N {
            for _ in 0..n / 10 {
                clients.call(client, scenario).await?;
            }
        }
        let mut samples: [Vec<f64>; N] = Default::default();
        let mut cpu: [Vec<f64>; N] = Default::default();
        let block = n / BLOCKS;
        for _ in 0..rounds {
            let mut spent = [Duration::ZERO; N];
            for b in 0..BLOCKS {
                for client in block_order(b) {
                    let cpu_before = cpu_time()?;
                    for _ in 0..block {
                        let t = Instant::now();
                        clients.call(client, scenario).await?;
                        samples[client].push(t.elapsed().as_secs_f64() * 1e6);
                    }
                    spent[client] += cpu_time()?.saturating_sub(cpu_before);
                }
            }
            for (client, spent) in spent.iter().enumerate() {
                cpu[client].push(spent.as_secs_f64() * 1e6 / (block * BLOCKS) as f64);
            }
        }
        rows.push(Row {
            scenario,
            samples,
            cpu,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::{block_order, BLOCKS, N};

    #[test]
    fn every_client_takes_every_place_equally_often() {
        let mut count = [[0; N]; N];
        for b in 0..BLOCKS {
            let order = block_order(b);
            let mut seen = order;
            seen.sort();
            assert_eq!(seen, std::array::from_fn(|i| i), "block {b}: {order:?}");
            for (place, client) in order.into_iter().enumerate() {
                count[client][place] += 1;
            }
        }
        assert!(
            count.iter().flatten().all(|&c| c == BLOCKS / N),
            "{count:?}"
        );
    }
}
