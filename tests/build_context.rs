//! `berth::build_context`: what a context directory becomes (entries, order, metadata,
//! `.dockerignore`), proved by the tar itself and by real builds on dockerd; that a large
//! tree streams in constant memory; and that a file failing mid-way fails the build.

#![cfg(feature = "docker-v1_41")]

mod common;

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use berth::build_context::BuildContext;
use berth::docker::v1_41::{build, images};
use berth::Error;
use common::{report::rss_kib, within, Cleanup, Tree};
use futures_util::StreamExt;

/// The whole tar of a context, read through its stream.
async fn tar_of(context: BuildContext) -> Vec<u8> {
    let mut stream = context.into_stream();
    let mut tar = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("a tar chunk");
        assert!(
            !chunk.is_empty() && chunk.len() <= 64 * 1024,
            "{}",
            chunk.len()
        );
        tar.extend_from_slice(&chunk);
    }
    tar
}

/// `(path, type, mode, uid, gid, mtime, link target or contents)` of each entry, in order.
type Entry = (String, tar::EntryType, u32, u64, u64, u64, String);

fn entries(tar: &[u8]) -> Vec<Entry> {
    let mut archive = tar::Archive::new(tar);
    let mut out = Vec::new();
    for entry in archive.entries().expect("tar") {
        let mut entry = entry.expect("tar entry");
        let header = entry.header().clone();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let detail = match entry.link_name().unwrap() {
            Some(target) => target.to_string_lossy().into_owned(),
            None => {
                let mut data = String::new();
                entry.read_to_string(&mut data).unwrap();
                data
            }
        };
        out.push((
            path,
            header.entry_type(),
            header.mode().unwrap(),
            header.uid().unwrap(),
            header.gid().unwrap(),
            header.mtime().unwrap(),
            detail,
        ));
    }
    out
}

fn names(tar: &[u8]) -> Vec<String> {
    entries(tar).into_iter().map(|e| e.0).collect()
}

/// Entries in sorted order, depth first; modes, mtimes and links kept; owner 0:0.
#[tokio::test]
async fn entries_are_sorted_with_their_metadata() {
    let tree = Tree::new("ctx-meta");
    tree.file("Dockerfile", "FROM scratch\n")
        .file("b/z.txt", "z")
        .file("b/a.txt", "a")
        .file("a.sh", "#!/bin/sh\n")
        .file("B", "upper case sorts first")
        .symlink("link", "b/../a.sh")
        .symlink("dangling", "/nowhere/at/all");
    std::fs::set_permissions(tree.path("a.sh"), std::fs::Permissions::from_mode(0o4750)).unwrap();
    std::fs::set_permissions(tree.path("b"), std::fs::Permissions::from_mode(0o710)).unwrap();
    std::fs::hard_link(tree.path("b/z.txt"), tree.path("c-hard")).unwrap();
    let long = format!("{}/{}", "d".repeat(80), "e".repeat(90));
    tree.file(&long, "deep");
    let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(1_234_567_890);
    std::fs::File::options()
        .write(true)
        .open(tree.path("b/a.txt"))
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    // A socket cannot be archived: Docker's archiver skips it, and so does berth.
    let _socket = std::os::unix::net::UnixListener::bind(tree.path("sock")).unwrap();

    let context = BuildContext::from_dir(tree.root()).await.unwrap();
    assert_eq!(context.dockerfile(), "Dockerfile");
    assert_eq!(context.dir(), std::fs::canonicalize(tree.root()).unwrap());
    let tar = tar_of(context).await;
    let entries = entries(&tar);
    let listed: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    let d = "d".repeat(80);
    assert_eq!(
        listed,
        [
            "B",
            "Dockerfile",
            "a.sh",
            "b",
            "b/a.txt",
            "b/z.txt",
            "c-hard",
            "dangling",
            &d,
            &long,
            "link",
        ]
    );
    let get = |name: &str| entries.iter().find(|e| e.0 == name).unwrap().clone();
    for entry in &entries {
        assert_eq!((entry.3, entry.4), (0, 0), "{} is owned by 0:0", entry.0);
    }
    assert_eq!(get("a.sh").2, 0o4750);
    assert_eq!(get("a.sh").6, "#!/bin/sh\n");
    assert_eq!(get("b").1, tar::EntryType::Directory);
    assert_eq!(get("b").2, 0o710);
    assert_eq!(get("b/a.txt").5, 1_234_567_890);
    let z_mtime = std::fs::metadata(tree.path("b/z.txt"))
        .unwrap()
        .modified()
        .unwrap();
    let z_secs = z_mtime
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(get("b/z.txt").5, z_secs);
    assert_eq!(get("c-hard").1, tar::EntryType::Link);
    assert_eq!(get("c-hard").6, "b/z.txt");
    assert_eq!(get("link").1, tar::EntryType::Symlink);
    // The target as it was written, not normalized nor followed.
    assert_eq!(get("link").6, "b/../a.sh");
    assert_eq!(get("dangling").6, "/nowhere/at/all");
    assert_eq!(get(&long).6, "deep");
}

