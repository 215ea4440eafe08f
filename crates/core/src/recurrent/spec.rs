//! A recurrent stack's configuration as JSON, the form the model format and the facade use.
//! Field names follow Keras/PyTorch (snake_case); unknown fields and options that do not apply
//! to the chosen cell are errors, never silently ignored.

use super::{Cell, Merge, StackConfig};
use crate::activation::Activation;
use crate::{Error, Result};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    cell: CellName,
    input: usize,
    hidden: usize,
    #[serde(default = "one")]
    layers: usize,
    #[serde(default)]
    bidirectional: bool,
    #[serde(default)]
    merge: MergeName,
    #[serde(default)]
    residual: bool,
    #[serde(default)]
    dropout: f64,
    #[serde(default)]
    input_dropout: f64,
    #[serde(default)]
    recurrent_dropout: f64,
    /// Elman only: "tanh" (default) or "relu".
    activation: Option<ActivationName>,
    /// LSTM only (default true).
    forget_gate: Option<bool>,
    /// LSTM only (default false).
    peepholes: Option<bool>,
    /// LSTM only: PyTorch's `proj_size` (default 0, no projection).
    proj_size: Option<usize>,
    /// LSTM only: the forget gate's initial bias (default 0, PyTorch; Keras uses 1).
    forget_bias: Option<f64>,
    /// GRU only (default true, PyTorch's form).
    reset_after: Option<bool>,
}

fn one() -> usize {
    1
}

#[derive(Deserialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum CellName {
    Elman,
    Lstm,
    Gru,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum MergeName {
    #[default]
    Concat,
    Sum,
    Mul,
    Ave,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum ActivationName {
    Tanh,
    Relu,
}

impl StackConfig {
    /// Parses and checks a JSON configuration such as
    /// `{"cell": "lstm", "input": 8, "hidden": 32, "layers": 2, "bidirectional": true}`.
    pub fn from_json(json: &str) -> Result<Self> {
        let spec: Spec = serde_json::from_str(json).map_err(|e| Error::config("recurrent layer config", e.to_string()))?;
        let only = |option: &str, set: bool, cell: &str| -> Result<()> {
            if set {
                Err(Error::config("recurrent layer config", format!("`{option}` applies only to a {cell} cell")))
            } else {
                Ok(())
            }
        };
        only("activation", spec.activation.is_some() && spec.cell != CellName::Elman, "elman")?;
        only("forget_gate", spec.forget_gate.is_some() && spec.cell != CellName::Lstm, "lstm")?;
        only("peepholes", spec.peepholes.is_some() && spec.cell != CellName::Lstm, "lstm")?;
        only("proj_size", spec.proj_size.is_some() && spec.cell != CellName::Lstm, "lstm")?;
        only("forget_bias", spec.forget_bias.is_some() && spec.cell != CellName::Lstm, "lstm")?;
        only("reset_after", spec.reset_after.is_some() && spec.cell != CellName::Gru, "gru")?;
        let cell = match spec.cell {
            CellName::Elman => Cell::Elman(match spec.activation {
                Some(ActivationName::Relu) => Activation::Relu,
                _ => Activation::Tanh,
            }),
            CellName::Lstm => Cell::Lstm {
                forget_gate: spec.forget_gate.unwrap_or(true),
                peepholes: spec.peepholes.unwrap_or(false),
                projection: spec.proj_size.unwrap_or(0),
            },
            CellName::Gru => Cell::Gru { reset_after: spec.reset_after.unwrap_or(true) },
        };
        let merge = match spec.merge {
            MergeName::Concat => Merge::Concat,
            MergeName::Sum => Merge::Sum,
            MergeName::Mul => Merge::Mul,
            MergeName::Ave => Merge::Ave,
        };
        Ok(StackConfig {
            cell,
            input: spec.input,
            hidden: spec.hidden,
            layers: spec.layers,
            bidirectional: spec.bidirectional,
            merge,
            residual: spec.residual,
            dropout: spec.dropout,
            input_dropout: spec.input_dropout,
            recurrent_dropout: spec.recurrent_dropout,
            forget_bias: spec.forget_bias.unwrap_or(0.0),
        })
    }
}
