//! The errors the core reports. Each has a stable `kind()` so the boundary can turn it into
//! the matching typed error of the TypeScript facade without parsing messages.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An operand does not have the shape the operation needs.
    Shape { op: String, expected: String, got: String },
    /// An option or configuration value is invalid.
    Config { what: String, reason: String },
    /// A value is NaN or infinite where a finite number is needed.
    Numeric { what: String, reason: String },
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn shape(op: impl Into<String>, expected: impl Into<String>, got: impl Into<String>) -> Self {
        Error::Shape { op: op.into(), expected: expected.into(), got: got.into() }
    }

    pub fn config(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Config { what: what.into(), reason: reason.into() }
    }

    pub fn numeric(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Numeric { what: what.into(), reason: reason.into() }
    }

    /// The same error, said to have happened inside `place` (such as `layer 2`).
    pub fn within(self, place: &str) -> Self {
        match self {
            Error::Shape { op, expected, got } => Error::Shape { op: format!("{place}: {op}"), expected, got },
            Error::Config { what, reason } => Error::Config { what: format!("{place}: {what}"), reason },
            Error::Numeric { what, reason } => Error::Numeric { what: format!("{place}: {what}"), reason },
        }
    }

    /// The name of the facade's error class for this error.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Shape { .. } => "ShapeError",
            Error::Config { .. } => "ConfigError",
            Error::Numeric { .. } => "NumericError",
        }
    }
}

/// The number of elements of a tensor with these dimensions, or a ShapeError if it overflows
/// (on wasm32 a hostile dimension would otherwise wrap and pass a length check).
pub(crate) fn elements(what: impl fmt::Display, dims: &[usize]) -> Result<usize> {
    dims.iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| Error::shape(what.to_string(), "dimensions whose product fits in memory", format!("{dims:?}")))
}

/// A zeroed workspace, or an error instead of an abort when memory runs out. `what` is only
/// formatted for the error, so a hot path can pass the layer itself.
pub(crate) fn zeros<T: Clone + num_traits::Zero>(what: impl fmt::Display, len: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| Error::config(what.to_string(), format!("a workspace of {len} values does not fit in memory")))?;
    v.resize(len, T::zero());
    Ok(v)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape { op, expected, got } => write!(f, "{op}: expected {expected}, got {got}"),
            Error::Config { what, reason } | Error::Numeric { what, reason } => write!(f, "{what}: {reason}"),
        }
    }
}

impl std::error::Error for Error {}
