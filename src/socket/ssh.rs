//! `ssh://user@host[:port][/path/to/engine.sock]` endpoints: like the docker CLI, berth runs
//! the system's OpenSSH client (`ssh`) as a child process that forwards a unix socket in a
//! private temporary directory to the engine's socket on the remote host, and talks HTTP
//! over that local socket.
//!
//! The tunnel is started lazily, by the first request (so building a client stays
//! synchronous and never blocks), and started again by a later request if `ssh` has exited.
//! It is stopped (the child killed and reaped, the directory removed) when the last clone of
//! the client is dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The tunnel could not be started: what ssh said, and for which endpoint.
#[derive(Debug)]
pub(crate) struct SshError {
    pub(crate) endpoint: String,
    pub(crate) message: String,
}

/// The remote engine socket when an `ssh://` URI names none.
pub const DEFAULT_REMOTE_SOCKET: &str = "/var/run/docker.sock";

/// How long the tunnel may take to come up when no connect timeout is set.
pub const DEFAULT_SSH_TIMEOUT: Duration = Duration::from_secs(15);

/// How long one probe of a new tunnel may take (see [`forwards`]).
const PROBE_LIMIT: Duration = Duration::from_secs(2);

/// How `ssh://` endpoints authenticate and check the host; see
/// `ClientBuilder::ssh`.
///
/// By default the key comes from ssh-agent or ssh's default identities (`~/.ssh/id_*`), and
/// the host key must already be in `~/.ssh/known_hosts` (or the system's known hosts):
/// `StrictHostKeyChecking=yes`, never a prompt (`BatchMode=yes`).
///
/// ```no_run
/// # async fn demo() -> berth::Result<()> {
/// use berth::{Client, SshOptions};
/// // Podman's socket on the remote host (without a path: `/var/run/docker.sock`).
/// let podman = Client::builder("ssh://user@host:2222/run/podman/podman.sock")
///     .ssh(
///         SshOptions::new()
///             .identity_file("/home/me/.ssh/id_ed25519") // only this key, not the agent's
///             .known_hosts("/home/me/.ssh/known_hosts"), // the host key must be in it
///     )
///     .build()?; // starts nothing yet
/// // Optional: starts ssh now rather than at the first call, so that a refused key or host
/// // key is this `Error::Ssh`, with what ssh said.
/// podman.connect().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SshOptions {
    identity_file: Option<PathBuf>,
    known_hosts: Option<PathBuf>,
    accept_unknown_hosts: bool,
    program: Option<PathBuf>,
}

impl SshOptions {
    pub fn new() -> Self {
        SshOptions::default()
    }

    /// The private key to log in with (`ssh -i FILE -o IdentitiesOnly=yes`): only this key
    /// is offered, not the agent's. It must not need a passphrase (ssh runs in batch mode);
    /// load such a key into ssh-agent and leave this unset instead.
    pub fn identity_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.identity_file = Some(path.into());
        self
    }

    /// The known_hosts file the host key is checked against, instead of the user's and the
    /// system's (`UserKnownHostsFile=FILE`, `GlobalKnownHostsFile=/dev/null`).
    pub fn known_hosts(mut self, path: impl Into<PathBuf>) -> Self {
        self.known_hosts = Some(path.into());
        self
    }

    /// Opts out of host key checking: any host key is accepted and none is recorded
    /// (`StrictHostKeyChecking=no`, `UserKnownHostsFile=/dev/null`). This gives up the
    /// protection against a man in the middle; use it only for throwaway hosts.
    pub fn accept_unknown_hosts(mut self, accept: bool) -> Self {
        self.accept_unknown_hosts = accept;
        self
    }

    /// The ssh client to run (default: `ssh` on the `PATH`).
    pub fn program(mut self, path: impl Into<PathBuf>) -> Self {
        self.program = Some(path.into());
        self
    }
}

/// The parts of an `ssh://` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    pub user: Option<String>,
    /// A host name or address (an IPv6 address without its brackets).
    pub host: String,
    pub port: Option<u16>,
    /// The engine's unix socket on the remote host.
    pub socket: PathBuf,
}

