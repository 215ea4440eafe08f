//! The errors the core reports. Each has a stable `kind()` so the boundary can turn it into
//! the matching typed error of the TypeScript facade without parsing messages.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An operand does not have the shape the operation needs.
    Shape { op: String, expected: String, got: String },
    /// An option or configuration value is invalid.
    Config { what: String, reason: String },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn shape(op: impl Into<String>, expected: impl Into<String>, got: impl Into<String>) -> Self {
        Error::Shape { op: op.into(), expected: expected.into(), got: got.into() }
    }

    pub fn config(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Config { what: what.into(), reason: reason.into() }
    }

    /// The name of the facade's error class for this error.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Shape { .. } => "ShapeError",
            Error::Config { .. } => "ConfigError",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape { op, expected, got } => write!(f, "{op}: expected {expected}, got {got}"),
            Error::Config { what, reason } => write!(f, "{what}: {reason}"),
        }
    }
}

impl std::error::Error for Error {}
