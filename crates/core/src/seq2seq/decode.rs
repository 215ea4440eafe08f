//! Decoding: greedy (each step's most likely token) and beam search, each output step with its
//! attention weights over the source for plotting.
//!
//! Beam search keeps the `width` most probable prefixes; a prefix that emits the end token is
//! set aside as finished. Hypotheses are compared by log-probability divided by
//! `length^length_penalty` (0: raw log-probability). The greedy hypothesis is always one of
//! the candidates, so a wider beam never returns a lower-scoring sequence than greedy
//! decoding; with width 1 beam search is greedy decoding.

use super::{argmax, Carry, Encoded, Memory, Seq2Seq};
use crate::real::Real;
use crate::{Error, Result};

#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// The output tokens, without the end token.
    pub tokens: Vec<u32>,
    /// Whether the sequence ended with the end token (otherwise it reached `max_length`).
    pub finished: bool,
    /// The model's log-probability of every emitted token, the end token included.
    pub log_prob: f64,
    /// `log_prob / steps^length_penalty`, what beam search ranks by.
    pub score: f64,
    /// `[steps, source length]`: each output step's weights over the source (empty without
    /// attention); a step is a token or the final end token.
    pub attention: Vec<f64>,
    pub source_length: usize,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Beam {
    pub width: usize,
    pub max_length: usize,
    /// α in `log_prob / steps^α`; 0 ranks by raw log-probability.
    pub length_penalty: f64,
}

impl Decoded {
    fn start(source_length: usize) -> Self {
        Decoded { tokens: Vec::new(), finished: false, log_prob: 0.0, score: 0.0, attention: Vec::new(), source_length }
    }

    fn steps(&self) -> usize {
        self.tokens.len() + usize::from(self.finished)
    }

    fn rescore(mut self, penalty: f64) -> Self {
        let steps = self.steps().max(1) as f64;
        self.score = if penalty == 0.0 { self.log_prob } else { self.log_prob / steps.powf(penalty) };
        self
    }

    /// Appends one step: its token, log-probability and attention row.
    fn extend(&self, token: u32, log_prob: f64, weights: Option<&[f64]>, end: u32) -> Self {
        let mut next = self.clone();
        next.log_prob += log_prob;
        if token == end {
            next.finished = true;
        } else {
            next.tokens.push(token);
        }
        if let Some(w) = weights {
            next.attention.extend_from_slice(&w[..self.source_length]);
        }
        next
    }
}

impl<T: Real> Seq2Seq<T> {
    /// Greedy decoding of a batch of sources `[batch, steps]` (padded, with `lengths`), up to
    /// `max_length` output steps each.
    pub fn greedy(&self, source: &[u32], steps: usize, lengths: Option<&[usize]>, batch: usize, max_length: usize, length_penalty: f64) -> Result<Vec<Decoded>> {
        check_max_length(max_length)?;
        let encoded = self.encode(source, steps, lengths, batch, None)?;
        self.greedy_from(&encoded, max_length, length_penalty)
    }

    fn greedy_from(&self, encoded: &Encoded<T>, max_length: usize, length_penalty: f64) -> Result<Vec<Decoded>> {
        let (memory, batch) = (&encoded.memory, encoded.memory.batch);
        let mut out: Vec<Decoded> = memory.lengths.iter().map(|&l| Decoded::start(l)).collect();
        let (mut carry, mut tokens) = (encoded.start.clone(), vec![self.start; batch]);
        for t in 0..max_length {
            if out.iter().all(|d| d.finished) {
                break;
            }
            let (logits, next, trace) = self.step(memory, &carry, &tokens, t)?;
            let weights = self.weights_of(&trace).map(to_f64);
            let vocab = self.target.num;
            for (b, d) in out.iter_mut().enumerate().filter(|(_, d)| !d.finished) {
                let row = &logits[b * vocab..(b + 1) * vocab];
                let token = argmax(row);
                let w = weights.as_ref().map(|w| &w[b * memory.steps..(b + 1) * memory.steps]);
                *d = d.extend(token, log_softmax(row)[token as usize], w, self.end);
                tokens[b] = token;
            }
            carry = next;
        }
        Ok(out.into_iter().map(|d| d.rescore(length_penalty)).collect())
    }

