//! Reading a call's stream around a fault: up to the item a case waits for before it, up to
//! the error after it; and the log and events that cases read on either side.

use std::future::Future;

use berth::{Error, Frame, FrameStream, Multiplexed};
use futures_util::{Stream, StreamExt};

use crate::common;
use crate::outage::After;

/// A container command that logs `line 0`, `line 1`, ... ten times a second, for ever: a
/// log follow that is always in the middle of something.
pub const COUNTING: [&str; 3] = [
    "sh",
    "-c",
    "i=0; while :; do echo line $i; i=$((i+1)); sleep 0.1; done",
];

/// Reads a stream after a fault until its error, within `secs`: the items read meanwhile,
/// and the error. A stream that ends as if complete fails the test.
pub async fn until_error<S, T>(stream: &mut S, secs: u64, what: &str) -> (Vec<T>, Error)
where
    S: Stream<Item = berth::Result<T>> + Unpin,
{
    let mut items = Vec::new();
    let read = async {
        loop {
            match stream.next().await {
                Some(Ok(item)) => items.push(item),
                Some(Err(e)) => return e,
                None => panic!(
                    "{what} ended as if complete after the engine went away ({} items after the fault)",
                    items.len()
                ),
            }
        }
    };
    let error = common::within(secs, what, read).await;
    (items, error)
}

/// Reads a stream until `want` says an item is the one waited for, within `secs`.
pub async fn until_item<S, T>(
    stream: &mut S,
    secs: u64,
    what: &str,
    want: impl Fn(&T) -> bool,
) -> Vec<T>
where
    S: Stream<Item = berth::Result<T>> + Unpin,
    T: std::fmt::Debug,
{
    let mut items = Vec::new();
    let read = async {
        loop {
            match stream.next().await {
                Some(Ok(item)) => {
                    let done = want(&item);
                    items.push(item);
                    if done {
                        return;
                    }
                }
                Some(Err(e)) => panic!("{what}: {e:?} (after {items:?})"),
                None => panic!("{what}: the stream ended first: {items:?}"),
            }
        }
    };
    common::within(secs, what, read).await;
    items
}

/// Reads the follow of a [`COUNTING`] container up to `line 2`: the follow is live and has
/// delivered something that must still be in the log afterwards.
pub async fn first_lines(frames: &mut FrameStream) -> Vec<Frame> {
    until_item(frames, 20, "the first log lines", |f: &Frame| {
        String::from_utf8_lossy(&f.data).contains("line 2")
    })
    .await
}

/// The stdout of a container's log read after the fault (two calls: the request, the body).
pub async fn log_text(
    after: &mut After,
    operation: &str,
    logs: berth::Result<Multiplexed>,
) -> String {
    let logs = after.ok(operation, logs);
    let (out, _) = after.ok("log frames", logs.frames().collect_output().await);
    String::from_utf8_lossy(&out).into_owned()
}

/// Creates a container (`create`, which answers its id) and reads `events` until its create
/// event (`is_create`), within 20 s: the items read.
pub async fn until_create<S, T>(
    events: &mut S,
    what: &str,
    create: impl Future<Output = String>,
    is_create: impl Fn(&T, &str) -> bool,
) -> Vec<T>
where
    S: Stream<Item = berth::Result<T>> + Unpin,
    T: std::fmt::Debug,
{
    let id = create.await;
    until_item(events, 20, what, |e: &T| is_create(e, &id)).await
}
