//! Training: a `Trainer` holds a model with its loss, optimizer, schedule and metrics, and does
//! one update per batch (full BPTT over the batch's sequences), epochs over a dataset with
//! early stopping, or truncated BPTT over one long stream.
//!
//! A step whose loss or gradients are not finite, or whose update would make a weight
//! non-finite, fails with a NumericError naming the step and the parameter, and leaves the
//! weights and optimizer state of the last good step.

mod early_stopping;
pub mod metrics;
mod optimizer;
mod schedule;
mod seq2seq;
mod tbptt;

pub use early_stopping::{EarlyStopping, Mode, Verdict};
pub use metrics::{bleu, Metric, Scores, Tally};
pub use optimizer::{global_norm, Optimizer, OptimizerConfig, Rule};
pub use schedule::{Decay, Schedule};
pub use seq2seq::{Seq2SeqEvaluation, Seq2SeqTrainer};
pub use tbptt::{Tbptt, Window};

use crate::loss::{Loss, Target};
use crate::model::{Batch, Inputs, Model, ModelGradients, Prediction};
use crate::real::Real;
use crate::rng::Rng;
use crate::parameters::Parameters;
use crate::seq2seq::Seq2Seq;
use crate::{Error, Result};
use serde::Deserialize;

/// Targets, batch-major and shaped like the prediction: values `[batch, (steps,) features]` or
/// one class id per row `[batch, (steps)]`.
#[derive(Clone, Copy, Debug)]
pub enum Targets<'a, T> {
    Values(&'a [T]),
    Classes(&'a [u32]),
}

#[derive(Clone, Debug, PartialEq)]
pub struct TrainerConfig {
    pub loss: Loss,
    pub optimizer: OptimizerConfig,
    pub schedule: Schedule,
    pub metrics: Vec<Metric>,
    /// Seeds dropout and shuffling.
    pub seed: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    loss: serde_json::Value,
    #[serde(default = "adam")]
    optimizer: serde_json::Value,
    schedule: Option<serde_json::Value>,
    #[serde(default)]
    metrics: Vec<String>,
    #[serde(default)]
    seed: u64,
}

fn adam() -> serde_json::Value {
    serde_json::Value::from("adam")
}

impl TrainerConfig {
    /// Keras' `compile` as JSON: `{"loss": "mse", "optimizer": {"type": "adam", "learning_rate":
    /// 0.01}, "schedule": {"type": "cosine", "decay_steps": 1000}, "metrics": ["mae"], "seed": 1}`.
    pub fn from_json(json: &str) -> Result<Self> {
        let spec: Spec = serde_json::from_str(json).map_err(|e| Error::config("training config", e.to_string()))?;
        Ok(TrainerConfig {
            loss: Loss::from_json(&spec.loss.to_string())?,
            optimizer: OptimizerConfig::from_value(spec.optimizer)?,
            schedule: spec.schedule.map_or(Ok(Schedule::default()), Schedule::from_value)?,
            metrics: spec.metrics.iter().map(|m| Metric::from_name(m)).collect::<Result<_>>()?,
            seed: spec.seed,
        })
    }
}

/// What one update did.
#[derive(Clone, Debug, PartialEq)]
pub struct StepReport {
    /// The optimizer step this was (from 1).
    pub step: u64,
    pub loss: f64,
    /// The global gradient norm before clipping.
    pub grad_norm: f64,
    pub learning_rate: f64,
}

/// Gradient-flow diagnostics of one batch, without an update.
#[derive(Clone, Debug)]
pub struct Diagnostics {
    pub loss: f64,
    /// ‖dL/dh_t‖ for every step of every recurrent layer.
    pub state_norms: Vec<(String, Vec<f64>)>,
    /// ‖dL/dθ‖ per parameter.
    pub parameter_norms: Vec<(String, f64)>,
}

/// A dataset of equal-length (or padded, with `lengths`) sequences, batch-major.
#[derive(Clone, Copy, Debug)]
pub struct Dataset<'a, T> {
    pub x: Inputs<'a, T>,
    pub y: Targets<'a, T>,
    pub samples: usize,
    pub steps: usize,
    pub lengths: Option<&'a [usize]>,
}

