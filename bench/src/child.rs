//! Log follows and uploads each run in a child process of their own, so that the peak RSS
//! (VmHWM) a child reports is that one client's; a child that does nothing gives the
//! baseline. The child prints one line: bytes, wall µs, CPU µs, peak RSS in KiB.

use std::path::Path;
use std::time::Duration;

use crate::measure::peak_rss_kib;
use crate::Result;

/// What a child measures of its one follow or upload (the client is made, and connected,
/// before the clock starts).
pub struct Run {
    pub bytes: u64,
    pub wall: Duration,
    pub cpu: Duration,
}

impl Run {
    /// The child's line for the parent.
    pub fn report(&self) -> Result<()> {
        println!(
            "{} {} {} {}",
            self.bytes,
            self.wall.as_micros(),
            self.cpu.as_micros(),
            peak_rss_kib()?
        );
        Ok(())
    }
}

/// What the parent reads of one child.
pub struct Child {
    pub bytes: u64,
    pub wall_ms: f64,
    pub cpu_ms: f64,
    pub rss_kib: u64,
}

impl Child {
    pub fn wall(&self) -> f64 {
        self.wall_ms
    }

    pub fn cpu(&self) -> f64 {
        self.cpu_ms
    }
}

/// Runs this executable with `args` and reads its line; `what` names it in errors.
pub fn spawn(exe: &Path, what: &str, args: &[&str]) -> Result<Child> {
    let out = std::process::Command::new(exe).args(args).output()?;
    if !out.status.success() {
        return Err(format!(
            "{what} child failed ({}): {}",
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
        .map_err(|e| format!("{what} child printed {text:?}: {e}"))?;
    let [bytes, wall, cpu, rss] = fields[..] else {
        return Err(format!("{what} child printed {text:?}").into());
    };
    Ok(Child {
        bytes,
        wall_ms: wall as f64 / 1e3,
        cpu_ms: cpu as f64 / 1e3,
        rss_kib: rss,
    })
}

/// The median over rounds of `f`.
pub fn median_of(runs: &[Child], f: fn(&Child) -> f64) -> f64 {
    crate::measure::median(&runs.iter().map(f).collect::<Vec<_>>())
}

/// The highest peak RSS over rounds.
pub fn peak(runs: &[Child]) -> u64 {
    runs.iter().map(|r| r.rss_kib).max().unwrap_or(0)
}

/// The median over rounds of each round's peak RSS: what "flat" is judged on, so that one
/// transient burst of buffering does not decide it (the tables show the highest).
pub fn typical_peak(runs: &[Child]) -> f64 {
    median_of(runs, |r| r.rss_kib as f64)
}
