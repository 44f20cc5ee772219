//! One call of each kind, read as far as its mode says and checked against its own answer,
//! telling what it has seen of its own progress (so that a cancelled call can say at which
//! stage its deadline fired).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use berth::docker::v1_41::{_ping, containers, events};
use berth::Client;
use bytes::Bytes;
use futures_util::StreamExt;

use crate::answers::{
    check_archive, check_chatty_frames, check_done_frames, check_event, read_up_to,
};
use crate::common::stress::{inspect_is, label_filter, labelled_ids};
use crate::common::{self, within};
use crate::fixture::{Fixture, LABEL};
use crate::plan::{upload_of, Kind, UPLOAD};

/// What every call needs: the one client, the containers, the seed (for uploads' bytes).
pub struct Ctx {
    pub client: Client,
    pub fx: Fixture,
    pub seed: u64,
}

/// An upload's tar is handed to hyper in chunks of this size.
const UPLOAD_CHUNK: usize = 8 * 1024;

/// How far a call got: a stream's head arrived; an upload's chunks hyper took.
#[derive(Default)]
pub struct Progress {
    pub head: AtomicBool,
    pub taken: Arc<AtomicUsize>,
}

impl Progress {
    fn got_head(&self) {
        self.head.store(true, Ordering::SeqCst);
    }
}

/// One call of `kind` about container `k` (and upload `i`), read as `limit` says (`None`:
/// to its end) and checked against its own answer.
pub async fn call(
    ctx: &Ctx,
    kind: Kind,
    k: usize,
    i: usize,
    limit: Option<usize>,
    progress: &Progress,
) -> Result<(), String> {
    let (client, fx) = (&ctx.client, &ctx.fx);
    let done = &fx.done[k];
    match kind {
        Kind::Ping => {
            let answer = client
                .invoke(_ping::SystemPing {})
                .await
                .map_err(|e| format!("SystemPing: {e}"))?;
            if answer.body != "OK" {
                return Err(format!("SystemPing answered {answer:?}"));
            }
        }
        Kind::Inspect => inspect_is(client, &done.name, &done.id).await?,
        Kind::List => {
            let ids = labelled_ids(client, LABEL, &fx.tag).await?;
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
            progress.got_head();
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
            progress.got_head();
            check_chatty_frames(fx, logs.frames(), limit).await?;
        }
        Kind::Events => {
            let stream = client
                .invoke(events::SystemEvents {
                    since: Some(fx.since.to_string()),
                    filters: Some(label_filter(LABEL, &fx.tag)),
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("SystemEvents: {e}"))?;
            progress.got_head();
            let each = |event| check_event(fx, &event, None);
            if read_up_to(stream, limit, "SystemEvents", each).await? {
                return Err("an open-ended event stream ended".into());
            }
        }
        Kind::EventsBounded => {
            // The last two seconds of container k's events; the daemon ends the stream.
            let until = common::now_secs() - 1;
            let since = until - 2;
            let mut filters = label_filter(LABEL, &fx.tag);
            filters.insert("container".to_string(), vec![done.id.clone()]);
            let stream = client
                .invoke(events::SystemEvents {
                    since: Some(since.to_string()),
                    until: Some(until.to_string()),
                    filters: Some(filters),
                })
                .await
                .map_err(|e| format!("SystemEvents bounded: {e}"))?;
            progress.got_head();
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
            let note = done.note.as_bytes();
            archive(client, &done.id, "/note", "note", note, limit, progress).await?;
        }
        Kind::ArchiveBig => {
            let big = &fx.big;
            archive(
                client,
                &done.id,
                "/data/big.bin",
                "big.bin",
                big,
                limit,
                progress,
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
            progress.got_head();
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
            progress.got_head();
            let (frames, _stdin) = upgraded.split(false);
            check_chatty_frames(fx, frames, limit).await?;
        }
        Kind::Put => {
            let (name, content) = upload_of(ctx.seed, i);
            let tar = common::tar_of(&[(name.as_str(), 0o644, &content)]);
            client
                .invoke(containers::PutContainerArchive {
                    id: done.id.clone(),
                    path: "/data".into(),
                    body: paced(tar, progress.taken.clone()),
                    ..Default::default()
                })
                .await
                .map_err(|e| format!("PutContainerArchive {name}: {e}"))?;
        }
    }
    Ok(())
}

/// `ContainerArchive` of `path` in container `id`, read as `limit` says; read whole, it
/// must hold `entry` with the `expected` bytes.
async fn archive(
    client: &Client,
    id: &str,
    path: &str,
    entry: &str,
    expected: &[u8],
    limit: Option<usize>,
    progress: &Progress,
) -> Result<(), String> {
    let stream = client
        .invoke(containers::ContainerArchive {
            id: id.to_string(),
            path: path.to_string(),
        })
        .await
        .map_err(|e| format!("ContainerArchive {path}: {e}"))?;
    progress.got_head();
    let mut archive = Vec::new();
    let what = format!("ContainerArchive {path}");
    let each = |chunk: Bytes| {
        archive.extend_from_slice(&chunk);
        Ok(())
    };
    if !read_up_to(stream, limit, &what, each).await? {
        return Ok(());
    }
    check_archive(&archive, path, entry, expected)
}

/// A body from a source slower than the socket (a millisecond between chunks), so that
/// deadlines also land while it is being written; `taken` counts the chunks as they are
/// handed to hyper.
fn paced(tar: Vec<u8>, taken: Arc<AtomicUsize>) -> berth::Body {
    let chunks: Vec<Bytes> = tar
        .chunks(UPLOAD_CHUNK)
        .map(Bytes::copy_from_slice)
        .collect();
    let paced =
        futures_util::stream::iter(chunks.into_iter().enumerate()).then(move |(n, chunk)| {
            let taken = taken.clone();
            async move {
                if n > 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                taken.fetch_add(1, Ordering::SeqCst);
                Ok::<Bytes, std::io::Error>(chunk)
            }
        });
    berth::Body::wrap_stream(paced)
}

/// How many chunks an upload's tar is sent in.
pub fn upload_chunks() -> usize {
    let len = common::tar_of(&[("up-0.bin", 0o644, &vec![0u8; UPLOAD])]).len();
    len.div_ceil(UPLOAD_CHUNK)
}

/// A completed upload is there, whole: read back by a normal call.
pub async fn check_upload(ctx: &Ctx, k: usize, i: usize) -> Result<(), String> {
    let (name, content) = upload_of(ctx.seed, i);
    let (id, path) = (&ctx.fx.done[k].id, format!("/data/{name}"));
    let progress = Progress::default();
    archive(&ctx.client, id, &path, &name, &content, None, &progress).await
}

/// Each of `kinds` about each of `containers`, read as `limit` says: the errors, named
/// with `when` (before or after the run).
pub async fn check_kinds(
    ctx: &Ctx,
    when: &str,
    kinds: &[Kind],
    containers: std::ops::Range<usize>,
    limit: Option<usize>,
) -> Vec<String> {
    let mut failures = Vec::new();
    for k in containers {
        for &kind in kinds {
            let progress = Progress::default();
            let checked = within(60, when, call(ctx, kind, k, 0, limit, &progress));
            if let Err(e) = checked.await {
                failures.push(format!("{when}, {kind:?} of {k}: {e}"));
            }
        }
    }
    failures
}
