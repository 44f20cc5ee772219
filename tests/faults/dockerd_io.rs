//! dockerd killed (SIGKILL) and restarted in the middle of the calls that carry raw bytes
//! rather than JSON: an attach with stdin (a hijacked connection) and a 200 MiB archive
//! download. The engine and its helpers are `dockerd.rs`'s.

use berth::docker::v1_41::{containers, models};
use berth::{Client, FrameStream, Upgraded};
use futures_util::StreamExt;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::common::{self, within, Cleanup};
use crate::dockerd::{create, start, Dockerd};
use crate::harness::Fault;
use crate::outage::{self, After, Engine, Reading};
use crate::streams;

/// A container that echoes each stdin line as `got LINE`, attached (stdin, stdout, stderr)
/// and then started: its id, its output, its stdin.
async fn attached_echo(
    client: &Client,
    cleanup: &Cleanup,
) -> (String, FrameStream, impl AsyncWrite + Unpin) {
    let interactive = models::ContainerCreateBody {
        open_stdin: Some(true),
        stdin_once: Some(true),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        ..Default::default()
    };
    let echo = ["sh", "-c", "while read l; do echo \"got $l\"; done"];
    let id = create(client, cleanup, &echo, interactive).await;
    let attached: Upgraded = client
        .invoke(containers::ContainerAttach {
            id: id.clone(),
            stream: Some(true),
            stdin: Some(true),
            stdout: Some(true),
            stderr: Some(true),
            ..Default::default()
        })
        .await
        .expect("ContainerAttach");
    let (output, stdin) = attached.split(false);
    start(client, &id).await;
    (id, output, stdin)
}

#[tokio::test]
async fn dockerd_killed_during_attach_with_stdin() {
    let Some((client, cleanup)) = Dockerd::setup().await else {
        return;
    };
    let (_, mut output, mut stdin) = attached_echo(&client, &cleanup).await;
    stdin.write_all(b"one\n").await.expect("stdin");
    streams::until_item(&mut output, 20, "the echo of stdin", |f: &berth::Frame| {
        String::from_utf8_lossy(&f.data).contains("got one")
    })
    .await;
    Dockerd::pool_one(&client).await;

    // Not `outage::outage`: what fails here is an `io::Error` of the stdin write, not a
    // stream's `berth::Error`.
    let mut fault = Fault::start("kill", "docker");
    // The hijacked connection is raw bytes: its end is an EOF, the same as a container's
    // exit; what says the engine went is the stdin write that fails.
    let read = within(30, "the attach output after the kill", async {
        let mut frames = 0;
        loop {
            match output.next().await {
                Some(Ok(_)) => frames += 1,
                Some(Err(e)) => return (frames, Some(e)),
                None => return (frames, None),
            }
        }
    })
    .await;
    let ended_after = fault.at.elapsed();
    fault.gone().await;
    let write = within(30, "a stdin write after the kill", async {
        stdin.write_all(b"two\n").await?;
        stdin.flush().await
    })
    .await;
    let error = write.expect_err("a stdin write to the killed engine's connection must fail");
    let error_after = fault.at.elapsed();
    eprintln!(
        "attach after the kill: output ended with {:?}; stdin: {error}",
        read.1
    );
    assert!(
        matches!(
            error.kind(),
            std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
        ),
        "{error:?}"
    );
    let restart = fault.restore().await;

    let mut after = After::since(fault.at);
    Dockerd::answers(&client, &mut after).await;
    // A new attach works both ways (three calls: create, attach, start).
    let (_, output, mut stdin) = attached_echo(&client, &cleanup).await;
    after.calls += 3;
    stdin.write_all(b"three\n").await.expect("stdin");
    stdin.shutdown().await.expect("close stdin");
    let (out, _) = after.ok(
        "attach output",
        within(30, "attach output", output.collect_output()).await,
    );
    assert_eq!(String::from_utf8_lossy(&out), "got three\n");
    let output_end = match &read.1 {
        None => format!("output ended (EOF, {} frames after the kill)", read.0),
        Some(e) => format!("output ended with {}", outage::outcome(e)),
    };
    outage::record(
        "dockerd SIGKILLed during an attach with stdin",
        &format!(
            "{output_end} {:.2}s after the kill; stdin write: io::Error {:?}: {error}",
            ended_after.as_secs_f64(),
            error.kind()
        ),
        after.figures(error_after, Some(restart), "a new attach echoes stdin"),
    );
}

#[tokio::test]
async fn dockerd_killed_during_archive_download() {
    let Some((client, cleanup)) = Dockerd::setup().await else {
        return;
    };
    const MIB: u64 = 200;
    let dd = format!("dd if=/dev/zero of=/big bs=1M count={MIB} 2>/dev/null");
    let id = create(&client, &cleanup, &["sh", "-c", &dd], Default::default()).await;
    start(&client, &id).await;
    let waited = within(
        120,
        "the 200 MiB file",
        client.invoke(containers::ContainerWait {
            id: id.clone(),
            ..Default::default()
        }),
    )
    .await
    .expect("ContainerWait");
    assert_eq!(waited.status_code, 0);
    // Reported a success before the kill: must be there after it.
    let kept = b"kept across the kill\n";
    client
        .invoke(containers::PutContainerArchive {
            id: id.clone(),
            path: "/tmp".into(),
            body: common::streamed(common::tar_of(&[("kept.txt", 0o644, kept)])),
            ..Default::default()
        })
        .await
        .expect("PutContainerArchive");

    let archive_of = |path: &str| {
        client.invoke(containers::ContainerArchive {
            id: id.clone(),
            path: path.into(),
        })
    };
    let mut archive = archive_of("/big").await.expect("ContainerArchive");
    let mut read = 0u64;
    while read < 4 << 20 {
        let chunk = within(30, "the first MiBs", archive.next())
            .await
            .expect("the archive ended early")
            .expect("archive chunk");
        read += chunk.len() as u64;
    }

    // Not read meanwhile: dockerd is blocked writing when it dies.
    let cut_short = |e: &berth::Error| outage::assert_cut_short(e, "ContainerArchive");
    let mut cut = Dockerd::outage(
        &client,
        &mut archive,
        Reading::OnceGone,
        "the archive download",
        cut_short,
    )
    .await;
    read += cut.items.iter().map(|c| c.len() as u64).sum::<u64>();
    assert!(read < MIB << 20, "{read} bytes read");
    let back = cut
        .after
        .ok("ContainerArchive", archive_of("/tmp/kept.txt").await);
    let back = cut.after.ok("archive body", back.collect().await);
    assert_eq!(
        common::file_in_tar(&back, "kept.txt").as_deref(),
        Some(&kept[..]),
        "the archive put before the kill"
    );
    cut.record(
        "dockerd SIGKILLed during a 200 MiB archive download (ContainerArchive)",
        format!(
            "{:.1} MiB of {MIB} read; the file put before the kill read back",
            read as f64 / (1 << 20) as f64
        ),
    );
}
