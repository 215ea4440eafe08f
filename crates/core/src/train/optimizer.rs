//! Optimizers, with the update rules of PyTorch's documentation (`torch.optim`) and Keras'
//! option names and default learning rates.
//!
//! With gradient `g`, weight decay `λ`, step `t` (from 1) and learning rate `η`:
//! - SGD: `g += λp`; with momentum μ, `b = μb + g` (`b = g` at the first step) and `g = b`, or
//!   `g += μb` with Nesterov; `p −= ηg`.
//! - Adam: `g += λp`; `m = β₁m + (1−β₁)g`, `v = β₂v + (1−β₂)g²`,
//!   `p −= η · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)`.
//! - AdamW: Adam without `g += λp`, after a decoupled `p −= ηλp`.
//! - RMSprop: `g += λp`; `v = ρv + (1−ρ)g²`; centred: `a = ρa + (1−ρ)g`, `v̄ = v − a²`;
//!   with momentum μ, `b = μb + g/(√v̄ + ε)` and `p −= ηb`, else `p −= ηg/(√v̄ + ε)`.
//! - Adagrad: `g += λp`; `s += g²`; `p −= ηg/(√s + ε)`, with `s` starting at
//!   `initial_accumulator_value`.

use crate::real::Real;
use crate::{Error, Result};
use serde::Deserialize;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    Sgd { momentum: f64, nesterov: bool },
    Adam { beta_1: f64, beta_2: f64, epsilon: f64 },
    AdamW { beta_1: f64, beta_2: f64, epsilon: f64 },
    RmsProp { rho: f64, momentum: f64, epsilon: f64, centered: bool },
    Adagrad { epsilon: f64, initial_accumulator_value: f64 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerConfig {
    pub rule: Rule,
    pub learning_rate: f64,
    pub weight_decay: f64,
    /// Scale all gradients together so that their global L2 norm is at most this (Keras
    /// `global_clipnorm`, PyTorch `clip_grad_norm_`).
    pub global_clipnorm: Option<f64>,
    /// Clip every gradient value to [−c, c] (Keras `clipvalue`), before the norm clipping.
    pub clipvalue: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(rename = "type")]
    name: String,
    learning_rate: Option<f64>,
    weight_decay: Option<f64>,
    global_clipnorm: Option<f64>,
    clipvalue: Option<f64>,
    momentum: Option<f64>,
    nesterov: Option<bool>,
    beta_1: Option<f64>,
    beta_2: Option<f64>,
    epsilon: Option<f64>,
    rho: Option<f64>,
    centered: Option<bool>,
    initial_accumulator_value: Option<f64>,
}

