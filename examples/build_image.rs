//! Building an image with Docker from a context directory: `BuildContext` streams the
//! directory as the tar the build takes (honouring its `.dockerignore`, as `docker build`
//! does; berth sends `Content-Type: application/x-tar` itself), and the build's `BuildInfo`
//! lines are shown as they come, like the guide's `show-build-output!`.
//!
//! `cargo run --example build_image --features docker-v1_41`

#[path = "support/mod.rs"]
mod support;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use berth::build_context::BuildContext;
use berth::docker::v1_41::{build, images};
use berth::Client;
use futures_util::StreamExt;

#[allow(dead_code)] // tests/examples.rs calls `run`
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if let Err(e) = async { run(&support::docker()?).await }.await {
        eprintln!("build_image failed: {e}");
        std::process::exit(1);
    }
}

pub async fn run(docker: &Client) -> support::Result {
    let tag = format!("berth-example/{}:latest", support::unique("build"));
    let result = build(docker, &tag).await;
    let _ = docker
        .invoke(images::ImageDelete {
            name: tag,
            ..Default::default()
        })
        .await;
    result
}

/// The context directory, removed when dropped.
struct ContextDir(PathBuf);

impl Drop for ContextDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes the example's project: an app file, a secret and notes that `.dockerignore`
/// keeps out of the image, and a Dockerfile under `docker/` (FROM a local image: no pull)
/// whose build fails if either got in.
fn write_project(dir: &Path) -> std::io::Result<()> {
    let dockerfile = format!(
        "FROM {}\nCOPY . /app\n\
         RUN test ! -e /app/token.secret && test ! -e /app/notes && cat /app/app.txt\n\
         CMD [\"cat\", \"/app/app.txt\"]\n",
        support::test_image()
    );
    std::fs::create_dir_all(dir.join("docker"))?;
    std::fs::create_dir_all(dir.join("notes"))?;
    std::fs::write(dir.join("docker/Dockerfile"), dockerfile)?;
    std::fs::write(dir.join("app.txt"), "hello from a berth build\n")?;
    std::fs::write(dir.join("token.secret"), "not for the image\n")?;
    std::fs::write(dir.join("notes/todo.txt"), "ship it\n")?;
    std::fs::write(
        dir.join(".dockerignore"),
        "# kept out of the image\n*.secret\nnotes\n",
    )
}

async fn build(docker: &Client, tag: &str) -> support::Result {
    let dir = ContextDir(std::env::temp_dir().join(support::unique("build-context")));
    write_project(&dir.0)?;
    // The tree is read as the body is sent, in constant memory whatever its size.
    let context = BuildContext::options()
        .dockerfile("docker/Dockerfile")
        .from_dir(&dir.0)
        .await?;

    let mut output = docker
        .invoke(build::ImageBuild {
            t: Some(tag.to_string()),
            rm: Some(true),
            dockerfile: Some(context.dockerfile().to_string()),
            body: Some(context.into_body()),
            ..Default::default()
        })
        .await?;
    // show-build-output!: print each `stream` piece as it arrives, anything else as data.
    let mut image_id = None;
    let mut text = String::new();
    while let Some(line) = output.next().await {
        let line = line?; // a failing step is an Error::Stream with the engine's message
        if let Some(piece) = &line.stream {
            print!("{piece}");
            std::io::stdout().flush()?;
            text.push_str(piece);
        } else if let Some(id) = line.aux.as_ref().and_then(|aux| aux.id.clone()) {
            image_id = Some(id);
        } else {
            println!("{line:?}");
        }
    }
    // The RUN step printed the app file: the context arrived, less what was ignored.
    if !text.contains("hello from a berth build") {
        return Err(format!("the build did not print the app file: {text}").into());
    }
    let image_id = image_id.ok_or("the build reported no image id")?;
    let image = docker
        .invoke(images::ImageInspect {
            name: tag.to_string(),
        })
        .await?;
    if image.id.as_deref() != Some(image_id.as_str()) {
        return Err(format!("{tag} is {:?}, the build made {image_id}", image.id).into());
    }
    println!("built {tag} ({image_id})");
    Ok(())
}