/// `.dockerignore` as the docker CLI applies it, checked on the tar.
#[tokio::test]
async fn dockerignore_rules_decide_what_is_sent() {
    let tree = Tree::new("ctx-ignore");
    tree.file(
        ".dockerignore",
        "# comment\n\n  *.log  \n!keep.log\n/target\nvendor\n!vendor/keep.txt\n**/*.tmp\n\
         docs/*/draft*\n*\\?.txt\n",
    )
    .file("Dockerfile", "FROM scratch\n")
    .file("app.log", "")
    .file("keep.log", "")
    .file("kept.txt", "")
    .file("what?.txt", "")
    .file("whatx.txt", "")
    .file("target/debug/out", "")
    .file("src/target", "")
    .file("vendor/drop.txt", "")
    .file("vendor/keep.txt", "")
    .file("vendor/sub/deep.txt", "")
    .file("a/b/c.tmp", "")
    .file("top.tmp", "")
    .file("docs/en/draft-1.md", "")
    .file("docs/en/final.md", "")
    .file("docs/draft.md", "")
    .file("sub/app.log", "");
    let tar = tar_of(BuildContext::from_dir(tree.root()).await.unwrap()).await;
    assert_eq!(
        names(&tar),
        [
            ".dockerignore",
            "Dockerfile",
            "a",
            "a/b",
            "docs",
            "docs/draft.md",
            "docs/en",
            "docs/en/final.md",
            "keep.log",
            "kept.txt",
            "src",
            "src/target",
            "sub",
            "sub/app.log",
            "vendor/keep.txt",
            "whatx.txt",
        ]
    );
}

/// The Dockerfile and `.dockerignore` are sent even when the patterns leave them out; an
/// excluded directory holding the Dockerfile gives up that file alone.
#[tokio::test]
async fn the_dockerfile_and_dockerignore_are_always_sent() {
    let tree = Tree::new("ctx-keep");
    tree.file(".dockerignore", "*\n!src\n")
        .file("Dockerfile", "FROM scratch\n")
        .file("other", "")
        .file("src/main.rs", "");
    let tar = tar_of(BuildContext::from_dir(tree.root()).await.unwrap()).await;
    assert_eq!(
        names(&tar),
        [".dockerignore", "Dockerfile", "src", "src/main.rs"]
    );

    let tree = Tree::new("ctx-nested");
    tree.file(".dockerignore", ".dockerignore\nbuild\n")
        .file("build/Dockerfile.release", "FROM scratch\n")
        .file("build/notes.txt", "")
        .file("main.c", "");
    let context = BuildContext::options()
        .dockerfile("build/Dockerfile.release")
        .from_dir(tree.root())
        .await
        .unwrap();
    assert_eq!(context.dockerfile(), "build/Dockerfile.release");
    let tar = tar_of(context).await;
    assert_eq!(
        names(&tar),
        [".dockerignore", "build/Dockerfile.release", "main.c"]
    );

    // Without a Dockerfile, a lower-case `dockerfile` is taken, as the CLI does.
    let tree = Tree::new("ctx-lower");
    tree.file("dockerfile", "FROM scratch\n");
    let context = BuildContext::from_dir(tree.root()).await.unwrap();
    assert_eq!(context.dockerfile(), "dockerfile");
}

