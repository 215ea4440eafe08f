//! seqwasm-core: the numerical heart of seqwasm.
//!
//! Pure Rust with no knowledge of JavaScript or WebAssembly bindings, so that every kernel
//! can be tested natively with `cargo test`. Generic over the float type: `f32` is what
//! users run, `f64` is what gradient checks run.

pub mod activation;
pub mod error;
pub mod gemm;
pub mod init;
pub mod layers;
pub mod loss;
pub mod model;
pub mod parameters;
pub mod real;
pub mod recurrent;
pub mod rng;
pub mod seq2seq;
pub mod train;

pub use error::{Error, Result};
pub use gemm::{gemm, gemm_packed, Accumulate, MatMut, MatRef, PackedB};
pub use real::Real;
pub use rng::Rng;
pub use loss::{Loss, Target};
pub use activation::Activation;
pub use recurrent::{Cell, RecurrentLayer};
pub use model::{Batch, Inputs, Model};
pub use init::Initializer;
pub use parameters::Parameters;