impl OptimizerConfig {
    /// `"adam"` or `{"type": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": true}`.
    /// Options that do not apply to the chosen optimizer are errors.
    pub fn from_value(value: serde_json::Value) -> Result<Self> {
        let what = "optimizer";
        let spec: Spec = match value {
            serde_json::Value::String(name) => Spec {
                name,
                learning_rate: None,
                weight_decay: None,
                global_clipnorm: None,
                clipvalue: None,
                momentum: None,
                nesterov: None,
                beta_1: None,
                beta_2: None,
                epsilon: None,
                rho: None,
                centered: None,
                initial_accumulator_value: None,
            },
            other => serde_json::from_value(other).map_err(|e| Error::config(what, e.to_string()))?,
        };
        let allowed: &[&str] = match spec.name.as_str() {
            "sgd" => &["momentum", "nesterov"],
            "adam" | "adamw" => &["beta_1", "beta_2", "epsilon"],
            "rmsprop" => &["rho", "momentum", "epsilon", "centered"],
            "adagrad" => &["epsilon", "initial_accumulator_value"],
            other => return Err(Error::config(what, format!("unknown optimizer `{other}` (sgd, adam, adamw, rmsprop, adagrad)"))),
        };
        let given = [
            ("momentum", spec.momentum.is_some()),
            ("nesterov", spec.nesterov.is_some()),
            ("beta_1", spec.beta_1.is_some()),
            ("beta_2", spec.beta_2.is_some()),
            ("epsilon", spec.epsilon.is_some()),
            ("rho", spec.rho.is_some()),
            ("centered", spec.centered.is_some()),
            ("initial_accumulator_value", spec.initial_accumulator_value.is_some()),
        ];
        if let Some((name, _)) = given.iter().find(|(name, set)| *set && !allowed.contains(name)) {
            return Err(Error::config(what, format!("`{name}` does not apply to {}", spec.name)));
        }
        // Keras' default learning rates: 0.01 for SGD, 0.001 for the rest.
        let (rule, learning_rate, weight_decay) = match spec.name.as_str() {
            "sgd" => (Rule::Sgd { momentum: spec.momentum.unwrap_or(0.0), nesterov: spec.nesterov.unwrap_or(false) }, 0.01, 0.0),
            "adam" => (Rule::Adam { beta_1: spec.beta_1.unwrap_or(0.9), beta_2: spec.beta_2.unwrap_or(0.999), epsilon: spec.epsilon.unwrap_or(1e-7) }, 0.001, 0.0),
            "adamw" => (Rule::AdamW { beta_1: spec.beta_1.unwrap_or(0.9), beta_2: spec.beta_2.unwrap_or(0.999), epsilon: spec.epsilon.unwrap_or(1e-7) }, 0.001, 0.004),
            "rmsprop" => (
                Rule::RmsProp { rho: spec.rho.unwrap_or(0.9), momentum: spec.momentum.unwrap_or(0.0), epsilon: spec.epsilon.unwrap_or(1e-7), centered: spec.centered.unwrap_or(false) },
                0.001,
                0.0,
            ),
            _ => (Rule::Adagrad { epsilon: spec.epsilon.unwrap_or(1e-7), initial_accumulator_value: spec.initial_accumulator_value.unwrap_or(0.1) }, 0.001, 0.0),
        };
        let config = OptimizerConfig {
            rule,
            learning_rate: spec.learning_rate.unwrap_or(learning_rate),
            weight_decay: spec.weight_decay.unwrap_or(weight_decay),
            global_clipnorm: spec.global_clipnorm,
            clipvalue: spec.clipvalue,
        };
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<()> {
        let bad = |name: &str, value: f64, ok: bool| if ok { Ok(()) } else { Err(Error::config("optimizer", format!("`{name}` is out of range: {value}"))) };
        bad("learning_rate", self.learning_rate, self.learning_rate.is_finite() && self.learning_rate >= 0.0)?;
        bad("weight_decay", self.weight_decay, self.weight_decay.is_finite() && self.weight_decay >= 0.0)?;
        for (name, v) in [("global_clipnorm", self.global_clipnorm), ("clipvalue", self.clipvalue)] {
            if let Some(v) = v {
                bad(name, v, v.is_finite() && v > 0.0)?;
            }
        }
        let unit = |v: f64| (0.0..1.0).contains(&v);
        match self.rule {
            Rule::Sgd { momentum, .. } => bad("momentum", momentum, unit(momentum)),
            Rule::Adam { beta_1, beta_2, epsilon } | Rule::AdamW { beta_1, beta_2, epsilon } => {
                bad("beta_1", beta_1, unit(beta_1))?;
                bad("beta_2", beta_2, unit(beta_2))?;
                bad("epsilon", epsilon, epsilon > 0.0)
            }
            Rule::RmsProp { rho, momentum, epsilon, .. } => {
                bad("rho", rho, unit(rho))?;
                bad("momentum", momentum, unit(momentum))?;
                bad("epsilon", epsilon, epsilon > 0.0)
            }
            Rule::Adagrad { epsilon, initial_accumulator_value } => {
                bad("epsilon", epsilon, epsilon > 0.0)?;
                bad("initial_accumulator_value", initial_accumulator_value, initial_accumulator_value >= 0.0)
            }
        }
    }
}

/// An optimizer with its per-parameter state (moments, accumulators), which is what a
/// checkpoint must keep to resume training.
#[derive(Clone, Debug)]
pub struct Optimizer<T> {
    pub config: OptimizerConfig,
    /// Updates done so far.
    pub steps: u64,
    /// Per parameter, the rule's slots (e.g. Adam's m and v), created at the first step.
    pub slots: Vec<Vec<Vec<T>>>,
}

impl<T: Real> Optimizer<T> {
    pub fn new(config: OptimizerConfig) -> Self {
        Optimizer { config, steps: 0, slots: Vec::new() }
    }