/// Opening fails clearly: no directory, no Dockerfile, a Dockerfile outside, a bad pattern.
#[tokio::test]
async fn opening_errors_say_what_is_wrong() {
    let missing = BuildContext::from_dir("/nonexistent/berth-ctx")
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
    assert!(
        missing.to_string().contains("/nonexistent/berth-ctx"),
        "{missing}"
    );

    let tree = Tree::new("ctx-errors");
    tree.file("main.c", "");
    let no_dockerfile = BuildContext::from_dir(tree.root()).await.unwrap_err();
    assert!(
        no_dockerfile
            .to_string()
            .contains("cannot locate the Dockerfile"),
        "{no_dockerfile}"
    );

    tree.file("Dockerfile", "FROM scratch\n");
    let outside = std::env::temp_dir().join(format!("{}.Dockerfile", common::unique("outside")));
    std::fs::write(&outside, "FROM scratch\n").unwrap();
    let error = BuildContext::options()
        .dockerfile(&outside)
        .from_dir(tree.root())
        .await
        .unwrap_err();
    std::fs::remove_file(&outside).unwrap();
    assert!(
        error
            .to_string()
            .contains("must be within the build context"),
        "{error}"
    );
    // A path that leaves the context and comes back into it is fine.
    let back_inside = BuildContext::options()
        .dockerfile(
            Path::new("..")
                .join(tree.root().file_name().unwrap())
                .join("Dockerfile"),
        )
        .from_dir(tree.root())
        .await
        .unwrap();
    assert_eq!(back_inside.dockerfile(), "Dockerfile");

    tree.file(".dockerignore", "ok\n[z-\n");
    let bad = BuildContext::from_dir(tree.root()).await.unwrap_err();
    assert_eq!(bad.kind(), std::io::ErrorKind::InvalidData);
    assert!(
        bad.to_string().contains(".dockerignore") && bad.to_string().contains("[z-"),
        "{bad}"
    );
}

/// 256 MiB of files stream through while the process's resident memory stays flat: the
/// producer waits for the reader instead of running ahead.
#[tokio::test]
async fn a_large_tree_streams_in_constant_memory() {
    const FILE: u64 = 64 * 1024 * 1024;
    let tree = Tree::new("ctx-large");
    tree.file("Dockerfile", "FROM scratch\n");
    for name in ["a/one.bin", "a/b/two.bin", "c/three.bin", "four.bin"] {
        tree.sparse(name, FILE);
    }
    // Headers and data in 512-byte blocks, directories `a`, `a/b`, `c`, the 1 KiB end.
    let expected = 4 * (512 + FILE) + (512 + 512) + 3 * 512 + 1024;

    let mut stream = BuildContext::from_dir(tree.root())
        .await
        .unwrap()
        .into_stream();
    let first = stream.next().await.unwrap().unwrap();
    let start = rss_kib();
    // A reader that stops: the producer must stop too, a few chunks ahead at most.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let paused = rss_kib();
    let mut total = first.len() as u64;
    let mut peak = paused;
    let mut chunks = 0u64;
    while let Some(chunk) = stream.next().await {
        total += chunk.unwrap().len() as u64;
        chunks += 1;
        if chunks % 64 == 0 {
            peak = peak.max(rss_kib());
        }
    }
    assert_eq!(total, expected, "the whole archive went through");
    let grown = peak.saturating_sub(start);
    eprintln!(
        "build context of {} MiB: RSS {start} KiB at the start, {paused} KiB paused, peak {peak} KiB",
        expected >> 20
    );
    assert!(
        paused.saturating_sub(start) < 8 * 1024,
        "the paused producer kept going: RSS {start} -> {paused} KiB"
    );
    assert!(
        grown < 24 * 1024,
        "RSS grew by {grown} KiB while streaming {} MiB",
        expected >> 20
    );
}

/// A file that shrinks while it is sent ends the stream with an error naming it, and the
/// stream does not go on after it.
#[tokio::test]
async fn a_file_changing_while_sent_ends_the_stream_naming_it() {
    let tree = Tree::new("ctx-shrink");
    tree.file("Dockerfile", "FROM scratch\n")
        .sparse("zz-big", 64 << 20);
    let mut stream = BuildContext::from_dir(tree.root())
        .await
        .unwrap()
        .into_stream();
    // The first chunk holds the Dockerfile and the start of zz-big: it is open and
    // partly read when it is cut short.
    stream.next().await.unwrap().unwrap();
    std::fs::File::options()
        .write(true)
        .open(tree.path("zz-big"))
        .unwrap()
        .set_len(0)
        .unwrap();
    let error = loop {
        match stream.next().await {
            Some(Ok(_)) => continue,
            Some(Err(e)) => break e,
            None => panic!("the stream ended as if the archive were whole"),
        }
    };
    let message = error.to_string();
    assert!(
        message.contains("zz-big") && message.contains("shrank"),
        "{message}"
    );
    assert!(stream.next().await.is_none());
}

