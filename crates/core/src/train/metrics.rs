//! Metrics, accumulated over batches as sums and counts so that an epoch's value is exact
//! whatever the batch size, and BLEU for generated token sequences.

use crate::real::Real;
use crate::{Error, Result};
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Metric {
    /// The predicted class (argmax, or `> 0.5` for one probability, or `> 0` for one logit)
    /// equals the target.
    Accuracy,
    /// The target is among the `k` highest predictions.
    TopK(usize),
    /// `exp` of the mean cross-entropy per token.
    Perplexity,
    /// The mean cross-entropy per token in bits.
    BitsPerCharacter,
    MeanAbsoluteError,
    RootMeanSquaredError,
    /// `100 · |t − p| / max(|t|, ε)`, as Keras.
    MeanAbsolutePercentageError,
}

impl Metric {
    /// Keras' names, plus `top_k_accuracy` (k = 5, or `top_<k>_accuracy`), `perplexity`, `bpc`.
    pub fn from_name(name: &str) -> Result<Self> {
        Ok(match name {
            "accuracy" | "acc" => Metric::Accuracy,
            "top_k_accuracy" => Metric::TopK(5),
            "perplexity" => Metric::Perplexity,
            "bpc" | "bits_per_character" => Metric::BitsPerCharacter,
            "mae" => Metric::MeanAbsoluteError,
            "rmse" => Metric::RootMeanSquaredError,
            "mape" => Metric::MeanAbsolutePercentageError,
            other => match other.strip_prefix("top_").and_then(|r| r.strip_suffix("_accuracy")).and_then(|k| k.parse().ok()) {
                Some(k) if k > 0 => Metric::TopK(k),
                _ => return Err(Error::config("metrics", format!("unknown metric `{other}` (accuracy, top_k_accuracy, top_<k>_accuracy, perplexity, bpc, mae, rmse, mape)"))),
            },
        })
    }

    pub fn name(self) -> String {
        match self {
            Metric::Accuracy => "accuracy".into(),
            Metric::TopK(k) => format!("top_{k}_accuracy"),
            Metric::Perplexity => "perplexity".into(),
            Metric::BitsPerCharacter => "bpc".into(),
            Metric::MeanAbsoluteError => "mae".into(),
            Metric::RootMeanSquaredError => "rmse".into(),
            Metric::MeanAbsolutePercentageError => "mape".into(),
        }
    }
}

/// What predictions are: logits or probabilities (for the metrics that need probabilities).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scores {
    Logits,
    Probabilities,
}

/// A metric's running sum and count.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tally {
    pub sum: f64,
    pub count: f64,
}

impl Tally {
    pub fn value(self, metric: Metric) -> f64 {
        let mean = if self.count > 0.0 { self.sum / self.count } else { f64::NAN };
        match metric {
            Metric::Perplexity => mean.exp(),
            Metric::BitsPerCharacter => mean / std::f64::consts::LN_2,
            Metric::RootMeanSquaredError => mean.sqrt(),
            _ => mean,
        }
    }
}

