//! Build contexts from a directory: the tar that `ImageBuild` (Docker's `POST /build`,
//! Podman's libpod build) takes as its body, made the way `docker build DIR` makes it, and
//! streamed as it is sent, in constant memory however large the tree.
//!
//! What is sent follows the docker CLI: `.dockerignore` is honoured (comments, `!`
//! exceptions where the last matching pattern wins, Go `filepath.Match` syntax plus `**`, a
//! directory's pattern leaving out its whole tree unless an exception names something under
//! it), the Dockerfile and `.dockerignore` are always sent, and entries are written in
//! sorted order with their modes, mtimes (seconds) and owner 0:0; symbolic links are stored
//! as links, never followed.
//!
//! A file that cannot be read, or that changes size while it is sent, ends the body with an
//! error naming it: the call then fails with [`Error::RequestBody`](crate::Error::RequestBody)
//! and the engine, whose upload broke off, builds nothing.
//!
//! ```no_run
//! # #[cfg(feature = "docker-v1_55")]
//! # async fn demo(docker: &berth::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use berth::build_context::BuildContext;
//! use berth::docker::v1_55::build::ImageBuild;
//! use futures_util::StreamExt;
//!
//! let context = BuildContext::options()
//!     .dockerfile("docker/Dockerfile")
//!     .from_dir("./app")
//!     .await?;
//! let mut output = docker
//!     .invoke(ImageBuild {
//!         t: Some("app:latest".into()),
//!         dockerfile: Some(context.dockerfile().into()),
//!         body: Some(context.into_body()),
//!         ..Default::default()
//!     })
//!     .await?;
//! while let Some(line) = output.next().await {
//!     print!("{}", line?.stream.unwrap_or_default());
//! }
//! # Ok(()) }
//! ```

pub(crate) mod ignore;
pub(crate) mod pattern;
mod walk;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::Body;
use ignore::{read_patterns, Matcher};
use walk::{Message, Plan};

/// How to read a context directory: for now, where its Dockerfile is.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use berth::build_context::BuildContext;
/// let context = BuildContext::options()
///     .dockerfile("build/Dockerfile.release")
///     .from_dir("./app")
///     .await?;
/// assert_eq!(context.dockerfile(), "build/Dockerfile.release");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct BuildContextOptions {
    dockerfile: Option<PathBuf>,
}

impl BuildContextOptions {
    /// The defaults: the Dockerfile is `Dockerfile` at the context's root (or `dockerfile`
    /// when only that one exists, as the docker CLI accepts).
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let context = berth::build_context::BuildContextOptions::new().from_dir(".").await?;
    /// # Ok(()) }
    /// ```
    pub fn new() -> BuildContextOptions {
        BuildContextOptions::default()
    }

    /// The Dockerfile's path, relative to the context directory (or absolute, inside it).
    /// It is always sent, even when `.dockerignore` leaves it out, so that the engine can
    /// read it; pass [`BuildContext::dockerfile`] as the build's `dockerfile` parameter.
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let context = berth::build_context::BuildContext::options()
    ///     .dockerfile("docker/Dockerfile")
    ///     .from_dir("./app")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn dockerfile(mut self, path: impl Into<PathBuf>) -> BuildContextOptions {
        self.dockerfile = Some(path.into());
        self
    }

    /// Opens the context at `dir`: resolves the directory (following symbolic links, as
    /// the CLI does), reads its `.dockerignore` and finds the Dockerfile. Nothing of the
    /// tree is read yet; that happens as the body is sent.
    ///
    /// Fails when the directory or the Dockerfile cannot be found, the Dockerfile is
    /// outside the context, or `.dockerignore` holds a pattern Docker would refuse.
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let context = berth::build_context::BuildContext::options().from_dir("./app").await?;
    /// # Ok(()) }
    /// ```
    pub async fn from_dir(self, dir: impl AsRef<Path>) -> io::Result<BuildContext> {
        let dir = dir.as_ref().to_path_buf();
        let dockerfile = self.dockerfile;
        tokio::task::spawn_blocking(move || open(&dir, dockerfile.as_deref()))
            .await
            .map_err(io::Error::other)?
    }

    /// [`from_dir`](Self::from_dir) for a program without `async` (the blocking client):
    /// opens the context on the calling thread. The body is the same stream, made as the
    /// blocking client sends it.
    ///
    /// ```no_run
    /// # fn demo() -> std::io::Result<()> {
    /// let context = berth::build_context::BuildContext::options()
    ///     .dockerfile("ci/Dockerfile")
    ///     .from_dir_blocking("./app")?;
    /// # Ok(()) }
    /// ```
    pub fn from_dir_blocking(self, dir: impl AsRef<Path>) -> io::Result<BuildContext> {
        open(dir.as_ref(), self.dockerfile.as_deref())
    }
}