    /// How many arrays of state the rule keeps per parameter (Adam: m and v).
    pub fn slots_per_parameter(&self) -> usize {
        match self.config.rule {
            Rule::Sgd { momentum, .. } if momentum > 0.0 => 1,
            Rule::Sgd { .. } => 0,
            Rule::Adam { .. } | Rule::AdamW { .. } => 2,
            Rule::RmsProp { centered, momentum, .. } => 1 + usize::from(centered) + usize::from(momentum > 0.0),
            Rule::Adagrad { .. } => 1,
        }
    }

    /// Restores a saved state: `slots[p][k]` must be as long as parameter `p` (`lengths[p]`).
    pub fn set_state(&mut self, steps: u64, slots: Vec<Vec<Vec<T>>>, lengths: &[usize]) -> Result<()> {
        let per = self.slots_per_parameter();
        let fits = slots.len() == lengths.len() && slots.iter().zip(lengths).all(|(s, &n)| s.len() == per && s.iter().all(|v| v.len() == n));
        if !fits {
            return Err(Error::shape("optimizer state", format!("{per} slots for each of {} parameters, shaped like them", lengths.len()), "another layout".to_string()));
        }
        if let Some(v) = slots.iter().flatten().flatten().find(|v| !v.is_finite()) {
            return Err(Error::numeric("optimizer state", format!("holds {v:?}")));
        }
        self.steps = steps;
        self.slots = if steps == 0 { Vec::new() } else { slots };
        Ok(())
    }

    /// Clips `grads` as configured and returns their global norm before clipping.
    pub fn clip(&self, grads: &mut [Vec<T>]) -> f64 {
        if let Some(c) = self.config.clipvalue {
            let c = T::from(c).unwrap_or_else(T::max_value);
            grads.iter_mut().flatten().for_each(|g| *g = g.max(-c).min(c));
        }
        let norm = global_norm(grads);
        if let Some(max) = self.config.global_clipnorm {
            if norm > max {
                let scale = T::from(max / norm).unwrap_or_else(T::one);
                grads.iter_mut().flatten().for_each(|g| *g = *g * scale);
            }
        }
        norm
    }

