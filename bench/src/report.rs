//! The tables of one run, and the targets each with its verdict.

use crate::child::{median_of, peak, typical_peak, Child};
use crate::logs::Logs;
use crate::measure::median;
use crate::requests::{Row, Scenario, BERTH, BOLLARD, CLIENTS, HYPER, HYPER_UTIL, RAW};
use crate::setup::{BIG_LOG, SMALL_LOG};
use crate::upload::{self, Uploads};

/// berth's `_ping` against the bare hyper loop.
const PING_OVER_HYPER: f64 = 1.15;
/// bollard's `_ping` against berth's.
const PING_UNDER_BOLLARD: f64 = 2.0;
/// Peak RSS is called flat when 10× the bytes cost at most this much more (the median over
/// rounds of each round's peak, so that one transient burst of buffering, which is bounded
/// by the HTTP read buffer, does not decide it; the tables show the highest).
const FLAT_TOLERANCE: f64 = 0.10;
/// …or this much, in KiB, whichever is larger (for the uploads, whose peaks are small).
const FLAT_SLACK_KIB: f64 = 1024.0;

/// The columns of the request tables, in this order.
const SHOWN: [usize; 5] = [RAW, HYPER, HYPER_UTIL, BERTH, BOLLARD];
const HEADER: &str = "| scenario | raw loop | hyper | hyper-util | berth | bollard 0.21 | berth / raw | berth / hyper | bollard / berth |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |";

/// One line of a request table: its figures by client, and the ratios the targets read.
struct Line {
    name: String,
    /// A client CPU line (a cost) rather than a wall time line.
    cpu: bool,
    v: [f64; CLIENTS.len()],
}

impl Line {
    fn berth_hyper(&self) -> f64 {
        self.v[BERTH] / self.v[HYPER]
    }

    fn bollard_berth(&self) -> f64 {
        self.v[BOLLARD] / self.v[BERTH]
    }

    fn util_hyper(&self) -> f64 {
        self.v[HYPER_UTIL] / self.v[HYPER]
    }

    fn print(&self, unit: &str, digits: usize) {
        let cells: Vec<String> = SHOWN
            .iter()
            .map(|&c| format!("{:.digits$} {unit}", self.v[c]))
            .collect();
        println!(
            "| {} | {} | {:.2}× | {:.2}× | {:.2}× |",
            self.name,
            cells.join(" | "),
            self.v[BERTH] / self.v[RAW],
            self.berth_hyper(),
            self.bollard_berth()
        );
    }
}

