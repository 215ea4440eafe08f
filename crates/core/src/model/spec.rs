//! A model's topology as JSON, with Keras' layer names and options, e.g.
//! `{"input": 3, "layers": [{"type": "lstm", "units": 16}, {"type": "dense", "units": 1}]}`.
//! Sizes flow from layer to layer as in Keras; unknown fields, unknown layer types and options
//! that do not apply are errors that name the layer.

use super::layer::Layer;
use super::Model;
use crate::activation::Activation;
use crate::init::Initializer;
use crate::layers::{ActivationLayer, Conv1d, Dense, Embedding, LayerNorm, Padding, Pool1d, PoolKind};
use crate::real::Real;
use crate::recurrent::{JordanLayer, RecurrentStack, StackConfig};
use crate::rng::Rng;
use crate::{Error, Result};
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelSpec {
    /// Features per time step; absent when the first layer is an embedding (ids in).
    input: Option<usize>,
    layers: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EmbeddingSpec {
    vocab: usize,
    dim: usize,
    embeddings_initializer: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DenseSpec {
    units: usize,
    activation: Option<String>,
    kernel_initializer: Option<String>,
    bias_initializer: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JordanSpec {
    units: usize,
    output: usize,
    activation: Option<String>,
    output_activation: Option<String>,
    #[serde(default)]
    return_sequences: bool,
    kernel_initializer: Option<String>,
    recurrent_initializer: Option<String>,
    bias_initializer: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConvSpec {
    filters: usize,
    kernel_size: usize,
    #[serde(default = "one")]
    strides: usize,
    padding: Option<String>,
    activation: Option<String>,
    kernel_initializer: Option<String>,
    bias_initializer: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PoolSpec {
    #[serde(default = "two")]
    pool_size: usize,
    strides: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NormSpec {
    epsilon: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivationSpec {
    activation: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DropoutSpec {
    rate: f64,
}

fn one() -> usize {
    1
}

fn two() -> usize {
    2
}

/// The recurrent layers' own options besides those of `StackConfig::from_json`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RecurrentExtras {
    units: usize,
    #[serde(default)]
    return_sequences: bool,
    kernel_initializer: Option<String>,
    recurrent_initializer: Option<String>,
    bias_initializer: Option<String>,
}

/// Keras' default epsilon for LayerNormalization (PyTorch's is 1e-5).
const NORM_EPSILON: f64 = 1e-3;

/// What flows out of a layer: per-step features of sequences, or one vector per sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowShape {
    pub sequence: bool,
    pub features: usize,
}

impl<T: Real> Model<T> {
    /// Builds and initialises a model from its JSON topology; `seed` fixes the initial weights.
    pub fn from_json(json: &str, seed: u64) -> Result<Self> {
        let spec: ModelSpec = serde_json::from_str(json).map_err(|e| Error::config("model config", e.to_string()))?;
        if spec.layers.is_empty() {
            return Err(Error::config("model config", "needs at least one layer"));
        }
        let starts_with_ids = spec.layers[0].get("type").and_then(Value::as_str) == Some("embedding");
        let mut shape = match (spec.input, starts_with_ids) {
            (None, true) => FlowShape { sequence: true, features: 0 },
            (Some(_), true) => return Err(Error::config("model config", "`input` must be left out when the first layer is an embedding (its input is token ids)")),
            (Some(0), false) | (None, false) => return Err(Error::config("model config", "`input` (features per time step, at least 1) is required unless the first layer is an embedding")),
            (Some(features), false) => FlowShape { sequence: true, features },
        };
        let mut rng = Rng::new(seed);
        let mut model = Model { ids: starts_with_ids, input_features: spec.input.unwrap_or(0), layers: Vec::new(), owners: Vec::new(), shapes: Vec::new() };
        for (index, value) in spec.layers.into_iter().enumerate() {
            let built = build(index, value, shape, &mut rng)?;
            for layer in built {
                shape = output_shape(&layer, shape);
                model.layers.push(layer);
                model.owners.push(index);
                model.shapes.push(shape);
            }
        }
        Ok(model)
    }
}

/// The layer (and, for `activation` options such as softmax, the activation after it) that
/// layer `index` of the spec describes, initialised.
fn build<T: Real>(index: usize, value: Value, input: FlowShape, rng: &mut Rng) -> Result<Vec<Layer<T>>> {
    let Value::Object(mut fields) = value else {
        return Err(Error::config(format!("layer {index}"), "must be an object with a `type`"));
    };
    let kind = match fields.remove("type") {
        Some(Value::String(kind)) => kind,
        _ => return Err(Error::config(format!("layer {index}"), "needs a `type` (such as \"lstm\" or \"dense\")")),
    };
    let what = format!("layer {index} ({kind})");
    let parse_err = |e: serde_json::Error| Error::config(what.clone(), e.to_string());
    let needs_sequence = |layer: &str| -> Result<()> {
        if input.sequence {
            Ok(())
        } else {
            Err(Error::config(what.clone(), format!("{layer} needs sequences, but the layer before it returns only the last output (set return_sequences: true on it)")))
        }
    };
    let body = Value::Object(fields.clone());
    let f = input.features;
    let layers = match kind.as_str() {
        "embedding" => {
            if index != 0 {
                return Err(Error::config(what, "an embedding must be the first layer"));
            }
            let s: EmbeddingSpec = serde_json::from_value(body).map_err(parse_err)?;
            let mut e = Embedding::new(s.vocab, s.dim)?;
            let init = initializer(&what, s.embeddings_initializer, Initializer::Uniform(0.05))?;
            init.fill(&mut e.weight, s.vocab, s.dim, 1, s.dim, rng);
            vec![Layer::Embedding(e)]
        }
        "lstm" | "gru" | "rnn" => {
            needs_sequence("a recurrent layer")?;
            recurrent(&what, &kind, fields, f, rng)?
        }
        "jordan" => {
            needs_sequence("a Jordan layer")?;
            let s: JordanSpec = serde_json::from_value(body).map_err(parse_err)?;
            let act = elementwise(&what, s.activation.as_deref().unwrap_or("tanh"))?;
            let out_act = elementwise(&what, s.output_activation.as_deref().unwrap_or("tanh"))?;
            let mut j = JordanLayer::new(f, s.units, s.output, act, out_act)?;
            let kernel = initializer(&what, s.kernel_initializer, Initializer::GlorotUniform)?;
            let recurrent = initializer(&what, s.recurrent_initializer, Initializer::Orthogonal)?;
            let bias = initializer(&what, s.bias_initializer, Initializer::Zeros)?;
            let (h, o) = (s.units, s.output);
            kernel.fill(&mut j.weight_ih, h, f, 1, h, rng);
            recurrent.fill(&mut j.weight_hh, h, o, 1, h, rng);
            kernel.fill(&mut j.weight_hy, o, h, 1, h, rng);
            bias.fill(&mut j.bias_ih, h, 1, 1, h, rng);
            bias.fill(&mut j.bias_hh, h, 1, 1, h, rng);
            bias.fill(&mut j.bias_y, o, 1, 1, h, rng);
            vec![Layer::Jordan { layer: j, return_sequences: s.return_sequences, carried: None }]
        }
        "dense" => {
            let s: DenseSpec = serde_json::from_value(body).map_err(parse_err)?;
            let (act, post) = activation(&what, s.activation.as_deref().unwrap_or("linear"), s.units)?;
            let mut d = Dense::new(f, s.units, act)?;
            initializer(&what, s.kernel_initializer, Initializer::GlorotUniform)?.fill(&mut d.weight, s.units, f, 1, s.units, rng);
            initializer(&what, s.bias_initializer, Initializer::Zeros)?.fill(&mut d.bias, s.units, 1, 1, s.units, rng);
            std::iter::once(Layer::Dense(d)).chain(post.map(Layer::Activation)).collect()
        }
        "conv1d" => {
            needs_sequence("a convolution")?;
            let s: ConvSpec = serde_json::from_value(body).map_err(parse_err)?;
            let padding = match s.padding.as_deref().unwrap_or("valid") {
                "valid" => Padding::Valid,
                "same" => Padding::Same,
                "causal" => Padding::Causal,
                other => return Err(Error::config(what, format!("unknown padding `{other}` (valid, same or causal)"))),
            };
            let mut c = Conv1d::new(f, s.filters, s.kernel_size, s.strides, padding)?;
            let cols = f * s.kernel_size;
            initializer(&what, s.kernel_initializer, Initializer::GlorotUniform)?.fill(&mut c.weight, s.filters, cols, s.kernel_size, s.filters, rng);
            initializer(&what, s.bias_initializer, Initializer::Zeros)?.fill(&mut c.bias, s.filters, 1, 1, s.filters, rng);
            let (act, post) = activation(&what, s.activation.as_deref().unwrap_or("linear"), s.filters)?;
            let act = act.map(|a| Layer::Activation(ActivationLayer::Elementwise(a)));
            std::iter::once(Layer::Conv1d(c)).chain(act).chain(post.map(Layer::Activation)).collect()
        }
        "max_pooling1d" | "average_pooling1d" => {
            needs_sequence("pooling")?;
            let s: PoolSpec = serde_json::from_value(body).map_err(parse_err)?;
            let kind = if kind == "max_pooling1d" { PoolKind::Max } else { PoolKind::Average };
            let pool = Pool1d { kind, size: s.pool_size, stride: s.strides.unwrap_or(s.pool_size) };
            if pool.size == 0 || pool.stride == 0 {
                return Err(Error::config(what, "pool_size and strides must be at least 1"));
            }
            vec![Layer::Pool1d(pool)]
        }
        "layer_normalization" => {
            let s: NormSpec = serde_json::from_value(body).map_err(parse_err)?;
            vec![Layer::LayerNorm(LayerNorm::new(f, s.epsilon.unwrap_or(NORM_EPSILON))?)]
        }
        "activation" => {
            let s: ActivationSpec = serde_json::from_value(body).map_err(parse_err)?;
            match activation(&what, &s.activation, f)? {
                (Some(a), _) => vec![Layer::Activation(ActivationLayer::Elementwise(a))],
                (None, Some(post)) => vec![Layer::Activation(post)],
                (None, None) => return Err(Error::config(what, "a linear activation layer does nothing; leave it out")),
            }
        }
        "dropout" => {
            let s: DropoutSpec = serde_json::from_value(body).map_err(parse_err)?;
            if !(0.0..1.0).contains(&s.rate) {
                return Err(Error::config(what, format!("rate must be in [0, 1), got {}", s.rate)));
            }
            vec![Layer::Dropout(s.rate)]
        }
        other => {
            return Err(Error::config(
                what.clone(),
                format!("unknown layer type `{other}` (known: embedding, rnn, lstm, gru, jordan, dense, conv1d, max_pooling1d, average_pooling1d, layer_normalization, activation, dropout)"),
            ))
        }
    };
    Ok(layers)
}

/// A recurrent stack from a layer object such as `{"type": "lstm", "units": 32}`, with the same
/// options and checks as in a model (for the encoder and decoder of a sequence-to-sequence model).
pub(crate) fn recurrent_stack<T: Real>(what: &str, value: Value, input: usize, rng: &mut Rng) -> Result<RecurrentStack<T>> {
    let Value::Object(mut fields) = value else {
        return Err(Error::config(what.to_string(), "must be an object with a `type` (lstm, gru or rnn)"));
    };
    let kind = match fields.remove("type") {
        Some(Value::String(kind)) if matches!(kind.as_str(), "lstm" | "gru" | "rnn") => kind,
        _ => return Err(Error::config(what.to_string(), "needs a `type` of lstm, gru or rnn")),
    };
    if fields.contains_key("return_sequences") {
        return Err(Error::config(what.to_string(), "`return_sequences` is set by the model"));
    }
    match recurrent(what, &kind, fields, input, rng)?.pop() {
        Some(Layer::Recurrent { stack, .. }) => Ok(stack),
        _ => unreachable!("recurrent() builds one recurrent layer"),
    }
}

/// A recurrent layer: the stack's own options go through `StackConfig::from_json`, so they are
/// checked the same way as for a bare stack.
fn recurrent<T: Real>(what: &str, kind: &str, mut fields: Map<String, Value>, input: usize, rng: &mut Rng) -> Result<Vec<Layer<T>>> {
    let mut extras = Map::new();
    for key in ["units", "return_sequences", "kernel_initializer", "recurrent_initializer", "bias_initializer"] {
        if let Some(v) = fields.remove(key) {
            extras.insert(key.to_string(), v);
        }
    }
    let extras: RecurrentExtras = serde_json::from_value(Value::Object(extras)).map_err(|e| Error::config(what.to_string(), e.to_string()))?;
    for key in ["cell", "input", "hidden"] {
        if fields.contains_key(key) {
            return Err(Error::config(what.to_string(), format!("`{key}` is set by the model (use `type` and `units`)")));
        }
    }
    let cell = if kind == "rnn" { "elman" } else { kind };
    if cell == "lstm" && !fields.contains_key("forget_bias") {
        // Keras' unit_forget_bias: a fresh LSTM remembers by default.
        fields.insert("forget_bias".into(), Value::from(1.0));
    }
    fields.insert("cell".into(), Value::from(cell));
    fields.insert("input".into(), Value::from(input));
    fields.insert("hidden".into(), Value::from(extras.units));
    let config = StackConfig::from_json(&Value::Object(fields).to_string()).map_err(|e| Error::config(what.to_string(), e.to_string()))?;
    let mut stack = RecurrentStack::new(config)?;
    let kernel = initializer(what, extras.kernel_initializer, Initializer::GlorotUniform)?;
    let recurrent = initializer(what, extras.recurrent_initializer, Initializer::Orthogonal)?;
    let bias = initializer(what, extras.bias_initializer, Initializer::Zeros)?;
    let hidden = config.hidden;
    let forget_bias = T::from(config.forget_bias).unwrap_or_else(T::zero);
    for layer in &mut stack.layers {
        let (gates, input, state) = (layer.cell.gates() * hidden, layer.input, layer.state_size());
        kernel.fill(&mut layer.weight_ih, gates, input, 1, hidden, rng);
        recurrent.fill(&mut layer.weight_hh, gates, state, 1, hidden, rng);
        bias.fill(&mut layer.bias_ih, gates, 1, 1, hidden, rng);
        bias.fill(&mut layer.bias_hh, gates, 1, 1, hidden, rng);
        // Peepholes start at zero: a fresh peephole LSTM behaves as a plain one.
        if !layer.weight_hr.is_empty() {
            kernel.fill(&mut layer.weight_hr, state, hidden, 1, hidden, rng);
        }
        if layer.cell.has_cell_state() {
            layer.bias_ih[hidden..2 * hidden].fill(forget_bias);
        }
    }
    Ok(vec![Layer::Recurrent { stack, return_sequences: extras.return_sequences }])
}

fn initializer(what: &str, name: Option<String>, default: Initializer) -> Result<Initializer> {
    name.map_or(Ok(default), |n| Initializer::from_name(&n).map_err(|e| Error::config(what.to_string(), e.to_string())))
}

fn elementwise(what: &str, name: &str) -> Result<Activation> {
    match activation(what, name, 1)? {
        (Some(a), None) => Ok(a),
        _ => Err(Error::config(what.to_string(), format!("`{name}` is not available here (tanh, relu, sigmoid or hard_sigmoid)"))),
    }
}

/// An element-wise activation a layer applies itself, or a softmax (over `features`) that
/// follows it as its own layer; `linear` is neither.
fn activation(what: &str, name: &str, features: usize) -> Result<(Option<Activation>, Option<ActivationLayer>)> {
    Ok(match name {
        "linear" => (None, None),
        "tanh" => (Some(Activation::Tanh), None),
        "relu" => (Some(Activation::Relu), None),
        "sigmoid" => (Some(Activation::Sigmoid), None),
        "hard_sigmoid" => (Some(Activation::HardSigmoid), None),
        "softmax" => (None, Some(ActivationLayer::Softmax { cols: features })),
        other => return Err(Error::config(what.to_string(), format!("unknown activation `{other}` (linear, tanh, relu, sigmoid, hard_sigmoid or softmax)"))),
    })
}

fn output_shape<T: Real>(layer: &Layer<T>, input: FlowShape) -> FlowShape {
    let features = match layer {
        Layer::Embedding(e) => e.dim,
        Layer::Recurrent { stack, return_sequences } => return FlowShape { sequence: *return_sequences, features: stack.config.output_size() },
        Layer::Jordan { layer, return_sequences, .. } => return FlowShape { sequence: *return_sequences, features: layer.output },
        Layer::Dense(d) => d.output,
        Layer::Conv1d(c) => c.output,
        Layer::Pool1d(_) | Layer::LayerNorm(_) | Layer::Activation(_) | Layer::Dropout(_) => input.features,
    };
    FlowShape { sequence: input.sequence, features }
}
