//! Cancellation against the real dockerd (unix socket): 10,000 calls on ONE client, each
//! raced against a random deadline or dropped mid-stream, interleaved with 5,000 normal
//! calls on the same client, a few dozen in flight and more than its connection cap.
//!
//! The deadlines (`tokio::time::timeout`, 0–5 ms, a quarter of them 5–50 ms) land at every
//! stage of an exchange: waiting for a slot or connecting, writing the request (a streamed
//! 128 KiB upload shows how much of its body hyper had taken), waiting for the head, and
//! reading the body. Streams (logs, events, archive download, attach) are also dropped after
//! a random number of items. Every call that completes — a normal one, or a raced one that
//! beat its deadline — is checked against ITS OWN answer (inspect of container k is k,
//! logs of k are the text k printed, an archive is the file put there, `_ping` is "OK"), and
//! every piece read before a drop must belong to that call's answer. At the end the same
//! client still answers correctly, the process holds at most `start + cap` descriptors
//! while the client lives (the pool keeps at most `max_connections` connections), and
//! exactly `start` once it is dropped.
//!
//! The run is seeded: the seed is printed, `BERTH_CANCEL_SEED=<n>` replays the same plan
//! (which call does what, with which deadline; the timing of the machine is not replayed).
//!
//! Run: `cargo test --features docker-v1_41,podman-v4_9,podman-v5_1_0 --test cancellation`.

#![cfg(feature = "docker-v1_41")]

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use berth::docker::v1_41::{_ping, containers, events, models};
use berth::{Client, StreamKind};
use bytes::Bytes;
use common::report::{self, Span};
use common::{within, Cleanup};
use futures_util::StreamExt;

/// Calls raced against a deadline or dropped mid-stream.
const RACED: usize = 10_000;
/// Every third call is a normal one: 5,000 of them.
const TOTAL: usize = RACED * 3 / 2;
/// Calls in flight at once.
const IN_FLIGHT: usize = 32;
/// The client's `max_connections`: below `IN_FLIGHT`, so calls also wait for a slot (and
/// are cancelled while waiting).
const CAP: usize = 24;
/// Exited containers with known output, a known `/note` and a known `/data/big.bin`.
const DONE: usize = 6;
const BIG: usize = 512 * 1024;
const UPLOAD: usize = 128 * 1024;
const UPLOAD_CHUNK: usize = 8 * 1024;
const LOG_LINES: usize = 100;

/// xorshift64*, seeded through splitmix64.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// An index into `weights`, with probability proportional to its weight.
    fn pick<T: Copy>(&mut self, weights: &[(T, u64)]) -> T {
        let total: u64 = weights.iter().map(|(_, w)| w).sum();
        let mut at = self.below(total);
        for (item, weight) in weights {
            if at < *weight {
                return *item;
            }
            at -= weight;
        }
        unreachable!()
    }
}

/// Bytes that depend on `seed` only.
fn bytes_of(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next().to_le_bytes());
    }
    out.truncate(len);
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Ping,
    Inspect,
    List,
    Logs,
    LogsFollowDone,
    LogsFollowChatty,
    Events,
    EventsBounded,
    ArchiveNote,
    ArchiveBig,
    AttachLogs,
    AttachChatty,
    Put,
}

impl Kind {
    /// Its answer is read whole by `invoke` (no head / body split visible).
    fn buffered(self) -> bool {
        matches!(self, Kind::Ping | Kind::Inspect | Kind::List | Kind::Put)
    }
}

/// Kinds raced against a deadline.
const RACED_KINDS: &[(Kind, u64)] = &[
    (Kind::Ping, 18),
    (Kind::Inspect, 18),
    (Kind::List, 5),
    (Kind::Logs, 10),
    (Kind::LogsFollowDone, 5),
    (Kind::LogsFollowChatty, 5),
    (Kind::Events, 6),
    (Kind::EventsBounded, 4),
    (Kind::ArchiveNote, 3),
    (Kind::ArchiveBig, 3),
    (Kind::AttachLogs, 5),
    (Kind::AttachChatty, 5),
    (Kind::Put, 4),
];

