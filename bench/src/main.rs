//! berth, bollard 0.21 and a raw keep-alive HTTP/1.1 loop, side by side in one run against
//! the same local dockerd: `_ping`, ContainerList of 100 containers, ContainerInspect, and
//! following the logs of containers that printed ~10 MB and ~100 MB (each follower in its own
//! child process, so that its peak RSS is its own; a child that does nothing gives the
//! baseline).
//!
//! `cargo run --release -p berth-bench [-- --rounds 5 --socket /var/run/docker.sock]`
//! Needs the test image (`scripts/engines up docker`). The containers it needs are made on
//! the first run and reused (checked, and remade if they are not what they should be).
//!
//! Rounds are interleaved: in each round the clients take turns on blocks of an eighth of
//! their requests, in an order that changes from block to block (see `BLOCKS`).
//! Request figures are medians of per-request times pooled over rounds, with the client's CPU
//! time per request (this process, user + system, median over rounds) beside them; log
//! figures are medians over rounds of one whole follow (wall time and the child's CPU time);
//! peak RSS (VmHWM) is the highest over rounds. Every client's answers are checked against the raw
//! loop's, and a follower that reads a different number of log bytes than the raw loop
//! fails the run.

mod raw;

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use berth::docker::v1_41::{_ping, containers, models};
use futures_util::StreamExt;

const IMAGE: &str = "berth-test/busybox:latest";
/// The label of the listed containers.
const LABEL: &str = "berth-bench";
/// The label of the log containers; its value is the number of bytes they print.
const LOG_LABEL: &str = "berth-bench-logs";
const CONTAINERS: usize = 100;
/// The two log sizes: the memory check follows both.
const SMALL_LOG: u64 = 10_000_000;
const BIG_LOG: u64 = 100_000_000;
/// Peak RSS is called flat when following 10× the bytes costs at most this much more (the
/// median over rounds of each round's peak, so that one transient burst of buffering, which
/// is bounded by the HTTP read buffer, does not decide it; the table shows the highest).
const FLAT_TOLERANCE: f64 = 0.10;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

struct Options {
    socket: String,
    rounds: usize,
}

fn options() -> Result<Options> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = Options {
        socket: "/var/run/docker.sock".into(),
        rounds: 5,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--socket" => opts.socket = value()?.trim_start_matches("unix://").to_string(),
            "--rounds" => opts.rounds = value()?.parse()?,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    if opts.rounds == 0 {
        return Err("--rounds must be at least 1".into());
    }
    Ok(opts)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    if args.get(1).map(String::as_str) == Some("--child") {
        // A child process: follow the logs with one client (or none, for the baseline),
        // print bytes, wall µs, CPU µs and peak RSS in KiB.
        let [client, socket, id] = [2, 3, 4].map(|i| args.get(i).cloned().unwrap_or_default());
        let run = runtime.block_on(follow_logs(&client, &socket, &id))?;
        println!(
            "{} {} {} {}",
            run.bytes,
            run.wall.as_micros(),
            run.cpu.as_micros(),
            peak_rss_kib()?
        );
        return Ok(());
    }
    let opts = options()?;
    runtime.block_on(run(&opts))
}

#[derive(Clone, Copy, PartialEq)]
enum Scenario {
    Ping,
    List,
    Inspect,
}

impl Scenario {
    const ALL: [Scenario; 3] = [Scenario::Ping, Scenario::List, Scenario::Inspect];

    fn name(self) -> &'static str {
        match self {
            Scenario::Ping => "_ping",
            Scenario::List => "ContainerList (100)",
            Scenario::Inspect => "ContainerInspect",
        }
    }

    /// Requests per client per round.
    fn requests(self) -> usize {
        match self {
            Scenario::Ping => 2000,
            Scenario::List => 120,
            Scenario::Inspect => 1000,
        }
    }
}