/// A context directory ready to be sent: its resolved root, the Dockerfile's path inside it
/// and the `.dockerignore` patterns in force.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use berth::build_context::BuildContext;
/// let context = BuildContext::from_dir("./app").await?;
/// println!("sending {} with {}", context.dir().display(), context.dockerfile());
/// let body: berth::Body = context.into_body();
/// # Ok(()) }
/// ```
pub struct BuildContext {
    plan: Plan,
    dockerfile: String,
}

impl BuildContext {
    /// Opens `dir` with the default options (the Dockerfile at its root).
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let context = berth::build_context::BuildContext::from_dir("./app").await?;
    /// # Ok(()) }
    /// ```
    pub async fn from_dir(dir: impl AsRef<Path>) -> io::Result<BuildContext> {
        BuildContextOptions::new().from_dir(dir).await
    }

    /// Opens `dir` on the calling thread, for the blocking client: see
    /// [`BuildContextOptions::from_dir_blocking`].
    ///
    /// ```no_run
    /// # #[cfg(all(feature = "blocking", feature = "docker-v1_55"))]
    /// # fn demo(docker: berth::blocking::Client) -> berth::Result<()> {
    /// use berth::build_context::BuildContext;
    /// use berth::docker::v1_55::build::ImageBuild;
    /// let context = BuildContext::from_dir_blocking("./app")?;
    /// let progress = docker.invoke(ImageBuild {
    ///     t: Some("app:latest".into()),
    ///     dockerfile: Some(context.dockerfile().to_string()),
    ///     body: Some(context.into_body()),
    ///     ..Default::default()
    /// })?;
    /// for item in progress {
    ///     print!("{}", item?.stream.unwrap_or_default());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn from_dir_blocking(dir: impl AsRef<Path>) -> io::Result<BuildContext> {
        BuildContextOptions::new().from_dir_blocking(dir)
    }

    /// Options, to open a directory with a Dockerfile elsewhere than at its root.
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let context = berth::build_context::BuildContext::options()
    ///     .dockerfile("ci/Dockerfile")
    ///     .from_dir(".")
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn options() -> BuildContextOptions {
        BuildContextOptions::new()
    }

    /// The context's root, absolute with symbolic links resolved.
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let context = berth::build_context::BuildContext::from_dir(".").await?;
    /// assert!(context.dir().is_absolute());
    /// # Ok(()) }
    /// ```
    pub fn dir(&self) -> &Path {
        &self.plan.root
    }

    /// The Dockerfile's path inside the context, `/`-separated (symbolic links resolved, as
    /// the CLI sends it): the value of the build's `dockerfile` parameter.
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let context = berth::build_context::BuildContext::from_dir(".").await?;
    /// assert_eq!(context.dockerfile(), "Dockerfile");
    /// # Ok(()) }
    /// ```
    pub fn dockerfile(&self) -> &str {
        &self.dockerfile
    }

    /// The context as a request body (`application/x-tar`, which berth sends for
    /// `ImageBuild`). The tree is walked as the body is sent, by a thread started on the
    /// first read; a read error ends the body with an error naming the file.
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// let body = berth::build_context::BuildContext::from_dir(".").await?.into_body();
    /// # Ok(()) }
    /// ```
    pub fn into_body(self) -> Body {
        Body::wrap_stream(self.into_stream())
    }

    /// The context as a stream of tar chunks (at most 64 KiB each), to send or store
    /// elsewhere. It ends with `None` only after the archive's last byte; an error item
    /// (naming the file) ends it early.
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// use futures_util::StreamExt;
    /// let mut tar = berth::build_context::BuildContext::from_dir(".").await?.into_stream();
    /// let mut size = 0;
    /// while let Some(chunk) = tar.next().await {
    ///     size += chunk?.len();
    /// }
    /// println!("{size} bytes of context");
    /// # Ok(()) }
    /// ```
    pub fn into_stream(self) -> TarStream {
        TarStream {
            state: State::Waiting(Some(self.plan)),
        }
    }
}

impl fmt::Debug for BuildContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuildContext")
            .field("dir", &self.plan.root)
            .field("dockerfile", &self.dockerfile)
            .finish_non_exhaustive()
    }
}

