//! One error type for every stage: it always names the spec file and, where there is one,
//! the JSON pointer of the node that could not be understood.

use std::fmt;
use std::path::PathBuf;

/// A spec that cannot be generated, with where and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    /// The spec file (or a label for in-memory specs).
    pub file: PathBuf,
    /// JSON pointer of the offending node (`/paths/~1containers~1json/get`), empty for the root.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl Error {
    pub fn new(
        file: impl Into<PathBuf>,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error {
            file: file.into(),
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(
            f,
            "{}: at {}: {}",
            self.file.display(),
            pointer,
            self.message
        )
    }
}

impl std::error::Error for Error {}

/// Escapes one reference token of a JSON pointer (RFC 6901).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Builds a JSON pointer from reference tokens.
pub fn pointer<'a>(tokens: impl IntoIterator<Item = &'a str>) -> String {
    tokens
        .into_iter()
        .map(|t| format!("/{}", escape_token(t)))
        .collect()
}
