//! The `Operation` trait every generated request struct implements: how it fills a request
//! and how it reads the answer.

use crate::request::RequestParts;
use crate::response::RawResponse;
use crate::tables::OperationInfo;

/// A typed request of one engine operation (generated: `docker::v1_41::containers::ContainerCreate`).
pub trait Operation: Sized {
    /// What a successful call gives back.
    type Output;
    /// The operation's table row: id, method, path, parameters, response kind, docs.
    const INFO: &'static OperationInfo;
    /// Puts the request's values in place: path, query, headers, body.
    fn write(self, request: &mut RequestParts);
    /// Turns the engine's successful answer into `Output`.
    fn decode(response: RawResponse) -> crate::Result<Self::Output>;
}
