//! `berth::buildkit` on the real dockerds: the session (context, Dockerfile, secrets,
//! credentials), the build's options, typed progress, failures and cancellation.

#![cfg(all(feature = "buildkit", feature = "docker-v1_41"))]

mod common;

use std::path::Path;
use std::time::Duration;

use berth::buildkit::{BuildEvent, BuildKitBuild, BuildStream, PlainProgress, SecretSource};
use berth::docker::v1_41::{containers, images, models};
use berth::{Client, Error};
use common::{within, Cleanup, Tree};
use futures_util::StreamExt;

/// Everything the build said, rendered as plain progress, and the image it made.
struct Finished {
    plain: String,
    image: Option<String>,
    updates: usize,
}

async fn finish(mut stream: BuildStream) -> berth::Result<Finished> {
    let mut renderer = PlainProgress::new();
    let mut done = Finished {
        plain: String::new(),
        image: None,
        updates: 0,
    };
    while let Some(event) = stream.next().await {
        match event? {
            BuildEvent::Progress(update) => {
                done.updates += 1;
                done.plain += &renderer.render(&update);
            }
            BuildEvent::ImageId(id) => done.image = Some(id),
            BuildEvent::Message(_) => {}
        }
    }
    Ok(done)
}

/// Runs the build to its end within three minutes: what it said, or its error.
async fn built(docker: &Client, build: BuildKitBuild, what: &str) -> berth::Result<Finished> {
    within(180, what, async { finish(build.run(docker).await?).await }).await
}

