//! Credential helpers: `docker-credential-<name> get` with the server on stdin, answering
//! `{"ServerURL", "Username", "Secret"}`; `list` answering `{"<server>": "<username>"}`.
//! A helper is a blocking child process: it runs on the calling thread (the async API puts
//! it on tokio's blocking pool), bounded by a timeout after which it is killed.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::auth::RegistryAuth;
use crate::error::{Error, HelperFailure, Result};

/// What a helper answers for credentials it does not hold (the helpers' shared message):
/// not an error, the registry has no stored credentials.
const NOT_FOUND: &str = "credentials not found in native keychain";

/// The `Username` that says `Secret` is an identity token.
const TOKEN_USERNAME: &str = "<token>";

/// One helper, found on a search path.
pub(crate) struct Helper<'a> {
    pub(crate) name: &'a str,
    pub(crate) search_path: Option<&'a OsStr>,
    pub(crate) timeout: Duration,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "ServerURL", default)]
    server_url: String,
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

impl Helper<'_> {
    pub(crate) fn program(&self) -> String {
        format!("docker-credential-{}", self.name)
    }

    /// The credentials the helper holds for `server`, or `None` if it holds none.
    pub(crate) fn get(&self, server: &str) -> Result<Option<RegistryAuth>> {
        let action = format!("get {server}");
        let Some(stdout) = self.run("get", server, &action)? else {
            return Ok(None);
        };
        let answer: Answer =
            serde_json::from_slice(&stdout).map_err(|e| self.error(&action, bad_answer(&e)))?;
        let server = if answer.server_url.is_empty() {
            server.to_string()
        } else {
            answer.server_url
        };
        Ok(Some(if answer.username == TOKEN_USERNAME {
            RegistryAuth::identity_token(answer.secret, server)
        } else {
            RegistryAuth::password(answer.username, answer.secret, server)
        }))
    }

    /// The servers the helper holds credentials for.
    pub(crate) fn list(&self) -> Result<Vec<String>> {
        let Some(stdout) = self.run("list", "", "list")? else {
            return Ok(Vec::new());
        };
        let servers: BTreeMap<String, String> =
            serde_json::from_slice(&stdout).map_err(|e| self.error("list", bad_answer(&e)))?;
        Ok(servers.into_keys().collect())
    }

    fn error(&self, action: &str, failure: HelperFailure) -> Error {
        Error::CredentialHelper {
            helper: self.program(),
            action: action.to_string(),
            failure,
        }
    }

    /// Runs `docker-credential-<name> <verb>` with `input` on stdin: its stdout, or `None`
    /// when it says it holds no such credentials.
    fn run(&self, verb: &str, input: &str, action: &str) -> Result<Option<Vec<u8>>> {
        let fail = |failure| self.error(action, failure);
        let program = self.find().map_err(fail)?;
        let mut child = spawn(&program, verb).map_err(|e| fail(io_failure(&program, &e)))?;
        // A helper that does not read its stdin (`list`) may have closed it already.
        if let Some(mut stdin) = child.stdin.take() {
            match stdin.write_all(input.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(fail(io_failure(&program, &e)));
                }
                _ => {}
            }
        }
        // Both pipes are drained while waiting, so that a helper writing more than a pipe
        // holds cannot block.
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(fail(HelperFailure::TimedOut {
                        after: self.timeout,
                    }));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return Err(fail(io_failure(&program, &e))),
            }
        };
        let stdout = stdout.join().unwrap_or_default();
        let stderr = stderr.join().unwrap_or_default();
        if status.success() {
            return Ok(Some(stdout));
        }
        let said = String::from_utf8_lossy(&stdout).trim().to_string();
        if said == NOT_FOUND {
            return Ok(None);
        }
        let output = [String::from_utf8_lossy(&stderr).trim(), said.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" / ");
        Err(fail(HelperFailure::Failed {
            status: status.to_string(),
            output: shown_output(&output),
        }))
    }

    /// The helper's path: the first executable `docker-credential-<name>` on the search path.
    fn find(&self) -> std::result::Result<PathBuf, HelperFailure> {
        if self.name.is_empty() || self.name.contains(['/', '\\']) || self.name.starts_with('.') {
            return Err(HelperFailure::InvalidName);
        }
        let program = self.program();
        let dirs: Vec<PathBuf> = self
            .search_path
            .map(|p| std::env::split_paths(p).collect())
            .unwrap_or_default();
        dirs.iter()
            .map(|dir| dir.join(&program))
            .find(|path| is_executable(path))
            .ok_or_else(|| HelperFailure::NotFound {
                searched: match self.search_path {
                    Some(path) if !dirs.is_empty() => {
                        format!("PATH={}", OsString::from(path).to_string_lossy())
                    }
                    _ => "nothing: PATH is not set".to_string(),
                },
            })
    }
}

/// Starts the helper. "Text file busy" is retried briefly: a helper written just now
/// (installed, or by a test) can be held open for writing by a process another thread
/// forked in the meantime, until that process execs.
fn spawn(program: &Path, verb: &str) -> std::io::Result<std::process::Child> {
    const TEXT_FILE_BUSY: i32 = 26; // ETXTBSY on Linux and the BSDs
    let mut tries = 0;
    loop {
        let started = Command::new(program)
            .arg(verb)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        match started {
            Err(e) if e.raw_os_error() == Some(TEXT_FILE_BUSY) && tries < 50 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// A failed helper's words, shortened; withheld if they look like they hold a secret (a
/// helper that failed after printing its JSON answer).
fn shown_output(output: &str) -> String {
    if output.contains("\"Secret\"") || output.contains("\"Password\"") {
        return "(its output is withheld: it holds what looks like a secret)".to_string();
    }
    const MAX: usize = 500;
    match output.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &output[..cut]),
        None => output.to_string(),
    }
}

fn bad_answer(e: &serde_json::Error) -> HelperFailure {
    HelperFailure::BadAnswer {
        detail: super::config_file::json_error(e),
    }
}

fn io_failure(program: &Path, e: &std::io::Error) -> HelperFailure {
    HelperFailure::Io {
        message: format!("{}: {e}", program.display()),
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_say_what_and_keep_secrets_out() {
        let helper = Helper {
            name: "../sh",
            search_path: None,
            timeout: Duration::from_secs(1),
        };
        assert_eq!(helper.find(), Err(HelperFailure::InvalidName));
        let helper = Helper {
            name: "berth-none",
            search_path: Some(OsStr::new("/nonexistent-a:/nonexistent-b")),
            timeout: Duration::from_secs(1),
        };
        let e = helper.get("r:5000").unwrap_err().to_string();
        assert!(
            e.contains("docker-credential-berth-none")
                && e.contains("get r:5000")
                && e.contains("/nonexistent-b"),
            "{e}"
        );
        assert!(shown_output(r#"{"Username":"u","Secret":"pw"}"#).contains("withheld"));
        assert_eq!(shown_output(&"x".repeat(600)).len(), 503);
    }
}