impl SshTarget {
    /// Parses what follows `ssh://`: `[user@]host[:port][/path/to/engine.sock]`.
    pub(crate) fn parse(rest: &str) -> Result<SshTarget, String> {
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if rest.contains('?') || rest.contains('#') {
            return Err("an ssh:// URI takes no query or fragment".into());
        }
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((user, hostport)) => (Some(user), hostport),
            None => (None, authority),
        };
        if let Some(user) = user {
            if user.is_empty() || user.contains(':') {
                return Err(
                    "expected ssh://user@host (a password in the URI is not supported; use a key)"
                        .into(),
                );
            }
            if user.starts_with('-') || user.chars().any(char::is_whitespace) {
                return Err("the user name is not valid".into());
            }
        }
        let (host, port) = if let Some(bracketed) = hostport.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or("an IPv6 address needs its closing ]")?;
            match after {
                "" => (host, None),
                _ => match after.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None => return Err("expected [address]:port".into()),
                },
            }
        } else {
            match hostport.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (hostport, None),
            }
        };
        if host.is_empty() {
            return Err("expected ssh://[user@]host[:port][/path/to/engine.sock]".into());
        }
        if host.starts_with('-') || host.chars().any(|c| c.is_whitespace() || c == '@') {
            return Err("the host name is not valid".into());
        }
        let port = match port {
            None => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or("the port is not a number from 1 to 65535")?,
            ),
        };
        let socket = match path {
            "" | "/" => PathBuf::from(DEFAULT_REMOTE_SOCKET),
            path => PathBuf::from(path),
        };
        Ok(SshTarget {
            user: user.map(str::to_string),
            host: host.to_string(),
            port,
            socket,
        })
    }

    /// `ssh://user@host:port/path`
    pub fn display(&self) -> String {
        let mut text = String::from("ssh://");
        if let Some(user) = &self.user {
            text.push_str(user);
            text.push('@');
        }
        if self.host.contains(':') {
            text.push_str(&format!("[{}]", self.host));
        } else {
            text.push_str(&self.host);
        }
        if let Some(port) = self.port {
            text.push_str(&format!(":{port}"));
        }
        text.push_str(&self.socket.to_string_lossy());
        text
    }
}

/// The ssh child, and our end of the socket pair that is its stderr. A process closes its
/// descriptors in order as it exits, stderr before the sockets it made later: by the time a
/// connection through the tunnel sees the end, so does `stderr`, while `try_wait` may still
/// say the child runs (it is not reaped until it has closed everything). A request sent then
/// would reach the dying ssh's listener and be reset (the faults stage saw it under load).
/// stdout would not do: `ssh -N` puts /dev/null there.
#[derive(Debug)]
struct Running {
    child: Child,
    stderr: std::os::unix::net::UnixStream,
    /// What ssh wrote to stderr, its last `STDERR_KEPT` bytes.
    said: Vec<u8>,
}

/// How much of ssh's stderr is kept for error messages.
const STDERR_KEPT: usize = 16 * 1024;

impl Running {
    /// Whether ssh runs and is not on its way out.
    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None)) && !self.drain()
    }

    /// Takes what ssh wrote to stderr so far (it never blocks on a full pipe); `true` once
    /// ssh's end is closed.
    fn drain(&mut self) -> bool {
        use std::io::Read as _;
        let mut buffer = [0u8; 4096];
        loop {
            match self.stderr.read(&mut buffer) {
                Ok(0) => return true,
                Ok(n) => {
                    self.said.extend_from_slice(&buffer[..n]);
                    let over = self.said.len().saturating_sub(STDERR_KEPT);
                    self.said.drain(..over);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return e.kind() != std::io::ErrorKind::WouldBlock,
            }
        }
    }
}

/// A running (or startable) `ssh -N -L` child and its private directory. Dropping it kills
/// and reaps the child and removes the directory.
#[derive(Debug)]
pub(crate) struct SshTunnel {
    target: SshTarget,
    options: SshOptions,
    /// What errors call the endpoint.
    endpoint: String,
    dir: PathBuf,
    socket: PathBuf,
    timeout: Duration,
    child: Mutex<Option<Running>>,
    /// Serializes starts, so that concurrent first requests start one child.
    starting: tokio::sync::Mutex<()>,
}

impl SshTunnel {
    /// Makes the private directory; starts nothing yet.
    pub(crate) fn new(
        target: SshTarget,
        options: SshOptions,
        timeout: Option<Duration>,
    ) -> Result<SshTunnel, SshError> {
        let endpoint = target.display();
        let dir = private_dir().map_err(|e| SshError {
            endpoint: endpoint.clone(),
            message: format!("cannot make a private directory for the tunnel's socket: {e}"),
        })?;
        Ok(SshTunnel {
            socket: dir.join("engine.sock"),
            dir,
            endpoint,
            target,
            options,
            timeout: timeout.unwrap_or(DEFAULT_SSH_TIMEOUT),
            child: Mutex::new(None),
            starting: tokio::sync::Mutex::new(()),
        })
    }