#[derive(Clone, Debug)]
pub struct FitOptions {
    pub epochs: usize,
    pub batch_size: usize,
    pub shuffle: bool,
    pub early_stopping: Option<EarlyStopping>,
}

/// The loss and metrics of one epoch (and of the validation data, when there is some).
#[derive(Clone, Debug, PartialEq)]
pub struct EpochLog {
    pub epoch: usize,
    pub loss: f64,
    pub metrics: Vec<(String, f64)>,
    pub validation: Option<Evaluation>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub loss: f64,
    pub metrics: Vec<(String, f64)>,
}

#[derive(Clone, Debug)]
pub struct Trainer<T> {
    pub model: Model<T>,
    pub config: TrainerConfig,
    pub optimizer: Optimizer<T>,
    rng: Rng,
}

impl<T: Real> Trainer<T> {
    pub fn new(model: Model<T>, config: TrainerConfig) -> Self {
        let rng = Rng::new(config.seed);
        Trainer { model, optimizer: Optimizer::new(config.optimizer.clone()), config, rng }
    }

    /// One update from one batch.
    pub fn train_batch(&mut self, batch: Batch<'_, T>, targets: Targets<'_, T>) -> Result<StepReport> {
        let (loss, grads, _) = self.gradients(batch, targets, None, false).map_err(|e| self.at_step(e))?;
        self.apply(loss, grads.parameters)
    }

    /// A numeric error of the step about to be taken, said to be there (the weights are untouched).
    fn at_step(&self, error: Error) -> Error {
        match error {
            Error::Numeric { what, reason } => {
                let step = self.optimizer.steps + 1;
                Error::numeric(format!("training step {step}: {what}"), format!("{reason}; the weights are those of step {}", step - 1))
            }
            other => other,
        }
    }

    /// The loss and the gradients of one batch in training mode (dropout on), without an
    /// update; `loss_from` leaves the first steps of each sequence out of the loss.
    fn gradients(&mut self, batch: Batch<'_, T>, targets: Targets<'_, T>, loss_from: Option<usize>, stateful: bool) -> Result<(T, ModelGradients<T>, Prediction<T>)> {
        let (pred, trace) = self.model.forward(batch, Some(&mut self.rng), stateful)?;
        let (loss, grad) = self.loss(&pred, targets, loss_from)?;
        let grads = self.model.parameter_gradients(&trace, &grad)?;
        Ok((loss, grads, pred))
    }

    /// The loss of a prediction and its gradient; padded steps (past each length) and steps
    /// before `loss_from` weigh nothing.
    fn loss(&self, pred: &Prediction<T>, targets: Targets<'_, T>, loss_from: Option<usize>) -> Result<(T, Vec<T>)> {
        let (rows, cols, mask) = rows_of(pred, loss_from);
        let target = match targets {
            Targets::Values(v) => {
                if let Some(i) = v.iter().position(|t| !t.is_finite()) {
                    return Err(Error::numeric("targets", format!("value {i} is {:?}", v[i])));
                }
                if v.len() != rows * cols {
                    return Err(Error::shape("targets", format!("{} values, shaped like the prediction [batch={}, {}features={cols}]", rows * cols, pred.batch, steps_text(pred)), format!("{} values", v.len())));
                }
                Target::Values(v)
            }
            Targets::Classes(c) => {
                if c.len() != rows {
                    return Err(Error::shape("targets", format!("{rows} class ids, one per [batch={}, {}] row", pred.batch, steps_text(pred)), format!("{} ids", c.len())));
                }
                Target::Classes(c)
            }
        };
        self.config.loss.evaluate(&pred.y, target, rows, cols, mask.as_deref())
    }

    fn apply(&mut self, loss: T, grads: Vec<Vec<T>>) -> Result<StepReport> {
        apply(&mut self.model, &mut self.optimizer, &self.config, loss, grads)
    }