/// Adds one batch to `tally`: `pred [rows, cols]` against class ids or values, each row
/// weighted by `mask` (0 drops padding).
pub fn accumulate<T: Real>(metric: Metric, tally: &mut Tally, pred: &[T], classes: Option<&[u32]>, values: Option<&[T]>, rows: usize, cols: usize, mask: Option<&[T]>, scores: Scores) -> Result<()> {
    let weight = |r: usize| mask.map_or(1.0, |m| m[r].to_f64().unwrap_or(0.0));
    let f = |v: T| v.to_f64().unwrap_or(f64::NAN);
    let row = |r: usize| &pred[r * cols..(r + 1) * cols];
    let what = format!("metric {}", metric.name());
    match metric {
        Metric::Accuracy | Metric::TopK(_) | Metric::Perplexity | Metric::BitsPerCharacter => {
            let class_of = |r: usize| -> Result<usize> {
                match (classes, values) {
                    (Some(c), _) => Ok(c[r] as usize),
                    // One value per row: a binary target.
                    (None, Some(v)) if cols == 1 => Ok(usize::from(f(v[r]) > 0.5)),
                    // One-hot or soft targets: the most likely class.
                    (None, Some(v)) => Ok(argmax(&v[r * cols..(r + 1) * cols])),
                    (None, None) => Err(Error::config(what.clone(), "needs targets")),
                }
            };
            for r in 0..rows {
                let (w, target) = (weight(r), class_of(r)?);
                if w == 0.0 {
                    continue;
                }
                let p = row(r);
                let value = match metric {
                    Metric::Accuracy if cols == 1 => {
                        let threshold = if scores == Scores::Logits { 0.0 } else { 0.5 };
                        f64::from(u8::from(usize::from(f(p[0]) > threshold) == target))
                    }
                    Metric::Accuracy => f64::from(u8::from(argmax(p) == target)),
                    Metric::TopK(k) => {
                        let above = p.iter().filter(|&&v| v > p[target]).count();
                        f64::from(u8::from(above < k))
                    }
                    _ => {
                        if cols == 1 {
                            return Err(Error::config(what, "needs a prediction per class (perplexity and bpc are for token models)"));
                        }
                        -log_probability(p, target, scores)
                    }
                };
                tally.sum += w * value;
                tally.count += w;
            }
        }
        Metric::MeanAbsoluteError | Metric::RootMeanSquaredError | Metric::MeanAbsolutePercentageError => {
            let v = values.ok_or_else(|| Error::config(what.clone(), "needs target values, not class ids"))?;
            for r in 0..rows {
                let w = weight(r);
                if w == 0.0 {
                    continue;
                }
                for j in 0..cols {
                    let (p, t) = (f(pred[r * cols + j]), f(v[r * cols + j]));
                    tally.sum += w * match metric {
                        Metric::MeanAbsoluteError => (t - p).abs(),
                        Metric::RootMeanSquaredError => (t - p) * (t - p),
                        _ => 100.0 * (t - p).abs() / t.abs().max(1e-7),
                    };
                    tally.count += w;
                }
            }
        }
    }
    Ok(())
}

fn argmax<T: Real>(row: &[T]) -> usize {
    row.iter().enumerate().fold(0, |best, (j, &v)| if v > row[best] { j } else { best })
}

fn log_probability<T: Real>(row: &[T], target: usize, scores: Scores) -> f64 {
    let row: Vec<f64> = row.iter().map(|v| v.to_f64().unwrap_or(f64::NAN)).collect();
    match scores {
        Scores::Probabilities => row[target].clamp(1e-7, 1.0).ln(),
        Scores::Logits => {
            let max = row.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
            row[target] - max - row.iter().map(|z| (z - max).exp()).sum::<f64>().ln()
        }
    }
}

/// Corpus BLEU (Papineni et al. 2002) up to `max_n`-grams, with one reference per candidate:
/// the geometric mean of the clipped n-gram precisions times the brevity penalty. Without
/// smoothing, as the paper; 0 when some order has no match.
pub fn bleu(candidates: &[Vec<u32>], references: &[Vec<u32>], max_n: usize) -> Result<f64> {
    if candidates.len() != references.len() {
        return Err(Error::shape("bleu", format!("{} references (one per candidate)", candidates.len()), format!("{}", references.len())));
    }
    let (mut matches, mut totals) = (vec![0usize; max_n], vec![0usize; max_n]);
    let (mut c_len, mut r_len) = (0usize, 0usize);
    for (c, r) in candidates.iter().zip(references) {
        c_len += c.len();
        r_len += r.len();
        for n in 1..=max_n {
            let (cc, rc) = (ngram_counts(c, n), ngram_counts(r, n));
            matches[n - 1] += cc.iter().map(|(g, &k)| k.min(rc.get(g).copied().unwrap_or(0))).sum::<usize>();
            totals[n - 1] += c.len().saturating_sub(n - 1);
        }
    }
    if c_len == 0 || matches.iter().any(|&m| m == 0) {
        return Ok(0.0);
    }
    let log_precision: f64 = matches.iter().zip(&totals).map(|(&m, &t)| (m as f64 / t as f64).ln()).sum::<f64>() / max_n as f64;
    let brevity = if c_len > r_len { 1.0 } else { (1.0 - r_len as f64 / c_len as f64).exp() };
    Ok(brevity * log_precision.exp())
}

fn ngram_counts(tokens: &[u32], n: usize) -> HashMap<&[u32], usize> {
    let mut counts = HashMap::new();
    for gram in tokens.windows(n) {
        *counts.entry(gram).or_default() += 1;
    }
    counts
}
