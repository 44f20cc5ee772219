//! `moby.sshforward.v1.SSH`: a local ssh agent's socket, relayed for `RUN --mount=type=ssh`.
//! The daemon opens one `ForwardAgent` stream per connection its container makes; the bytes
//! are the agent protocol as is, in chunks.

use std::path::PathBuf;
use std::pin::Pin;

use futures_core::Stream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::mpsc;
use tonic::{Status, Streaming};

use super::proto::moby::sshforward::v1::BytesMessage;

/// An ssh agent to forward: its socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshAgent {
    socket: PathBuf,
}

impl SshAgent {
    /// The agent of this process's `SSH_AUTH_SOCK` (what `--ssh default` forwards).
    pub fn from_env() -> std::io::Result<SshAgent> {
        std::env::var_os("SSH_AUTH_SOCK")
            .filter(|s| !s.is_empty())
            .map(|s| SshAgent { socket: s.into() })
            .ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::NotFound, "SSH_AUTH_SOCK is not set")
            })
    }

    /// The agent listening on this unix socket.
    pub fn socket(path: impl Into<PathBuf>) -> SshAgent {
        SshAgent {
            socket: path.into(),
        }
    }

    /// The agent answers on its socket.
    pub(crate) async fn check(&self) -> std::io::Result<()> {
        UnixStream::connect(&self.socket)
            .await
            .map(drop)
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("cannot reach the agent at {}: {e}", self.socket.display()),
                )
            })
    }

    /// Relays one stream to a new connection to the agent, both ways, until either ends.
    pub(crate) async fn forward(
        &self,
        mut incoming: Streaming<BytesMessage>,
    ) -> std::io::Result<Pin<Box<dyn Stream<Item = Result<BytesMessage, Status>> + Send>>> {
        let agent = UnixStream::connect(&self.socket).await?;
        let (mut from_agent, mut to_agent) = agent.into_split();
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(async move {
            while let Ok(Some(message)) = incoming.message().await {
                if to_agent.write_all(&message.data).await.is_err() {
                    break;
                }
            }
            // The container closed its connection: so does the agent's.
            let _ = to_agent.shutdown().await;
        });
        tokio::spawn(async move {
            let mut buffer = vec![0u8; 32 * 1024];
            loop {
                match from_agent.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let message = BytesMessage {
                            data: buffer[..n].to_vec(),
                        };
                        if tx.send(Ok(message)).await.is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Ok(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx)))
    }
}
