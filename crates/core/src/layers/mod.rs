//! Layers around the recurrent cells, applied to every row of a `[rows, features]` matrix
//! (a sequence `[T, B, F]` is `T·B` rows), each with a forward and a backward pass.

mod activation;
mod dense;
mod embedding;
mod norm;

pub use activation::ActivationLayer;
pub use dense::{Dense, DenseGradients, DenseTrace};
pub use embedding::Embedding;
pub use norm::{LayerNorm, LayerNormGradients, LayerNormTrace};