    /// Beam search for one source sequence (all of `source` is real tokens).
    pub fn beam_search(&self, source: &[u32], beam: Beam) -> Result<Decoded> {
        check_max_length(beam.max_length)?;
        if beam.width == 0 {
            return Err(Error::config("beam search", "width must be at least 1"));
        }
        if !(beam.length_penalty >= 0.0 && beam.length_penalty.is_finite()) {
            return Err(Error::config("beam search", format!("length_penalty must be ≥ 0, got {}", beam.length_penalty)));
        }
        let encoded = self.encode(source, source.len(), None, 1, None)?;
        let greedy = self.greedy_from(&encoded, beam.max_length, beam.length_penalty)?.remove(0);
        let mut live = vec![Decoded::start(source.len())];
        let mut carry = encoded.start.clone();
        let mut finished: Vec<Decoded> = Vec::new();
        let vocab = self.target.num;
        for t in 0..beam.max_length {
            if live.is_empty() {
                break;
            }
            let k = live.len();
            let memory = replicate(&encoded.memory, k);
            let tokens: Vec<u32> = live.iter().map(|d| d.tokens.last().copied().unwrap_or(self.start)).collect();
            let (logits, next, trace) = self.step(&memory, &carry, &tokens, t)?;
            let weights = self.weights_of(&trace).map(to_f64);
            let log_probs: Vec<Vec<f64>> = logits.chunks_exact(vocab).map(log_softmax).collect();
            let mut candidates: Vec<(f64, usize, u32)> = Vec::with_capacity(k * vocab);
            for (i, d) in live.iter().enumerate() {
                candidates.extend(log_probs[i].iter().enumerate().map(|(v, &lp)| (d.log_prob + lp, i, v as u32)));
            }
            // Stable: equal scores keep the lower hypothesis, then the lower token, as greedy does.
            candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
            let (mut kept, mut parents) = (Vec::new(), Vec::new());
            for &(_, i, v) in candidates.iter().take(beam.width) {
                let w = weights.as_ref().map(|w| &w[i * memory.steps..(i + 1) * memory.steps]);
                let hyp = live[i].extend(v, log_probs[i][v as usize], w, self.end);
                if hyp.finished {
                    finished.push(hyp.rescore(beam.length_penalty));
                } else {
                    kept.push(hyp);
                    parents.push(i);
                }
            }
            carry = select(&next, &parents, k);
            live = kept;
            // Log-probabilities only fall as a sequence grows, so with raw scores no live
            // hypothesis can overtake a better finished one.
            let best_finished = finished.iter().map(|d| d.score).fold(f64::NEG_INFINITY, f64::max);
            if beam.length_penalty == 0.0 && live.iter().all(|d| d.log_prob <= best_finished) {
                break;
            }
        }
        let mut best = greedy;
        for d in finished.into_iter().chain(live.into_iter().map(|d| d.rescore(beam.length_penalty))) {
            if d.score > best.score {
                best = d;
            }
        }
        Ok(best)
    }
}

fn check_max_length(max_length: usize) -> Result<()> {
    if max_length == 0 {
        return Err(Error::config("decoding", "max_length must be at least 1"));
    }
    Ok(())
}

fn to_f64<T: Real>(v: &[T]) -> Vec<f64> {
    v.iter().map(|x| x.to_f64().unwrap_or(f64::NAN)).collect()
}

fn log_softmax<T: Real>(row: &[T]) -> Vec<f64> {
    let row = to_f64(row);
    let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log_total = row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
    row.iter().map(|v| v - max - log_total).collect()
}

/// One sequence's memory repeated for `k` hypotheses.
fn replicate<T: Real>(m: &Memory<T>, k: usize) -> Memory<T> {
    Memory { batch: k, steps: m.steps, values: m.values.repeat(k), keys: m.keys.repeat(k), lengths: m.lengths.repeat(k) }
}

/// The decoder states of the chosen rows of a batch of `k`.
fn select<T: Real>(carry: &Carry<T>, rows: &[usize], k: usize) -> Carry<T> {
    let pick = |v: &[T]| -> Vec<T> {
        let width = v.len() / k;
        rows.iter().flat_map(|&r| v[r * width..(r + 1) * width].iter().copied()).collect()
    };
    Carry { h: pick(&carry.h), c: carry.c.as_deref().map(pick), feed: pick(&carry.feed) }
}
