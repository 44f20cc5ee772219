//! One planned call run as its mode says, and the tally of what became of all of them:
//! which were cancelled at which stage, which completed and were checked, which failed.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::calls::{call, check_upload, Ctx, Progress};
use crate::common::within;
use crate::plan::{plan, Kind, Mode};

/// What became of a call.
#[derive(Clone, Copy)]
enum End {
    /// A normal call, read to its end.
    Completed,
    /// A raced call that completed before its deadline.
    BeatDeadline,
    /// A stream dropped after its planned number of items.
    Dropped,
    /// A raced call cancelled by its deadline, at this stage.
    Cancelled(&'static str),
}

impl End {
    fn label(self) -> &'static str {
        match self {
            End::Completed => "completed",
            End::BeatDeadline => "completed before its deadline",
            End::Dropped => "dropped mid-stream",
            End::Cancelled(stage) => stage,
        }
    }
}

/// Where a call was when its deadline fired, from what it had seen of its own progress.
fn stage(kind: Kind, progress: &Progress, chunks: usize) -> &'static str {
    if kind == Kind::Put {
        return match progress.taken.load(Ordering::SeqCst) {
            0 => "upload: before its first body chunk (slot, connect, head)",
            t if t < chunks => "upload: writing the body",
            _ => "upload: body taken whole, waiting for the answer",
        };
    }
    match (kind.buffered(), progress.head.load(Ordering::SeqCst)) {
        (true, _) => "buffered: before the answer was whole",
        (false, false) => "stream: before the head",
        _ => "stream: reading the body",
    }
}

#[derive(Default)]
pub struct Tally {
    /// (mode, kind, what happened) → count and total time taken
    rows: BTreeMap<(&'static str, Kind, &'static str), (usize, Duration)>,
    /// Raced calls cancelled by their deadline, by stage.
    pub stages: BTreeMap<&'static str, usize>,
    pub failures: Vec<String>,
    pub checked: usize,
    pub normal: usize,
    pub beat_deadline: usize,
    pub dropped: usize,
    pub upload_checks: usize,
}

/// Runs call `i` as planned (`chunks`: how many an upload is sent in) and tallies it.
pub async fn run_one(ctx: &Ctx, i: usize, chunks: usize, tally: &Mutex<Tally>) {
    let (mode, kind, k) = plan(ctx.seed, i);
    let progress = Progress::default();
    let what = format!("call {i} ({mode:?} {kind:?} on container {k})");
    let limit = match mode {
        Mode::Dropped(n) => Some(n),
        _ => None,
    };
    let calling = call(ctx, kind, k, i, limit, &progress);
    let began = Instant::now();
    let (end, result) = match mode {
        Mode::Normal => (End::Completed, within(120, &what, calling).await),
        Mode::Dropped(_) => (End::Dropped, within(120, &what, calling).await),
        Mode::Raced(deadline) => match tokio::time::timeout(deadline, calling).await {
            Ok(result) => (End::BeatDeadline, result),
            Err(_) => (End::Cancelled(stage(kind, &progress, chunks)), Ok(())),
        },
    };
    let took = began.elapsed();
    let completed = matches!(end, End::Completed | End::BeatDeadline);
    let upload_checked = if completed && result.is_ok() && kind == Kind::Put {
        Some(within(120, &what, check_upload(ctx, k, i)).await)
    } else {
        None
    };

    let mut tally = tally.lock().unwrap();
    let row = tally
        .rows
        .entry((mode.name(), kind, end.label()))
        .or_default();
    row.0 += 1;
    row.1 += took;
    match end {
        End::Completed => tally.normal += 1,
        End::Dropped => tally.dropped += 1,
        End::BeatDeadline => tally.beat_deadline += 1,
        End::Cancelled(stage) => *tally.stages.entry(stage).or_default() += 1,
    }
    match result {
        Ok(()) if completed => tally.checked += 1,
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

impl Tally {
    /// Raced calls cancelled by their deadline.
    pub fn cancelled(&self) -> usize {
        self.stages.values().sum()
    }

    /// Every raced call: cancelled, or completed before its deadline.
    pub fn raced(&self) -> usize {
        self.cancelled() + self.beat_deadline
    }

    /// `stage n, stage n, ...`
    pub fn stages_text(&self) -> String {
        let stages: Vec<String> = self
            .stages
            .iter()
            .map(|(stage, n)| format!("{stage} {n}"))
            .collect();
        stages.join(", ")
    }

    /// One line per (mode, kind, what happened), on stderr: how many, how long each took.
    pub fn print_rows(&self) {
        for ((mode, kind, label), (n, took)) in &self.rows {
            eprintln!(
                "  {mode:8} {:18} {label:60} {n:5} calls, {:6.1} ms each",
                format!("{kind:?}"),
                took.as_secs_f64() * 1000.0 / *n as f64
            );
        }
    }
}
