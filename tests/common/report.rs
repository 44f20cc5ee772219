//! Rows of the "Reliability" table (`docs/reliability.md`), written by the fault,
//! cancellation and load tests as they run, and the process figures they report
//! (descriptors, resident memory).
//!
//! Each row is appended, in one write, to `target/tmp/reliability/<area>.md`; `scripts/test`
//! clears that folder before the reliability stage and prints the table after it.

use std::io::Write;
use std::path::PathBuf;

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("reliability")
}

/// The engines a run is on, for the table's first column: `BERTH_ENGINE_LABEL`, which
/// `scripts/test` writes from the engines' own `/version` ("Docker 28.5.2+dfsg4 (API 1.51),
/// Podman 5.8.6"), else the sockets the tests use.
fn engines() -> String {
    match std::env::var("BERTH_ENGINE_LABEL") {
        Ok(label) if !label.is_empty() => label,
        _ => format!(
            "docker at {}, podman at {}",
            super::docker_uri(),
            super::podman_uri()
        ),
    }
}

/// One row: the engines, the area (`fault`, `cancellation`, `load`, `decoder`), the case,
/// what berth did, and the figures measured. Pipes in the text are escaped for markdown.
pub fn record(area: &str, case: &str, outcome: &str, figures: &str) {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let row = format!(
        "| {} | {} | {} | {} | {} |\n",
        cell(&engines()),
        cell(area),
        cell(case),
        cell(outcome),
        cell(figures)
    );
    eprint!("reliability: {row}");
    let dir = folder();
    std::fs::create_dir_all(&dir).expect("reliability folder");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{area}.md")))
        .expect("reliability file");
    file.write_all(row.as_bytes()).expect("reliability row");
}

/// Open file descriptors of this process (`/proc/self/fd`, less the one reading it).
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
        .saturating_sub(1)
}

/// Resident memory of this process now, in KiB (`VmRSS` of `/proc/self/status`).
pub fn rss_kib() -> u64 {
    status_field("VmRSS:")
}

fn status_field(name: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} in /proc/self/status"))
}

/// Start, peak and end of a figure sampled through a run.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub start: u64,
    pub peak: u64,
    pub end: u64,
}

impl Span {
    pub fn new(start: u64) -> Span {
        Span {
            start,
            peak: start,
            end: start,
        }
    }

    pub fn sample(&mut self, now: u64) {
        self.peak = self.peak.max(now);
        self.end = now;
    }
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.start, self.peak, self.end)
    }
}
