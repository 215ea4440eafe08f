//! Losses over `[rows, cols]` predictions, with their gradients. A per-row mask (0 or a weight)
//! drops padded rows: the loss is `Σ_r mask_r · ℓ_r / Σ_r mask_r`, where `ℓ_r` is the mean over
//! the row's columns for element-wise losses (Keras and PyTorch `mean`), the sum over classes
//! for KL divergence (Keras; PyTorch `batchmean`), and `−log softmax(row)[target]` for
//! softmax cross-entropy. Without a mask every row weighs 1.

use crate::activation::{lit, sigmoid};
use crate::real::Real;
use crate::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Loss {
    MeanSquaredError,
    MeanAbsoluteError,
    /// Quadratic within `delta` of the target, linear beyond (PyTorch `HuberLoss`).
    Huber { delta: f64 },
    /// Targets in [0, 1]; predictions are logits, or probabilities clipped to [1e-7, 1 − 1e-7]
    /// as Keras does.
    BinaryCrossEntropy { from_logits: bool },
    /// `Σ t·log(t / p)` over each row's classes, for target and predicted distributions.
    KlDivergence,
    /// Logits against integer class targets.
    SoftmaxCrossEntropy,
    /// Probabilities (a softmax's output) against integer class targets: `−log p[target]`,
    /// with `p` clipped to [1e-7, 1] as Keras does.
    CrossEntropy,
}

