//! Building with BuildKit, as `DOCKER_BUILDKIT=1 docker build` does: a multi-stage
//! Dockerfile whose build step reads a secret (`RUN --mount=type=secret`) and keeps a cache
//! mount, built for its `release` target with a build argument, its progress printed as
//! `--progress=plain` prints it.
//!
//! `cargo run --example buildkit --features docker-v1_41,buildkit`

#[path = "support/mod.rs"]
mod support;

use std::path::PathBuf;

use berth::buildkit::{BuildEvent, BuildKitBuild, PlainProgress, SecretSource};
use berth::docker::v1_41::images;
use berth::Client;
use futures_util::StreamExt;

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::docker()?).await }.await {
        eprintln!("buildkit failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(docker: &Client) -> support::Result {
    let dir = ContextDir(std::env::temp_dir().join(support::unique("buildkit-example")));
    std::fs::create_dir_all(dir.0.join("src"))?;
    std::fs::write(dir.0.join("src/app.txt"), "the app\n")?;
    std::fs::write(
        dir.0.join("Dockerfile"),
        format!(
            "FROM {image} AS build\n\
             ARG VERSION\n\
             COPY src/ /src/\n\
             RUN --mount=type=secret,id=token --mount=type=cache,target=/cache \\\n\
                 test -s /run/secrets/token && echo \"$VERSION\" > /src/version\n\
             FROM {image} AS release\n\
             COPY --from=build /src /app\n\
             CMD [\"cat\", \"/app/version\"]\n",
            image = support::test_image()
        ),
    )?;
    let tag = format!("berth-example/{}:latest", support::unique("buildkit"));
    let build = BuildKitBuild::new(&dir.0)
        .tag(tag.clone())
        .target("release")
        .build_arg("VERSION", "1.0")
        .secret("token", SecretSource::bytes("never in the image"));
    let mut progress = build.run(docker).await?;
    let mut plain = PlainProgress::new();
    let mut image = None;
    while let Some(event) = progress.next().await {
        match event? {
            BuildEvent::Progress(update) => print!("{}", plain.render(&update)),
            BuildEvent::ImageId(id) => image = Some(id),
            BuildEvent::Message(text) => print!("{text}"),
        }
    }
    let image = image.ok_or("the build named no image")?;
    println!("built {tag} ({image})");
    docker
        .invoke(images::ImageDelete {
            name: tag,
            ..Default::default()
        })
        .await?;
    Ok(())
}

/// The context directory, removed when dropped.
struct ContextDir(PathBuf);

impl Drop for ContextDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
