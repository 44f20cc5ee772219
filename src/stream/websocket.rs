//! `WebSocket`: attach over WebSocket (`ContainerAttachWebsocket`), on berth's own upgraded
//! connection, frames by tungstenite (feature `websocket`).

use super::Upgraded;

/// A container's stdio over WebSocket: the engine sends the output as messages (text or
/// binary, not multiplexed), and takes what is sent as stdin. berth makes the handshake on
/// any of its transports (unix, tcp, TLS, ssh) and checks the engine's accept key.
///
/// ```no_run
/// # #[cfg(all(feature = "websocket", feature = "docker-v1_55"))]
/// # async fn demo(docker: berth::Client) -> berth::Result<()> {
/// use berth::docker::v1_55::containers::ContainerAttachWebsocket;
/// use berth::websocket::Message;
/// let mut attached = docker
///     .invoke(ContainerAttachWebsocket {
///         id: "conny-reader".into(),
///         stream: Some(true),
///         stdin: Some(true),
///         stdout: Some(true),
///         ..Default::default()
///     })
///     .await?;
/// attached.send(Message::text("hello\n")).await?;
/// while let Some(message) = attached.next_message().await {
///     println!("{:?}", message?);
/// }
/// # Ok(()) }
/// ```
pub struct WebSocket {
    // Without the feature no handshake is sent, so none is ever made.
    #[cfg_attr(not(feature = "websocket"), allow(dead_code))]
    state: State,
    /// The engine sent its close frame: what fails after it is the end, not an error.
    #[cfg_attr(not(feature = "websocket"), allow(dead_code))]
    closing: bool,
}

#[cfg_attr(not(feature = "websocket"), allow(dead_code))]
enum State {
    /// Accepted, frames not yet set up (tungstenite does that in an `async fn`).
    Accepted(Upgraded),
    #[cfg(feature = "websocket")]
    Open(Box<tokio_tungstenite::WebSocketStream<Upgraded>>),
    /// Between the two.
    Moving,
}

impl WebSocket {
    /// The connection after the engine accepted the handshake.
    pub(crate) fn client(io: Upgraded) -> WebSocket {
        WebSocket {
            state: State::Accepted(io),
            closing: false,
        }
    }
}

impl std::fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebSocket")
    }
}

#[cfg(feature = "websocket")]
mod frames {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::protocol::Role;
    use tokio_tungstenite::tungstenite::Message;

    use super::{State, Upgraded, WebSocket};
    use crate::Error;

    type Frames = tokio_tungstenite::WebSocketStream<Upgraded>;

    impl WebSocket {
        async fn frames(&mut self) -> &mut Frames {
            if let State::Accepted(_) = self.state {
                let State::Accepted(io) = std::mem::replace(&mut self.state, State::Moving) else {
                    unreachable!("checked above")
                };
                let frames = Frames::from_raw_socket(io, Role::Client, None).await;
                self.state = State::Open(Box::new(frames));
            }
            match &mut self.state {
                State::Open(frames) => frames,
                _ => unreachable!("opened above"),
            }
        }

        /// Sends a message (its payload goes to the container's stdin).
        pub async fn send(&mut self, message: Message) -> crate::Result<()> {
            self.frames().await.send(message).await.map_err(failed)
        }

        /// The next message from the engine; `None` once the connection is closed. dockerd
        /// ends a finished attach with a close frame and closes its socket at once, without
        /// waiting for the answering frame (golang.org/x/net/websocket): what fails after
        /// that frame, or a socket closed without one, is the end.
        pub async fn next_message(&mut self) -> Option<crate::Result<Message>> {
            use tokio_tungstenite::tungstenite::error::ProtocolError;
            use tokio_tungstenite::tungstenite::Error as WsError;
            match self.frames().await.next().await? {
                Ok(message) => {
                    self.closing |= message.is_close();
                    Some(Ok(message))
                }
                Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => None,
                Err(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake)) => None,
                Err(_) if self.closing => None,
                Err(e) => Some(Err(failed(e))),
            }
        }

        /// Closes the connection (a close frame, then the end).
        pub async fn close(&mut self) -> crate::Result<()> {
            match self.frames().await.close(None).await {
                Ok(())
                | Err(tokio_tungstenite::tungstenite::Error::ConnectionClosed)
                | Err(tokio_tungstenite::tungstenite::Error::AlreadyClosed) => Ok(()),
                Err(e) => Err(failed(e)),
            }
        }

        /// tungstenite's stream of the connection: a `Stream` of messages and a `Sink`.
        pub async fn into_inner(mut self) -> Frames {
            self.frames().await;
            match self.state {
                State::Open(frames) => *frames,
                _ => unreachable!("opened above"),
            }
        }
    }

    fn failed(error: tokio_tungstenite::tungstenite::Error) -> Error {
        match error {
            tokio_tungstenite::tungstenite::Error::Io(e) => Error::Io(e),
            other => Error::Io(std::io::Error::other(other)),
        }
    }
}

/// The key a WebSocket handshake sends (`Sec-WebSocket-Key`), or why it cannot be made.
pub(crate) fn handshake_key() -> Result<String, String> {
    #[cfg(feature = "websocket")]
    return Ok(tokio_tungstenite::tungstenite::handshake::client::generate_key());
    #[cfg(not(feature = "websocket"))]
    Err("attach over WebSocket needs berth's `websocket` feature".into())
}

/// Whether the engine's `Sec-WebSocket-Accept` answers `key`.
#[cfg(feature = "websocket")]
pub(crate) fn accepts(key: &[u8], accept: &[u8]) -> bool {
    tokio_tungstenite::tungstenite::handshake::derive_accept_key(key).as_bytes() == accept
}

#[cfg(not(feature = "websocket"))]
pub(crate) fn accepts(_: &[u8], _: &[u8]) -> bool {
    false
}
