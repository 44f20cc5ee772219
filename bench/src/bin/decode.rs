//! berth's stream decoders in process, no engine: demultiplexing frames and decoding JSON
//! lines from 64 KiB chunks (the size of a hyper body's pieces from a busy socket), each
//! beside a plain loop over the same chunks, the floor: a copy of the bytes for frames, a
//! `memchr` newline scan for JSON lines. JSON lines also show `serde_json::from_slice`
//! alone on each line of the same bytes, whole in memory: the parse berth cannot go under.
//!
//! `cargo run --release -p berth-bench --bin decode [-- --rounds 5] [--answers]`
//!
//! Figures are MB/s (10^6 bytes) of input, the median over rounds; every round checks
//! that the decoder handed out every payload byte or every item.

use std::time::Instant;

use berth::docker::v1_41::models::CreateImageInfo;
use berth::stream::{ByteStream, FrameStream, JsonLines};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const CHUNK: usize = 64 << 10;
/// Input per round and case.
const TOTAL: usize = 64 << 20;
/// The figure frames should reach, printed beside theirs.
const FRAMES_TARGET_MBPS: f64 = 1000.0;

fn main() -> Result<()> {
    let (rounds, answers_only) = options()?;
    if answers_only {
        return answers(rounds);
    }
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    println!(
        "berth stream decoders, in process: {} MiB of input per case in {} KiB chunks, median MB/s of {rounds} rounds\n",
        TOTAL >> 20,
        CHUNK >> 10
    );
    println!(
        "{:<44} {:>7} {:>15} {:>6} {:>17}",
        "case", "berth", "plain loop", "ratio", "serde_json alone"
    );
    for payload in [16, 1 << 10, 16 << 10, 1 << 20] {
        let (chunks, payload_bytes) = frames(payload);
        let decoded = median(rounds, &chunks, || {
            let delivered = runtime.block_on(demultiplex(&chunks))?;
            check(delivered == payload_bytes, "frames lost payload bytes")
        })?;
        let floor = median(rounds, &chunks, || {
            copy(&chunks);
            Ok(())
        })?;
        let target = if decoded >= FRAMES_TARGET_MBPS {
            ""
        } else {
            "  (below the target)"
        };
        row(
            &format!("frames, {} payloads", size(payload)),
            decoded,
            floor,
            "copy",
            None,
            target,
        );
    }
    let progress = lines(|i| {
        format!(
            r#"{{"status":"Downloading","progressDetail":{{"current":{},"total":31457280}},"progress":"[==========>                                        ]  {}MB/31.46MB","id":"a1b2c3d4e5f6"}}"#,
            i * 1000 % 31457280,
            i % 31
        )
    });
    json_rows::<CreateImageInfo>(
        &runtime,
        rounds,
        "JSON lines, pull progress as CreateImageInfo",
        &progress,
    )?;
    json_rows::<serde_json::Value>(
        &runtime,
        rounds,
        "JSON lines, pull progress as Value",
        &progress,
    )?;
    let mut long = vec![b'x'; TOTAL];
    (long[0], *long.last_mut().unwrap()) = (b'"', b'"');
    let long = (cut(Bytes::from(long)), 1);
    json_rows::<serde_json::Value>(
        &runtime,
        rounds,
        "JSON lines, one 64 MiB line, no newline",
        &long,
    )?;
    println!(
        "\nTarget: frames at {FRAMES_TARGET_MBPS:.0} MB/s or more. Ratio: berth / plain loop."
    );
    answers(rounds)
}

