//! Every failure is a typed `Error` that says what happened and keeps what the engine sent.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Which limit an [`Error::Timeout`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Connecting (TLS and the ssh tunnel included): [`ClientBuilder::connect_timeout`](crate::ClientBuilder::connect_timeout).
    Connect,
    /// Waiting for the engine's next bytes: [`ClientBuilder::read_timeout`](crate::ClientBuilder::read_timeout).
    Read,
    /// A streamed request body the engine stopped taking: [`ClientBuilder::write_timeout`](crate::ClientBuilder::write_timeout).
    Write,
    /// The whole call, until its answer starts: [`ClientBuilder::timeout`](crate::ClientBuilder::timeout),
    /// or the call's own ([`CallOptions::timeout`](crate::CallOptions::timeout)).
    Call,
    /// The version probe before a client's first call:
    /// [`ClientBuilder::probe_timeout`](crate::ClientBuilder::probe_timeout).
    Probe,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "connect",
            TimeoutKind::Read => "read",
            TimeoutKind::Write => "write",
            TimeoutKind::Call => "call",
            TimeoutKind::Probe => "version probe",
        })
    }
}

/// What went wrong, with the endpoint, the operation and the raw body wherever they exist.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The endpoint URI cannot be used.
    InvalidUri { uri: String, reason: String },
    /// Client configuration that cannot work (TLS material, options).
    Config { message: String },
    /// A request value that cannot be sent (a path value of `..`, a bad by-name param).
    InvalidRequest { operation: String, message: String },
    /// No connection could be made (refused, no such socket, unreachable).
    Connect {
        endpoint: String,
        source: std::io::Error,
    },
    /// A timeout fired; `which` says which limit.
    Timeout {
        endpoint: String,
        operation: String,
        which: TimeoutKind,
    },
    /// The ssh tunnel of an `ssh://` endpoint could not be started: ssh refused the key
    /// or the host key, could not reach the host, or is not installed. The message says
    /// which, with what ssh wrote to its stderr.
    Ssh { endpoint: String, message: String },
    /// The TLS handshake failed (bad certificate, unknown CA, refused client certificate).
    Tls { endpoint: String, message: String },
    /// A streamed request body failed (its own error, in `message`), or was not sent
    /// whole. The call fails even when the engine answered already.
    RequestBody { operation: String, message: String },
    /// Any other transport failure while sending or receiving: the connection closed
    /// before the answer was complete, or the answer was malformed or too large.
    Transport {
        endpoint: String,
        operation: String,
        source: std::io::Error,
    },
    /// The engine answered with an error status (>= 400), or with a redirect, which
    /// berth does not follow.
    Api(ApiError),
    /// The engine answered, but the body does not decode as the operation's type; or a
    /// stream's bytes do not: not multiplexed frames, a frame cut short, a JSON line over
    /// [`JsonLines::max_line_length`](crate::JsonLines::max_line_length). `path` is empty
    /// when no field is to blame; `body` keeps the bytes that failed.
    Decode {
        operation: String,
        path: String,
        message: String,
        body: Bytes,
    },
    /// A success status the operation does not list, with the body.
    UnexpectedStatus {
        operation: String,
        status: u16,
        body: Bytes,
    },
    /// An item of a progress stream carried an error (`error` / `errorDetail`).
    Stream {
        operation: String,
        message: String,
        raw: Bytes,
    },
    /// The server does not speak the API version of the module used.
    UnsupportedVersion {
        operation: String,
        requested: String,
        server_min: String,
        server_max: String,
    },
    /// An I/O error on a stream or hijacked connection.
    Io(std::io::Error),
    /// A call of the blocking client (`berth::blocking`, feature `blocking`) was made on a
    /// thread that is inside an async runtime: a task, a `block_on`, a `spawn_blocking`
    /// closure or an entered runtime. Blocking there could stall that runtime, so it is
    /// refused; use `berth::Client` with `.await` there, or a thread of your own.
    InsideRuntime { operation: String },
    /// A docker context named by `DOCKER_CONTEXT`, by `currentContext` in `config.json`,
    /// or by [`DockerContext::load`](crate::context::DockerContext::load) does not exist:
    /// `path` is the `meta.json` that was looked for.
    ContextNotFound {
        name: String,
        /// What named it: `DOCKER_CONTEXT`, `currentContext in /home/me/.docker/config.json`.
        named_by: String,
        path: std::path::PathBuf,
    },
    /// A file of the engines' tools cannot be read or does not parse: the docker CLI's
    /// `config.json`, a context's `meta.json` or TLS files, Podman's `auth.json`. The
    /// message never quotes the file's values (they may be credentials).
    ConfigFile {
        path: std::path::PathBuf,
        message: String,
    },
    /// A credential helper (`docker-credential-<name>`, named by `credsStore` or
    /// `credHelpers`) is missing or failed; `action` is what it was asked (`get
    /// 127.0.0.1:5000`, `list`). Never an anonymous pull in its place.
    CredentialHelper {
        helper: String,
        action: String,
        failure: HelperFailure,
    },
    /// A BuildKit build failed (feature `buildkit`): the step that failed as the build
    /// named it (`[2/3] RUN make`), the engine's error, the last lines of the step's log,
    /// and the error item as sent.
    Build {
        step: Option<String>,
        message: String,
        log: Vec<String>,
        raw: Bytes,
    },
}