/// A real build on dockerd proves what was sent: the Dockerfile (given as an option, in an
/// excluded directory) fails unless ignored files are absent and re-included ones present.
#[tokio::test]
async fn dockerd_builds_exactly_what_dockerignore_leaves() {
    let Some(client) = common::docker().await else {
        return;
    };
    let cleanup = Cleanup::new(&client);
    let tag = format!("berth-it/{}:latest", common::unique("ctxbuild"));
    cleanup.image(tag.clone());
    let tree = Tree::new("ctx-docker");
    // Longer than a tar header's 100 bytes: sent in a GNU long-name record.
    let long = format!("{}/{}.txt", "d".repeat(70), "f".repeat(60));
    let dockerfile = format!(
        "FROM {}\nCOPY . /ctx\n\
         RUN test -e /ctx/{long} && test -e /ctx/kept.txt && test -e /ctx/keep.log && test -e /ctx/vendor/keep.txt \
         && test -e /ctx/docs/readme.md && test -L /ctx/link && test \"$(readlink /ctx/link)\" = kept.txt \
         && test \"$(stat -c %a /ctx/run.sh)\" = 750\n\
         RUN test ! -e /ctx/app.log && test ! -e /ctx/target && test ! -e /ctx/secret \
         && test ! -e /ctx/docs/a/b/x.tmp && test ! -e /ctx/vendor/drop.txt && test ! -e /ctx/docker/notes.txt\n\
         RUN find /ctx | sort\n",
        common::test_image()
    );
    tree.file(
        ".dockerignore",
        "# build outputs\ntarget\n*.log\n!keep.log\nsecret/\ndocs/**/*.tmp\nvendor\n!vendor/keep.txt\ndocker\n",
    )
    .file("docker/Dockerfile", &dockerfile)
    .file("docker/notes.txt", "")
    .file("kept.txt", "kept")
    .file("app.log", "")
    .file("keep.log", "")
    .file("run.sh", "#!/bin/sh\n")
    .file("target/out.bin", "")
    .file("secret/key", "")
    .file("docs/readme.md", "")
    .file("docs/a/b/x.tmp", "")
    .file("vendor/drop.txt", "")
    .file("vendor/keep.txt", "")
    .file(&long, "")
    .symlink("link", "kept.txt");
    std::fs::set_permissions(tree.path("run.sh"), std::fs::Permissions::from_mode(0o750)).unwrap();

    let context = BuildContext::options()
        .dockerfile("docker/Dockerfile")
        .from_dir(tree.root())
        .await
        .unwrap();
    let progress = within(
        120,
        "ImageBuild",
        client.invoke(build::ImageBuild {
            t: Some(tag.clone()),
            dockerfile: Some(context.dockerfile().to_string()),
            rm: Some(true),
            forcerm: Some(true),
            body: Some(context.into_body()),
            ..Default::default()
        }),
    )
    .await
    .expect("ImageBuild");
    let items = within(120, "build progress", progress.collect_all())
        .await
        .unwrap_or_else(|e| panic!("the build failed: {e}"));
    let text: String = items.iter().filter_map(|i| i.stream.as_deref()).collect();
    // (The engine itself drops the Dockerfile from the context when `.dockerignore`
    // matches it: that the build ran at all proves it was sent.)
    for sent in [
        "/ctx/kept.txt",
        "/ctx/keep.log",
        "/ctx/vendor/keep.txt",
        "/ctx/.dockerignore",
    ] {
        assert!(text.contains(sent), "{sent} in the find output: {text}");
    }
    client
        .invoke(images::ImageInspect { name: tag.clone() })
        .await
        .expect("the image was tagged");
}