    /// The local socket the forwarded engine answers on.
    pub(crate) fn socket(&self) -> &Path {
        &self.socket
    }

    /// The pid of the ssh child while it runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
        let running = child.as_mut()?;
        running.alive().then(|| running.child.id())
    }

    /// Starts ssh unless it runs, and waits until its local socket accepts.
    pub(crate) async fn ensure(&self) -> Result<(), SshError> {
        if self.pid().is_some() {
            return Ok(());
        }
        let _starting = self.starting.lock().await;
        if self.pid().is_some() {
            return Ok(());
        }
        self.stop();
        self.start().await
    }

    /// After a request through the tunnel failed to connect or on the wire: a probe
    /// through it (an HTTP `/_ping`), and a new ssh when the probe fails or ssh is gone.
    pub(crate) async fn recover(&self) -> Result<(), SshError> {
        let _starting = self.starting.lock().await;
        if self.pid().is_some() {
            if let Ok(probe) = tokio::net::UnixStream::connect(&self.socket).await {
                if forwards(probe, PROBE_LIMIT.min(self.timeout)).await {
                    return Ok(());
                }
            }
        }
        self.stop();
        self.start().await
    }

    fn command(&self) -> Command {
        let program = self
            .options
            .program
            .clone()
            .unwrap_or_else(|| PathBuf::from("ssh"));
        let mut ssh = Command::new(program);
        let o = |ssh: &mut Command, option: String| {
            ssh.arg("-o").arg(option);
        };
        ssh.arg("-N").arg("-T");
        o(&mut ssh, "BatchMode=yes".into());
        o(&mut ssh, "ExitOnForwardFailure=yes".into());
        // This process is the connection: no shared master that would outlive it.
        o(&mut ssh, "ControlMaster=no".into());
        o(&mut ssh, "ControlPath=none".into());
        o(&mut ssh, "ServerAliveInterval=15".into());
        o(&mut ssh, "ServerAliveCountMax=3".into());
        o(
            &mut ssh,
            format!("ConnectTimeout={}", self.timeout.as_secs().max(1)),
        );
        if self.options.accept_unknown_hosts {
            o(&mut ssh, "StrictHostKeyChecking=no".into());
            o(&mut ssh, "UserKnownHostsFile=/dev/null".into());
            o(&mut ssh, "GlobalKnownHostsFile=/dev/null".into());
            // no "Permanently added ... to the list of known hosts" in the log
            o(&mut ssh, "LogLevel=ERROR".into());
        } else {
            o(&mut ssh, "StrictHostKeyChecking=yes".into());
            if let Some(known) = &self.options.known_hosts {
                o(&mut ssh, format!("UserKnownHostsFile={}", quote(known)));
                o(&mut ssh, "GlobalKnownHostsFile=/dev/null".into());
            }
        }
        if let Some(key) = &self.options.identity_file {
            ssh.arg("-i").arg(key);
            o(&mut ssh, "IdentitiesOnly=yes".into());
        }
        if let Some(port) = self.target.port {
            ssh.arg("-p").arg(port.to_string());
        }
        if let Some(user) = &self.target.user {
            ssh.arg("-l").arg(user);
        }
        let mut forward = self.socket.as_os_str().to_owned();
        forward.push(":");
        forward.push(self.target.socket.as_os_str());
        ssh.arg("-L").arg(forward);
        ssh.arg("--").arg(&self.target.host);
        ssh
    }

    /// Starts ssh and waits until a connection through its local socket reaches the
    /// engine's socket (see [`forwards`]).
    async fn start(&self) -> Result<(), SshError> {
        let fail = |message: String| SshError {
            endpoint: self.endpoint.clone(),
            message,
        };
        let _ = std::fs::remove_file(&self.socket);
        let (stderr, theirs) = std::os::unix::net::UnixStream::pair()
            .and_then(|(ours, theirs)| ours.set_nonblocking(true).map(|()| (ours, theirs)))
            .map_err(|e| fail(format!("cannot make a socket pair for ssh's stderr: {e}")))?;
        let mut command = self.command();
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::os::fd::OwnedFd::from(theirs)));
        let child = command.spawn().map_err(|e| {
            fail(format!(
                "cannot run the OpenSSH client {:?}: {e} (install openssh-client)",
                command.get_program()
            ))
        })?;
        // (the child's end of the pair goes with `command`: ours must see the end when ssh's
        // own copy closes)
        drop(command);
        *self.child.lock().unwrap_or_else(|e| e.into_inner()) = Some(Running {
            child,
            stderr,
            said: Vec::new(),
        });
        let deadline = Instant::now() + self.timeout;
        loop {
            let exited = {
                let mut child = self.child.lock().unwrap_or_else(|e| e.into_inner());
                match child.as_mut().map(|running| running.child.try_wait()) {
                    Some(Ok(None)) => None,
                    Some(Ok(Some(status))) => Some(status.to_string()),
                    Some(Err(e)) => Some(e.to_string()),
                    None => Some("stopped".into()),
                }
            };
            if let Some(status) = exited {
                let said = self.stop();
                return Err(fail(explain(&format!("ssh exited ({status})"), &said)));
            }
            if let Ok(probe) = tokio::net::UnixStream::connect(&self.socket).await {
                let left = deadline.saturating_duration_since(Instant::now());
                if forwards(probe, left.min(PROBE_LIMIT)).await {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                let said = self.stop();
                return Err(fail(explain(
                    &format!("the tunnel did not come up within {:?}", self.timeout),
                    &said,
                )));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Kills and reaps the child, if any; what it wrote to stderr.
    fn stop(&self) -> String {
        let child = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        let _ = std::fs::remove_file(&self.socket);
        let Some(mut running) = child else {
            return String::new();
        };
        let _ = running.child.kill();
        let _ = running.child.wait();
        running.drain();
        String::from_utf8_lossy(&running.said).into_owned()
    }
}

/// What went wrong, from ssh's stderr.
fn explain(what: &str, stderr: &str) -> String {
    let stderr = stderr.trim();
    let hint = if stderr.contains("Host key verification failed") {
        Some(
            "the host key is not known (or has changed): add it to known_hosts \
             (SshOptions::known_hosts), or opt out with SshOptions::accept_unknown_hosts",
        )
    } else if stderr.contains("Permission denied") {
        Some(
            "the server refused the key: check SshOptions::identity_file, \
             or the keys in ssh-agent, against the user's authorized_keys",
        )
    } else {
        None
    };
    let mut message = match hint {
        Some(hint) => format!("{hint}; {what}"),
        None => what.to_string(),
    };
    if !stderr.is_empty() {
        message.push_str(": ");
        message.push_str(&stderr.replace('\n', " / ").replace('\r', ""));
    }
    message
}

impl Drop for SshTunnel {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A path for an ssh `-o` value (ssh splits option values on whitespace unless quoted).
fn quote(path: &Path) -> String {
    let text = path.to_string_lossy();
    if text.chars().any(|c| c.is_whitespace() || c == '"') {
        format!("\"{}\"", text.replace('"', "\\\""))
    } else {
        text.into_owned()
    }
}

/// A new directory only this user can enter: `$TMPDIR/berth-ssh-<pid>-<n>-<time>`, or
/// under `/tmp` when `$TMPDIR` is too long for a unix socket path (108 bytes).
fn private_dir() -> std::io::Result<PathBuf> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let mut base = std::env::temp_dir();
    if base.as_os_str().len() > 60 {
        base = PathBuf::from("/tmp");
    }
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = base.join(format!("berth-ssh-{}-{n}-{t:08x}", std::process::id()));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Whether a connection through a new tunnel reaches the engine: ssh accepts on its local
/// socket before sshd has opened the remote end, and closes (or resets) the connection when
/// sshd cannot, sometimes only after a while (a connection merely still open after 50 ms was
/// taken for a tunnel, and the faults stage saw the first call through it reset). So the
/// probe asks: every engine answers `GET /_ping`, and an HTTP answer means the way through is
/// open. The probe is given up after `limit`; the caller tries again until its deadline.
async fn forwards(mut probe: tokio::net::UnixStream, limit: Duration) -> bool {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let ask = async {
        probe
            .write_all(b"GET /_ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await?;
        let mut head = [0u8; 5];
        probe.read_exact(&mut head).await?;
        Ok::<bool, std::io::Error>(&head == b"HTTP/")
    };
    matches!(tokio::time::timeout(limit, ask).await, Ok(Ok(true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse() {
        let t = SshTarget::parse("root@127.0.0.1:2222/run/podman/podman.sock").unwrap();
        assert_eq!(t.user.as_deref(), Some("root"));
        assert_eq!(t.host, "127.0.0.1");
        assert_eq!(t.port, Some(2222));
        assert_eq!(t.socket, Path::new("/run/podman/podman.sock"));
        assert_eq!(
            t.display(),
            "ssh://root@127.0.0.1:2222/run/podman/podman.sock"
        );
        let t = SshTarget::parse("example.com").unwrap();
        assert_eq!((t.user, t.port), (None, None));
        assert_eq!(t.socket, Path::new(DEFAULT_REMOTE_SOCKET));
        let t = SshTarget::parse("me@[::1]:22/").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", Some(22)));
        assert_eq!(t.display(), "ssh://me@[::1]:22/var/run/docker.sock");
        for bad in [
            "",
            "root@",
            "@host",
            "user:pw@host",
            "host:0",
            "host:99999",
            "host:x",
            "-oProxyCommand=x",
            "[::1",
            "host/x?y",
        ] {
            assert!(SshTarget::parse(bad).is_err(), "{bad}");
        }
    }

    /// A local socket that behaves as ssh's does: accepts, reads what comes, then either
    /// closes after `close_after` (sshd could not reach the engine) or answers as an engine.
    async fn fake_tunnel(close_after: Option<Duration>) -> (PathBuf, tokio::task::JoinHandle<()>) {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let dir = private_dir().unwrap();
        let path = dir.join("engine.sock");
        let listener = tokio::net::UnixListener::bind(&path).unwrap();
        let task = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await;
            match close_after {
                Some(after) => tokio::time::sleep(after).await,
                None => {
                    let _ = stream
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")
                        .await;
                }
            }
        });
        (path, task)
    }

    #[tokio::test]
    async fn a_tunnel_is_up_when_the_engine_answers_through_it() {
        let (path, task) = fake_tunnel(None).await;
        let probe = tokio::net::UnixStream::connect(&path).await.unwrap();
        assert!(forwards(probe, Duration::from_secs(5)).await);
        task.await.unwrap();
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    /// ssh closing the connection late (sshd's channel open failed after 200 ms) is not a
    /// tunnel: a probe that took silence for an open way said it was.
    #[tokio::test]
    async fn a_connection_closed_late_is_not_a_tunnel() {
        let (path, task) = fake_tunnel(Some(Duration::from_millis(200))).await;
        let probe = tokio::net::UnixStream::connect(&path).await.unwrap();
        assert!(!forwards(probe, Duration::from_secs(5)).await);
        task.await.unwrap();
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    /// A child that has closed its stderr is on its way out, though it still runs; what it
    /// wrote there is kept.
    #[test]
    fn a_child_whose_stderr_closed_is_not_alive() {
        let spawn = |script: &str| {
            let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
            ours.set_nonblocking(true).unwrap();
            let child = Command::new("sh")
                .args(["-c", script])
                .stderr(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
                .spawn()
                .unwrap();
            Running {
                child,
                stderr: ours,
                said: Vec::new(),
            }
        };
        let mut running = spawn("echo starting >&2; sleep 5");
        let mut exiting = spawn("echo leaving >&2; exec 2>&-; sleep 5");
        std::thread::sleep(Duration::from_millis(300));
        assert!(running.alive());
        assert_eq!(running.said, b"starting\n");
        assert!(matches!(exiting.child.try_wait(), Ok(None)), "still runs");
        assert!(!exiting.alive());
        assert_eq!(exiting.said, b"leaving\n");
        for mut r in [running, exiting] {
            r.child.kill().unwrap();
            r.child.wait().unwrap();
        }
    }

    #[test]
    fn command_line() {
        let target = SshTarget::parse("root@h:2222/s.sock").unwrap();
        let tunnel = SshTunnel::new(
            target,
            SshOptions::new().identity_file("/k").known_hosts("/kh"),
            None,
        )
        .unwrap();
        let args: Vec<String> = tunnel
            .command()
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let line = args.join(" ");
        for part in [
            "-N",
            "BatchMode=yes",
            "ExitOnForwardFailure=yes",
            "StrictHostKeyChecking=yes",
            "UserKnownHostsFile=/kh",
            "-i /k",
            "-p 2222",
            "-l root",
            "-- h",
        ] {
            assert!(line.contains(part), "{part} not in {line}");
        }
        assert!(line.contains(&format!("-L {}:/s.sock", tunnel.socket().display())));
        let dir = tunnel.dir.clone();
        assert!(dir.is_dir());
        drop(tunnel);
        assert!(!dir.exists());
    }
}
