//! Layers around the recurrent cells, applied to every row of a `[rows, features]` matrix
//! (a sequence `[T, B, F]` is `T·B` rows), each with a forward and a backward pass.

mod activation;
mod conv;
mod dense;
mod embedding;
mod norm;

pub use activation::ActivationLayer;
pub use conv::{Conv1d, Conv1dGradients, Conv1dTrace, Padding, Pool1d, PoolKind};
pub use dense::{Dense, DenseGradients, DenseTrace};
pub use embedding::Embedding;
pub use norm::{LayerNorm, LayerNormGradients, LayerNormTrace};
