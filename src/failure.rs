//! The SDK's errors for what the lower layers report: an HTTP exchange that failed, an ssh
//! tunnel that did not come up.

use crate::error::Error;
use crate::http::HttpError;
use crate::socket::ssh::SshError;

/// The SDK's error for what failed in an exchange with an endpoint.
pub(crate) fn from_http(error: HttpError, endpoint: &str, operation: &str) -> Error {
    let endpoint = endpoint.to_string();
    let operation = operation.to_string();
    match error {
        HttpError::Connect(source) => Error::Connect { endpoint, source },
        HttpError::Tls(message) => Error::Tls { endpoint, message },
        HttpError::Timeout(which) => Error::Timeout {
            endpoint,
            operation,
            which,
        },
        HttpError::Upload(message) => Error::RequestBody { operation, message },
        HttpError::Transport(source) => Error::Transport {
            endpoint,
            operation,
            source,
        },
    }
}

pub(crate) fn from_ssh(error: SshError) -> Error {
    Error::Ssh {
        endpoint: error.endpoint,
        message: error.message,
    }
}