pub fn print(rows: &[Row], logs: &Logs, uploads: &Uploads, rounds: usize) {
    let mut lines: Vec<Line> = Vec::new();
    let (small_mb, big_mb) = (SMALL_LOG / 1_000_000, BIG_LOG / 1_000_000);

    println!("{HEADER}");
    for row in rows {
        let line = Line {
            name: row.scenario.name().to_string(),
            cpu: false,
            v: std::array::from_fn(|c| median(&row.samples[c])),
        };
        line.print("µs", 1);
        lines.push(line);
    }
    // The log scenario is the ~100 MB follow; the 10 MB one is there for the memory
    // check (its times are in the logs table below).
    for (what, cpu, f) in [
        ("wall", false, Child::wall as fn(&Child) -> f64),
        ("client CPU", true, Child::cpu),
    ] {
        let line = Line {
            name: format!("follow {big_mb} MB of logs, {what}"),
            cpu,
            v: std::array::from_fn(|c| median_of(&logs.runs[1][c], f)),
        };
        line.print("ms", 0);
        lines.push(line);
    }
    println!(
        "\nRequests: median per request over {rounds} rounds of {} / {} / {} requests per client. Logs: median over {rounds} rounds.\n",
        Scenario::Ping.requests(),
        Scenario::List.requests(),
        Scenario::Inspect.requests()
    );

    println!("Client CPU time per request (this process, user + system; median over rounds):\n");
    println!("{HEADER}");
    for row in rows {
        let line = Line {
            name: format!("{}, client CPU", row.scenario.name()),
            cpu: true,
            v: std::array::from_fn(|c| median(&row.cpu[c])),
        };
        line.print("µs", 1);
        lines.push(line);
    }

    let ping = &lines[0];
    let ping_cpu = lines
        .iter()
        .find(|l| l.cpu && l.name.starts_with("_ping"))
        .expect("a _ping CPU line");
    let others: Vec<String> = lines[1..]
        .iter()
        .filter(|l| !l.cpu)
        .map(|l| format!("{} {:.2}×", l.name, l.util_hyper()))
        .collect();
    println!(
        "\nThe hyper stack: hyper-util / hyper on _ping {:.2}× in wall time, {:.2}× in client CPU (wall elsewhere: {}).\n",
        ping.util_hyper(),
        ping_cpu.util_hyper(),
        others.join(", ")
    );

    println!("Following logs, one child process per follow (peak RSS = VmHWM, highest over {rounds} rounds):\n");
    println!(
        "| client | wall, {small_mb} MB | wall, {big_mb} MB | CPU, {big_mb} MB | peak RSS, {small_mb} MB | peak RSS, {big_mb} MB | {big_mb} MB over baseline |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let base = peak(&logs.baseline);
    println!("| baseline (no client) | | | | {base} KiB | {base} KiB | 0 KiB |");
    for c in SHOWN {
        let (small, big) = (&logs.runs[0][c], &logs.runs[1][c]);
        println!(
            "| {} | {:.0} ms | {:.0} ms | {:.0} ms | {} KiB | {} KiB | {} KiB |",
            CLIENTS[c],
            median_of(small, Child::wall),
            median_of(big, Child::wall),
            median_of(big, Child::cpu),
            peak(small),
            peak(big),
            peak(big) as i64 - base as i64
        );
    }

    let [up_small, up_big] = upload::SIZES.map(size_name);
    println!("\nUploading a streamed tar (PutContainerArchive), one child process per upload (peak RSS highest over {rounds} rounds):\n");
    println!(
        "| client | wall, {up_small} | wall, {up_big} | CPU, {up_big} | peak RSS, {up_small} | peak RSS, {up_big} | {up_big} over baseline |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    println!("| baseline (no client) | | | | {base} KiB | {base} KiB | 0 KiB |");
    for (c, client) in upload::CLIENTS.iter().enumerate() {
        let (small, big) = (&uploads[0][c], &uploads[1][c]);
        println!(
            "| {client} | {:.0} ms | {:.0} ms | {:.0} ms | {} KiB | {} KiB | {} KiB |",
            median_of(small, Child::wall),
            median_of(big, Child::wall),
            median_of(big, Child::cpu),
            peak(small),
            peak(big),
            peak(big) as i64 - base as i64
        );
    }
    let (berth_up, bollard_up) = (&uploads[1][0], &uploads[1][1]);
    println!(
        "\nbollard / berth on the {up_big} upload (not a target): {:.2}× in wall time, {:.2}× in client CPU.",
        median_of(bollard_up, Child::wall) / median_of(berth_up, Child::wall),
        median_of(bollard_up, Child::cpu) / median_of(berth_up, Child::cpu)
    );

    let check = |ok: bool| if ok { "met" } else { "MISSED" };
    // The lowest bollard / berth among the wall time lines, or the client CPU lines.
    let lowest = |cpu: bool| {
        lines
            .iter()
            .filter(|l| l.cpu == cpu)
            .min_by(|a, b| a.bollard_berth().total_cmp(&b.bollard_berth()))
            .expect("lines")
    };
    let (slowest, costliest) = (lowest(false), lowest(true));
    let (log_small, log_big) = (
        typical_peak(&logs.runs[0][BERTH]),
        typical_peak(&logs.runs[1][BERTH]),
    );
    let logs_flat = log_big <= log_small * (1.0 + FLAT_TOLERANCE);
    let (up_small_kib, up_big_kib) = (typical_peak(&uploads[0][0]), typical_peak(&uploads[1][0]));
    let up_allowed = (up_small_kib * FLAT_TOLERANCE).max(FLAT_SLACK_KIB);
    let up_flat = up_big_kib <= up_small_kib + up_allowed;

    println!("\nTargets:");
    println!(
        "- berth ≤ {PING_OVER_HYPER:.2}× the bare hyper loop on _ping: {:.2}× — {}",
        ping.berth_hyper(),
        check(ping.berth_hyper() <= PING_OVER_HYPER)
    );
    println!(
        "- berth ≥ {PING_UNDER_BOLLARD:.0}× faster than bollard on _ping: {:.2}× — {}",
        ping.bollard_berth(),
        check(ping.bollard_berth() >= PING_UNDER_BOLLARD)
    );
    println!(
        "- berth no slower than bollard anywhere (wall time): lowest bollard / berth {:.3}× ({}) — {}",
        slowest.bollard_berth(),
        slowest.name,
        check(slowest.bollard_berth() >= 1.0)
    );
    println!(
        "- berth's client CPU per request no higher than bollard's anywhere ({big_mb} MB follow included): lowest bollard / berth {:.3}× ({}) — {}",
        costliest.bollard_berth(),
        costliest.name,
        check(costliest.bollard_berth() >= 1.0)
    );
    println!(
        "- berth's peak RSS flat from {small_mb} MB to {big_mb} MB of logs (median over rounds, within {:.0}%): {log_small:.0} KiB → {log_big:.0} KiB ({:+.0} KiB; highest {} → {} KiB) — {}",
        FLAT_TOLERANCE * 100.0,
        log_big - log_small,
        peak(&logs.runs[0][BERTH]),
        peak(&logs.runs[1][BERTH]),
        check(logs_flat)
    );
    println!(
        "- berth's peak RSS flat from a {up_small} to a {up_big} streamed upload (median over rounds, within {:.0}% or {FLAT_SLACK_KIB:.0} KiB, whichever is larger: {up_allowed:.0} KiB): {up_small_kib:.0} KiB → {up_big_kib:.0} KiB ({:+.0} KiB; highest {} → {} KiB) — {}",
        FLAT_TOLERANCE * 100.0,
        up_big_kib - up_small_kib,
        peak(&uploads[0][0]),
        peak(&uploads[1][0]),
        check(up_flat)
    );
}

fn size_name(bytes: u64) -> String {
    if bytes >= 1_000_000_000 {
        format!("{} GB", bytes / 1_000_000_000)
    } else {
        format!("{} MB", bytes / 1_000_000)
    }
}