    /// A permutation of `0..samples` (Fisher–Yates) from the trainer's seeded generator.
    pub fn shuffled_order(&mut self, samples: usize) -> Vec<usize> {
        shuffled_order(&mut self.rng, samples)
    }

    /// Every parameter's values, to go back to with `restore`.
    pub fn snapshot(&self) -> Vec<Vec<T>> {
        snapshot(&self.model)
    }

    pub fn restore(&mut self, weights: &[Vec<T>]) {
        restore(&mut self.model, weights)
    }

    /// The gradient flow of one batch: per-step state-gradient norms and per-parameter norms.
    pub fn diagnose(&mut self, batch: Batch<'_, T>, targets: Targets<'_, T>) -> Result<Diagnostics> {
        let (loss, grads, _) = self.gradients(batch, targets, None, false)?;
        let f = |v: T| v.to_f64().unwrap_or(f64::NAN);
        let names = self.model.parameters().into_iter().map(|(n, _)| n);
        Ok(Diagnostics {
            loss: f(loss),
            state_norms: grads.state_norms.into_iter().map(|(n, v)| (n, v.into_iter().map(f).collect())).collect(),
            parameter_norms: names.zip(&grads.parameters).map(|(n, g)| (n, global_norm(std::slice::from_ref(g)))).collect(),
        })
    }

    /// Loss and metrics over a dataset in inference mode, batch by batch; exact sums, so the
    /// result does not depend on `batch_size`.
    pub fn evaluate(&mut self, data: &Dataset<'_, T>, batch_size: usize) -> Result<Evaluation> {
        let (mut loss_sum, mut weight) = (0.0, 0.0);
        let mut tallies = vec![Tally::default(); self.config.metrics.len()];
        let order: Vec<usize> = (0..data.samples).collect();
        for chunk in order.chunks(batch_size.max(1)) {
            let part = Part::gather(data, chunk)?;
            let (pred, _) = self.model.forward(part.batch(data.steps), None, false)?;
            let (loss, _) = self.loss(&pred, part.targets(), None)?;
            let (rows, cols, mask) = rows_of(&pred, None);
            let w: f64 = mask.as_ref().map_or(rows as f64, |m| m.iter().map(|v| v.to_f64().unwrap_or(0.0)).sum());
            loss_sum += loss.to_f64().unwrap_or(f64::NAN) * w;
            weight += w;
            let (classes, values) = match part.targets() {
                Targets::Classes(c) => (Some(c), None),
                Targets::Values(v) => (None, Some(v)),
            };
            for (metric, tally) in self.config.metrics.iter().zip(&mut tallies) {
                metrics::accumulate(*metric, tally, &pred.y, classes, values, rows, cols, mask.as_deref(), self.scores())?;
            }
        }
        let metrics = self.config.metrics.iter().zip(&tallies).map(|(m, t)| (m.name(), t.value(*m))).collect();
        Ok(Evaluation { loss: if weight > 0.0 { loss_sum / weight } else { f64::NAN }, metrics })
    }

    /// Whether the model outputs logits or probabilities, for the metrics that need to know.
    fn scores(&self) -> Scores {
        match self.config.loss {
            Loss::SoftmaxCrossEntropy | Loss::BinaryCrossEntropy { from_logits: true } => Scores::Logits,
            _ => Scores::Probabilities,
        }
    }

