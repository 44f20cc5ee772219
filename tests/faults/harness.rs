//! Taking an engine down and bringing it back with `scripts/engines`, and what every case
//! checks and reports the same way.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use berth::Error;

use crate::common;

pub fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/engines")
}

fn uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Whether this process can stop and start the engines: it is root and `scripts/engines`
/// is there. A failure under `CI`, a skip with the reason otherwise.
pub fn can_inject() -> bool {
    let script = script();
    let endpoint = script.display().to_string();
    if !script.is_file() {
        return common::unavailable::<()>("fault injection", &endpoint, &"no such script")
            .is_some();
    }
    match uid() {
        Some(0) => true,
        other => common::unavailable::<()>(
            "fault injection",
            &endpoint,
            &format!(
                "this process is not root (uid {other:?}): it cannot kill and restart engines"
            ),
        )
        .is_some(),
    }
}

fn run(args: &[String]) -> Output {
    let output = Command::new("bash")
        .arg(script())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run scripts/engines {args:?}: {e}"));
    eprint!("{}", String::from_utf8_lossy(&output.stdout));
    output
}

fn check(args: &[String], output: &Output) {
    assert!(
        output.status.success(),
        "scripts/engines {} failed ({}): {}{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `scripts/engines ARGS...` to its end, off the runtime's thread (streams are read
/// meanwhile); how long it took.
pub async fn engines(args: &[&str]) -> Duration {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let started = Instant::now();
    let (args, output) = tokio::task::spawn_blocking(move || {
        let output = run(&args);
        (args, output)
    })
    .await
    .expect("scripts/engines task");
    check(&args, &output);
    started.elapsed()
}

/// A service a test took down (`kill` or `stop`). `restore` brings it back; if the test
/// fails first, dropping the fault does, so that no engine is left down.
pub struct Fault {
    service: &'static str,
    /// When the script that takes it down was started.
    pub at: Instant,
    taking_down: Option<tokio::task::JoinHandle<(Vec<String>, Output)>>,
    restored: bool,
}

impl Fault {
    /// Starts `scripts/engines HOW SERVICE` (`kill` / `stop`) and returns at once.
    pub fn start(how: &str, service: &'static str) -> Fault {
        eprintln!("fault: scripts/engines {how} {service}");
        let args = vec![how.to_string(), service.to_string()];
        let at = Instant::now();
        let taking_down = tokio::task::spawn_blocking(move || {
            let output = run(&args);
            (args, output)
        });
        Fault {
            service,
            at,
            taking_down: Some(taking_down),
            restored: false,
        }
    }

    /// Waits until the service is gone (the script returned).
    pub async fn gone(&mut self) {
        if let Some(task) = self.taking_down.take() {
            let (args, output) = common::within(60, "taking the engine down", task)
                .await
                .expect("scripts/engines task");
            check(&args, &output);
        }
    }

    /// `scripts/engines up SERVICE`: how long the restart took.
    pub async fn restore(&mut self) -> Duration {
        self.gone().await;
        let took = engines(&["up", self.service]).await;
        self.restored = true;
        took
    }
}

impl Drop for Fault {
    fn drop(&mut self) {
        if !self.restored {
            eprintln!(
                "fault: the test ended before it restored {}: scripts/engines up",
                self.service
            );
            // (the script's own lock waits for a kill still running)
            let args = vec!["up".to_string(), self.service.to_string()];
            let output = run(&args);
            if !output.status.success() {
                eprintln!(
                    "scripts/engines up {} failed: {}",
                    self.service,
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        }
    }
}

/// What every case reports besides what berth did.
pub struct Figures {
    /// From the start of the kill/stop to the error.
    pub error_after: Duration,
    /// `scripts/engines up` (None: nothing was restarted).
    pub restart: Option<Duration>,
    /// From the start of the kill/stop to the first call that succeeded afterwards.
    pub back_after: Duration,
    /// Calls made on the same client afterwards, all of them successful.
    pub calls: usize,
    pub extra: String,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "error {:.2}s after the fault",
            self.error_after.as_secs_f64()
        )?;
        if let Some(restart) = self.restart {
            write!(f, "; restart took {:.1}s", restart.as_secs_f64())?;
        }
        write!(
            f,
            "; answering again {:.1}s after the fault; {} calls after, all OK",
            self.back_after.as_secs_f64(),
            self.calls
        )?;
        if !self.extra.is_empty() {
            write!(f, "; {}", self.extra)?;
        }
        Ok(())
    }
}

/// The variant and the message, for the table: `Transport: ...`.
pub fn outcome(error: &Error) -> String {
    let variant = format!("{error:?}");
    let variant = variant
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_string();
    format!("Error::{variant}: {error}")
}

/// A body cut short by an engine that died: `Error::Transport` for `operation`, saying the
/// connection closed (or was reset) before the answer was complete.
pub fn assert_cut_short(error: &Error, operation: &str) {
    eprintln!("{operation} after the fault: {error}");
    match error {
        Error::Transport {
            operation: op,
            source,
            ..
        } => {
            assert_eq!(op, operation, "{error}");
            let text = source.to_string();
            assert!(
                text.contains("the engine closed the connection before its answer was complete")
                    || text.contains("reset by peer"),
                "a transport error that does not say the engine went away: {error}"
            );
        }
        other => {
            panic!("{operation}: expected Error::Transport for a body cut short, got {other:?}")
        }
    }
}

/// Counts the calls made after the fault, and when the first one succeeded.
pub struct After {
    fault_at: Instant,
    pub calls: usize,
    pub back_after: Option<Duration>,
}

impl After {
    pub fn new(fault: &Fault) -> After {
        After {
            fault_at: fault.at,
            calls: 0,
            back_after: None,
        }
    }

    /// Records one successful call; the call must be OK (`expect`-style).
    pub fn ok<T>(&mut self, what: &str, result: berth::Result<T>) -> T {
        let value = result.unwrap_or_else(|e| panic!("{what} after the engine came back: {e:?}"));
        self.calls += 1;
        self.back_after
            .get_or_insert_with(|| self.fault_at.elapsed());
        value
    }
}

/// Reads a stream after a fault until its error, within `secs`: the items read meanwhile,
/// and the error. A stream that ends as if complete fails the test.
pub async fn until_error<S, T>(stream: &mut S, secs: u64, what: &str) -> (Vec<T>, Error)
where
    S: futures_util::Stream<Item = berth::Result<T>> + Unpin,
{
    use futures_util::StreamExt;
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
    S: futures_util::Stream<Item = berth::Result<T>> + Unpin,
    T: std::fmt::Debug,
{
    use futures_util::StreamExt;
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