/// Whole answers decoded into typed values: dockerd 28.5's ContainerInspect and a
/// ContainerList of 100 containers (`bench/answers/`, one real item repeated with other
/// ids), read by berth's v1.41 types — which keep the keys API 1.41 does not name, as a
/// newer engine sends them — beside bollard's types and `serde_json::Value`. CPU
/// microseconds per decode, median over rounds of enough decodes to fill 0.2 s.
fn answers(rounds: usize) -> Result<()> {
    use berth::docker::v1_41::containers::{ContainerInspectResponse, ContainerListResponse};
    let inspect = include_bytes!("../../answers/container-inspect.json").as_slice();
    let list = include_bytes!("../../answers/container-list-100.json").as_slice();
    println!(
        "\n{:<44} {:>9} {:>9} {:>9} {:>14}",
        "answer (CPU µs per decode)", "berth", "bollard", "Value", "berth/bollard"
    );
    let cases: [(&str, &[u8], [Decoder; 3]); 2] = [
        (
            "ContainerInspect",
            inspect,
            [
                decoder::<ContainerInspectResponse>,
                decoder::<bollard::models::ContainerInspectResponse>,
                decoder::<serde_json::Value>,
            ],
        ),
        (
            "ContainerList, 100 containers",
            list,
            [
                decoder::<ContainerListResponse>,
                decoder::<Vec<bollard::models::ContainerSummary>>,
                decoder::<serde_json::Value>,
            ],
        ),
    ];
    for (case, body, decoders) in cases {
        let [berth, bollard, value] = per_decode(rounds, body, decoders)?;
        println!(
            "{case:<44} {berth:>9.1} {bollard:>9.1} {value:>9.1} {:>13.2}x",
            berth / bollard
        );
    }
    Ok(())
}

type Decoder = fn(&[u8]) -> serde_json::Result<()>;

fn decoder<T: DeserializeOwned>(body: &[u8]) -> serde_json::Result<()> {
    std::hint::black_box(serde_json::from_slice::<T>(std::hint::black_box(body))?);
    Ok(())
}

/// The CPU µs of one decode of `body` by each decoder: the median over `rounds`, the
/// decoders taking turns within each round, so that a machine that slows down or speeds up
/// meanwhile weighs on all of them alike and their ratios hold.
fn per_decode(rounds: usize, body: &[u8], decoders: [Decoder; 3]) -> Result<[f64; 3]> {
    let started = Instant::now();
    decoders[0](body)?;
    let once = started.elapsed().as_secs_f64();
    let batch = ((0.05 / once.max(1e-7)) as usize).max(10);
    let mut times = [(); 3].map(|()| Vec::with_capacity(rounds * 4));
    for _ in 0..rounds * 4 {
        for (decode, times) in decoders.iter().zip(&mut times) {
            let started = thread_cpu_ns()?;
            for _ in 0..batch {
                decode(body)?;
            }
            times.push((thread_cpu_ns()? - started) as f64 / 1e3 / batch as f64);
        }
    }
    Ok(times.map(|mut t| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    }))
}

/// This thread's time on a CPU, in ns: a busy machine's other work does not add to it, as
/// it does to wall time.
fn thread_cpu_ns() -> Result<u64> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } != 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    Ok(now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64)
}

/// `--rounds N` (default 5); `--answers`: the typed answers alone.
fn options() -> Result<(usize, bool)> {
    let mut rounds = 5;
    let mut answers_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rounds" => {
                let n = args.next().ok_or("--rounds needs a value")?;
                rounds = n.parse::<usize>()?.max(1);
            }
            "--answers" => answers_only = true,
            _ => return Err("usage: decode [--rounds N] [--answers]".into()),
        }
    }
    Ok((rounds, answers_only))
}

/// Frames of `payload` bytes (stdout and stderr in turn) filling [`TOTAL`], in chunks;
/// and how many payload bytes they carry.
fn frames(payload: usize) -> (Vec<Bytes>, usize) {
    let mut all = Vec::with_capacity(TOTAL + payload + 8);
    let mut carried = 0;
    let mut n = 0u8;
    while all.len() < TOTAL {
        all.extend_from_slice(&[1 + n % 2, 0, 0, 0]);
        all.extend_from_slice(&(payload as u32).to_be_bytes());
        all.extend((0..payload).map(|i| b'a' + (i % 26) as u8));
        carried += payload;
        n = n.wrapping_add(1);
    }
    (cut(Bytes::from(all)), carried)
}