/// The contents of a file of an image, read through a container created (not started).
async fn file_of(docker: &Client, image: &str, path: &str) -> Option<Vec<u8>> {
    let created = docker
        .invoke(containers::ContainerCreate {
            body: models::ContainerCreateBody {
                image: Some(image.into()),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    let archive = docker
        .invoke(containers::ContainerArchive {
            id: created.id.clone(),
            path: path.into(),
        })
        .await;
    let data = match archive {
        Ok(stream) => {
            let tar = stream.collect().await.unwrap();
            let name = Path::new(path)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            common::file_in_tar(&tar, &name)
        }
        Err(e) if e.is_not_found() => None,
        Err(e) => panic!("ContainerArchive {path}: {e}"),
    };
    docker
        .invoke(containers::ContainerDelete {
            id: created.id,
            force: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    data
}

#[tokio::test]
async fn a_multi_stage_build_with_target_dockerignore_and_copy_from() {
    let Some(docker) = common::docker().await else {
        return;
    };
    println!("engine: {}", common::describe(&docker).await);
    let cleanup = Cleanup::new(&docker);
    let tag = format!("berth-bk-{}:latest", common::unique("multi"));
    cleanup.image(tag.clone());
    let tree = Tree::new("bk-multi");
    tree.file(
        "Dockerfile",
        &format!(
            "FROM {image} AS base\n\
             COPY app/ /app/\n\
             RUN echo built-in-base > /app/base.txt\n\
             FROM {image} AS release\n\
             COPY --from=base /app /srv\n\
             ARG GREETING\n\
             RUN echo \"$GREETING\" > /srv/greeting\n\
             FROM {image} AS unused\n\
             RUN exit 1\n",
            image = common::test_image()
        ),
    )
    .file(".dockerignore", "app/secret.txt\n")
    .file("app/main.txt", "main\n")
    .file("app/secret.txt", "must not be sent\n");
    let build = BuildKitBuild::new(tree.root())
        .tag(tag.clone())
        .target("release")
        .build_arg("GREETING", "hello from berth")
        .label("berth.test", "buildkit");
    let done = built(&docker, build, "BuildKit build")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    println!("{}", done.plain);
    assert!(done.updates > 0, "typed progress came");
    assert!(done
        .image
        .as_deref()
        .is_some_and(|i| i.starts_with("sha256:")));
    assert!(
        done.plain.contains("[internal] load build context"),
        "{}",
        done.plain
    );
    assert!(done.plain.contains("DONE"), "{}", done.plain);

    assert_eq!(
        file_of(&docker, &tag, "/srv/main.txt").await.as_deref(),
        Some(&b"main\n"[..])
    );
    assert_eq!(
        file_of(&docker, &tag, "/srv/base.txt").await.as_deref(),
        Some(&b"built-in-base\n"[..])
    );
    assert_eq!(
        file_of(&docker, &tag, "/srv/greeting").await.as_deref(),
        Some(&b"hello from berth\n"[..])
    );
    assert_eq!(
        file_of(&docker, &tag, "/srv/secret.txt").await,
        None,
        ".dockerignore honoured"
    );
    let inspect = docker
        .invoke(images::ImageInspect { name: tag.clone() })
        .await
        .unwrap();
    let labels = inspect.config.and_then(|c| c.labels).unwrap_or_default();
    assert_eq!(
        labels.get("berth.test").map(String::as_str),
        Some("buildkit")
    );
}

#[tokio::test]
async fn a_secret_is_readable_in_its_step_only() {
    let Some(docker) = common::docker().await else {
        return;
    };
    let cleanup = Cleanup::new(&docker);
    let tag = format!("berth-bk-{}:latest", common::unique("secret"));
    cleanup.image(tag.clone());
    let value = format!("s3cret-{}", common::unique("value"));
    let tree = Tree::new("bk-secret");
    tree.file(
        "Dockerfile",
        &format!(
            "FROM {}\n\
             RUN --mount=type=secret,id=token sha256sum < /run/secrets/token | cut -d' ' -f1 > /seen\n",
            common::test_image()
        ),
    );
    let build = BuildKitBuild::new(tree.root())
        .tag(tag.clone())
        // A secret is no part of the cache key: an earlier run's step would be reused.
        .no_cache(true)
        .secret("token", SecretSource::bytes(value.clone()));
    assert!(
        !format!("{build:?}").contains(&value),
        "Debug hides the secret"
    );
    built(&docker, build, "BuildKit build with a secret")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // The step read the value (its digest, so that the value itself is in no command).
    use sha2::Digest;
    let digest: String = sha2::Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        file_of(&docker, &tag, "/seen").await,
        Some(format!("{digest}\n").into_bytes())
    );
    assert_eq!(file_of(&docker, &tag, "/run/secrets/token").await, None);
    // Nowhere in the image: the whole export, every layer, is searched for the value.
    let saved = docker
        .invoke(images::ImageGet { name: tag.clone() })
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert!(!saved.is_empty());
    assert!(
        !saved.windows(value.len()).any(|w| w == value.as_bytes()),
        "the secret's value is in the saved image"
    );
}

#[tokio::test]
async fn a_failed_step_is_an_error_naming_it_with_its_log() {
    let Some(docker) = common::docker().await else {
        return;
    };
    let tree = Tree::new("bk-fail");
    tree.file(
        "Dockerfile",
        &format!(
            "FROM {}\nRUN echo first-line && echo boom-marker >&2 && exit 3\n",
            common::test_image()
        ),
    );
    let result = built(
        &docker,
        BuildKitBuild::new(tree.root()),
        "a failing BuildKit build",
    )
    .await;
    let Err(Error::Build {
        step, message, log, ..
    }) = result
    else {
        panic!("a failed RUN is Error::Build: {:?}", result.err());
    };
    assert!(
        step.as_deref()
            .is_some_and(|s| s.contains("RUN echo first-line")),
        "{step:?}"
    );
    assert!(message.contains("exit code: 3"), "{message}");
    assert!(log.iter().any(|l| l.contains("boom-marker")), "{log:?}");
}

#[tokio::test]
async fn bad_input_is_refused_before_the_build() {
    let Some(docker) = common::docker().await else {
        return;
    };
    let tree = Tree::new("bk-bad");
    let missing = BuildKitBuild::new(tree.root()).run(&docker).await;
    assert!(
        matches!(&missing, Err(Error::InvalidRequest { message, .. }) if message.contains("no Dockerfile")),
        "{missing:?}"
    );
    let not_dir = BuildKitBuild::new(tree.root().join("nothing"))
        .run(&docker)
        .await;
    assert!(
        matches!(&not_dir, Err(Error::InvalidRequest { message, .. }) if message.contains("not a directory")),
        "{not_dir:?}"
    );
    tree.file(
        "Dockerfile",
        &format!(
            "FROM {}\nRUN --mount=type=secret,id=absent,required=true cat /run/secrets/absent\n",
            common::test_image()
        ),
    );
    let result = built(
        &docker,
        BuildKitBuild::new(tree.root()),
        "a build missing its secret",
    )
    .await;
    assert!(
        matches!(&result, Err(Error::Build { message, .. }) if message.contains("absent")),
        "{:?}",
        result.err()
    );
    let _ = Duration::ZERO;
}

#[tokio::test]
async fn a_cache_mount_outlives_its_build() {
    let Some(docker) = common::docker().await else {
        return;
    };
    let cleanup = Cleanup::new(&docker);
    let tag = format!("berth-bk-{}:latest", common::unique("cache"));
    cleanup.image(tag.clone());
    let tree = Tree::new("bk-cache");
    tree.file(
        "Dockerfile",
        &format!(
            // The mount's id is no part of the step's cache key, and `--no-cache` gives the
            // step a fresh cache mount: the run's own name in the command keeps an earlier
            // run's layer from standing in for the step.
            "FROM {}\nARG RUN\n\
             RUN --mount=type=cache,id={id},target=/cache : {id}; echo \"$RUN\" >> /cache/runs && cp /cache/runs /runs\n",
            common::test_image(),
            id = common::unique("cache-id")
        ),
    );
    for run in ["first", "second"] {
        let build = BuildKitBuild::new(tree.root())
            .tag(tag.clone())
            .build_arg("RUN", run);
        built(&docker, build, "BuildKit build with a cache mount")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(
        file_of(&docker, &tag, "/runs").await.as_deref(),
        Some(&b"first\nsecond\n"[..]),
        "the second build found what the first left in the cache"
    );
}

/// `FROM` an image of the registry that needs a login: refused without credentials, built
/// with the ones `docker login` stored (a config file's `auths`).
#[tokio::test]
async fn a_private_base_image_is_pulled_with_stored_credentials() {
    let Some(docker) = common::docker().await else {
        return;
    };
    if !common::registry_up().await {
        return;
    }
    use base64::Engine as _;
    let cleanup = Cleanup::new(&docker);
    let registry = common::registry();
    let repo = format!("{registry}/berth-bk/{}", common::unique("base"));
    let config_dir = Tree::new("bk-docker-config");
    config_dir.file(
        "config.json",
        &format!(
            r#"{{"auths": {{"{registry}": {{"auth": "{}"}}}}}}"#,
            base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                common::registry_user(),
                common::registry_password()
            ))
        ),
    );
    let env = berth::env::Environment::empty();
    let store = berth::credentials::CredentialStore::docker_file(
        config_dir.root().join("config.json"),
        &env,
    );
    docker
        .invoke(images::ImageTag {
            name: common::test_image(),
            repo: Some(repo.clone()),
            tag: Some("v1".into()),
        })
        .await
        .unwrap();
    let auth = store.for_image(&repo).await.unwrap().expect("stored");
    docker
        .invoke(images::ImagePush {
            name: repo.clone(),
            tag: Some("v1".into()),
            x_registry_auth: auth,
        })
        .await
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    // Only in the registry now: the build has to pull it.
    docker
        .invoke(images::ImageDelete {
            name: format!("{repo}:v1"),
            ..Default::default()
        })
        .await
        .unwrap();
    let tag = format!("berth-bk-{}:latest", common::unique("private"));
    cleanup.image(tag.clone());
    cleanup.image(format!("{repo}:v1"));
    let tree = Tree::new("bk-private");
    tree.file(
        "Dockerfile",
        &format!("FROM {repo}:v1\nRUN echo private > /private\n"),
    );

    let anonymous = within(
        180,
        "a build of a private base without credentials",
        async { finish(BuildKitBuild::new(tree.root()).run(&docker).await.unwrap()).await },
    )
    .await;
    assert!(
        matches!(&anonymous, Err(Error::Build { .. })),
        "refused without credentials: {:?}",
        anonymous.err()
    );
    let build = BuildKitBuild::new(tree.root())
        .tag(tag.clone())
        .credentials(store);
    within(
        180,
        "a build of a private base with stored credentials",
        async { finish(build.run(&docker).await.unwrap()).await },
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        file_of(&docker, &tag, "/private").await.as_deref(),
        Some(&b"private\n"[..])
    );
}

/// Dropping the stream while a step runs cancels the build on the engine: the step's last
/// act never happens.
#[tokio::test]
async fn dropping_the_stream_cancels_the_build() {
    let Some(docker) = common::docker().await else {
        return;
    };
    let cache = common::unique("cancel-cache");
    let tree = Tree::new("bk-cancel");
    tree.file(
        "Dockerfile",
        &format!(
            "FROM {}\nRUN --mount=type=cache,id={cache},target=/c sh -c ': {cache}; echo started > /c/started; echo step-running; sleep 6; echo finished > /c/finished'\n",
            common::test_image()
        ),
    );
    let mut stream = BuildKitBuild::new(tree.root()).run(&docker).await.unwrap();
    // Until the step is running (its log says so).
    within(120, "the long step to start", async {
        while let Some(event) = stream.next().await {
            if let BuildEvent::Progress(update) = event.unwrap() {
                if update
                    .logs
                    .iter()
                    .any(|l| String::from_utf8_lossy(&l.data).contains("step-running"))
                {
                    return;
                }
            }
        }
        panic!("the build ended before its step started");
    })
    .await;
    drop(stream);
    tokio::time::sleep(Duration::from_secs(9)).await;
    let tag = format!("berth-bk-{}:latest", common::unique("cancel-check"));
    let cleanup = Cleanup::new(&docker);
    cleanup.image(tag.clone());
    let check = Tree::new("bk-cancel-check");
    check.file(
        "Dockerfile",
        &format!(
            "FROM {}\nRUN --mount=type=cache,id={cache},target=/c : {cache}; ls /c > /listing\n",
            common::test_image()
        ),
    );
    built(
        &docker,
        BuildKitBuild::new(check.root()).tag(tag.clone()),
        "the check build",
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let listing = file_of(&docker, &tag, "/listing").await.unwrap_or_default();
    let listing = String::from_utf8_lossy(&listing);
    assert!(listing.contains("started"), "the step ran: {listing:?}");
    assert!(
        !listing.contains("finished"),
        "the step was cancelled: {listing:?}"
    );
}

/// Heredocs need the Dockerfile frontend 1.4: Docker 23 and later build them; Docker 20.10's
/// built-in frontend (BuildKit 0.8) refuses them, which is an error naming the line.
#[tokio::test]
async fn heredocs_where_the_engines_frontend_has_them() {
    let Some(docker) = common::docker().await else {
        return;
    };
    let version = common::engine_version(&docker).await;
    let api = version["ApiVersion"].as_str().unwrap_or("0").to_string();
    let supports = berth::version::compare(&api, "1.42").is_ge();
    let cleanup = Cleanup::new(&docker);
    let tag = format!("berth-bk-{}:latest", common::unique("heredoc"));
    cleanup.image(tag.clone());
    let tree = Tree::new("bk-heredoc");
    tree.file(
        "Dockerfile",
        &format!(
            "FROM {}\nRUN <<EOF\necho one > /heredoc\necho two >> /heredoc\nEOF\n",
            common::test_image()
        ),
    );
    let result = built(
        &docker,
        BuildKitBuild::new(tree.root()).tag(tag.clone()),
        "a build with a heredoc",
    )
    .await;
    println!(
        "API {api}: heredocs {}",
        if supports { "built" } else { "refused" }
    );
    if supports {
        result.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            file_of(&docker, &tag, "/heredoc").await.as_deref(),
            Some(&b"one\ntwo\n"[..])
        );
    } else {
        assert!(
            matches!(&result, Err(Error::Build { .. })),
            "{:?}",
            result.err()
        );
    }
}

/// An ssh agent the test starts, with a key it makes, forwarded to `RUN --mount=type=ssh`:
/// a probe in the step asks the agent for its keys through the relay and gets the key; an
/// id the build was not given fails the build naming it; an agent that does not answer is
/// refused before the build starts.
#[tokio::test]
async fn an_ssh_agent_is_forwarded() {
    let Some(docker) = common::docker().await else {
        return;
    };
    let dir = Tree::new("bk-ssh");
    let socket = dir.root().join("agent.sock");
    let agent = std::process::Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&socket)
        .stdout(std::process::Stdio::null())
        .spawn();
    let Ok(mut agent) = agent else {
        common::unavailable::<()>("ssh-agent", "PATH", &"not installed");
        return;
    };
    struct Kill<'a>(&'a mut std::process::Child);
    impl Drop for Kill<'_> {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _agent = Kill(&mut agent);
    let key = dir.root().join("id_ed25519");
    let made = std::process::Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "berth-buildkit",
            "-f",
        ])
        .arg(&key)
        .status()
        .unwrap();
    assert!(made.success());
    for _ in 0..50 {
        if socket.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let added = std::process::Command::new("ssh-add")
        .arg(&key)
        .env("SSH_AUTH_SOCK", &socket)
        .status()
        .unwrap();
    assert!(added.success(), "ssh-add");

    let cleanup = Cleanup::new(&docker);
    let tag = format!("berth-bk-{}:latest", common::unique("ssh"));
    cleanup.image(tag.clone());
    let tree = Tree::new("bk-ssh-context");
    tree.file(
        "Dockerfile",
        &format!(
            "FROM {}\nCOPY probe /probe\nRUN --mount=type=ssh /probe > /ssh\n",
            common::test_image()
        ),
    );
    agent_probe(&tree.root().join("probe"));
    let build = BuildKitBuild::new(tree.root())
        .tag(tag.clone())
        .no_cache(true)
        .ssh("default", berth::buildkit::SshAgent::socket(&socket));
    built(&docker, build, "a build with an ssh agent")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // The agent's answer to "list your keys", through berth's relay: the key made above.
    let answer = file_of(&docker, &tag, "/ssh").await.unwrap_or_default();
    assert_eq!(
        answer.first(),
        Some(&12),
        "SSH_AGENT_IDENTITIES_ANSWER: {answer:?}"
    );
    assert!(
        answer.windows(14).any(|w| w == b"berth-buildkit"),
        "the key's comment: {:?}",
        String::from_utf8_lossy(&answer)
    );

    // Not given to the build: the engine's error names it.
    let unknown = Tree::new("bk-ssh-unknown");
    unknown.file(
        "Dockerfile",
        &format!(
            "FROM {}\nRUN --mount=type=ssh,id=deploy,required=true true\n",
            common::test_image()
        ),
    );
    let result = within(
        180,
        "a build asking for an ssh agent it was not given",
        async {
            finish(
                BuildKitBuild::new(unknown.root())
                    .no_cache(true)
                    .run(&docker)
                    .await
                    .unwrap(),
            )
            .await
        },
    )
    .await;
    assert!(
        matches!(&result, Err(Error::Build { message, .. }) if message.contains("deploy")),
        "{:?}",
        result.err()
    );
    // An agent that does not answer: refused before anything is sent.
    let gone = BuildKitBuild::new(tree.root())
        .ssh(
            "default",
            berth::buildkit::SshAgent::socket(dir.root().join("nobody.sock")),
        )
        .run(&docker)
        .await;
    assert!(
        matches!(&gone, Err(Error::InvalidRequest { message, .. }) if message.contains("nobody.sock")),
        "{gone:?}"
    );
}