/// A file that fails while the body is sent fails the build call, naming the file; the
/// engine, whose upload broke off, tags nothing.
#[tokio::test]
async fn a_failing_file_fails_the_build_and_names_it() {
    let Some(client) = common::docker().await else {
        return;
    };
    let cleanup = Cleanup::new(&client);
    let tag = format!("berth-it/{}:latest", common::unique("ctxbroken"));
    cleanup.image(tag.clone());
    let tree = Tree::new("ctx-broken");
    tree.file(
        "Dockerfile",
        &format!("FROM {}\nCOPY . /ctx\n", common::test_image()),
    )
    .sparse("zz-big", 64 << 20);
    let big = tree.path("zz-big");
    let mut cut = false;
    // The archive as it goes out: zz-big is cut short once its first bytes are on the way.
    let tar = BuildContext::from_dir(tree.root())
        .await
        .unwrap()
        .into_stream()
        .inspect(move |_| {
            if !std::mem::replace(&mut cut, true) {
                std::fs::File::options()
                    .write(true)
                    .open(&big)
                    .unwrap()
                    .set_len(0)
                    .unwrap();
            }
        });
    let outcome = within(120, "ImageBuild", async {
        client
            .invoke(build::ImageBuild {
                t: Some(tag.clone()),
                forcerm: Some(true),
                body: Some(berth::Body::wrap_stream(tar)),
                ..Default::default()
            })
            .await?
            .collect_all()
            .await
    })
    .await;
    let error = outcome.expect_err("a truncated context cannot build");
    match &error {
        Error::RequestBody { operation, message } => {
            eprintln!("the build failed with: {error}");
            assert_eq!(operation, "ImageBuild");
            assert!(
                message.contains("zz-big") && message.contains("shrank"),
                "{message}"
            );
        }
        other => panic!("expected Error::RequestBody, got {other:?}"),
    }
    let missing = client
        .invoke(images::ImageInspect { name: tag.clone() })
        .await
        .unwrap_err();
    assert!(missing.is_not_found(), "nothing was tagged: {missing}");
}

/// Podman's libpod build takes the same body (its spec declares none: the fixup
/// `libpod-build-body` adds it). Podman applies `.dockerignore` on its side too, so this
/// proves the tar and the Dockerfile option, not the filtering.
#[cfg(feature = "podman-v5_1_0")]
#[tokio::test]
async fn podman_libpod_build_takes_the_same_body() {
    let Some(client) = common::podman().await else {
        return;
    };
    let cleanup = Cleanup::new(&client);
    let tag = format!("localhost/berth-it/{}:latest", common::unique("podctx"));
    cleanup.image(tag.clone());
    let tree = Tree::new("ctx-podman");
    let dockerfile = format!(
        "FROM localhost/{}\nCOPY . /ctx\nRUN ls -lA /ctx\nRUN test -e /ctx/kept.txt && test ! -e /ctx/app.log && test -L /ctx/link\n",
        common::test_image()
    );
    tree.file(".dockerignore", "*.log\n")
        .file("build/Containerfile", &dockerfile)
        .file("kept.txt", "kept")
        .file("app.log", "")
        .symlink("link", "kept.txt");
    let context = BuildContext::options()
        .dockerfile("build/Containerfile")
        .from_dir(tree.root())
        .await
        .unwrap();
    let build = within(
        180,
        "libpod build",
        client.invoke(berth::podman::v5_1_0::libpod::build::ImageBuildLibpod {
            t: Some(tag.clone()),
            dockerfile: Some(context.dockerfile().to_string()),
            body: Some(context.into_body()),
            ..Default::default()
        }),
    )
    .await
    .expect("libpod build");
    // What the build printed, `ls -lA /ctx` among it: the context as the engine saw it,
    // shown whether the build fails or not.
    let mut output = String::new();
    let mut build = build;
    while let Some(item) = within(180, "libpod build output", build.next()).await {
        match item {
            Ok(item) => output.push_str(&item.stream),
            Err(e) => panic!("the build failed: {e}\nit printed:\n{output}"),
        }
    }
    assert!(output.contains("COPY . /ctx"), "{output}");
    // The entries of `ls -lA /ctx` (name last, a link's target after " -> ").
    let seen: Vec<&str> = output
        .lines()
        .filter(|l| l.starts_with(['-', 'd', 'l']) && l.split_whitespace().count() >= 9)
        .filter_map(|l| l.split_whitespace().nth(8))
        .collect();
    assert_eq!(
        seen,
        [".dockerignore", "build", "kept.txt", "link"],
        "the context as podman saw it:\n{output}"
    );
    assert!(output.contains("link -> kept.txt"), "{output}");
    client
        .request(berth::Method::Get, format!("/images/{tag}/json"))
        .send()
        .await
        .expect("the image was tagged");
}
