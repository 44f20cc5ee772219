//! Streaming answers: raw bytes, JSON lines, multiplexed frames and hijacked connections.

mod bytes_stream;
mod frames;
mod json_lines;
pub(crate) use json_lines::error_item;
mod upgraded;
mod websocket;
pub(crate) use websocket::{accepts, handshake_key};

pub use bytes_stream::ByteStream;
pub use frames::{Frame, FrameStream, Multiplexed, StreamKind};
pub use json_lines::JsonLines;
pub use upgraded::{Upgraded, UpgradedWriter};
pub use websocket::WebSocket;

/// Whether `item` is the last a decoding stream gives: its end, or its first error.
fn is_last<T>(item: &std::task::Poll<Option<crate::Result<T>>>) -> bool {
    matches!(item, std::task::Poll::Ready(None | Some(Err(_))))
}
