//! Taking an engine down and bringing it back with `scripts/engines`. What every case
//! checks and reports around the fault is in `outage.rs`.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

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

/// The `scripts/engines` service behind an engine the tests name: `docker` and `podman` are
/// whichever generation the run is on (`BERTH_DOCKER_SERVICE=docker-newest`,
/// `BERTH_PODMAN_SERVICE=podman-newest`, set by `scripts/test`), the rest as they are.
pub fn service(name: &'static str) -> &'static str {
    let variable = match name {
        "docker" => "BERTH_DOCKER_SERVICE",
        "podman" => "BERTH_PODMAN_SERVICE",
        _ => return name,
    };
    match std::env::var(variable) {
        Ok(service) if !service.is_empty() => Box::leak(service.into_boxed_str()),
        _ => name,
    }
}

impl Fault {
    /// Starts `scripts/engines HOW SERVICE` (`kill` / `stop`) and returns at once; `SERVICE`
    /// as [`service`] resolves it.
    pub fn start(how: &str, service: &'static str) -> Fault {
        let service = self::service(service);
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