/// Targets: values shaped like the predictions, or one class id per row.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a, T> {
    Values(&'a [T]),
    Classes(&'a [u32]),
}

impl Loss {
    /// Keras' names: `"mse"`, `"mae"`, `"huber"`, `"binary_crossentropy"`, `"kl_divergence"`,
    /// `"sparse_categorical_crossentropy"`, as a string or as `{"type": name, …options}` with
    /// `delta` (Huber, default 1) or `from_logits` (the cross-entropies, default false).
    pub fn from_json(json: &str) -> Result<Self> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Spec {
            #[serde(rename = "type")]
            name: String,
            delta: Option<f64>,
            from_logits: Option<bool>,
        }
        let what = "loss";
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| Error::config(what, e.to_string()))?;
        let spec: Spec = match value {
            serde_json::Value::String(name) => Spec { name, delta: None, from_logits: None },
            other => serde_json::from_value(other).map_err(|e| Error::config(what, e.to_string()))?,
        };
        let logits = spec.from_logits;
        let loss = match spec.name.as_str() {
            "mse" | "mean_squared_error" => Loss::MeanSquaredError,
            "mae" | "mean_absolute_error" => Loss::MeanAbsoluteError,
            "huber" => {
                let delta = spec.delta.unwrap_or(1.0);
                if !(delta > 0.0 && delta.is_finite()) {
                    return Err(Error::config(what, format!("huber delta must be positive, got {delta}")));
                }
                Loss::Huber { delta }
            }
            "binary_crossentropy" => Loss::BinaryCrossEntropy { from_logits: logits.unwrap_or(false) },
            "kl_divergence" | "kld" => Loss::KlDivergence,
            "sparse_categorical_crossentropy" if logits == Some(true) => Loss::SoftmaxCrossEntropy,
            "sparse_categorical_crossentropy" => Loss::CrossEntropy,
            other => {
                return Err(Error::config(what, format!("unknown loss `{other}` (mse, mae, huber, binary_crossentropy, kl_divergence, sparse_categorical_crossentropy)")))
            }
        };
        if spec.delta.is_some() && !matches!(loss, Loss::Huber { .. }) {
            return Err(Error::config(what, "`delta` applies only to huber"));
        }
        if logits.is_some() && !matches!(loss, Loss::BinaryCrossEntropy { .. } | Loss::SoftmaxCrossEntropy | Loss::CrossEntropy) {
            return Err(Error::config(what, "`from_logits` applies only to the cross-entropies"));
        }
        Ok(loss)
    }

    /// Whether targets are class ids (one per row) rather than values shaped like predictions.
    pub fn takes_classes(self) -> bool {
        matches!(self, Loss::SoftmaxCrossEntropy | Loss::CrossEntropy)
    }

    /// The loss and its gradient with respect to `pred`.
    pub fn evaluate<T: Real>(self, pred: &[T], target: Target<'_, T>, rows: usize, cols: usize, mask: Option<&[T]>) -> Result<(T, Vec<T>)> {
        let what = format!("{self:?} loss");
        let n = rows.checked_mul(cols).ok_or_else(|| Error::shape(&what, "rows × cols that fit in memory", format!("{rows} × {cols}")))?;
        if pred.len() != n {
            return Err(Error::shape(format!("{what}: predictions"), format!("[{rows}, {cols}] = {n} values"), format!("{} values", pred.len())));
        }
        if let Some(mask) = mask {
            if mask.len() != rows {
                return Err(Error::shape(format!("{what}: mask"), format!("{rows} values (one per row)"), format!("{} values", mask.len())));
            }
        }
        let weight = |r: usize| mask.map_or(T::one(), |m| m[r]);
        let total: T = (0..rows).map(weight).fold(T::zero(), |a, b| a + b);
        let mut grad = vec![T::zero(); n];
        if total == T::zero() {
            return Ok((T::zero(), grad));
        }
        let mut loss = T::zero();
        match (self, target) {
            (Loss::SoftmaxCrossEntropy, Target::Classes(classes)) => {
                if classes.len() != rows {
                    return Err(Error::shape(format!("{what}: targets"), format!("{rows} class ids"), format!("{} values", classes.len())));
                }
                if let Some(r) = classes.iter().position(|&c| c as usize >= cols) {
                    return Err(Error::shape(format!("{what}: targets"), format!("class ids below {cols}"), format!("{} at row {r}", classes[r])));
                }
                for r in 0..rows {
                    let (row, g) = (&pred[r * cols..(r + 1) * cols], &mut grad[r * cols..(r + 1) * cols]);
                    // Shifted by the row's maximum so that exp never overflows.
                    let max = row.iter().fold(T::neg_infinity(), |a, &b| a.max(b));
                    let sum = row.iter().fold(T::zero(), |a, &z| a + (z - max).exp());
                    let target = classes[r] as usize;
                    loss = loss + weight(r) * (sum.ln() + max - row[target]);
                    for (j, (g, &z)) in g.iter_mut().zip(row).enumerate() {
                        let p = (z - max).exp() / sum;
                        *g = weight(r) * (p - if j == target { T::one() } else { T::zero() }) / total;
                    }
                }
            }
            (Loss::CrossEntropy, Target::Classes(classes)) => {
                if classes.len() != rows {
                    return Err(Error::shape(format!("{what}: targets"), format!("{rows} class ids"), format!("{} values", classes.len())));
                }
                if let Some(r) = classes.iter().position(|&c| c as usize >= cols) {
                    return Err(Error::shape(format!("{what}: targets"), format!("class ids below {cols}"), format!("{} at row {r}", classes[r])));
                }
                let eps = lit::<T>(1e-7);
                for r in 0..rows {
                    let i = r * cols + classes[r] as usize;
                    let p = pred[i].max(eps).min(T::one());
                    loss = loss - weight(r) * p.ln();
                    grad[i] = if p == pred[i] { -weight(r) / (p * total) } else { T::zero() };
                }
            }
            (Loss::SoftmaxCrossEntropy | Loss::CrossEntropy, Target::Values(_)) => {
                return Err(Error::config(&what, "needs integer class targets"));
            }
            (_, Target::Classes(_)) => return Err(Error::config(&what, "needs target values shaped like the predictions")),
            (_, Target::Values(target)) => {
                if target.len() != n {
                    return Err(Error::shape(format!("{what}: targets"), format!("[{rows}, {cols}] = {n} values"), format!("{} values", target.len())));
                }
                // Element-wise losses average over the row's columns; KL sums over them.
                let per_row = if self == Loss::KlDivergence { T::one() } else { T::one() / lit::<T>(cols as f64) };
                for i in 0..n {
                    let scale = weight(i / cols) * per_row;
                    let (value, derivative) = self.element(pred[i], target[i]);
                    loss = loss + scale * value;
                    grad[i] = scale * derivative / total;
                }
            }
        }
        Ok((loss / total, grad))
    }

    /// One element's loss and its derivative in the prediction.
    fn element<T: Real>(self, p: T, t: T) -> (T, T) {
        let (zero, one, two) = (T::zero(), T::one(), lit::<T>(2.0));
        match self {
            Loss::MeanSquaredError => ((p - t) * (p - t), two * (p - t)),
            Loss::MeanAbsoluteError => ((p - t).abs(), if p > t { one } else if p < t { -one } else { zero }),
            Loss::Huber { delta } => {
                let (d, delta) = (p - t, lit::<T>(delta));
                if d.abs() <= delta {
                    (d * d / two, d)
                } else {
                    (delta * (d.abs() - delta / two), delta * d.signum())
                }
            }
            Loss::BinaryCrossEntropy { from_logits: true } => {
                // max(z, 0) − z·t + log(1 + e^(−|z|)): never overflows.
                (p.max(zero) - p * t + (-p.abs()).exp().ln_1p(), sigmoid(p) - t)
            }
            Loss::BinaryCrossEntropy { from_logits: false } => {
                let eps = lit::<T>(1e-7);
                let clipped = p.max(eps).min(one - eps);
                let value = -(t * clipped.ln() + (one - t) * (one - clipped).ln());
                let derivative = if p == clipped { (clipped - t) / (clipped * (one - clipped)) } else { zero };
                (value, derivative)
            }
            Loss::KlDivergence => {
                // Keras clips both distributions to [1e-7, 1].
                let eps = lit::<T>(1e-7);
                let (t, pc) = (t.max(eps).min(one), p.max(eps).min(one));
                (t * (t / pc).ln(), if p == pc { -t / pc } else { zero })
            }
            Loss::SoftmaxCrossEntropy | Loss::CrossEntropy => unreachable!("handled per row"),
        }
    }
}