/// Streams dropped after a number of items.
const DROPPED_KINDS: &[(Kind, u64)] = &[
    (Kind::Logs, 3),
    (Kind::LogsFollowChatty, 3),
    (Kind::Events, 2),
    (Kind::ArchiveBig, 1),
    (Kind::AttachLogs, 2),
    (Kind::AttachChatty, 2),
];

/// Normal calls: every kind whose answer ends.
const NORMAL_KINDS: &[(Kind, u64)] = &[
    (Kind::Ping, 15),
    (Kind::Inspect, 25),
    (Kind::List, 5),
    (Kind::Logs, 10),
    (Kind::LogsFollowDone, 5),
    (Kind::EventsBounded, 5),
    (Kind::ArchiveNote, 4),
    (Kind::ArchiveBig, 2),
    (Kind::AttachLogs, 5),
    (Kind::Put, 3),
];

#[derive(Clone, Copy, Debug)]
enum Mode {
    Raced(Duration),
    /// Dropped after this many items (frames, events, chunks).
    Dropped(usize),
    Normal,
}

struct Done {
    id: String,
    name: String,
    out: String,
    err: String,
    note: String,
}

struct Fixture {
    tag: String,
    done: Vec<Done>,
    chatty: String,
    /// Every line the chatty container prints starts with this, then a number.
    chatty_prefix: String,
    big: Vec<u8>,
    ids: HashSet<String>,
    /// When the fixtures were being made (events replay from here).
    since: i64,
}

struct Ctx {
    client: Client,
    fx: Fixture,
    seed: u64,
}

/// Where a call was when its deadline fired, from what it had seen of its own progress.
fn stage(kind: Kind, phase: u8, taken: usize, chunks: usize) -> &'static str {
    if kind == Kind::Put {
        return match taken {
            0 => "upload: before its first body chunk (slot, connect, head)",
            t if t < chunks => "upload: writing the body",
            _ => "upload: body taken whole, waiting for the answer",
        };
    }
    match (kind.buffered(), phase) {
        (true, _) => "buffered: before the answer was whole",
        (false, 0) => "stream: before the head",
        _ => "stream: reading the body",
    }
}

fn label_filter(fx: &Fixture) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_string(),
        vec![format!("berth-cancel={}", fx.tag)],
    )])
}

/// Complete lines of the chatty container's output must be its own, each once numbered.
fn check_chatty(fx: &Fixture, pending: &mut Vec<u8>, data: &[u8]) -> Result<(), String> {
    pending.extend_from_slice(data);
    while let Some(end) = pending.iter().position(|b| *b == b'\n') {
        let line: Vec<u8> = pending.drain(..=end).collect();
        let line = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
        let ok = line
            .strip_prefix(&fx.chatty_prefix)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return Err(format!(
                "a chatty line that is not the chatty container's: {line:?}"
            ));
        }
    }
    Ok(())
}

/// Frames of a done container (logs or attach with logs): what was read must be a prefix
/// of what it printed, and all of it when the stream ended.
async fn check_done_frames(
    mut frames: berth::FrameStream,
    done: &Done,
    limit: Option<usize>,
) -> Result<(), String> {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut read = 0;
    loop {
        if limit.is_some_and(|n| read >= n) {
            break;
        }
        match frames.next().await {
            Some(Ok(frame)) => {
                read += 1;
                match frame.stream {
                    StreamKind::Stdout => out.extend_from_slice(&frame.data),
                    StreamKind::Stderr => err.extend_from_slice(&frame.data),
                    other => return Err(format!("a {other:?} frame in {}'s output", done.name)),
                }
                if !done.out.as_bytes().starts_with(&out) || !done.err.as_bytes().starts_with(&err)
                {
                    return Err(format!(
                        "{}'s output is not what it printed: stdout {:?}, stderr {:?}",
                        done.name,
                        String::from_utf8_lossy(&out),
                        String::from_utf8_lossy(&err)
                    ));
                }
            }
            Some(Err(e)) => return Err(format!("{}'s output: {e}", done.name)),
            None => {
                if out != done.out.as_bytes() || err != done.err.as_bytes() {
                    return Err(format!(
                        "{}'s output ended short: stdout {} of {} bytes, stderr {} of {}",
                        done.name,
                        out.len(),
                        done.out.len(),
                        err.len(),
                        done.err.len()
                    ));
                }
                break;
            }
        }
    }
    Ok(())
}

