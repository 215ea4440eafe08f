//! Training a sequence-to-sequence model: the same optimizers, schedules and clipping as a
//! `Trainer`, with the loss fixed (softmax cross-entropy over the target tokens, averaged) and
//! metrics of its own: token accuracy with teacher forcing, and the exact match and corpus
//! BLEU of greedy decoding.

use super::{apply, bleu, shuffled_order, OptimizerConfig, Optimizer, Schedule, StepReport, TrainerConfig};
use crate::loss::Loss;
use crate::real::Real;
use crate::rng::Rng;
use crate::seq2seq::{Pairs, Seq2Seq};
use crate::{Error, Result};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    optimizer: Option<serde_json::Value>,
    schedule: Option<serde_json::Value>,
    #[serde(default)]
    seed: u64,
    /// The probability of feeding the model's own previous token instead of the true one.
    #[serde(default)]
    scheduled_sampling: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Seq2SeqEvaluation {
    pub loss: f64,
    /// Target tokens predicted right with teacher forcing.
    pub accuracy: f64,
    /// Greedy outputs equal to their target, end token included.
    pub exact_match: f64,
    /// Corpus BLEU-4 of the greedy outputs against the targets.
    pub bleu: f64,
}

#[derive(Clone, Debug)]
pub struct Seq2SeqTrainer<T> {
    pub model: Seq2Seq<T>,
    pub config: TrainerConfig,
    pub optimizer: Optimizer<T>,
    pub sampling: f64,
    rng: Rng,
}

impl<T: Real> Seq2SeqTrainer<T> {
    /// `compile` as JSON: `{"optimizer": {"type": "adam", "learning_rate": 0.005},
    /// "schedule": …, "seed": 1, "scheduled_sampling": 0.2}`.
    pub fn new(model: Seq2Seq<T>, json: &str) -> Result<Self> {
        let spec: Spec = serde_json::from_str(json).map_err(|e| Error::config("seq2seq training config", e.to_string()))?;
        if !(0.0..=1.0).contains(&spec.scheduled_sampling) {
            return Err(Error::config("seq2seq training config", format!("scheduled_sampling must be in [0, 1], got {}", spec.scheduled_sampling)));
        }
        let config = TrainerConfig {
            loss: Loss::SoftmaxCrossEntropy,
            optimizer: OptimizerConfig::from_value(spec.optimizer.unwrap_or_else(|| "adam".into()))?,
            schedule: spec.schedule.map_or(Ok(Schedule::default()), Schedule::from_value)?,
            metrics: Vec::new(),
            seed: spec.seed,
        };
        Ok(Seq2SeqTrainer { model, optimizer: Optimizer::new(config.optimizer.clone()), rng: Rng::new(config.seed), config, sampling: spec.scheduled_sampling })
    }

    /// One update from one batch, teacher-forced (with scheduled sampling if configured).
    pub fn train_batch(&mut self, pairs: Pairs<'_>) -> Result<StepReport> {
        let outcome = self.model.loss_and_gradients(pairs, Some(&mut self.rng), self.sampling).map_err(|e| match e {
            Error::Numeric { what, reason } => {
                let step = self.optimizer.steps + 1;
                Error::numeric(format!("training step {step}: {what}"), format!("{reason}; the weights are those of step {}", step - 1))
            }
            other => other,
        })?;
        apply(&mut self.model, &mut self.optimizer, &self.config, outcome.loss, outcome.gradients)
    }

    pub fn shuffled_order(&mut self, samples: usize) -> Vec<usize> {
        shuffled_order(&mut self.rng, samples)
    }

    /// Loss, token accuracy, exact match and BLEU over a set of pairs, `batch_size` at a time;
    /// greedy outputs are at most `max_length` tokens long.
    pub fn evaluate(&self, data: Pairs<'_>, batch_size: usize, max_length: usize) -> Result<Seq2SeqEvaluation> {
        let (s, t) = (data.source_steps, data.target_steps);
        let mut loss = 0.0;
        let (mut correct, mut tokens, mut exact) = (0, 0, 0);
        let (mut outputs, mut references) = (Vec::new(), Vec::new());
        for start in (0..data.batch).step_by(batch_size.max(1)) {
            let n = batch_size.max(1).min(data.batch - start);
            let part = Pairs {
                batch: n,
                source: data.source.get(start * s..(start + n) * s).unwrap_or_default(),
                source_lengths: data.source_lengths.map(|l| &l[start..start + n]),
                target: data.target.get(start * t..(start + n) * t).unwrap_or_default(),
                target_lengths: data.target_lengths.map(|l| &l[start..start + n]),
                ..data
            };
            let outcome = self.model.loss(part)?;
            loss += outcome.loss.to_f64().unwrap_or(f64::NAN) * outcome.tokens as f64;
            (correct, tokens) = (correct + outcome.correct, tokens + outcome.tokens);
            let decoded = self.model.greedy(part.source, s, part.source_lengths, n, max_length, 0.0)?;
            for (b, d) in decoded.into_iter().enumerate() {
                let len = part.target_lengths.map_or(t, |l| l[b]);
                let row = &part.target[b * t..b * t + len];
                // The reference is the target before its end token.
                let reference = if row.last() == Some(&self.model.end) { &row[..len - 1] } else { row };
                exact += usize::from(d.finished && d.tokens == reference);
                outputs.push(d.tokens);
                references.push(reference.to_vec());
            }
        }
        let n = data.batch.max(1) as f64;
        Ok(Seq2SeqEvaluation { loss: loss / tokens.max(1) as f64, accuracy: correct as f64 / tokens.max(1) as f64, exact_match: exact as f64 / n, bleu: bleu(&outputs, &references, 4)? })
    }
}
