//! The checks of answers: every piece a call read, even one dropped or cancelled half-way,
//! must belong to that call's own answer (a piece of another call's answer would mean a
//! connection was handed on with a cancelled call's bytes still in it).

use berth::docker::v1_41::models;
use berth::{Frame, FrameStream, StreamKind};
use futures_util::{Stream, StreamExt};

use crate::fixture::{Done, Fixture, LABEL};

/// Reads `stream` to its end, or until `limit` items were read (then dropped), handing each
/// item to `each`. Whether the stream ended; `what` names it in an error.
pub async fn read_up_to<T>(
    mut stream: impl Stream<Item = berth::Result<T>> + Unpin,
    limit: Option<usize>,
    what: &str,
    mut each: impl FnMut(T) -> Result<(), String>,
) -> Result<bool, String> {
    let mut read = 0;
    while limit.is_none_or(|n| read < n) {
        match stream.next().await {
            Some(Ok(item)) => {
                read += 1;
                each(item)?;
            }
            Some(Err(e)) => return Err(format!("{what}: {e}")),
            None => return Ok(true),
        }
    }
    Ok(false)
}

/// Frames of a done container (logs or attach with logs): what was read must be a prefix
/// of what it printed, and all of it when the stream ended.
pub async fn check_done_frames(
    frames: FrameStream,
    done: &Done,
    limit: Option<usize>,
) -> Result<(), String> {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let each = |frame: Frame| {
        match frame.stream {
            StreamKind::Stdout => out.extend_from_slice(&frame.data),
            StreamKind::Stderr => err.extend_from_slice(&frame.data),
            other => return Err(format!("a {other:?} frame in {}'s output", done.name)),
        }
        if !done.out.as_bytes().starts_with(&out) || !done.err.as_bytes().starts_with(&err) {
            return Err(format!(
                "{}'s output is not what it printed: stdout {:?}, stderr {:?}",
                done.name,
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&err)
            ));
        }
        Ok(())
    };
    let what = format!("{}'s output", done.name);
    let ended = read_up_to(frames, limit, &what, each).await?;
    if ended && (out != done.out.as_bytes() || err != done.err.as_bytes()) {
        return Err(format!(
            "{}'s output ended short: stdout {} of {} bytes, stderr {} of {}",
            done.name,
            out.len(),
            done.out.len(),
            err.len(),
            done.err.len()
        ));
    }
    Ok(())
}

/// Frames of the chatty container (logs or attach): stdout only, its own lines, and no end
/// while it runs.
pub async fn check_chatty_frames(
    fx: &Fixture,
    frames: FrameStream,
    limit: Option<usize>,
) -> Result<(), String> {
    let mut pending = Vec::new();
    let each = |frame: Frame| match frame.stream {
        StreamKind::Stdout => check_chatty(fx, &mut pending, &frame.data),
        other => Err(format!("a {other:?} frame from chatty")),
    };
    if read_up_to(frames, limit, "chatty's output", each).await? {
        return Err("chatty's output ended while it runs".into());
    }
    Ok(())
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

/// An event must be about one of this run's containers (`only`: that one).
pub fn check_event(
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
        .and_then(|a| a.get(LABEL));
    if !fx.ids.contains(id) || label != Some(&fx.tag) || only.is_some_and(|o| o != id) {
        return Err(format!("an event that is not this call's: {event:?}"));
    }
    Ok(())
}

/// A whole archive of `path` holds `entry` with the bytes put there.
pub fn check_archive(
    archive: &[u8],
    path: &str,
    entry: &str,
    expected: &[u8],
) -> Result<(), String> {
    match crate::common::file_in_tar(archive, entry) {
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