    /// Epochs of mini-batch training, shuffled with the trainer's seed, with the training
    /// loss and metrics of each epoch measured on the training data after it. With early
    /// stopping on the validation loss, training stops after `patience` epochs without
    /// improvement and the best epoch's weights are restored. `on_epoch` may stop training by
    /// returning false.
    pub fn fit(&mut self, data: &Dataset<'_, T>, validation: Option<&Dataset<'_, T>>, options: FitOptions, mut on_epoch: impl FnMut(&EpochLog) -> bool) -> Result<Vec<EpochLog>> {
        if options.batch_size == 0 {
            return Err(Error::config("fit", "batch_size must be at least 1"));
        }
        let mut history = Vec::new();
        let mut stopping = options.early_stopping.clone();
        let mut best: Option<Vec<Vec<T>>> = None;
        let mut order: Vec<usize> = (0..data.samples).collect();
        for epoch in 0..options.epochs {
            if options.shuffle {
                order = self.shuffled_order(data.samples);
            }
            for chunk in order.chunks(options.batch_size) {
                let part = Part::gather(data, chunk)?;
                self.train_batch(part.batch(data.steps), part.targets())?;
            }
            let train = self.evaluate(data, options.batch_size)?;
            let validation = validation.map(|v| self.evaluate(v, options.batch_size)).transpose()?;
            let log = EpochLog { epoch, loss: train.loss, metrics: train.metrics, validation };
            let go_on = on_epoch(&log);
            let monitored = log.validation.as_ref().map_or(log.loss, |v| v.loss);
            history.push(log);
            if let Some(stopping) = &mut stopping {
                match stopping.observe(monitored) {
                    Verdict::Improved => best = Some(self.snapshot()),
                    Verdict::Waiting => {}
                    Verdict::Stop => break,
                }
            }
            if !go_on {
                break;
            }
        }
        if let (Some(stopping), Some(best)) = (&stopping, &best) {
            if stopping.restore_best_weights {
                self.restore(best);
            }
        }
        Ok(history)
    }
}

impl<T: Real> Parameters<T> for Model<T> {
    fn named(&self) -> Vec<(String, &[T])> {
        self.parameters()
    }

    fn values_mut(&mut self) -> Vec<&mut Vec<T>> {
        self.parameters_mut()
    }

    fn owner(&self) -> &'static str {
        "model"
    }
}

impl<T: Real> Parameters<T> for Seq2Seq<T> {
    fn named(&self) -> Vec<(String, &[T])> {
        self.parameters()
    }

    fn values_mut(&mut self) -> Vec<&mut Vec<T>> {
        self.parameters_mut()
    }

    fn owner(&self) -> &'static str {
        "seq2seq"
    }
}

/// Checks, clips and applies gradients; on a non-finite loss, gradient or result, leaves
/// everything as it was and says where.
fn apply<T: Real>(model: &mut impl Parameters<T>, optimizer: &mut Optimizer<T>, config: &TrainerConfig, loss: T, mut grads: Vec<Vec<T>>) -> Result<StepReport> {
    let step = optimizer.steps + 1;
    let place = format!("training step {step}");
    let kept = format!("the weights are those of step {}", step - 1);
    if !loss.is_finite() {
        return Err(Error::numeric(place, format!("the loss is {loss:?}; {kept}")));
    }
    let names: Vec<String> = model.named().into_iter().map(|(n, _)| n).collect();
    for (name, g) in names.iter().zip(&grads) {
        if let Some(i) = g.iter().position(|v| !v.is_finite()) {
            return Err(Error::numeric(format!("{place}: layer {}, parameter {name}", layer_of(name)), format!("gradient value {i} is {:?}; {kept}", g[i])));
        }
    }
    let grad_norm = optimizer.clip(&mut grads);
    let learning_rate = config.schedule.rate(config.optimizer.learning_rate, optimizer.steps);
    let (weights, saved) = (snapshot(model), optimizer.clone());
    optimizer.update(model.values_mut(), &grads, learning_rate)?;
    let broken = model.named().into_iter().find(|(_, p)| p.iter().any(|v| !v.is_finite())).map(|(n, _)| n);
    if let Some(name) = broken {
        restore(model, &weights);
        *optimizer = saved;
        return Err(Error::numeric(format!("{place}: layer {}, parameter {name}", layer_of(&name)), format!("the update made a weight non-finite (learning rate {learning_rate}); {kept}")));
    }
    Ok(StepReport { step, loss: loss.to_f64().unwrap_or(f64::NAN), grad_norm, learning_rate })
}

