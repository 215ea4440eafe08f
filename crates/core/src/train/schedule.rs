//! Learning-rate schedules, counted in optimizer steps (Keras' `LearningRateSchedule`), with an
//! optional linear warm-up before any of them.

use crate::{Error, Result};
use serde::Deserialize;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decay {
    Constant,
    /// `lr · gamma^⌊t / step_size⌋` (PyTorch `StepLR`).
    Step { step_size: u64, gamma: f64 },
    /// `lr · decay_rate^(t / decay_steps)` (Keras `ExponentialDecay`, not staircase).
    Exponential { decay_steps: u64, decay_rate: f64 },
    /// `lr · ((1 − α)·½(1 + cos(π·min(t, T)/T)) + α)` with `T = decay_steps` (Keras `CosineDecay`).
    Cosine { decay_steps: u64, alpha: f64 },
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    pub decay: Decay,
    /// The learning rate rises linearly to its value over this many steps, then decays.
    pub warmup_steps: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(rename = "type")]
    name: String,
    step_size: Option<u64>,
    gamma: Option<f64>,
    decay_steps: Option<u64>,
    decay_rate: Option<f64>,
    alpha: Option<f64>,
    #[serde(default)]
    warmup_steps: u64,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule { decay: Decay::Constant, warmup_steps: 0 }
    }
}

impl Schedule {
    /// `{"type": "cosine", "decay_steps": 1000, "alpha": 0.1, "warmup_steps": 100}`; the types
    /// are `constant`, `step`, `exponential` and `cosine`.
    pub fn from_value(value: serde_json::Value) -> Result<Self> {
        let what = "learning-rate schedule";
        let s: Spec = serde_json::from_value(value).map_err(|e| Error::config(what, e.to_string()))?;
        let need = |name: &str, v: Option<u64>| v.filter(|&v| v > 0).ok_or_else(|| Error::config(what, format!("{} needs `{name}` of at least 1", s.name)));
        let decay = match s.name.as_str() {
            "constant" => Decay::Constant,
            "step" => Decay::Step { step_size: need("step_size", s.step_size)?, gamma: s.gamma.unwrap_or(0.1) },
            "exponential" => Decay::Exponential { decay_steps: need("decay_steps", s.decay_steps)?, decay_rate: s.decay_rate.unwrap_or(0.96) },
            "cosine" => Decay::Cosine { decay_steps: need("decay_steps", s.decay_steps)?, alpha: s.alpha.unwrap_or(0.0) },
            other => return Err(Error::config(what, format!("unknown schedule `{other}` (constant, step, exponential, cosine)"))),
        };
        let used: &[&str] = match decay {
            Decay::Constant => &[],
            Decay::Step { .. } => &["step_size", "gamma"],
            Decay::Exponential { .. } => &["decay_steps", "decay_rate"],
            Decay::Cosine { .. } => &["decay_steps", "alpha"],
        };
        let given = [("step_size", s.step_size.is_some()), ("gamma", s.gamma.is_some()), ("decay_steps", s.decay_steps.is_some()), ("decay_rate", s.decay_rate.is_some()), ("alpha", s.alpha.is_some())];
        if let Some((name, _)) = given.iter().find(|(n, set)| *set && !used.contains(n)) {
            return Err(Error::config(what, format!("`{name}` does not apply to a {} schedule", s.name)));
        }
        Ok(Schedule { decay, warmup_steps: s.warmup_steps })
    }

    /// The learning rate for step `t` (from 0) given the base rate.
    pub fn rate(&self, base: f64, t: u64) -> f64 {
        if t < self.warmup_steps {
            return base * (t + 1) as f64 / self.warmup_steps as f64;
        }
        let t = t - self.warmup_steps;
        match self.decay {
            Decay::Constant => base,
            Decay::Step { step_size, gamma } => base * gamma.powi((t / step_size) as i32),
            Decay::Exponential { decay_steps, decay_rate } => base * decay_rate.powf(t as f64 / decay_steps as f64),
            Decay::Cosine { decay_steps, alpha } => {
                let progress = t.min(decay_steps) as f64 / decay_steps as f64;
                base * ((1.0 - alpha) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()) + alpha)
            }
        }
    }
}