/// An error status from the engine: its message, and the whole body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    /// The operation id, or `METHOD path` for raw requests.
    pub operation: String,
    /// The engine's `message` (or the body's text when it is not JSON).
    pub message: String,
    /// Everything the engine sent.
    pub body: Bytes,
}

impl Error {
    /// The HTTP status of an API error or unexpected status.
    /// Example: `examples/registry_auth.rs`.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::UnexpectedStatus { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The variant's name (`"Timeout"`, `"Api"`, ...): what tracing records of a failed
    /// call, since messages may quote the engine.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidUri { .. } => "InvalidUri",
            Error::Config { .. } => "Config",
            Error::InvalidRequest { .. } => "InvalidRequest",
            Error::Connect { .. } => "Connect",
            Error::Timeout { .. } => "Timeout",
            Error::Ssh { .. } => "Ssh",
            Error::Tls { .. } => "Tls",
            Error::RequestBody { .. } => "RequestBody",
            Error::Transport { .. } => "Transport",
            Error::Api(_) => "Api",
            Error::Decode { .. } => "Decode",
            Error::UnexpectedStatus { .. } => "UnexpectedStatus",
            Error::Stream { .. } => "Stream",
            Error::UnsupportedVersion { .. } => "UnsupportedVersion",
            Error::Io(_) => "Io",
            Error::InsideRuntime { .. } => "InsideRuntime",
            Error::ContextNotFound { .. } => "ContextNotFound",
            Error::ConfigFile { .. } => "ConfigFile",
            Error::CredentialHelper { .. } => "CredentialHelper",
            Error::Build { .. } => "Build",
        }
    }

    /// The raw body the engine sent with this error, if any: readable even when the call
    /// was a streaming one.
    ///
    /// Example: `examples/error_body.rs` reads the body of a failed archive download.
    pub fn body(&self) -> Option<&Bytes> {
        match self {
            Error::Api(e) => Some(&e.body),
            Error::Decode { body, .. } | Error::UnexpectedStatus { body, .. } => Some(body),
            Error::Stream { raw, .. } | Error::Build { raw, .. } => Some(raw),
            _ => None,
        }
    }

    /// Whether the engine said the object does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUri { uri, reason } => write!(f, "invalid engine URI {uri:?}: {reason}"),
            Error::Config { message } => write!(f, "invalid client configuration: {message}"),
            Error::InvalidRequest { operation, message } => write!(f, "{operation}: invalid request: {message}"),
            Error::Connect { endpoint, source } => write!(f, "cannot connect to {endpoint}: {}", chain(source)),
            Error::Timeout { endpoint, operation, which } => write!(f, "{operation}: {which} timeout against {endpoint}"),
            Error::Tls { endpoint, message } => write!(f, "TLS with {endpoint} failed: {message}"),
            Error::Ssh { endpoint, message } => write!(f, "ssh tunnel to {endpoint} failed: {message}"),
            Error::RequestBody { operation, message } => write!(f, "{operation}: {message}"),
            Error::Transport { endpoint, operation, source } => write!(f, "{operation}: transport error with {endpoint}: {}", chain(source)),
            Error::Api(e) => write!(f, "{}: the engine answered {}: {}", e.operation, e.status, e.message),
            Error::Decode { operation, path, message, body } if path.is_empty() => {
                write!(f, "{operation}: cannot decode the answer: {message} ({} bytes kept)", body.len())
            }
            Error::Decode { operation, path, message, body } => {
                write!(f, "{operation}: cannot decode the answer at `{path}`: {message} ({} bytes kept)", body.len())
            }
            Error::UnexpectedStatus { operation, status, body } => write!(
                f,
                "{operation}: the engine answered {status}, a status the operation does not list ({} bytes kept)",
                body.len()
            ),
            Error::Stream { operation, message, .. } => write!(f, "{operation}: the engine reported an error in the stream: {message}"),
            Error::UnsupportedVersion { operation, requested, server_min, server_max } => {
                write!(
                    f,
                    "{operation}: API version {requested} is not supported by the server (it speaks {server_min} to {server_max}): \
                     use a module of that range"
                )?;
                if crate::version::compare(requested, server_max).is_gt() {
                    write!(f, ", or VersionPolicy::Negotiate to send this one at {server_max}")?;
                }
                Ok(())
            }
            Error::Io(e) => write!(f, "I/O error: {e}"),
            Error::InsideRuntime { operation } => write!(
                f,
                "{operation}: berth::blocking cannot be used on a thread inside an async runtime \
                 (a task, block_on or spawn_blocking): use berth::Client with .await there, or call from a thread of your own"
            ),
            Error::ContextNotFound { name, named_by, path } => write!(
                f,
                "docker context {name:?} (named by {named_by}) does not exist: there is no {}",
                path.display()
            ),
            Error::ConfigFile { path, message } => write!(f, "cannot use {}: {message}", path.display()),
            Error::CredentialHelper { helper, action, failure } => {
                write!(f, "credential helper {helper} ({action}): {failure}")
            }
            Error::Build { step, message, log, .. } => {
                match step {
                    Some(step) => write!(f, "BuildKit build failed at {step}: {message}")?,
                    None => write!(f, "BuildKit build failed: {message}")?,
                }
                if !log.is_empty() {
                    write!(f, "\n  its last lines:")?;
                    for line in log {
                        write!(f, "\n  > {line}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// An error with its sources, for messages that say the root cause.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connect { source, .. } | Error::Transport { source, .. } => Some(source),
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.operation, self.status, self.message)
    }
}

/// The engine's `message` from an error body (Docker `message`, Podman `message`/`cause`),
/// or the body's text.
pub(crate) fn message_of(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Probe {
        message: Option<String>,
        cause: Option<String>,
    }
    match serde_json::from_slice::<Probe>(body) {
        Ok(Probe {
            message: Some(m), ..
        }) => m,
        Ok(Probe { cause: Some(c), .. }) => c,
        _ => String::from_utf8_lossy(body).trim().to_string(),
    }
}

/// How a credential helper failed; carried by [`Error::CredentialHelper`]
/// (here, beside the error, so that every layer may use `error` without the credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HelperFailure {
    /// No executable `docker-credential-<name>` in the directories searched.
    NotFound { searched: String },
    /// The helper name cannot name a program (it holds a `/`, or is empty).
    InvalidName,
    /// The helper ran and failed: its exit status, and what it wrote (stderr, then
    /// stdout, where helpers put their error message), shortened.
    Failed { status: String, output: String },
    /// It answered, but not in the helpers' JSON (the answer itself is not shown).
    BadAnswer { detail: String },
    /// It did not finish within the timeout, and was killed.
    TimedOut { after: Duration },
    /// It could not be started or talked to.
    Io { message: String },
}

impl fmt::Display for HelperFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HelperFailure::NotFound { searched } => {
                write!(f, "not found (searched {searched})")
            }
            HelperFailure::InvalidName => f.write_str("the name cannot name a program"),
            HelperFailure::Failed { status, output } if output.is_empty() => {
                write!(f, "failed ({status}) and said nothing")
            }
            HelperFailure::Failed { status, output } => write!(f, "failed ({status}): {output}"),
            HelperFailure::BadAnswer { detail } => {
                write!(
                    f,
                    "answered something that is not a helper's JSON: {detail}"
                )
            }
            HelperFailure::TimedOut { after } => {
                write!(f, "did not answer within {after:?} and was killed")
            }
            HelperFailure::Io { message } => write!(f, "could not be run: {message}"),
        }
    }
}