async fn check_chatty_frames(
    fx: &Fixture,
    mut frames: berth::FrameStream,
    limit: Option<usize>,
) -> Result<(), String> {
    let mut pending = Vec::new();
    let mut read = 0;
    while limit.is_none_or(|n| read < n) {
        match frames.next().await {
            Some(Ok(frame)) if frame.stream == StreamKind::Stdout => {
                read += 1;
                check_chatty(fx, &mut pending, &frame.data)?;
            }
            Some(Ok(frame)) => return Err(format!("a {:?} frame from chatty", frame.stream)),
            Some(Err(e)) => return Err(format!("chatty's output: {e}")),
            None => return Err("chatty's output ended while it runs".into()),
        }
    }
    Ok(())
}

fn check_event(
    fx: &Fixture,
    event: &models::EventMessage,
    only: Option<&str>,
) -> Result<(), String> {
    let id = event
        .actor
        .as_ref()
        .and_then(|a| a.id.as_deref())
        .unwrap_or("");
    let label = event
        .actor
        .as_ref()
        .and_then(|a| a.attributes.as_ref())
        .and_then(|a| a.get("berth-cancel"));
    if !fx.ids.contains(id) || label != Some(&fx.tag) || only.is_some_and(|o| o != id) {
        return Err(format!("an event that is not this call's: {event:?}"));
    }
    Ok(())
}

async fn check_archive(
    client: &Client,
    id: &str,
    path: &str,
    entry: &str,
    expected: &[u8],
    limit: Option<usize>,
    phase: &AtomicU8,
) -> Result<(), String> {
    let mut stream = client
        .invoke(containers::ContainerArchive {
            id: id.to_string(),
            path: path.to_string(),
        })
        .await
        .map_err(|e| format!("ContainerArchive {path}: {e}"))?;
    phase.store(1, Ordering::SeqCst);
    let mut archive = Vec::new();
    let mut read = 0;
    loop {
        if limit.is_some_and(|n| read >= n) {
            return Ok(());
        }
        match stream.next().await {
            Some(Ok(chunk)) => {
                read += 1;
                archive.extend_from_slice(&chunk);
            }
            Some(Err(e)) => return Err(format!("ContainerArchive {path}: {e}")),
            None => break,
        }
    }
    match common::file_in_tar(&archive, entry) {
        Some(data) if data == expected => Ok(()),
        Some(data) => Err(format!(
            "ContainerArchive {path}: {entry} is {} bytes, not the {} put there",
            data.len(),
            expected.len()
        )),
        None => Err(format!(
            "ContainerArchive {path}: no {entry} in the archive"
        )),
    }
}