const CLIENTS: [&str; 3] = ["raw", "berth", "bollard"];
/// The request scenarios also time berth with its answer polling off, to show what the
/// polling buys (and costs in CPU).
const REQUEST_CLIENTS: usize = 4;
/// Each round of a scenario runs the clients in turn on blocks of its requests, so that a
/// drift of the machine (these have 2 noisy cores) falls on every client alike instead of
/// on whichever ran during it. The order rotates from block to block, and runs backwards
/// in the second half, so that every client takes every place, behind different
/// neighbours, equally often.
const BLOCKS: usize = 2 * REQUEST_CLIENTS;

/// The order of the clients in block `block` of a round.
fn block_order(block: usize) -> [usize; REQUEST_CLIENTS] {
    let mut order: [usize; REQUEST_CLIENTS] =
        std::array::from_fn(|place| (block + place) % REQUEST_CLIENTS);
    if (block / REQUEST_CLIENTS) % 2 == 1 {
        order.reverse();
    }
    order
}

struct Clients {
    raw: raw::Conn,
    berth: berth::Client,
    bollard: bollard::Docker,
    /// berth with `answer_polling(Duration::ZERO)`.
    berth_asleep: berth::Client,
    inspect_id: String,
    list_path: String,
    inspect_path: String,
}

impl Clients {
    /// One request of a scenario with one client (0 raw, 1 berth, 2 bollard, 3 berth with
    /// its polling off).
    async fn call(&mut self, client: usize, scenario: Scenario) -> Result<()> {
        let berth = if client == 3 {
            &self.berth_asleep
        } else {
            &self.berth
        };
        match (client, scenario) {
            (0, Scenario::Ping) => drop(self.raw.get("/v1.41/_ping")?),
            (0, Scenario::List) => drop(self.raw.get(&self.list_path)?),
            (0, Scenario::Inspect) => drop(self.raw.get(&self.inspect_path)?),
            (1 | 3, Scenario::Ping) => drop(berth.invoke(_ping::SystemPing::default()).await?),
            (1 | 3, Scenario::List) => drop(berth.invoke(list_request()).await?),
            (1 | 3, Scenario::Inspect) => drop(
                berth
                    .invoke(containers::ContainerInspect {
                        id: self.inspect_id.clone(),
                        ..Default::default()
                    })
                    .await?,
            ),
            (_, Scenario::Ping) => drop(self.bollard.ping().await?),
            (_, Scenario::List) => drop(self.bollard.list_containers(Some(bollard_list())).await?),
            (_, Scenario::Inspect) => drop(
                self.bollard
                    .inspect_container(&self.inspect_id, None)
                    .await?,
            ),
        }
        Ok(())
    }

