//! The blocking client (feature `blocking`): [`Client`] makes the same calls as
//! [`crate::Client`] without `async`, for programs that have no runtime of their own.
//!
//! ```no_run
//! # #[cfg(feature = "docker-v1_55")]
//! # fn demo() -> berth::Result<()> {
//! use berth::build_context::BuildContext;
//! use berth::docker::v1_55::{build::ImageBuild, containers, images::ImageCreate};
//!
//! let docker = berth::blocking::Client::docker_from_env()?.build_blocking()?;
//! let all = docker.invoke(containers::ContainerList { all: Some(true), ..Default::default() })?;
//! println!("{} containers", all.len());
//!
//! // A progress stream is an Iterator of results, each item as the engine sends it.
//! let pull = ImageCreate {
//!     from_image: Some("busybox".into()),
//!     tag: Some("latest".into()),
//!     ..Default::default()
//! };
//! for item in docker.invoke(pull)? {
//!     println!("{}", item?.status.unwrap_or_default());
//! }
//!
//! // Logs are an iterator of frames (stdout and stderr told apart); a follow ends when the
//! // container does.
//! let logs = docker.invoke(containers::ContainerLogs {
//!     id: "conny".into(),
//!     follow: Some(true),
//!     stdout: Some(true),
//!     stderr: Some(true),
//!     ..Default::default()
//! })?;
//! for frame in logs.frames() {
//!     let frame = frame?;
//!     print!("{:?}: {}", frame.stream, String::from_utf8_lossy(&frame.data));
//! }
//!
//! // An archive is a `std::io::Read`: the `tar` crate reads it as it arrives.
//! let archive = docker.invoke(containers::ContainerArchive { id: "conny".into(), path: "/etc".into() })?;
//! for entry in tar::Archive::new(archive).entries()? {
//!     println!("{}", entry?.path()?.display());
//! }
//!
//! // A directory as the build context, opened on this thread; the tar streams as it is sent.
//! let context = BuildContext::from_dir_blocking("./app")?;
//! let build = ImageBuild {
//!     t: Some("app:latest".into()),
//!     dockerfile: Some(context.dockerfile().into()),
//!     body: Some(context.into_body()),
//!     ..Default::default()
//! };
//! for line in docker.invoke(build)? {
//!     print!("{}", line?.stream.unwrap_or_default());
//! }
//! # Ok(()) }
//! ```
//!
//! What answers become: a buffered answer is the same value as with the async client;
//! a [`JsonLines`](crate::JsonLines) is an [`Iter`] of its items, a
//! [`ByteStream`](crate::ByteStream) a [`Reader`] (`std::io::Read` and `BufRead`), a
//! [`Multiplexed`](crate::Multiplexed) a [`Multiplexed`] whose frames are an [`Iter`], an
//! [`Upgraded`](crate::Upgraded) connection an [`Upgraded`] (`Read + Write`, with
//! [`Upgraded::close_write`] to close stdin). A request body can be read from any
//! `std::io::Read` with [`Body::from_std_reader`](crate::Body::from_std_reader).
//!
//! # How it runs
//!
//! Each client owns a tokio runtime with one worker thread, shared by its clones and by
//! every stream it hands out, which keep it alive while they live. A call builds the async
//! client's future (there is one request path, [`crate::Client::execute`]) and drives it
//! to completion on the caller's thread with [`tokio::runtime::Handle::block_on`], which
//! enters the runtime's context there; each step of an iterator or reader does the same
//! with the stream's next item. Meanwhile the worker thread drives the sockets, the
//! timers and hyper's connection tasks, so that a connection goes on being served between
//! two calls, and several threads can call through clones of one client at once.
//!
//! Why not a runtime thread that calls are sent to, as reqwest's blocking client does:
//! that costs a channel hop per call and per stream item (a log follow or a pull gives
//! thousands), and it requires every future and item to be `Send`. Polling on the
//! caller's thread needs neither; the only thing that must not block the worker is a
//! request body read from a `std::io::Read`, which is read on the runtime's blocking
//! threads.
//!
//! A thread that is inside an async runtime (a task, a `block_on`, a `spawn_blocking`
//! closure) is refused with [`Error::InsideRuntime`](crate::Error::InsideRuntime), by the
//! constructors and by every call, instead of tokio's panic: tokio gives no way to tell a
//! `spawn_blocking` thread (where blocking would be allowed) from a task (where it would
//! stall the runtime), so all are refused. The client and its streams may be dropped
//! anywhere, inside a runtime too: the runtime then shuts down in the background.
//!
//! Timeouts and errors are the async client's: the same [`crate::Error`] and the same
//! [`ClientBuilder`](crate::ClientBuilder) options.

mod body;
mod client;
mod raw;
mod stream;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use client::Client;
pub use raw::{Answer, RawRequest, RawResponse};
pub use stream::{IntoBlocking, Iter, Multiplexed, Reader, Upgraded, UpgradedWriter};

/// How long dropping the last handle on a runtime waits for its threads to stop. The
/// worker stops at once; what may take longer is a request body's `Read` still blocked,
/// which is not waited for past this.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// The runtime a client and its streams share (in an `Arc`): it shuts down when the last
/// of them is dropped.
pub(crate) struct Runtime {
    /// `None` only while dropping.
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
}

impl Runtime {
    /// A runtime with one worker thread, refused inside another runtime (where the
    /// runtime could not even be dropped without a panic).
    fn new() -> crate::Result<Arc<Runtime>> {
        refuse_inside_runtime("berth::blocking::Client")?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("berth-blocking")
            .enable_all()
            .build()
            .map_err(|e| crate::Error::Config {
                message: format!("the blocking client's runtime cannot start: {e}"),
            })?;
        Ok(Arc::new(Runtime {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        }))
    }

    /// Drives `future` to completion on this thread, with the runtime's context entered;
    /// `what` names the call in the error when this thread is inside a runtime.
    pub(crate) fn block_on<F: Future>(&self, what: &str, future: F) -> crate::Result<F::Output> {
        refuse_inside_runtime(what)?;
        Ok(self.handle.block_on(future))
    }

    /// Enters the runtime's context, for what must be built or dropped within it.
    fn enter(&self) -> tokio::runtime::EnterGuard<'_> {
        self.handle.enter()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        // tokio panics when a runtime is dropped, or waited for, where blocking is not
        // allowed; a thread with a runtime's context is taken to be such a place.
        if tokio::runtime::Handle::try_current().is_ok() {
            runtime.shutdown_background();
        } else {
            runtime.shutdown_timeout(SHUTDOWN_GRACE);
        }
    }
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Runtime")
    }
}

/// `Err(Error::InsideRuntime)` on a thread that has a tokio runtime's context: there,
/// `Handle::block_on` would panic (or block a worker).
fn refuse_inside_runtime(what: &str) -> crate::Result<()> {
    match tokio::runtime::Handle::try_current() {
        Ok(_) => Err(crate::Error::InsideRuntime {
            operation: what.to_string(),
        }),
        Err(_) => Ok(()),
    }
}