/// The blocking client runs the same build, its progress an iterator.
#[cfg(feature = "blocking")]
#[test]
fn the_blocking_client_builds() {
    let uri = common::docker_uri();
    let docker = match berth::blocking::Client::new(&uri) {
        Ok(client) if client.server_version().is_ok() => client,
        Ok(_) | Err(_) => {
            common::unavailable::<()>("docker", &uri, &"no answer");
            return;
        }
    };
    let tree = Tree::new("bk-blocking");
    tree.file(
        "Dockerfile",
        &format!("FROM {}\nCOPY hello /hello\n", common::test_image()),
    )
    .file("hello", "from a thread\n");
    let mut plain = PlainProgress::new();
    let mut text = String::new();
    let mut image = None;
    let build = BuildKitBuild::new(tree.root()).no_cache(true);
    for event in build.run_blocking(&docker).unwrap() {
        match event.unwrap() {
            BuildEvent::Progress(update) => text += &plain.render(&update),
            BuildEvent::ImageId(id) => image = Some(id),
            BuildEvent::Message(_) => {}
        }
    }
    assert!(text.contains("COPY hello /hello"), "{text}");
    let image = image.expect("an image id");
    docker
        .invoke(images::ImageDelete {
            name: image,
            ..Default::default()
        })
        .unwrap();
}