/// A build context's tar, chunk by chunk, made while it is read: at most a few hundred KiB
/// of it exist at a time (the producer waits for the reader). Dropping it stops the walk.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use futures_util::StreamExt;
/// let mut tar: berth::build_context::TarStream =
///     berth::build_context::BuildContext::from_dir(".").await?.into_stream();
/// let first: Option<std::io::Result<bytes::Bytes>> = tar.next().await;
/// # Ok(()) }
/// ```
pub struct TarStream {
    state: State,
}

enum State {
    /// Not read yet: the producer starts on the first read.
    Waiting(Option<Plan>),
    Running(mpsc::Receiver<Message>),
    Ended,
}

impl futures_core::Stream for TarStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let State::Waiting(plan) = &mut this.state {
            let Some(plan) = plan.take() else {
                this.state = State::Ended;
                return Poll::Ready(None);
            };
            match walk::spawn(plan) {
                Ok(rx) => this.state = State::Running(rx),
                Err(e) => {
                    this.state = State::Ended;
                    return Poll::Ready(Some(Err(e)));
                }
            }
        }
        let State::Running(rx) = &mut this.state else {
            return Poll::Ready(None);
        };
        let item = match rx.poll_recv(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Some(Message::Data(chunk))) => return Poll::Ready(Some(Ok(chunk))),
            Poll::Ready(Some(Message::Done)) => None,
            Poll::Ready(Some(Message::Failed(e))) => Some(Err(e)),
            Poll::Ready(None) => Some(Err(io::Error::other(
                "the build context's producer stopped before the end of the archive",
            ))),
        };
        this.state = State::Ended;
        Poll::Ready(item)
    }
}

impl fmt::Debug for TarStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Waiting(_) => "waiting",
            State::Running(_) => "running",
            State::Ended => "ended",
        };
        f.debug_struct("TarStream").field("state", &state).finish()
    }
}

/// What `docker build` does before sending (`GetContextFromLocalDir`, `ReadDockerignore`,
/// `TrimBuildFilesFromExcludes`), synchronously.
fn open(dir: &Path, dockerfile: Option<&Path>) -> io::Result<BuildContext> {
    let fail = |kind: io::ErrorKind, message: String| {
        io::Error::new(kind, format!("build context {}: {message}", dir.display()))
    };
    let root = std::fs::canonicalize(dir).map_err(|e| fail(e.kind(), e.to_string()))?;
    if !root.is_dir() {
        return Err(fail(io::ErrorKind::InvalidInput, "not a directory".into()));
    }

    let mut patterns = match std::fs::read(root.join(".dockerignore")) {
        Ok(content) => read_patterns(&content),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(fail(e.kind(), format!("reading .dockerignore: {e}"))),
    };

    let candidate = match dockerfile {
        Some(path) => root.join(path),
        None => {
            let default = root.join("Dockerfile");
            let lower = root.join("dockerfile");
            let missing = |p: &Path| matches!(p.symlink_metadata(), Err(e) if e.kind() == io::ErrorKind::NotFound);
            if missing(&default) && !missing(&lower) {
                lower
            } else {
                default
            }
        }
    };
    let resolved = std::fs::canonicalize(&candidate).map_err(|e| {
        fail(
            e.kind(),
            format!("cannot locate the Dockerfile {}: {e}", candidate.display()),
        )
    })?;
    let dockerfile = match resolved.strip_prefix(&root) {
        Ok(rel) if resolved.is_file() => rel
            .iter()
            .map(|name| name.to_str())
            .collect::<Option<Vec<_>>>()
            .map(|names| names.join("/"))
            .ok_or_else(|| {
                fail(
                    io::ErrorKind::InvalidInput,
                    format!("the Dockerfile's path {} is not UTF-8", rel.display()),
                )
            })?,
        Ok(_) => {
            return Err(fail(
                io::ErrorKind::InvalidInput,
                format!("the Dockerfile {} is not a file", resolved.display()),
            ))
        }
        Err(_) => {
            return Err(fail(
                io::ErrorKind::InvalidInput,
                format!(
                    "the Dockerfile {} must be within the build context",
                    resolved.display()
                ),
            ))
        }
    };

    // The engine reads both files from the context: when the patterns leave one out, an
    // exception for it goes at the end (the CLI appends the same `!name`).
    let bad_pattern =
        |why: String| fail(io::ErrorKind::InvalidData, format!(".dockerignore: {why}"));
    for keep in [".dockerignore", dockerfile.as_str()] {
        if Matcher::new(&patterns).map_err(bad_pattern)?.excludes(keep) {
            patterns.push(format!("!{keep}"));
        }
    }
    let matcher = Matcher::new(&patterns).map_err(bad_pattern)?;
    Ok(BuildContext {
        plan: Plan { root, matcher },
        dockerfile,
    })
}
