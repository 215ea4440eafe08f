//! Sampling sequences from a token model: the prime is read in one stateful call, then each
//! sampled token is fed back one step at a time, the state kept inside the model.

use super::{Batch, Inputs, Model};
use crate::real::Real;
use crate::rng::Rng;
use crate::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampling {
    /// Divides the logits; below 1 sharpens, above 1 flattens. 0 takes the most likely token.
    pub temperature: f64,
    /// Keep only the `top_k` most likely tokens (0: all).
    pub top_k: usize,
    /// Keep the smallest set of most likely tokens whose probability reaches `top_p` (1: all).
    pub top_p: f64,
    /// The model's outputs are logits (otherwise probabilities).
    pub logits: bool,
    pub seed: u64,
}

impl<T: Real> Model<T> {
    /// `length` tokens sampled after `prime` (which must not be empty). The model must take
    /// ids and return a distribution over the same vocabulary at every step.
    pub fn generate(&mut self, prime: &[u32], length: usize, sampling: Sampling) -> Result<Vec<u32>> {
        let what = "generate";
        if !self.ids || !self.output_shape().sequence {
            return Err(Error::config(what, "needs a model that takes token ids and returns a sequence (return_sequences: true)"));
        }
        if prime.is_empty() {
            return Err(Error::shape(what, "a prime of at least one token", "none"));
        }
        if !(sampling.temperature >= 0.0 && sampling.temperature.is_finite()) || !(sampling.top_p > 0.0 && sampling.top_p <= 1.0) {
            return Err(Error::config(what, format!("temperature must be ≥ 0 and top_p in (0, 1], got {} and {}", sampling.temperature, sampling.top_p)));
        }
        let mut rng = Rng::new(sampling.seed);
        let saved = self.states();
        self.reset_states();
        let mut out = Vec::with_capacity(length);
        let mut input = prime.to_vec();
        let result = (|| {
            for _ in 0..length {
                let pred = self.forward(Batch { x: Inputs::Ids(&input), batch: 1, steps: input.len(), lengths: None }, None, true)?.0;
                let last = &pred.y[pred.y.len() - pred.features..];
                let token = sample(last, sampling, &mut rng);
                out.push(token);
                input = vec![token];
            }
            Ok(out)
        })();
        self.set_states(saved);
        result
    }
}

/// One token from a row of scores.
fn sample<T: Real>(scores: &[T], s: Sampling, rng: &mut Rng) -> u32 {
    let scores: Vec<f64> = scores.iter().map(|v| v.to_f64().unwrap_or(f64::NEG_INFINITY)).collect();
    let logits: Vec<f64> = if s.logits { scores } else { scores.iter().map(|p| p.max(1e-30).ln()).collect() };
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    if s.temperature == 0.0 {
        return order[0] as u32;
    }
    let max = logits[order[0]];
    let mut probs: Vec<(usize, f64)> = order.iter().map(|&i| (i, ((logits[i] - max) / s.temperature).exp())).collect();
    if s.top_k > 0 {
        probs.truncate(s.top_k);
    }
    let total: f64 = probs.iter().map(|p| p.1).sum();
    let mut kept = 0.0;
    let cut = probs
        .iter()
        .position(|p| {
            kept += p.1 / total;
            kept >= s.top_p
        })
        .map_or(probs.len(), |i| i + 1);
    probs.truncate(cut);
    let total: f64 = probs.iter().map(|p| p.1).sum();
    let mut u = rng.uniform() * total;
    for &(i, p) in &probs {
        if u < p {
            return i as u32;
        }
        u -= p;
    }
    probs.last().map_or(0, |p| p.0 as u32)
}