fn snapshot<T: Real>(model: &impl Parameters<T>) -> Vec<Vec<T>> {
    model.named().into_iter().map(|(_, p)| p.to_vec()).collect()
}

fn restore<T: Real>(model: &mut impl Parameters<T>, weights: &[Vec<T>]) {
    model.values_mut().into_iter().zip(weights).for_each(|(p, w)| p.copy_from_slice(w));
}

/// A permutation of `0..samples` (Fisher–Yates).
fn shuffled_order(rng: &mut Rng, samples: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..samples).collect();
    for i in (1..samples).rev() {
        order.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
    }
    order
}

/// Rows, columns and row mask of a prediction for the loss: `[batch · steps, features]` for
/// sequences, with padded steps and steps before `loss_from` masked out.
fn rows_of<T: Real>(pred: &Prediction<T>, loss_from: Option<usize>) -> (usize, usize, Option<Vec<T>>) {
    let Some(steps) = pred.steps else {
        return (pred.batch, pred.features, None);
    };
    let rows = pred.batch * steps;
    if pred.lengths.is_none() && loss_from.is_none() {
        return (rows, pred.features, None);
    }
    let from = loss_from.unwrap_or(0);
    let mask = (0..rows)
        .map(|r| {
            let (b, t) = (r / steps, r % steps);
            let length = pred.lengths.as_ref().map_or(steps, |l| l[b]);
            if t >= from && t < length {
                T::one()
            } else {
                T::zero()
            }
        })
        .collect();
    (rows, pred.features, Some(mask))
}

fn steps_text<T>(pred: &Prediction<T>) -> String {
    pred.steps.map_or(String::new(), |s| format!("steps={s}, "))
}

/// The layer index at the front of a parameter's name (`2.weight` → `2`).
fn layer_of(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// Some samples of a dataset gathered into one batch.
struct Part<T> {
    values: Vec<T>,
    ids: Vec<u32>,
    y_values: Vec<T>,
    y_classes: Vec<u32>,
    lengths: Option<Vec<usize>>,
    batch: usize,
}

impl<T: Real> Part<T> {
    fn gather(data: &Dataset<'_, T>, samples: &[usize]) -> Result<Self> {
        let n = data.samples.max(1);
        fn pick<V: Copy>(all: &[V], n: usize, samples: &[usize], what: &str) -> Result<Vec<V>> {
            if all.len() % n != 0 {
                return Err(Error::shape(what, format!("a multiple of {n} values (one block per sample)"), format!("{} values", all.len())));
            }
            let per = all.len() / n;
            Ok(samples.iter().flat_map(|&s| all[s * per..(s + 1) * per].iter().copied()).collect())
        }
        let (values, ids) = match data.x {
            Inputs::Values(v) => (pick(v, n, samples, "dataset x")?, Vec::new()),
            Inputs::Ids(v) => (Vec::new(), pick(v, n, samples, "dataset x")?),
        };
        let (y_values, y_classes) = match data.y {
            Targets::Values(v) => (pick(v, n, samples, "dataset y")?, Vec::new()),
            Targets::Classes(c) => (Vec::new(), pick(c, n, samples, "dataset y")?),
        };
        let lengths = data.lengths.map(|l| pick(l, n, samples, "dataset lengths")).transpose()?;
        Ok(Part { values, ids, y_values, y_classes, lengths, batch: samples.len() })
    }

    fn batch(&self, steps: usize) -> Batch<'_, T> {
        let x = if self.ids.is_empty() && !self.values.is_empty() { Inputs::Values(&self.values) } else { Inputs::Ids(&self.ids) };
        Batch { x, batch: self.batch, steps, lengths: self.lengths.as_deref() }
    }

    fn targets(&self) -> Targets<'_, T> {
        if self.y_classes.is_empty() && !self.y_values.is_empty() {
            Targets::Values(&self.y_values)
        } else {
            Targets::Classes(&self.y_classes)
        }
    }
}
