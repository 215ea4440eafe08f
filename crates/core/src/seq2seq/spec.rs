//! A sequence-to-sequence model's topology as JSON:
//! `{"source": {"vocab": 40, "dim": 16}, "target": {"vocab": 13, "dim": 16},
//!   "encoder": {"type": "lstm", "units": 32, "bidirectional": true},
//!   "decoder": {"type": "lstm", "units": 64},
//!   "attention": {"type": "luong", "score": "general"},
//!   "start_token": 1, "end_token": 2}`.
//! The encoder and decoder take a recurrent layer's options as in a model; attention is
//! `{"type": "bahdanau", "units": A}` or `{"type": "luong", "score": "dot" | "general" |
//! "concat", "units": A (concat), "window": "global" | "monotonic" | "predictive", "width": D}`,
//! or absent for none.

use super::{Attention, Score, Seq2Seq, Style, Window};
use crate::init::Initializer;
use crate::layers::{Dense, Embedding};
use crate::model::recurrent_stack;
use crate::real::Real;
use crate::rng::Rng;
use crate::{Error, Result};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    source: Vocabulary,
    target: Vocabulary,
    encoder: Value,
    decoder: Value,
    attention: Option<AttentionSpec>,
    start_token: u32,
    end_token: u32,
    /// `encoder` (the default) or `zeros`.
    initial_state: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Vocabulary {
    vocab: usize,
    dim: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttentionSpec {
    #[serde(rename = "type")]
    kind: String,
    score: Option<String>,
    units: Option<usize>,
    window: Option<String>,
    width: Option<usize>,
}

const WHAT: &str = "seq2seq config";

impl<T: Real> Seq2Seq<T> {
    /// Builds and initialises a model from its JSON topology; `seed` fixes the initial weights.
    pub fn from_json(json: &str, seed: u64) -> Result<Self> {
        let spec: Spec = serde_json::from_str(json).map_err(|e| Error::config(WHAT, e.to_string()))?;
        let mut rng = Rng::new(seed);
        let embedding = |v: &Vocabulary, rng: &mut Rng| -> Result<Embedding<T>> {
            let mut e = Embedding::new(v.vocab, v.dim)?;
            Initializer::Uniform(0.05).fill(&mut e.weight, v.vocab, v.dim, 1, v.dim, rng);
            Ok(e)
        };
        let source = embedding(&spec.source, &mut rng)?;
        let target = embedding(&spec.target, &mut rng)?;
        for (name, token) in [("start_token", spec.start_token), ("end_token", spec.end_token)] {
            if token as usize >= target.num {
                return Err(Error::config(WHAT, format!("`{name}` must be a target id below {}, got {token}", target.num)));
            }
        }
        let encoder = recurrent_stack::<T>("seq2seq encoder", spec.encoder, source.dim, &mut rng)?;
        let e = encoder.config.output_size();
        let bridge = match spec.initial_state.as_deref() {
            None | Some("encoder") => true,
            Some("zeros") => false,
            Some(other) => return Err(Error::config(WHAT, format!("`initial_state` must be \"encoder\" or \"zeros\", got \"{other}\""))),
        };

        let (style, score, window, units) = match &spec.attention {
            None if !bridge => return Err(Error::config(WHAT, "without attention and with \"initial_state\": \"zeros\" the decoder would never see the source")),
            None => (Style::None, Score::Dot, Window::Global, 0),
            Some(a) => attention_of(a)?,
        };
        // The decoder's state size must be known before its input size: read `units` first.
        let decoder_units = spec.decoder.get("units").and_then(Value::as_u64).unwrap_or(0) as usize;
        let (h, dim) = (decoder_units, target.dim);
        let input = match style {
            Style::None => dim,
            Style::Bahdanau => dim + e,
            Style::Luong => dim + h,
        };
        let stack = recurrent_stack::<T>("seq2seq decoder", spec.decoder, input, &mut rng)?;
        let c = stack.config;
        if c.layers != 1 || c.bidirectional || c.dropout > 0.0 || c.input_dropout > 0.0 || c.recurrent_dropout > 0.0 || c.state_size() != h {
            return Err(Error::config("seq2seq decoder", "must be one layer in one direction, without dropout or projection"));
        }
        let decoder = stack.layers.into_iter().next().expect("a stack of one layer");
        if bridge && encoder.config.directions() * encoder.config.state_size() != h {
            let ec = encoder.config;
            return Err(Error::config(
                WHAT,
                format!("the decoder starts from the encoder's final state, so its units ({h}) must be {} ({} direction(s) × {}); or set \"initial_state\": \"zeros\"", ec.directions() * ec.state_size(), ec.directions(), ec.state_size()),
            ));
        }
        let attention = match style {
            Style::None => None,
            _ => {
                let mut a = Attention::new(score, window, h, e, units).map_err(|err| err.within(WHAT))?;
                let glorot = Initializer::GlorotUniform;
                let (k, q) = (a.key_weight.len() / e.max(1), a.query);
                glorot.fill(&mut a.key_weight, k, e, 1, k, &mut rng);
                let au = a.v.len();
                glorot.fill(&mut a.query_weight, au, q, 1, au, &mut rng);
                glorot.fill(&mut a.v, 1, au, 1, au, &mut rng);
                glorot.fill(&mut a.position_weight, a.position_v.len(), q, 1, q, &mut rng);
                let pv = a.position_v.len();
                glorot.fill(&mut a.position_v, 1, pv, 1, pv, &mut rng);
                Some(a)
            }
        };
        let mut combine = Vec::new();
        if style == Style::Luong {
            combine = vec![T::zero(); h * (e + h)];
            Initializer::GlorotUniform.fill(&mut combine, h, e + h, 1, h, &mut rng);
        }
        let out_in = if style == Style::Bahdanau { h + e } else { h };
        let mut output = Dense::new(out_in, target.num, None)?;
        Initializer::GlorotUniform.fill(&mut output.weight, target.num, out_in, 1, target.num, &mut rng);
        Ok(Seq2Seq { source, encoder, target, decoder, style, attention, combine, output, start: spec.start_token, end: spec.end_token, bridge })
    }
}

fn attention_of(a: &AttentionSpec) -> Result<(Style, Score, Window, usize)> {
    let what = "seq2seq attention";
    let width = a.width.unwrap_or(2);
    let window = match a.window.as_deref() {
        None | Some("global") => {
            if a.width.is_some() {
                return Err(Error::config(what, "`width` applies only to a local window (monotonic or predictive)"));
            }
            Window::Global
        }
        Some("monotonic") => Window::Monotonic(width),
        Some("predictive") => Window::Predictive(width),
        Some(other) => return Err(Error::config(what, format!("unknown window \"{other}\" (global, monotonic or predictive)"))),
    };
    match a.kind.as_str() {
        "bahdanau" => {
            if a.score.is_some() || window != Window::Global {
                return Err(Error::config(what, "Bahdanau attention is additive and global (`score` and `window` are Luong's options)"));
            }
            Ok((Style::Bahdanau, Score::Additive, window, a.units.unwrap_or(32)))
        }
        "luong" => {
            let score = match a.score.as_deref() {
                None | Some("general") => Score::General,
                Some("dot") => Score::Dot,
                Some("concat") => Score::Additive,
                Some(other) => return Err(Error::config(what, format!("unknown score \"{other}\" (dot, general or concat)"))),
            };
            if a.units.is_some() && score != Score::Additive {
                return Err(Error::config(what, "`units` applies only to the concat score"));
            }
            Ok((Style::Luong, score, window, a.units.unwrap_or(32)))
        }
        other => Err(Error::config(what, format!("unknown attention \"{other}\" (bahdanau or luong)"))),
    }
}
