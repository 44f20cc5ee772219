//! The tour: the user's guide on whatever engine answers (DOCKER_HOST, the Docker socket,
//! then Podman's), step by step, cleaning up after itself.
//!
//! `scripts/tour` starts a Debian-packaged engine first when none answers, then runs
//! `cargo run --example tour --features docker-v1_41`.

use std::io::Write as _;
use std::time::Instant;

use berth::docker::v1_41::{_ping, build, containers, images, models, version};
use berth::{Client, StreamKind};
use futures_util::StreamExt;

type Step<T> = Result<T, Box<dyn std::error::Error>>;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let started = Instant::now();
    match tour().await {
        Ok(steps) => {
            println!(
                "\nAll {steps} steps OK in {:.1}s; nothing of the tour is left on the engine.",
                started.elapsed().as_secs_f64()
            );
        }
        Err(e) => {
            eprintln!("\nThe tour failed: {e}");
            std::process::exit(1);
        }
    }
}

async fn connect() -> Step<Client> {
    let mut candidates = vec![Client::docker_from_env()?.build()?];
    if std::env::var_os("DOCKER_HOST").is_none() {
        candidates.push(Client::podman_from_env()?.build()?);
    }
    for client in candidates {
        if client.invoke(_ping::SystemPing::default()).await.is_ok() {
            return Ok(client);
        }
        println!("  (no engine at {})", client.endpoint());
    }
    Err("no engine answers; run scripts/tour, which starts one".into())
}

fn ok(step: &mut usize, what: &str) {
    *step += 1;
    println!("[{step:>2}] OK  {what}");
}

async fn tour() -> Step<usize> {
    let mut step = 0;
    let client = connect().await?;
    ok(&mut step, &format!("connected to {}", client.endpoint()));

    let version = client.invoke(version::SystemVersion::default()).await?;
    ok(
        &mut step,
        &format!(
            "engine {} (API {})",
            version.version.unwrap_or_default(),
            version.api_version.unwrap_or_default()
        ),
    );

    // Build a busybox image from a tar context made here, showing the build as it streams.
    let tag = format!("berth-tour/busybox:{}", std::process::id());
    let context = build_context()?;
    let mut progress = client
        .invoke(build::ImageBuild {
            t: Some(tag.clone()),
            rm: Some(true),
            body: Some(context.into()),
            ..Default::default()
        })
        .await?;
    // The build's own steps ("Step 2/3 : COPY ...") drive a progress bar; the rest of its
    // output is kept and counted.
    let mut lines = 0;
    while let Some(item) = progress.next().await {
        let text = item?.stream.unwrap_or_default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            lines += 1;
            if let Some((done, total)) = build_step(line) {
                print!("\r      {} {line:<60.60}", bar(done, total));
                std::io::stdout().flush()?;
            }
        }
    }
    println!();
    ok(
        &mut step,
        &format!("built {tag} ({lines} lines of build output)"),
    );

    // The guide's counting container, its logs followed as they come.
    let name = format!("berth-tour-{}", std::process::id());
    let created = client
        .invoke(containers::ContainerCreate {
            name: Some(name.clone()),
            body: models::ContainerCreateBody {
                image: Some(tag.clone()),
                cmd: Some(vec!["sh".into(), "-c".into(), "i=1; while [ $i -le 3 ]; do echo $i; i=$((i+1)); sleep 0.3; done; echo done >&2".into()]),
                ..Default::default()
            },
            ..Default::default()
        })
        .await?;
    ok(&mut step, &format!("created container {name}"));
    client
        .invoke(containers::ContainerStart {
            id: created.id.clone(),
            ..Default::default()
        })
        .await?;
    ok(&mut step, "started it");

    let logs = client
        .invoke(containers::ContainerLogs {
            id: created.id.clone(),
            follow: Some(true),
            stdout: Some(true),
            stderr: Some(true),
            ..Default::default()
        })
        .await?;
    let mut frames = logs.frames();
    while let Some(frame) = frames.next().await {
        let frame = frame?;
        let which = if frame.stream == StreamKind::Stderr {
            "stderr"
        } else {
            "stdout"
        };
        print!("      {which} | {}", String::from_utf8_lossy(&frame.data));
    }
    ok(
        &mut step,
        "followed its logs to the end, stdout and stderr apart",
    );

    let exit = client
        .invoke(containers::ContainerWait {
            id: created.id.clone(),
            ..Default::default()
        })
        .await?;
    ok(
        &mut step,
        &format!("it exited with status {}", exit.status_code),
    );

    client
        .invoke(containers::ContainerDelete {
            id: created.id,
            force: Some(true),
            ..Default::default()
        })
        .await?;
    ok(&mut step, "removed the container");
    client
        .invoke(images::ImageDelete {
            name: tag,
            ..Default::default()
        })
        .await?;
    ok(&mut step, "removed the image");
    Ok(step)
}

/// `Step 2/3 : COPY busybox /bin/busybox` → (2, 3).
fn build_step(line: &str) -> Option<(usize, usize)> {
    let rest = line.trim().strip_prefix("Step ")?;
    let (fraction, _) = rest.split_once(' ')?;
    let (done, total) = fraction.split_once('/')?;
    Some((done.parse().ok()?, total.parse().ok()?))
}

/// `[#######-------] 2/3`
fn bar(done: usize, total: usize) -> String {
    const WIDTH: usize = 20;
    let filled = WIDTH * done / total.max(1);
    format!(
        "[{}{}] {done}/{total}",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled)
    )
}

/// A build context: busybox and a Dockerfile that installs its applets.
fn build_context() -> Step<Vec<u8>> {
    let busybox = std::fs::read("/usr/bin/busybox")
        .map_err(|e| format!("/usr/bin/busybox (apt-get install busybox-static): {e}"))?;
    let dockerfile = "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n";
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data, mode) in [
        ("Dockerfile", dockerfile.as_bytes(), 0o644),
        ("busybox", busybox.as_slice(), 0o755),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_cksum();
        tar.append_data(&mut header, path, data)?;
    }
    Ok(tar.into_inner()?)
}
