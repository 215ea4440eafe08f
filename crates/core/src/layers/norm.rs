//! Layer normalisation over each row's features (PyTorch `LayerNorm`, Keras `LayerNormalization`):
//! `y = (x − mean) / sqrt(var + ε) ⊙ weight + bias`, with the biased variance.

use crate::activation::lit;
use crate::error::zeros;
use crate::real::Real;
use crate::{Error, Result};

#[derive(Clone, Debug)]
pub struct LayerNorm<T> {
    pub features: usize,
    /// PyTorch's default is 1e-5 (Keras uses 1e-3).
    pub eps: f64,
    pub weight: Vec<T>,
    pub bias: Vec<T>,
}

/// The normalised rows and each row's 1/σ, what backward needs.
#[derive(Clone, Debug)]
pub struct LayerNormTrace<T> {
    normalised: Vec<T>,
    inv_std: Vec<T>,
}

#[derive(Clone, Debug)]
pub struct LayerNormGradients<T> {
    pub dx: Vec<T>,
    pub weight: Vec<T>,
    pub bias: Vec<T>,
}

impl<T: Real> LayerNorm<T> {
    /// Weight ones and bias zeros, as both libraries initialise them.
    pub fn new(features: usize, eps: f64) -> Result<Self> {
        if features == 0 || eps.is_nan() || eps <= 0.0 {
            return Err(Error::config("LayerNorm", format!("needs at least 1 feature and ε > 0, got {features} and {eps}")));
        }
        Ok(LayerNorm { features, eps, weight: vec![T::one(); features], bias: vec![T::zero(); features] })
    }

    pub fn forward(&self, x: &[T]) -> Result<(Vec<T>, LayerNormTrace<T>)> {
        let f = self.features;
        if x.len() % f != 0 {
            return Err(Error::shape(format!("LayerNorm ({f} features): x"), format!("a multiple of {f} values"), format!("{} values", x.len())));
        }
        let name = format!("LayerNorm ({f} features)");
        let (mut y, mut normalised) = (zeros(&name, x.len())?, zeros(&name, x.len())?);
        let mut inv_std = Vec::with_capacity(x.len() / f);
        let n = lit::<T>(f as f64);
        for ((row, y_row), n_row) in x.chunks_exact(f).zip(y.chunks_exact_mut(f)).zip(normalised.chunks_exact_mut(f)) {
            let mean = row.iter().fold(T::zero(), |a, &v| a + v) / n;
            let var = row.iter().fold(T::zero(), |a, &v| a + (v - mean) * (v - mean)) / n;
            let r = T::one() / (var + lit(self.eps)).sqrt();
            for j in 0..f {
                n_row[j] = (row[j] - mean) * r;
                y_row[j] = n_row[j] * self.weight[j] + self.bias[j];
            }
            inv_std.push(r);
        }
        Ok((y, LayerNormTrace { normalised, inv_std }))
    }

    pub fn backward(&self, trace: &LayerNormTrace<T>, dy: &[T]) -> Result<LayerNormGradients<T>> {
        let f = self.features;
        if dy.len() != trace.normalised.len() {
            return Err(Error::shape(format!("LayerNorm ({f} features): dy"), format!("{} values", trace.normalised.len()), format!("{} values", dy.len())));
        }
        let (mut dx, mut weight, mut bias) = (vec![T::zero(); dy.len()], vec![T::zero(); f], vec![T::zero(); f]);
        let n = lit::<T>(f as f64);
        for (r, ((g, xh), dx_row)) in dy.chunks_exact(f).zip(trace.normalised.chunks_exact(f)).zip(dx.chunks_exact_mut(f)).enumerate() {
            // dx = (1/σ)·(dx̂ − mean(dx̂) − x̂·mean(dx̂⊙x̂)), with dx̂ = dy⊙weight.
            let (mut sum, mut dot) = (T::zero(), T::zero());
            for j in 0..f {
                let dxh = g[j] * self.weight[j];
                sum = sum + dxh;
                dot = dot + dxh * xh[j];
                weight[j] = weight[j] + g[j] * xh[j];
                bias[j] = bias[j] + g[j];
            }
            for j in 0..f {
                dx_row[j] = trace.inv_std[r] * (g[j] * self.weight[j] - sum / n - xh[j] * dot / n);
            }
        }
        Ok(LayerNormGradients { dx, weight, bias })
    }
}
