//! Layers around the recurrent cells, applied to every row of a `[rows, features]` matrix
//! (a sequence `[T, B, F]` is `T·B` rows), each with a forward and a backward pass.

mod dense;
mod embedding;

pub use dense::Dense;
pub use embedding::Embedding;