    /// One update of `params` with `grads` (already clipped) at learning rate `lr`.
    pub fn update(&mut self, mut params: Vec<&mut Vec<T>>, grads: &[Vec<T>], lr: f64) -> Result<()> {
        if params.len() != grads.len() || params.iter().zip(grads).any(|(p, g)| p.len() != g.len()) {
            return Err(Error::shape("optimizer", format!("{} gradients shaped like the parameters", params.len()), format!("{} gradients", grads.len())));
        }
        let slots = self.slots_per_parameter();
        if self.slots.len() != params.len() {
            let fill = match self.config.rule {
                Rule::Adagrad { initial_accumulator_value, .. } => initial_accumulator_value,
                _ => 0.0,
            };
            self.slots = params.iter().map(|p| (0..slots).map(|_| vec![T::from(fill).unwrap_or_else(T::zero); p.len()]).collect()).collect();
        }
        self.steps += 1;
        let t = self.steps as i32;
        let c = |v: f64| T::from(v).unwrap_or_else(T::zero);
        let (lr_t, wd) = (c(lr), c(self.config.weight_decay));
        let one = T::one();
        for ((p, g), slots) in params.iter_mut().zip(grads).zip(&mut self.slots) {
            match self.config.rule {
                Rule::Sgd { momentum, nesterov } => {
                    let mu = c(momentum);
                    for i in 0..p.len() {
                        let mut d = g[i] + wd * p[i];
                        if momentum > 0.0 {
                            let b = &mut slots[0][i];
                            *b = if t == 1 { d } else { mu * *b + d };
                            d = if nesterov { d + mu * *b } else { *b };
                        }
                        p[i] = p[i] - lr_t * d;
                    }
                }
                Rule::Adam { beta_1, beta_2, epsilon } | Rule::AdamW { beta_1, beta_2, epsilon } => {
                    let decoupled = matches!(self.config.rule, Rule::AdamW { .. });
                    let (b1, b2, eps) = (c(beta_1), c(beta_2), c(epsilon));
                    let (bc1, bc2) = (c(1.0 - beta_1.powi(t)), c(1.0 - beta_2.powi(t)));
                    let (m, v) = slots.split_at_mut(1);
                    let adam = Adam { lr: lr_t, wd, b1, b2, bc1, bc2, eps };
                    if decoupled {
                        adam.pass::<true>(p, g, &mut m[0], &mut v[0]);
                    } else {
                        adam.pass::<false>(p, g, &mut m[0], &mut v[0]);
                    }
                }
                Rule::RmsProp { rho, momentum, epsilon, centered } => {
                    let (rho, mu, eps) = (c(rho), c(momentum), c(epsilon));
                    for i in 0..p.len() {
                        let d = g[i] + wd * p[i];
                        slots[0][i] = rho * slots[0][i] + (one - rho) * d * d;
                        let mut v = slots[0][i];
                        if centered {
                            slots[1][i] = rho * slots[1][i] + (one - rho) * d;
                            v = v - slots[1][i] * slots[1][i];
                        }
                        let step = d / (v.sqrt() + eps);
                        if momentum > 0.0 {
                            let last = slots.len() - 1;
                            let b = &mut slots[last][i];
                            *b = mu * *b + step;
                            p[i] = p[i] - lr_t * *b;
                        } else {
                            p[i] = p[i] - lr_t * step;
                        }
                    }
                }
                Rule::Adagrad { epsilon, .. } => {
                    let eps = c(epsilon);
                    for i in 0..p.len() {
                        let d = g[i] + wd * p[i];
                        slots[0][i] = slots[0][i] + d * d;
                        p[i] = p[i] - lr_t * d / (slots[0][i].sqrt() + eps);
                    }
                }
            }
        }
        Ok(())
    }
}

/// The L2 norm of all gradients together, accumulated in f64.
pub fn global_norm<T: Real>(grads: &[Vec<T>]) -> f64 {
    grads.iter().flatten().map(|g| g.to_f64().unwrap_or(f64::NAN).powi(2)).sum::<f64>().sqrt()
}

/// One Adam step's constants, in the parameters' type.
struct Adam<T> {
    lr: T,
    wd: T,
    b1: T,
    b2: T,
    bc1: T,
    bc2: T,
    eps: T,
}

impl<T: Real> Adam<T> {
    /// Updates every value of one parameter. Zipped slices and the weight-decay choice as a
    /// constant make the loop vectorise; each value goes through the same operations as before.
    fn pass<const DECOUPLED: bool>(&self, p: &mut [T], g: &[T], m: &mut [T], v: &mut [T]) {
        let one = T::one();
        for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            let d = if DECOUPLED {
                *p = *p - self.lr * self.wd * *p;
                g
            } else {
                g + self.wd * *p
            };
            *m = self.b1 * *m + (one - self.b1) * d;
            *v = self.b2 * *v + (one - self.b2) * d * d;
            *p = *p - self.lr * (*m / self.bc1) / ((*v / self.bc2).sqrt() + self.eps);
        }
    }
}