/// One call of `kind`, read as `limit` says (`None`: to its end) and checked against its
/// own answer. `phase` becomes 1 when a stream's head arrived; `taken` counts the upload's
/// chunks hyper took.
async fn call(
    ctx: &Ctx,
    kind: Kind,
    k: usize,
    i: usize,
    limit: Option<usize>,
    phase: &AtomicU8,
    taken: &Arc<AtomicUsize>,
) -> Result<(), String> {
    let (client, fx) = (&ctx.client, &ctx.fx);
    let done = &fx.done[k];
    match kind {
        Kind::Ping => {
            let answer = client
                .invoke(_ping::SystemPing {})
                .await
                .map_err(|e| format!("SystemPing: {e}"))?;
            if answer != "OK" {
                return Err(format!("SystemPing answered {answer:?}"));
            }
        }
        Kind::Inspect => {
            let inspected = client
                .invoke(containers::ContainerInspect {
                    id: done.name.clone(),
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("ContainerInspect {}: {e}", done.name))?;
            let expected_name = format!("/{}", done.name);
            if inspected.id.as_deref() != Some(done.id.as_str())
                || inspected.name.as_deref() != Some(expected_name.as_str())
            {
                return Err(format!(
                    "ContainerInspect {} answered {:?} {:?}",
                    done.name, inspected.id, inspected.name
                ));
            }
        }
        Kind::List => {
            let listed = client
                .invoke(containers::ContainerList {
                    all: Some(true),
                    filters: Some(label_filter(fx)),
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("ContainerList: {e}"))?;
            let ids: HashSet<String> = listed.into_iter().filter_map(|c| c.id).collect();
            if ids != fx.ids {
                return Err(format!("ContainerList answered {ids:?}, not {:?}", fx.ids));
            }
        }
        Kind::Logs | Kind::LogsFollowDone => {
            let logs = client
                .invoke(containers::ContainerLogs {
                    id: done.id.clone(),
                    follow: Some(kind == Kind::LogsFollowDone),
                    stdout: Some(true),
                    stderr: Some(true),
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("ContainerLogs {}: {e}", done.name))?;
            phase.store(1, Ordering::SeqCst);
            check_done_frames(logs.frames(), done, limit).await?;
        }
        Kind::LogsFollowChatty => {
            let logs = client
                .invoke(containers::ContainerLogs {
                    id: fx.chatty.clone(),
                    follow: Some(true),
                    stdout: Some(true),
                    tail: Some("2".into()),
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("ContainerLogs chatty: {e}"))?;
            phase.store(1, Ordering::SeqCst);
            check_chatty_frames(fx, logs.frames(), limit).await?;
        }
        Kind::Events => {
            let mut stream = client
                .invoke(events::SystemEvents {
                    since: Some(fx.since.to_string()),
                    filters: Some(label_filter(fx)),
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("SystemEvents: {e}"))?;
            phase.store(1, Ordering::SeqCst);
            let mut read = 0;
            while limit.is_none_or(|n| read < n) {
                match stream.next().await {
                    Some(Ok(event)) => {
                        read += 1;
                        check_event(fx, &event, None)?;
                    }
                    Some(Err(e)) => return Err(format!("SystemEvents: {e}")),
                    None => return Err("an open-ended event stream ended".into()),
                }
            }
        }
        Kind::EventsBounded => {
            // The last two seconds of container k's events; the daemon ends the stream.
            let until = common::now_secs() - 1;
            let since = until - 2;
            let filters = HashMap::from([
                (
                    "label".to_string(),
                    vec![format!("berth-cancel={}", fx.tag)],
                ),
                ("container".to_string(), vec![done.id.clone()]),
            ]);
            let stream = client
                .invoke(events::SystemEvents {
                    since: Some(since.to_string()),
                    until: Some(until.to_string()),
                    filters: Some(filters),
                })
                .await
                .map_err(|e| format!("SystemEvents bounded: {e}"))?;
            phase.store(1, Ordering::SeqCst);
            let items = stream
                .collect_all()
                .await
                .map_err(|e| format!("SystemEvents bounded: {e}"))?;
            for event in &items {
                check_event(fx, event, Some(&done.id))?;
                let time = event.time.unwrap_or(0);
                if time < since || time > until {
                    return Err(format!("an event outside {since}..={until}: {event:?}"));
                }
            }
        }
        Kind::ArchiveNote => {
            check_archive(
                client,
                &done.id,
                "/note",
                "note",
                done.note.as_bytes(),
                limit,
                phase,
            )
            .await?;
        }
        Kind::ArchiveBig => {
            check_archive(
                client,
                &done.id,
                "/data/big.bin",
                "big.bin",
                &fx.big,
                limit,
                phase,
            )
            .await?;
        }
        Kind::AttachLogs => {
            let upgraded = client
                .invoke(containers::ContainerAttach {
                    id: done.id.clone(),
                    logs: Some(true),
                    stream: Some(false),
                    stdout: Some(true),
                    stderr: Some(true),
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("ContainerAttach {} (logs): {e}", done.name))?;
            phase.store(1, Ordering::SeqCst);
            let (frames, _stdin) = upgraded.split(false);
            check_done_frames(frames, done, limit).await?;
        }
        Kind::AttachChatty => {
            let upgraded = client
                .invoke(containers::ContainerAttach {
                    id: fx.chatty.clone(),
                    stream: Some(true),
                    stdout: Some(true),
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("ContainerAttach chatty: {e}"))?;
            phase.store(1, Ordering::SeqCst);
            let (frames, _stdin) = upgraded.split(false);
            check_chatty_frames(fx, frames, limit).await?;
        }
        Kind::Put => {
            let (name, content) = upload_of(ctx.seed, i);
            let tar = common::tar_of(&[(name.as_str(), 0o644, &content)]);
            let chunks: Vec<Bytes> = tar
                .chunks(UPLOAD_CHUNK)
                .map(Bytes::copy_from_slice)
                .collect();
            // A source slower than the socket (a millisecond between chunks), so that
            // deadlines also land while the body is being written.
            let counter = taken.clone();
            let paced = futures_util::stream::iter(chunks.into_iter().enumerate()).then(
                move |(n, chunk)| {
                    let counter = counter.clone();
                    async move {
                        if n > 0 {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                        // Counted as it is handed to hyper.
                        counter.fetch_add(1, Ordering::SeqCst);
                        Ok::<Bytes, std::io::Error>(chunk)
                    }
                },
            );
            let body = berth::Body::wrap_stream(paced);
            client
                .invoke(containers::PutContainerArchive {
                    id: done.id.clone(),
                    path: "/data".into(),
                    body,
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("PutContainerArchive {name}: {e}"))?;
        }
    }
    Ok(())
}

/// The file call `i` uploads (when it is an upload).
fn upload_of(seed: u64, i: usize) -> (String, Vec<u8>) {
    (
        format!("up-{i}.bin"),
        bytes_of(seed ^ 0xA5A5 ^ i as u64, UPLOAD),
    )
}

/// How many chunks an upload's tar is sent in.
fn upload_chunks() -> usize {
    let len = common::tar_of(&[("up-0.bin", 0o644, &vec![0u8; UPLOAD])]).len();
    len.div_ceil(UPLOAD_CHUNK)
}

/// A completed upload is there, whole: read back by a normal call.
async fn check_upload(ctx: &Ctx, k: usize, i: usize) -> Result<(), String> {
    let (name, content) = upload_of(ctx.seed, i);
    let phase = AtomicU8::new(0);
    check_archive(
        &ctx.client,
        &ctx.fx.done[k].id,
        &format!("/data/{name}"),
        &name,
        &content,
        None,
        &phase,
    )
    .await
}

#[derive(Default)]
struct Tally {
    /// (mode, kind, what happened) → count and total time taken
    rows: BTreeMap<(String, Kind, &'static str), (usize, Duration)>,
    stages: BTreeMap<&'static str, usize>,
    failures: Vec<String>,
    checked: usize,
    normal: usize,
    beat_deadline: usize,
    dropped: usize,
    upload_checks: usize,
}

/// The plan of call `i`: its mode, kind and container, from the seed alone.
fn plan(seed: u64, i: usize) -> (Mode, Kind, usize) {
    let mut rng = Rng::new(seed.wrapping_add((i as u64).wrapping_mul(0xD1B5_4A32_D192_ED03)));
    let k = rng.below(DONE as u64) as usize;
    if i % 3 == 2 {
        return (Mode::Normal, rng.pick(NORMAL_KINDS), k);
    }
    if rng.below(10) < 3 {
        let kind = rng.pick(DROPPED_KINDS);
        let n = match kind {
            Kind::Logs => rng.below(LOG_LINES as u64),
            Kind::LogsFollowChatty => rng.below(4),
            Kind::Events => rng.below(5),
            Kind::ArchiveBig => rng.below(6),
            Kind::AttachLogs => rng.below(LOG_LINES as u64),
            _ => rng.below(3),
        } as usize;
        return (Mode::Dropped(n), kind, k);
    }
    let kind = rng.pick(RACED_KINDS);
    let micros = if rng.below(4) == 0 {
        5_000 + rng.below(45_001)
    } else {
        rng.below(5_001)
    };
    (Mode::Raced(Duration::from_micros(micros)), kind, k)
}

async fn run_one(ctx: &Ctx, i: usize, chunks: usize, tally: &Mutex<Tally>) {
    let (mode, kind, k) = plan(ctx.seed, i);
    let phase = AtomicU8::new(0);
    let taken = Arc::new(AtomicUsize::new(0));
    let what = format!("call {i} ({mode:?} {kind:?} on container {k})");
    let began = Instant::now();
    let (label, result, upload_done): (&str, Result<(), String>, bool) = match mode {
        Mode::Normal => {
            let result = within(120, &what, call(ctx, kind, k, i, None, &phase, &taken)).await;
            let ok = result.is_ok();
            ("completed", result, ok && kind == Kind::Put)
        }
        Mode::Dropped(n) => {
            let result = within(120, &what, call(ctx, kind, k, i, Some(n), &phase, &taken)).await;
            ("dropped mid-stream", result, false)
        }
        Mode::Raced(deadline) => {
            let raced =
                tokio::time::timeout(deadline, call(ctx, kind, k, i, None, &phase, &taken)).await;
            match raced {
                Ok(result) => {
                    let ok = result.is_ok();
                    (
                        "completed before its deadline",
                        result,
                        ok && kind == Kind::Put,
                    )
                }
                Err(_) => (
                    stage(
                        kind,
                        phase.load(Ordering::SeqCst),
                        taken.load(Ordering::SeqCst),
                        chunks,
                    ),
                    Ok(()),
                    false,
                ),
            }
        }
    };
    let took = began.elapsed();
    let upload_checked = if upload_done {
        Some(within(120, &what, check_upload(ctx, k, i)).await)
    } else {
        None
    };
    let mut tally = tally.lock().unwrap();
    let mode_name = match mode {
        Mode::Normal => "normal",
        Mode::Dropped(_) => "dropped",
        Mode::Raced(_) => "raced",
    };
    let row = tally
        .rows
        .entry((mode_name.to_string(), kind, label))
        .or_default();
    row.0 += 1;
    row.1 += took;
    match mode {
        Mode::Normal => tally.normal += 1,
        Mode::Dropped(_) => tally.dropped += 1,
        Mode::Raced(_) if label == "completed before its deadline" => tally.beat_deadline += 1,
        Mode::Raced(_) => *tally.stages.entry(label).or_default() += 1,
    }
    match result {
        Ok(()) if label.starts_with("completed") => tally.checked += 1,
        Ok(()) => {}
        Err(e) => tally.failures.push(format!("{what}: {e}")),
    }
    if let Some(checked) = upload_checked {
        tally.upload_checks += 1;
        if let Err(e) = checked {
            tally
                .failures
                .push(format!("{what}: reading the upload back: {e}"));
        }
    }
}

/// Waits (up to 20 s) for the descriptor count to come down to `limit`: connections a
/// cancelled call dropped are closed by hyper's connection task, a moment later.
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

fn seed() -> u64 {
    match std::env::var("BERTH_CANCEL_SEED") {
        Ok(s) if !s.is_empty() => s
            .parse()
            .unwrap_or_else(|_| panic!("BERTH_CANCEL_SEED={s:?} is not a number")),
        _ => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

async fn create_done(client: &Client, cleanup: &Cleanup, tag: &str, k: usize) -> Done {
    let name = format!("{tag}-done-{k}");
    let script = format!(
        "i=0; while [ $i -lt {LOG_LINES} ]; do echo out-{k}-$i; i=$((i+1)); done; \
         echo err-{k}-{tag} >&2; echo note-{k}-{tag} > /note"
    );
    let id = create(client, cleanup, tag, &name, &script).await;
    start_and_wait(client, &id).await;
    Done {
        id,
        out: (0..LOG_LINES).map(|i| format!("out-{k}-{i}\n")).collect(),
        err: format!("err-{k}-{tag}\n"),
        note: format!("note-{k}-{tag}\n"),
        name,
    }
}

async fn create(client: &Client, cleanup: &Cleanup, tag: &str, name: &str, script: &str) -> String {
    let created = client
        .invoke(containers::ContainerCreate {
            name: Some(name.to_string()),
            body: models::ContainerCreateBody {
                image: Some(common::test_image()),
                cmd: Some(vec!["sh".into(), "-c".into(), script.into()]),
                labels: Some(HashMap::from([
                    ("berth-it".to_string(), "1".to_string()),
                    ("berth-cancel".to_string(), tag.to_string()),
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
        .expect("ContainerCreate");
    cleanup.container(created.id.clone());
    created.id
}

async fn start_and_wait(client: &Client, id: &str) {
    client
        .invoke(containers::ContainerStart {
            id: id.to_string(),
            ..Default::default()
        })
        .await
        .expect("ContainerStart");
    let waited = within(
        60,
        "ContainerWait",
        client.invoke(containers::ContainerWait {
            id: id.to_string(),
            ..Default::default()
        }),
    )
    .await
    .expect("ContainerWait");
    assert_eq!(waited.status_code, 0, "{waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancellation_at_every_stage_on_one_client() {
    // Before any client: the runtime's own descriptors and the test harness's.
    let fds_start = report::open_fds();
    let rss_start = report::rss_kib();
    let Some(gate) = common::docker().await else {
        return;
    };
    drop(gate);
    let seed = seed();
    eprintln!("cancellation: seed {seed} (replay with BERTH_CANCEL_SEED={seed})");

    let client = Client::builder(common::docker_uri())
        .max_connections(CAP)
        .build()
        .expect("client");
    let cleanup = Cleanup::new(&client);
    let tag = common::unique("cancel");
    let since = common::now_secs() - 1;

    // Fixtures: DONE exited containers with known output, a known /note and a known
    // /data/big.bin; one running container printing numbered lines.
    let big = bytes_of(seed ^ 0xB16, BIG);
    let big_tar = common::tar_of(&[("data/big.bin", 0o644, &big)]);
    let mut done = Vec::new();
    for k in 0..DONE {
        let d = create_done(&client, &cleanup, &tag, k).await;
        client
            .invoke(containers::PutContainerArchive {
                id: d.id.clone(),
                path: "/".into(),
                body: berth::Body::from(big_tar.clone()),
                ..Default::default()
            })
            .await
            .expect("PutContainerArchive big.bin");
        done.push(d);
    }
    let chatty_prefix = format!("chatty-{tag}-");
    let chatty = create(
        &client,
        &cleanup,
        &tag,
        &format!("{tag}-chatty"),
        &format!("i=0; while :; do echo {chatty_prefix}$i; i=$((i+1)); sleep 0.02; done"),
    )
    .await;
    client
        .invoke(containers::ContainerStart {
            id: chatty.clone(),
            ..Default::default()
        })
        .await
        .expect("ContainerStart chatty");
    let ids: HashSet<String> = done
        .iter()
        .map(|d| d.id.clone())
        .chain([chatty.clone()])
        .collect();
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        fx: Fixture {
            tag: tag.clone(),
            done,
            chatty,
            chatty_prefix,
            big,
            ids,
            since,
        },
        seed,
    });

    // The fixtures answer as expected before anything is cancelled.
    let chunks = upload_chunks();
    for kind in [
        Kind::Ping,
        Kind::Inspect,
        Kind::List,
        Kind::Logs,
        Kind::ArchiveNote,
        Kind::ArchiveBig,
        Kind::AttachLogs,
    ] {
        let (phase, taken) = (AtomicU8::new(0), Arc::new(AtomicUsize::new(0)));
        within(
            60,
            "a fixture check",
            call(&ctx, kind, 0, 0, None, &phase, &taken),
        )
        .await
        .unwrap_or_else(|e| panic!("before the run, {kind:?}: {e}"));
    }
    for kind in [Kind::LogsFollowChatty, Kind::AttachChatty, Kind::Events] {
        let (phase, taken) = (AtomicU8::new(0), Arc::new(AtomicUsize::new(0)));
        within(
            60,
            "a fixture check",
            call(&ctx, kind, 0, 0, Some(3), &phase, &taken),
        )
        .await
        .unwrap_or_else(|e| panic!("before the run, {kind:?}: {e}"));
    }

    // Descriptors and resident memory, sampled through the run.
    let fds = Arc::new(Mutex::new(Span::new(fds_start as u64)));
    let rss = Arc::new(Mutex::new(Span::new(rss_start)));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (fds, rss, stop) = (fds.clone(), rss.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                fds.lock().unwrap().sample(report::open_fds() as u64);
                rss.lock().unwrap().sample(report::rss_kib());
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        })
    };

    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let workers: Vec<_> = (0..IN_FLIGHT)
        .map(|_| {
            let (ctx, next, tally) = (ctx.clone(), next.clone(), tally.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= TOTAL {
                        return;
                    }
                    run_one(&ctx, i, chunks, &tally).await;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("a worker panicked");
    }
    let wall = started.elapsed();

    // The same client, after all that: every kind still gets its own answer.
    for k in 0..DONE {
        for kind in [
            Kind::Inspect,
            Kind::Logs,
            Kind::ArchiveNote,
            Kind::AttachLogs,
        ] {
            let (phase, taken) = (AtomicU8::new(0), Arc::new(AtomicUsize::new(0)));
            if let Err(e) = within(
                60,
                "a final check",
                call(&ctx, kind, k, 0, None, &phase, &taken),
            )
            .await
            {
                tally
                    .lock()
                    .unwrap()
                    .failures
                    .push(format!("after the run, {kind:?} of {k}: {e}"));
            }
        }
    }
    let ping = client.invoke(_ping::SystemPing {}).await;

    // With the client alive: at most `CAP` connections open (idle ones kept by the pool).
    let fds_alive = settle(fds_start + CAP).await;
    stop.store(true, Ordering::SeqCst);
    sampler.await.expect("sampler");
    drop(ctx);
    drop(client);
    // Dropped: hyper's connection tasks end with their idle connections.
    let fds_end = settle(fds_start).await;
    let rss_end = report::rss_kib();
    let (mut fds, mut rss) = (*fds.lock().unwrap(), *rss.lock().unwrap());
    fds.sample(fds_end as u64);
    rss.sample(rss_end);

    let tally = std::mem::take(&mut *tally.lock().unwrap());
    for ((mode, kind, label), (n, took)) in &tally.rows {
        eprintln!(
            "  {mode:8} {:18} {label:60} {n:5} calls, {:6.1} ms each",
            format!("{kind:?}"),
            took.as_secs_f64() * 1000.0 / *n as f64
        );
    }
    let stages: Vec<String> = tally
        .stages
        .iter()
        .map(|(stage, n)| format!("{stage} {n}"))
        .collect();
    let raced_total: usize = tally.stages.values().sum::<usize>() + tally.beat_deadline;
    let figures = format!(
        "seed {seed}; {TOTAL} calls ({} raced, {} dropped mid-stream, {} normal) + {} upload read-backs, \
         {IN_FLIGHT} in flight, max_connections {CAP}; cancelled by the deadline: {}; \
         completed before the deadline {}; answers checked {}; wall {:.1}s; \
         fds start/peak/end {fds} (alive after the run {fds_alive}, cap {CAP}); RSS KiB {rss}",
        raced_total,
        tally.dropped,
        tally.normal,
        tally.upload_checks,
        stages.join(", "),
        tally.beat_deadline,
        tally.checked + tally.upload_checks,
        wall.as_secs_f64(),
    );
    let failed = !tally.failures.is_empty()
        || ping.as_deref().ok() != Some("OK")
        || fds_alive > fds_start + CAP
        || fds_end != fds_start;
    let outcome = if failed {
        format!(
            "FAILED: {} wrong or failed answers (first: {:?}); ping after {:?}; fds alive {fds_alive}, end {fds_end} vs start {fds_start}",
            tally.failures.len(),
            tally.failures.first(),
            ping
        )
    } else {
        "every completed call had its own answer; no error, panic or hang; the client answers after; \
         descriptors ≤ start + cap while it lives, back to start when dropped"
            .to_string()
    };
    report::record(
        "cancellation",
        "10,000 calls raced against 0–5 ms deadlines (a quarter 5–50 ms) or dropped mid-stream, among 5,000 normal ones, 32 in flight on one client (dockerd)",
        &outcome,
        &figures,
    );

    assert!(
        tally.failures.is_empty(),
        "{} calls got a wrong answer or failed; the first ones:\n{}",
        tally.failures.len(),
        tally
            .failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(ping.expect("SystemPing after the run"), "OK");
    assert_eq!(raced_total + tally.dropped, RACED);
    // Open-ended streams (chatty logs and attach, live events) never end: their raced
    // calls are all cancelled, so the deadlines did cancel calls.
    assert!(
        tally.stages.values().sum::<usize>() > 0,
        "no call was cancelled by its deadline"
    );
    assert!(
        fds_alive <= fds_start + CAP,
        "{fds_alive} descriptors open with the client alive after the run: more than {fds_start} + {CAP} (its cap)"
    );
    assert_eq!(
        fds_end, fds_start,
        "descriptors after the client was dropped vs before it was made"
    );
    drop(cleanup);
}
