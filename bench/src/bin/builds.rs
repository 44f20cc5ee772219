//! Image builds of a large context, side by side: berth through BuildKit (`berth::buildkit`),
//! berth through the legacy builder (a streamed tar, `POST /build`), and the `docker` CLI
//! with BuildKit when it can (CLI 23 and later need the buildx plugin for it). Each build is a process of its own, timed by
//! `/usr/bin/time`: wall time, client CPU (user + system) and peak RSS, for contexts of
//! 10 MB and 100 MB (peak RSS should not grow with the context). Every build gets a fresh
//! copy of the context, so that BuildKit's copy of an earlier one cannot spare the transfer.
//!
//! `cargo run --release -p berth-bench --bin builds [-- --rounds N]` (default 3)

use std::path::{Path, PathBuf};
use std::process::Command;

use berth::buildkit::{BuildEvent, BuildKitBuild};
use futures_util::StreamExt;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn socket() -> String {
    std::env::var("BERTH_DOCKER_SOCK").unwrap_or_else(|_| "/var/run/docker.sock".into())
}

fn image() -> String {
    std::env::var("BERTH_TEST_IMAGE").unwrap_or_else(|_| "berth-test/busybox:latest".into())
}

fn main() -> Result {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        return child(&args[2], Path::new(&args[3]), &args[4]);
    }
    let rounds: usize = match args.iter().position(|a| a == "--rounds") {
        Some(i) => args.get(i + 1).ok_or("--rounds N")?.parse()?,
        None => 3,
    };
    let exe = std::env::current_exe()?;
    let work = std::env::temp_dir().join(format!("berth-build-bench-{}", std::process::id()));
    let cli = buildkit_cli();
    let has_cli = cli.is_some();
    if !has_cli {
        println!("no docker CLI that builds with BuildKit here (CLI 23+ needs buildx): left out");
    }
    let mut clients = vec!["berth-buildkit", "berth-legacy"];
    if has_cli {
        clients.push("docker-cli");
    }
    println!(
        "dockerd at {}; {rounds} rounds; clients: {}; load average {}",
        socket(),
        clients.join(", "),
        std::fs::read_to_string("/proc/loadavg")?
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut rows = Vec::new();
    for mb in [10u64, 100] {
        let source = work.join(format!("source-{mb}"));
        make_context(&source, mb)?;
        let mut results: Vec<Vec<(f64, f64, u64)>> = vec![Vec::new(); clients.len()];
        for round in 0..rounds {
            // Rotate who goes first: the machine's drift falls on all alike.
            for k in 0..clients.len() {
                let i = (k + round) % clients.len();
                let context = work.join(format!("ctx-{mb}-{round}-{i}"));
                copy(&source, &context)?;
                let tag = format!("berth-bench-build:{mb}-{round}-{i}");
                let measured = timed(&exe, clients[i], &context, &tag)?;
                let _ = std::fs::remove_dir_all(&context);
                let _ = Command::new("docker")
                    .args(["-H", &format!("unix://{}", socket()), "rmi", "-f", &tag])
                    .output();
                results[i].push(measured);
            }
        }
        for (i, client) in clients.iter().enumerate() {
            let mut wall: Vec<f64> = results[i].iter().map(|r| r.0).collect();
            let mut cpu: Vec<f64> = results[i].iter().map(|r| r.1).collect();
            let rss = results[i].iter().map(|r| r.2).max().unwrap_or(0);
            rows.push((
                mb,
                client.to_string(),
                median(&mut wall),
                median(&mut cpu),
                rss,
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    println!("\n| context | client | wall (median) | client CPU (median) | peak RSS (highest) |");
    println!("| ---: | --- | ---: | ---: | ---: |");
    for (mb, client, wall, cpu, rss) in &rows {
        println!("| {mb} MB | {client} | {wall:.2} s | {cpu:.2} s | {rss} KiB |");
    }
    let get = |mb: u64, client: &str| rows.iter().find(|r| r.0 == mb && r.1 == client).cloned();
    println!();
    for mb in [10u64, 100] {
        for (other, label) in [
            ("berth-legacy", "berth legacy"),
            ("docker-cli", "docker CLI"),
        ] {
            if let (Some(k), Some(o)) = (get(mb, "berth-buildkit"), get(mb, other)) {
                // /usr/bin/time counts CPU in hundredths: below that there is no ratio.
                let ratio = |a: f64, b: f64| {
                    if b < 0.01 {
                        "—".to_string()
                    } else {
                        format!("{:.2}×", a / b)
                    }
                };
                println!(
                    "{mb} MB: berth BuildKit / {label}: wall {}, CPU {}, RSS {}",
                    ratio(k.2, o.2),
                    ratio(k.3, o.3),
                    ratio(k.4 as f64, o.4 as f64)
                );
            }
        }
    }
    if let (Some(a), Some(b)) = (get(10, "berth-buildkit"), get(100, "berth-buildkit")) {
        println!(
            "berth BuildKit peak RSS, 100 MB / 10 MB context: {:.2}×",
            b.4 as f64 / a.4 as f64
        );
    }
    Ok(())
}

/// A docker CLI that builds with BuildKit: one before 23.0 has it built in, a later one
/// through the buildx plugin. `BERTH_DOCKER_CLI` names one; Debian's is `/usr/bin/docker`.
fn buildkit_cli() -> Option<String> {
    let candidates = [
        std::env::var("BERTH_DOCKER_CLI").ok(),
        Some("/usr/bin/docker".into()),
        Some("docker".into()),
    ];
    candidates.into_iter().flatten().find(|cli| {
        let builtin = Command::new(cli)
            .args(["version", "--format", "{{.Client.Version}}"])
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|v| v.trim().split('.').next()?.parse::<u32>().ok())
            .is_some_and(|major| major < 23);
        builtin
            || Command::new(cli)
                .args(["buildx", "version"])
                .output()
                .is_ok_and(|o| o.status.success())
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    let n = values.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// One build in a process of its own, under `/usr/bin/time`: (wall s, CPU s, peak RSS KiB).
fn timed(exe: &Path, client: &str, context: &Path, tag: &str) -> Result<(f64, f64, u64)> {
    let report =
        std::env::temp_dir().join(format!("berth-build-bench-{}.time", std::process::id()));
    let mut command = Command::new("/usr/bin/time");
    command.arg("-f").arg("%e %U %S %M").arg("-o").arg(&report);
    if client == "docker-cli" {
        command
            .env("DOCKER_BUILDKIT", "1")
            .arg(buildkit_cli().ok_or("no docker CLI")?)
            .args([
                "-H",
                &format!("unix://{}", socket()),
                "build",
                "-q",
                "-t",
                tag,
            ])
            .arg(context);
    } else {
        command
            .arg(exe)
            .arg("--child")
            .arg(client)
            .arg(context)
            .arg(tag);
    }
    let out = command.output()?;
    if !out.status.success() {
        return Err(format!(
            "{client} build failed: {}",
            String::from_utf8_lossy(&out.stderr).trim_end()
        )
        .into());
    }
    let text = std::fs::read_to_string(&report)?;
    let fields: Vec<f64> = text
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let [wall, user, system, rss] = fields[..] else {
        return Err(format!("unexpected /usr/bin/time output: {text}").into());
    };
    Ok((wall, user + system, rss as u64))
}

/// A child: one build with berth, checked to have made an image.
fn child(client: &str, context: &Path, tag: &str) -> Result {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let docker = berth::Client::new(&format!("unix://{}", socket()))?;
        match client {
            "berth-buildkit" => {
                let mut stream = BuildKitBuild::new(context).tag(tag).run(&docker).await?;
                let mut image = None;
                while let Some(event) = stream.next().await {
                    if let BuildEvent::ImageId(id) = event? {
                        image = Some(id);
                    }
                }
                image.ok_or("no image built")?;
            }
            "berth-legacy" => {
                use berth::build_context::BuildContext;
                use berth::docker::v1_41::build::ImageBuild;
                let context = BuildContext::from_dir(context).await?;
                let mut stream = docker
                    .invoke(ImageBuild {
                        t: Some(tag.into()),
                        body: Some(context.into_body()),
                        ..Default::default()
                    })
                    .await?;
                while let Some(item) = stream.next().await {
                    item?;
                }
            }
            other => return Err(format!("unknown client {other}").into()),
        }
        Ok(())
    })
}

/// A context of `mb` MB: 100 files of random bytes (not compressible, not deduplicated)
/// and a Dockerfile that copies them.
fn make_context(dir: &Path, mb: u64) -> Result {
    std::fs::create_dir_all(dir.join("data"))?;
    std::fs::write(
        dir.join("Dockerfile"),
        format!("FROM {}\nCOPY data /data\n", image()),
    )?;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15 ^ mb;
    let per_file = (mb * 1024 * 1024 / 100) as usize;
    for i in 0..100 {
        let mut bytes = vec![0u8; per_file];
        for chunk in bytes.chunks_mut(8) {
            // xorshift: cheap bytes no compressor can shrink.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let n = chunk.len();
            chunk.copy_from_slice(&state.to_le_bytes()[..n]);
        }
        std::fs::write(dir.join("data").join(format!("file-{i:03}")), bytes)?;
    }
    Ok(())
}

/// A copy of the context through hard links: new paths (BuildKit keys its copy by them),
/// the same bytes, no time spent copying.
fn copy(from: &Path, to: &Path) -> Result {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let path: PathBuf = entry?.path();
        let target = to.join(path.file_name().ok_or("a name")?);
        if path.is_dir() {
            copy(&path, &target)?;
        } else {
            std::fs::hard_link(&path, &target)?;
        }
    }
    Ok(())
}