/// Lines made by `line(i)` filling [`TOTAL`], in chunks; and how many lines.
fn lines(line: impl Fn(usize) -> String) -> (Vec<Bytes>, usize) {
    let mut all = Vec::with_capacity(TOTAL + 4096);
    let mut count = 0;
    while all.len() < TOTAL {
        all.extend_from_slice(line(count).as_bytes());
        all.push(b'\n');
        count += 1;
    }
    (cut(Bytes::from(all)), count)
}

/// `bytes` in [`CHUNK`]-sized pieces sharing its buffer.
fn cut(bytes: Bytes) -> Vec<Bytes> {
    (0..bytes.len())
        .step_by(CHUNK)
        .map(|start| bytes.slice(start..(start + CHUNK).min(bytes.len())))
        .collect()
}

fn body(chunks: &[Bytes]) -> ByteStream {
    let chunks: Vec<berth::Result<Bytes>> = chunks.iter().cloned().map(Ok).collect();
    ByteStream::from_stream(futures_util::stream::iter(chunks), "Bench")
}

/// The payload bytes handed out.
async fn demultiplex(chunks: &[Bytes]) -> berth::Result<usize> {
    let mut frames = FrameStream::new(body(chunks));
    let mut delivered = 0;
    while let Some(frame) = frames.next().await {
        delivered += frame?.data.len();
    }
    Ok(delivered)
}

/// The items decoded.
async fn decode<T: DeserializeOwned>(chunks: &[Bytes]) -> berth::Result<usize> {
    let mut items = JsonLines::<T>::new(body(chunks)).max_line_length(usize::MAX);
    let mut count = 0;
    while let Some(item) = items.next().await {
        std::hint::black_box(item?);
        count += 1;
    }
    Ok(count)
}

/// The floor of frames: every byte copied once.
fn copy(chunks: &[Bytes]) {
    let mut buffer = vec![0u8; CHUNK];
    for chunk in chunks {
        buffer[..chunk.len()].copy_from_slice(chunk);
        std::hint::black_box(&buffer);
    }
}

/// The floor of JSON lines: every newline found.
fn scan(chunks: &[Bytes]) -> usize {
    chunks
        .iter()
        .map(|chunk| memchr::memchr_iter(b'\n', chunk).count())
        .sum()
}

fn json_rows<T: DeserializeOwned>(
    runtime: &tokio::runtime::Runtime,
    rounds: usize,
    case: &str,
    (chunks, count): &(Vec<Bytes>, usize),
) -> Result<()> {
    let decoded = median(rounds, chunks, || {
        let items = runtime.block_on(decode::<T>(chunks))?;
        check(items == *count, "JSON lines lost items")
    })?;
    let newlines = count - usize::from(*count == 1);
    let floor = median(rounds, chunks, || {
        check(scan(chunks) == newlines, "the scan lost newlines")
    })?;
    let whole: Vec<u8> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
    let parse = median(rounds, chunks, || {
        let mut items = 0;
        for line in whole.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            std::hint::black_box(serde_json::from_slice::<T>(line)?);
            items += 1;
        }
        check(items == *count, "serde_json lost items")
    })?;
    row(case, decoded, floor, "memchr", Some(parse), "");
    Ok(())
}

fn check(ok: bool, what: &str) -> Result<()> {
    if ok {
        Ok(())
    } else {
        Err(what.into())
    }
}

/// The median MB/s of `round` over `rounds`, each over the bytes of `chunks`.
fn median(rounds: usize, chunks: &[Bytes], mut round: impl FnMut() -> Result<()>) -> Result<f64> {
    let input: usize = chunks.iter().map(Bytes::len).sum();
    let mut rates = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        round()?;
        rates.push(input as f64 / 1e6 / started.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    Ok(rates[rates.len() / 2])
}

/// One line of the table; `parse`: serde_json alone on the same lines.
fn row(case: &str, berth: f64, floor: f64, floor_name: &str, parse: Option<f64>, note: &str) {
    let parse = parse.map_or("-".to_string(), |p| format!("{p:.0}"));
    println!(
        "{case:<44} {berth:>7.0} {:>15} {:>5.2}x {parse:>17}{note}",
        format!("{floor:.0} ({floor_name})"),
        berth / floor
    );
}

fn size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}
