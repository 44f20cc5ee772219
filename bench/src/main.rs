//! berth, bollard 0.21, two bare hyper 1.x loops and a raw keep-alive HTTP/1.1 loop, side by
//! side in one run against the same local dockerd: `_ping`, ContainerList of 100
//! containers, ContainerInspect, following the logs of containers that printed ~10 MB and
//! ~100 MB, and uploading a streamed 100 MB and 1 GB tar (each follow and upload in its own
//! child process, so that its peak RSS is its own; a child that does nothing gives the
//! baseline).
//!
//! `cargo run --release -p berth-bench [-- --rounds 5 --socket /var/run/docker.sock]`
//! Needs the test image (`scripts/engines up docker`). The containers it needs are made on
//! the first run and reused (checked, and remade if they are not what they should be); the
//! upload container is made for the run and removed after it.
//!
//! The clients: `raw` (`raw.rs`, the floor), `hyper` (hyper's `client::conn::http1` on one
//! connection) and `hyper-util` (hyper-util's legacy pooled client with hyperlocal), both in
//! `hyper_loops.rs` (the stacks berth's transport can be built on), berth, and bollard.
//!
//! Rounds are interleaved: in each round the clients take turns on blocks of a tenth of
//! their requests, in an order that changes from block to block (see `requests::BLOCKS`);
//! the log follows take turns in an order that changes from round to round.
//! Request figures are medians of per-request times pooled over rounds, with the client's CPU
//! time per request (this process, user + system, median over rounds) beside them; log and
//! upload figures are medians over rounds of one whole follow or upload (wall time and the
//! child's CPU time); peak RSS (VmHWM) is the highest over rounds. Every client's answers
//! are checked against the raw loop's, a follower that reads a different number of log
//! bytes than the raw loop fails the run, and so does an upload whose file is not in the
//! container afterwards with its size and mode.

mod child;
mod hyper_loops;
mod logs;
mod measure;
mod raw;
mod report;
mod requests;
mod setup;
mod upload;

use std::time::Instant;

use measure::loadavg;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const USAGE: &str = "\
berth-bench: berth against bollard 0.21, bare hyper 1.x loops and a raw HTTP/1.1 loop

usage: berth-bench [--rounds N] [--socket PATH]

  --rounds N     rounds of every scenario: requests, log follows and uploads (default 5)
  --socket PATH  dockerd's unix socket, with or without unix:// (default /var/run/docker.sock)
  --help         this text

A run of 5 rounds takes about 6 minutes on 2 busy cores; --rounds 1 (about 1 minute)
checks everything end to end.";

pub struct Options {
    pub socket: String,
    pub rounds: usize,
}

/// `None`: the usage was asked for.
fn options() -> Result<Option<Options>> {
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
            "--help" | "-h" => return Ok(None),
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}").into()),
        }
    }
    if opts.rounds == 0 {
        return Err("--rounds must be at least 1".into());
    }
    Ok(Some(opts))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    match args.get(1).map(String::as_str) {
        // A child process: follow the logs with one client (or none, for the baseline).
        Some("--child") => {
            let (client, socket, id) = (arg(2), arg(3), arg(4));
            return runtime
                .block_on(logs::follow(&client, &socket, &id))?
                .report();
        }
        // A child process: one upload with one client.
        Some("--upload") => {
            let (client, socket, id) = (arg(2), arg(3), arg(4));
            let (size, mode) = (arg(5).parse()?, arg(6).parse()?);
            return runtime
                .block_on(upload::upload(&client, &socket, &id, size, mode))?
                .report();
        }
        _ => {}
    }
    let Some(opts) = options()? else {
        println!("{USAGE}");
        return Ok(());
    };
    runtime.block_on(run(&opts))
}

async fn run(opts: &Options) -> Result<()> {
    let started = Instant::now();
    let load_before = loadavg();
    let berth = berth::Client::new(&format!("unix://{}", opts.socket))?;
    let bollard = setup::bollard(&opts.socket, 120).await?;
    let version = bollard.version().await?;
    let setup = setup::setup(&berth, &opts.socket).await?;
    let mut clients =
        requests::Clients::new(&opts.socket, berth, bollard, setup.ids[0].clone()).await?;
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

    let rows = requests::run(&mut clients, opts.rounds).await?;
    let exe = std::env::current_exe()?;
    let logs = logs::run(&exe, &opts.socket, &setup.logs, opts.rounds)?;
    let uploads = upload::run(&exe, &opts.socket, &clients.berth, opts.rounds).await?;

    report::print(&rows, &logs, &uploads, opts.rounds);
    println!(
        "\nRun time {:.0} s; load average before {load_before}, after {}.",
        started.elapsed().as_secs_f64(),
        loadavg()
    );
    Ok(())
}