/// `--output type=local` and `type=tar`: the result's files written on this side, through
/// the session, with no image in the engine.
#[tokio::test]
async fn outputs_to_a_local_directory_and_a_tar_file() {
    let Some(docker) = common::docker().await else {
        return;
    };
    let tree = Tree::new("bk-output");
    tree.file(
        "Dockerfile",
        &format!(
            "FROM {} AS build\nRUN mkdir -p /out/sub && echo made > /out/sub/made.txt && ln -s sub/made.txt /out/link\n\
             FROM scratch\nCOPY --from=build /out /\nCOPY hello.txt /hello.txt\n",
            common::test_image()
        ),
    )
    .file("hello.txt", "hello from the context\n");
    let out = Tree::new("bk-output-dir");
    let local = out.root().join("local");
    built(
        &docker,
        BuildKitBuild::new(tree.root()).output(berth::buildkit::Output::Local(local.clone())),
        "a build with a local output",
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        std::fs::read_to_string(local.join("hello.txt")).unwrap(),
        "hello from the context\n"
    );
    assert_eq!(
        std::fs::read_to_string(local.join("sub/made.txt")).unwrap(),
        "made\n"
    );
    assert_eq!(
        std::fs::read_link(local.join("link")).unwrap(),
        Path::new("sub/made.txt")
    );

    let tar = out.root().join("result.tar");
    built(
        &docker,
        BuildKitBuild::new(tree.root()).output(berth::buildkit::Output::Tar(tar.clone())),
        "a build with a tar output",
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let archive = std::fs::read(&tar).unwrap();
    assert_eq!(
        common::file_in_tar(&archive, "hello.txt").as_deref(),
        Some(&b"hello from the context\n"[..])
    );
    assert_eq!(
        common::file_in_tar(&archive, "sub/made.txt").as_deref(),
        Some(&b"made\n"[..])
    );
}

/// A static program for the build step (the test image has no ssh client): it asks the agent
/// at `SSH_AUTH_SOCK` for its identities (SSH_AGENTC_REQUEST_IDENTITIES) and prints the
/// answer's body.
fn agent_probe(out: &Path) {
    let source = out.with_extension("rs");
    std::fs::write(
        &source,
        r#"use std::io::{Read, Write};
fn main() {
    let path = std::env::var("SSH_AUTH_SOCK").expect("SSH_AUTH_SOCK");
    let mut agent = std::os::unix::net::UnixStream::connect(&path).expect("connect");
    agent.write_all(&[0, 0, 0, 1, 11]).expect("write");
    let mut len = [0u8; 4];
    agent.read_exact(&mut len).expect("read");
    let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
    agent.read_exact(&mut body).expect("read");
    std::io::stdout().write_all(&body).unwrap();
}
"#,
    )
    .unwrap();
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let built = std::process::Command::new(rustc)
        .args(["-O", "-C", "target-feature=+crt-static", "-o"])
        .arg(out)
        .arg(&source)
        .status()
        .expect("rustc runs");
    assert!(built.success(), "the agent probe compiles");
    std::fs::remove_file(&source).unwrap();
}
