//! Weight initialisers, seeded, named as Keras names them. Fan-in and fan-out follow PyTorch's
//! layout `weight [out, in]` (a recurrent layer's `[G·H, I]` has fan-out `G·H`, as Keras' kernel
//! `[I, G·H]` does), so both libraries' defaults come out with the same limits.

use crate::rng::Rng;
use crate::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Initializer {
    /// U(±√(6 / (fan_in + fan_out))): Keras' default for kernels.
    GlorotUniform,
    /// Truncated normal with σ = √(2 / (fan_in + fan_out)).
    GlorotNormal,
    /// U(±√(6 / fan_in)).
    HeUniform,
    /// Truncated normal with σ = √(2 / fan_in).
    HeNormal,
    /// A matrix with orthonormal rows or columns (Saxe et al.): Keras' default for recurrent
    /// kernels, which keeps the recurrent product from shrinking or growing the state at first.
    Orthogonal,
    /// U(±1/√hidden) for every parameter: PyTorch's default for recurrent layers and `Linear`.
    PytorchUniform,
    /// U(±limit).
    Uniform(f64),
    Zeros,
    Ones,
}

/// Keras' truncated normal keeps values within 2σ and divides σ by this, so that the
/// truncated distribution still has the intended standard deviation.
const TRUNCATED_STD: f64 = 0.879_625_661_034_239_8;

impl Initializer {
    /// Parses Keras' names (`glorot_uniform`, `orthogonal`, …) and `pytorch`.
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "glorot_uniform" => Initializer::GlorotUniform,
            "glorot_normal" => Initializer::GlorotNormal,
            "he_uniform" => Initializer::HeUniform,
            "he_normal" => Initializer::HeNormal,
            "orthogonal" => Initializer::Orthogonal,
            "pytorch" => Initializer::PytorchUniform,
            "zeros" => Initializer::Zeros,
            "ones" => Initializer::Ones,
            other => {
                return Err(Error::config("initializer", format!("unknown initializer `{other}` (known: glorot_uniform, glorot_normal, he_uniform, he_normal, orthogonal, pytorch, zeros, ones)")))
            }
        })
    }

    /// Fills `values`, a `[rows, cols]` matrix in PyTorch's layout (a bias is `[len, 1]`).
    /// Fan-in is `cols` and fan-out `rows · receptive` (a convolution's `[out, in·K]` weight has
    /// receptive field `K`, as Keras counts it); `hidden` is the layer's hidden size, for
    /// PyTorch's rule.
    pub fn fill<T: num_traits::Float>(self, values: &mut [T], rows: usize, cols: usize, receptive: usize, hidden: usize, rng: &mut Rng) {
        debug_assert_eq!(values.len(), rows * cols);
        let (fan_in, fan_out) = (cols.max(1) as f64, (rows * receptive).max(1) as f64);
        let mut set = |f: &mut dyn FnMut(&mut Rng) -> f64| values.iter_mut().for_each(|v| *v = T::from(f(rng)).unwrap_or_else(T::zero));
        match self {
            Initializer::GlorotUniform => {
                let limit = (6.0 / (fan_in + fan_out)).sqrt();
                set(&mut |r| uniform(r, limit))
            }
            Initializer::HeUniform => {
                let limit = (6.0 / fan_in).sqrt();
                set(&mut |r| uniform(r, limit))
            }
            Initializer::GlorotNormal => {
                let std = (2.0 / (fan_in + fan_out)).sqrt() / TRUNCATED_STD;
                set(&mut |r| truncated_normal(r) * std)
            }
            Initializer::HeNormal => {
                let std = (2.0 / fan_in).sqrt() / TRUNCATED_STD;
                set(&mut |r| truncated_normal(r) * std)
            }
            Initializer::PytorchUniform => {
                let limit = 1.0 / (hidden.max(1) as f64).sqrt();
                set(&mut |r| uniform(r, limit))
            }
            Initializer::Uniform(limit) => set(&mut |r| uniform(r, limit)),
            Initializer::Zeros => set(&mut |_| 0.0),
            Initializer::Ones => set(&mut |_| 1.0),
            Initializer::Orthogonal => {
                let q = orthogonal(rows, cols, rng);
                values.iter_mut().zip(q).for_each(|(v, q)| *v = T::from(q).unwrap_or_else(T::zero));
            }
        }
    }
}

fn uniform(rng: &mut Rng, limit: f64) -> f64 {
    (2.0 * rng.uniform() - 1.0) * limit
}

/// A standard normal by Box–Muller, redrawn until it lies within two standard deviations.
pub(crate) fn truncated_normal(rng: &mut Rng) -> f64 {
    loop {
        let z = normal(rng);
        if z.abs() <= 2.0 {
            return z;
        }
    }
}

pub(crate) fn normal(rng: &mut Rng) -> f64 {
    let u = 1.0 - rng.uniform(); // (0, 1], so the log is finite
    let v = rng.uniform();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// A `[rows, cols]` matrix with orthonormal columns (rows ≥ cols) or rows (rows < cols): the Q of
/// a Gaussian matrix's QR decomposition with R's diagonal made positive, which is what
/// modified Gram–Schmidt computes.
fn orthogonal(rows: usize, cols: usize, rng: &mut Rng) -> Vec<f64> {
    // Orthonormalise the `n` vectors of length `len` along the shorter side.
    let (n, len) = if rows >= cols { (cols, rows) } else { (rows, cols) };
    let mut vectors: Vec<Vec<f64>> = (0..n).map(|_| (0..len).map(|_| normal(rng)).collect()).collect();
    for i in 0..n {
        for j in 0..i {
            let (done, rest) = vectors.split_at_mut(i);
            let dot: f64 = rest[0].iter().zip(&done[j]).map(|(a, b)| a * b).sum();
            rest[0].iter_mut().zip(&done[j]).for_each(|(a, b)| *a -= dot * b);
        }
        let norm = vectors[i].iter().map(|a| a * a).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
        vectors[i].iter_mut().for_each(|a| *a /= norm);
    }
    let mut out = vec![0.0; rows * cols];
    for (k, vector) in vectors.iter().enumerate() {
        for (p, &value) in vector.iter().enumerate() {
            let (r, c) = if rows >= cols { (p, k) } else { (k, p) };
            out[r * cols + c] = value;
        }
    }
    out
}