    /// Before timing: the three clients give the same answers.
    async fn check_answers(&mut self, ids: &[String]) -> Result<()> {
        let ping = [
            String::from_utf8(self.raw.get_body("/v1.41/_ping")?)?,
            self.berth.invoke(_ping::SystemPing::default()).await?,
            self.bollard.ping().await?,
        ];
        if ping.iter().any(|p| p != "OK") {
            return Err(format!("_ping answers differ: {ping:?}").into());
        }

        let expected: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
        let raw_list = String::from_utf8(self.raw.get_body(&self.list_path)?)?;
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

        let raw_inspect = String::from_utf8(self.raw.get_body(&self.inspect_path)?)?;
        let berth_inspect = self
            .berth
            .invoke(containers::ContainerInspect {
                id: self.inspect_id.clone(),
                ..Default::default()
            })
            .await?;
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

async fn run(opts: &Options) -> Result<()> {
    let started = Instant::now();
    let load_before = loadavg();
    let berth = berth::Client::new(&format!("unix://{}", opts.socket))?;
    let berth_asleep = berth::Client::builder(format!("unix://{}", opts.socket))
        .answer_polling(Duration::ZERO)
        .build()?;
    let bollard =
        bollard::Docker::connect_with_unix(&opts.socket, 120, bollard::API_DEFAULT_VERSION)?
            .negotiate_version()
            .await?;
    let version = bollard.version().await?;
    let setup = setup(&berth, &opts.socket).await?;
    let inspect_id = setup.ids[0].clone();
    let mut clients = Clients {
        raw: raw::Conn::connect(&opts.socket)?,
        berth,
        list_path: format!(
            "/v1.41/containers/json?all=true&filters=%7B%22label%22%3A%5B%22{LABEL}%22%5D%7D"
        ),
        inspect_path: format!("/v1.41/containers/{inspect_id}/json"),
        bollard,
        berth_asleep,
        inspect_id,
    };
    clients.check_answers(&setup.ids).await?;
    println!(
        "dockerd {} (API {}) at {}; bollard speaks API {}; {} labelled containers; {} rounds; load average {}\n",
        version.version.unwrap_or_default(),
        version.api_version.unwrap_or_default(),
        opts.socket,
        clients.bollard.client_version(),
        setup.ids.len(),
        opts.rounds,
        load_before
    );

    // Requests: per-request times (µs), pooled over rounds, and this process's CPU time per
    // request in each round (µs), per scenario and client.
    let mut rows: Vec<Row> = Vec::new();
    for scenario in Scenario::ALL {
        let n = scenario.requests();
        for client in 0..REQUEST_CLIENTS {
            for _ in 0..n / 10 {
                clients.call(client, scenario).await?; // warm-up, not timed
            }
        }
        let mut samples: [Vec<f64>; REQUEST_CLIENTS] = Default::default();
        let mut cpu: [Vec<f64>; REQUEST_CLIENTS] = Default::default();
        let block = n / BLOCKS;
        for _ in 0..opts.rounds {
            let mut spent = [Duration::ZERO; REQUEST_CLIENTS];
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

    // Logs: each follower in its own process; a child with no client is the baseline.
    let exe = std::env::current_exe()?;
    let child = |client: &str, id: &str| -> Result<Child> {
        let out = std::process::Command::new(&exe)
            .args(["--child", client, &opts.socket, id])
            .output()?;
        if !out.status.success() {
            return Err(format!(
                "{client} child failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim_end()
            )
            .into());
        }
        let text = String::from_utf8(out.stdout)?;
        let fields: Vec<u64> = text
            .split_whitespace()
            .map(str::parse)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| format!("{client} child printed {text:?}: {e}"))?;
        let [bytes, wall, cpu, rss] = fields[..] else {
            return Err(format!("{client} child printed {text:?}").into());
        };
        Ok(Child {
            bytes,
            wall_ms: wall as f64 / 1e3,
            cpu_ms: cpu as f64 / 1e3,
            rss_kib: rss,
        })
    };
    // [size][client] -> one Child per round; size 0 is the small log, 1 the big one.
    let mut logs: [[Vec<Child>; 3]; 2] = Default::default();
    let mut baseline: Vec<Child> = Vec::new();
    let log_rounds = opts.rounds;
    for _ in 0..log_rounds {
        for (size, (expected, id)) in setup.logs.iter().enumerate() {
            let mut raw_bytes = None;
            for (c, client) in CLIENTS.iter().enumerate() {
                let run = child(client, id)?;
                let reference = *raw_bytes.get_or_insert(run.bytes);
                if reference != *expected {
                    return Err(format!(
                        "the raw loop read {reference} bytes of logs, but the container printed {expected}"
                    )
                    .into());
                }
                if run.bytes != reference {
                    return Err(format!(
                        "{client} read {} bytes of logs where the raw loop read {reference}",
                        run.bytes
                    )
                    .into());
                }
                logs[size][c].push(run);
            }
        }
        baseline.push(child("none", "")?);
    }

    let median_of =
        |runs: &[Child], f: fn(&Child) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
    let peak = |runs: &[Child]| runs.iter().map(|r| r.rss_kib).max().unwrap_or(0);
    let wall = |r: &Child| r.wall_ms;
    let cpu = |r: &Child| r.cpu_ms;

    println!("| scenario | raw loop | berth | bollard 0.21 | berth / raw | bollard / berth | berth, polling off | its / raw |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut ratios: Vec<(String, f64, f64)> = Vec::new();
    for Row {
        scenario, samples, ..
    } in &rows
    {
        let [r, b, o, a] = [0, 1, 2, 3].map(|i| median(&samples[i]));
        println!(
            "| {} | {r:.1} µs | {b:.1} µs | {o:.1} µs | {:.2}× | {:.2}× | {a:.1} µs | {:.2}× |",
            scenario.name(),
            b / r,
            o / b,
            a / r
        );
        ratios.push((scenario.name().to_string(), b / r, o / b));
    }
    // The scenario is the ~100 MB follow; the 10 MB one is there for the memory
    // check (its times are in the logs table below).
    for (what, f) in [("wall", wall as fn(&Child) -> f64), ("client CPU", cpu)] {
        let [r, b, o] = [0, 1, 2].map(|i| median_of(&logs[1][i], f));
        let name = format!("follow {} MB of logs, {what}", BIG_LOG / 1_000_000);
        println!(
            "| {name} | {r:.0} ms | {b:.0} ms | {o:.0} ms | {:.2}× | {:.2}× |",
            b / r,
            o / b
        );
        ratios.push((name, b / r, o / b));
    }
    println!(
        "\nRequests: median per request over {} rounds of {} / {} / {} requests per client. Logs: median over {log_rounds} rounds.\n",
        opts.rounds,
        Scenario::Ping.requests(),
        Scenario::List.requests(),
        Scenario::Inspect.requests()
    );

    println!("Client CPU time per request (this process, user + system; median over rounds):\n");
    println!("| scenario | raw loop | berth | bollard 0.21 | berth / raw | bollard / berth | berth, polling off | its / raw |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for Row { scenario, cpu, .. } in &rows {
        let [r, b, o, a] = [0, 1, 2, 3].map(|i| median(&cpu[i]));
        println!(
            "| {} | {r:.1} µs | {b:.1} µs | {o:.1} µs | {:.2}× | {:.2}× | {a:.1} µs | {:.2}× |",
            scenario.name(),
            b / r,
            o / b,
            a / r
        );
        ratios.push((format!("{}, client CPU", scenario.name()), b / r, o / b));
    }
    println!();

    let (small_mb, big_mb) = (SMALL_LOG / 1_000_000, BIG_LOG / 1_000_000);
    println!("Following logs, one child process per follow (peak RSS = VmHWM, highest over {log_rounds} rounds):\n");
    println!(
        "| client | wall, {small_mb} MB | wall, {big_mb} MB | CPU, {big_mb} MB | peak RSS, {small_mb} MB | peak RSS, {big_mb} MB | {big_mb} MB over baseline |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let base = peak(&baseline);
    println!("| baseline (no client) | | | | {base} KiB | {base} KiB | 0 KiB |");
    for (c, client) in CLIENTS.iter().enumerate() {
        let (small, big) = (&logs[0][c], &logs[1][c]);
        println!(
            "| {client} | {:.0} ms | {:.0} ms | {:.0} ms | {} KiB | {} KiB | {} KiB |",
            median_of(small, wall),
            median_of(big, wall),
            median_of(big, cpu),
            peak(small),
            peak(big),
            peak(big) as i64 - base as i64
        );
    }

    let typical =
        |runs: &[Child]| median(&runs.iter().map(|r| r.rss_kib as f64).collect::<Vec<_>>());
    let (berth_small, berth_big) = (typical(&logs[0][1]), typical(&logs[1][1]));
    let flat = berth_big <= berth_small * (1.0 + FLAT_TOLERANCE);
    let check = |ok: bool| if ok { "met" } else { "MISSED" };
    let ping = &ratios[0];
    // Time is what "slower" means; CPU time is reported beside it, as a cost.
    let lowest = |cpu: bool| {
        ratios
            .iter()
            .filter(|r| r.0.ends_with("client CPU") == cpu)
            .min_by(|a, b| a.2.total_cmp(&b.2))
            .expect("rows")
    };
    let (slowest, costliest) = (lowest(false), lowest(true));
    println!("\nTargets:");
    println!(
        "- berth ≤ 1.35× the raw loop on _ping: {:.2}× — {}",
        ping.1,
        check(ping.1 <= 1.35)
    );
    println!(
        "- berth ≥ 2.5× faster than bollard on _ping: {:.2}× — {}",
        ping.2,
        check(ping.2 >= 2.5)
    );
    println!(
        "- berth no slower than bollard anywhere (wall time): lowest bollard / berth {:.2}× ({}) — {}",
        slowest.2,
        slowest.0,
        check(slowest.2 >= 1.0)
    );
    println!(
        "- (a cost, beside the issue's targets) berth's client CPU no higher than bollard's anywhere: lowest bollard / berth {:.2}× ({}) — {}",
        costliest.2,
        costliest.0,
        check(costliest.2 >= 1.0)
    );
    println!(
        "- berth's peak RSS flat from {small_mb} MB to {big_mb} MB of logs (median over rounds, within {:.0}%): {berth_small:.0} KiB → {berth_big:.0} KiB ({:+.0} KiB; highest {} → {} KiB) — {}",
        FLAT_TOLERANCE * 100.0,
        berth_big - berth_small,
        peak(&logs[0][1]),
        peak(&logs[1][1]),
        check(flat)
    );
    println!(
        "\nRun time {:.0} s; load average before {load_before}, after {}.",
        started.elapsed().as_secs_f64(),
        loadavg()
    );
    Ok(())
}

/// One request scenario: per-request times (µs) pooled over rounds, and the process's CPU
/// time per request (µs) in each round, for raw, berth and bollard.
struct Row {
    scenario: Scenario,
    samples: [Vec<f64>; REQUEST_CLIENTS],
    cpu: [Vec<f64>; REQUEST_CLIENTS],
}

/// What a child reports about one follow.
struct Child {
    bytes: u64,
    wall_ms: f64,
    cpu_ms: f64,
    rss_kib: u64,
}

fn list_request() -> containers::ContainerList {
    containers::ContainerList {
        all: Some(true),
        filters: Some([("label".to_string(), vec![LABEL.to_string()])].into()),
        ..Default::default()
    }
}

fn bollard_list() -> bollard::query_parameters::ListContainersOptions {
    bollard::query_parameters::ListContainersOptions {
        all: true,
        filters: Some([("label".to_string(), vec![LABEL.to_string()])].into()),
        ..Default::default()
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn peak_rss_kib() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmHWM in /proc/self/status".into())
}

/// CPU time of this process so far (user and system, every thread), from the scheduler's
/// own accounting in nanoseconds.
fn cpu_time() -> Result<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir("/proc/self/task")? {
        let stat = std::fs::read_to_string(task?.path().join("schedstat"))?;
        let ns = stat.split_whitespace().next().unwrap_or_default();
        total += ns
            .parse::<u64>()
            .map_err(|e| format!("schedstat {stat:?}: {e}"))?;
    }
    Ok(Duration::from_nanos(total))
}

fn loadavg() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

struct Setup {
    /// The labelled containers, sorted.
    ids: Vec<String>,
    /// (bytes printed, id) of the small and the big log container.
    logs: [(u64, String); 2],
}

/// Exactly 100 created containers with the bench label, and two exited containers that
/// printed exactly SMALL_LOG and BIG_LOG bytes (checked with the raw loop); reused across
/// runs, remade when they are not what they should be.
async fn setup(client: &berth::Client, socket: &str) -> Result<Setup> {
    let list = client.invoke(list_request()).await?;
    let mut ids: Vec<String> = list.iter().filter_map(|c| c.id.clone()).collect();
    ids.sort();
    while ids.len() > CONTAINERS {
        let id = ids.pop().expect("more than 100");
        remove(client, &id).await?;
    }
    while ids.len() < CONTAINERS {
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
    ids.sort();
    let logs = [
        (SMALL_LOG, log_container(client, socket, SMALL_LOG).await?),
        (BIG_LOG, log_container(client, socket, BIG_LOG).await?),
    ];
    Ok(Setup { ids, logs })
}

async fn remove(client: &berth::Client, id: &str) -> Result<()> {
    client
        .invoke(containers::ContainerDelete {
            id: id.into(),
            force: Some(true),
            ..Default::default()
        })
        .await?;
    Ok(())
}

/// A container named `berth-bench-logs-<bytes>` whose logs (stdout, json-file) hold exactly
/// `bytes` bytes: 101-byte lines cut at `bytes` by `head -c`.
async fn log_container(client: &berth::Client, socket: &str, bytes: u64) -> Result<String> {
    let name = format!("{LOG_LABEL}-{bytes}");
    for _ in 0..2 {
        let existing = match client
            .invoke(containers::ContainerInspect {
                id: name.clone(),
                ..Default::default()
            })
            .await
        {
            Ok(c) => Some(c),
            Err(e) if e.is_not_found() => None,
            Err(e) => return Err(e.into()),
        };
        let id = match existing {
            Some(c) => {
                let id = c.id.clone().unwrap_or_default();
                let labelled = c
                    .config
                    .as_ref()
                    .and_then(|c| c.labels.as_ref())
                    .and_then(|l| l.get(LOG_LABEL))
                    .is_some_and(|v| *v == bytes.to_string());
                let state = c.state.unwrap_or_default();
                let failed = state.status == Some(models::ContainerStateStatus::Exited)
                    && state.exit_code != Some(0);
                if !labelled || failed {
                    eprintln!(
                        "{name}: not as expected (label {labelled}, failed {failed}); remaking it"
                    );
                    remove(client, &id).await?;
                    continue;
                }
                if state.status == Some(models::ContainerStateStatus::Created) {
                    start(client, &id).await?;
                }
                id
            }
            None => {
                eprintln!("{name}: making a container that prints {bytes} bytes");
                let line = "0123456789".repeat(10);
                let created = client
                    .invoke(containers::ContainerCreate {
                        name: Some(name.clone()),
                        body: models::ContainerCreateBody {
                            image: Some(IMAGE.into()),
                            cmd: Some(vec![
                                "sh".into(),
                                "-c".into(),
                                format!("yes {line} | head -c {bytes}"),
                            ]),
                            labels: Some([(LOG_LABEL.to_string(), bytes.to_string())].into()),
                            // json-file without rotation, whatever the daemon's defaults.
                            host_config: Some(models::HostConfig {
                                log_config: Some(models::HostConfigLogConfig {
                                    r#type: Some(models::HostConfigLogConfigType::JsonFile),
                                    config: Some(HashMap::new()),
                                }),
                                ..Default::default()
                            }),
                            ..Default::default()
                        },
                        ..Default::default()
                    })
                    .await?;
                start(client, &created.id).await?;
                created.id
            }
        };
        let waited = client
            .invoke(containers::ContainerWait {
                id: id.clone(),
                ..Default::default()
            })
            .await?;
        let read = raw::Conn::connect(socket)?.stream(&logs_path(&id))?;
        if waited.status_code == 0 && read == bytes {
            return Ok(id);
        }
        eprintln!(
            "{name}: exit code {}, {read} bytes of logs instead of {bytes}; remaking it",
            waited.status_code
        );
        remove(client, &id).await?;
    }
    Err(format!("could not make {name} print exactly {bytes} bytes of logs").into())
}

async fn start(client: &berth::Client, id: &str) -> Result<()> {
    client
        .invoke(containers::ContainerStart {
            id: id.into(),
            ..Default::default()
        })
        .await?;
    Ok(())
}

fn logs_path(id: &str) -> String {
    format!("/v1.41/containers/{id}/logs?follow=true&stdout=true")
}

/// One follow of a container's logs with one client (`none`: the baseline, which does
/// nothing). The client is made (and connected, for raw and bollard) before the clock starts.
struct Run {
    bytes: u64,
    wall: Duration,
    cpu: Duration,
}

async fn follow_logs(client: &str, socket: &str, id: &str) -> Result<Run> {
    let mut bytes = 0u64;
    let (t, cpu) = match client {
        "none" => (Instant::now(), cpu_time()?),
        "raw" => {
            let mut conn = raw::Conn::connect(socket)?;
            let (t, cpu) = (Instant::now(), cpu_time()?);
            bytes = conn.stream(&logs_path(id))?;
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
            let docker =
                bollard::Docker::connect_with_unix(socket, 600, bollard::API_DEFAULT_VERSION)?
                    .negotiate_version()
                    .await?;
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
