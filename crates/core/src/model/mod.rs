//! A model: a sequence of layers built from a JSON topology, run on batch-major data
//! (`[batch, steps, features]`, Keras' layout) and computed time-major inside.
//!
//! Parameters are named as PyTorch's `nn.Sequential` names them: the layer's index in the
//! topology, a dot, and the layer's own name (`0.weight_ih_l0`, `2.bias`).

mod generate;
mod layer;
mod spec;

pub use layer::{Flow, Layer, LayerState, LayerTrace};
pub use generate::Sampling;
pub use spec::FlowShape;
pub(crate) use spec::recurrent_stack;

use crate::error::elements;
use crate::real::Real;
use crate::rng::Rng;
use crate::{Error, Result};
pub(crate) use layer::swap_leading;
use serde::Serialize;

#[derive(Clone, Debug)]
pub struct Model<T> {
    /// The input is token ids (the first layer is an embedding).
    ids: bool,
    input_features: usize,
    pub layers: Vec<Layer<T>>,
    /// The topology's layer each layer came from (an `activation: "softmax"` option adds one).
    owners: Vec<usize>,
    shapes: Vec<FlowShape>,
}

/// The model's input, batch-major: values `[batch, steps, input]` or ids `[batch, steps]`.
#[derive(Clone, Copy, Debug)]
pub enum Inputs<'a, T> {
    Values(&'a [T]),
    Ids(&'a [u32]),
}

#[derive(Clone, Copy, Debug)]
pub struct Batch<'a, T> {
    pub x: Inputs<'a, T>,
    pub batch: usize,
    pub steps: usize,
    /// Each sequence's length; steps past it are padding.
    pub lengths: Option<&'a [usize]>,
}

/// The output, batch-major: `[batch, steps, features]`, or `[batch, features]` when `steps` is
/// `None`. `lengths` say which steps are real when the output is ragged.
#[derive(Clone, Debug)]
pub struct Prediction<T> {
    pub y: Vec<T>,
    pub batch: usize,
    pub steps: Option<usize>,
    pub features: usize,
    pub lengths: Option<Vec<usize>>,
}

#[derive(Clone, Debug)]
pub struct ModelTrace<T> {
    batch: usize,
    input_steps: usize,
    output_steps: Option<usize>,
    layers: Vec<LayerTrace<T>>,
}

#[derive(Clone, Debug)]
pub struct ModelGradients<T> {
    /// dL/dx, batch-major like the input; `None` for ids.
    pub dx: Option<Vec<T>>,
    /// In the order of `parameters`.
    pub parameters: Vec<Vec<T>>,
    /// ‖dL/dh_t‖ for every step of every recurrent layer (named `0.l0`, `2.l0_reverse`, …):
    /// how far back in time the gradient reaches.
    pub state_norms: Vec<(String, Vec<T>)>,
}

/// One row of `summary`.
#[derive(Clone, Debug, Serialize)]
pub struct LayerSummary {
    pub index: usize,
    pub kind: String,
    /// `[null, steps?, features]` in Keras' notation: `sequence` says whether steps are there.
    pub sequence: bool,
    pub features: usize,
    pub parameters: usize,
}

impl<T: Real> Model<T> {
    pub fn takes_ids(&self) -> bool {
        self.ids
    }

    pub fn input_features(&self) -> usize {
        self.input_features
    }

    pub fn output_shape(&self) -> FlowShape {
        *self.shapes.last().expect("a model has at least one layer")
    }

    pub fn summary(&self) -> Vec<LayerSummary> {
        self.layers
            .iter()
            .zip(&self.owners)
            .zip(&self.shapes)
            .map(|((layer, &index), shape)| LayerSummary {
                index,
                kind: layer.kind(),
                sequence: shape.sequence,
                features: shape.features,
                parameters: layer.parameters().iter().map(|(_, p)| p.len()).sum(),
            })
            .collect()
    }

    pub fn parameters(&self) -> Vec<(String, &[T])> {
        self.layers.iter().zip(&self.owners).flat_map(|(layer, owner)| layer.parameters().into_iter().map(move |(name, p)| (format!("{owner}.{name}"), p))).collect()
    }

    /// Each parameter's shape in PyTorch's layout, in the order of `parameters`.
    pub fn parameter_shapes(&self) -> Vec<Vec<usize>> {
        self.layers.iter().flat_map(Layer::parameter_shapes).collect()
    }

    /// In the order of `parameters`.
    pub fn parameters_mut(&mut self) -> Vec<&mut Vec<T>> {
        self.layers.iter_mut().flat_map(Layer::parameters_mut).collect()
    }

    /// The states carried by stateful calls, to go back to later with `set_states`.
    pub fn states(&self) -> Vec<LayerState<T>> {
        self.layers.iter().map(Layer::state).collect()
    }

    pub fn set_states(&mut self, states: Vec<LayerState<T>>) {
        self.layers.iter_mut().zip(states).for_each(|(layer, state)| layer.set_state(state));
    }

    /// Forgets the states carried by stateful calls.
    pub fn reset_states(&mut self) {
        self.layers.iter_mut().for_each(Layer::reset_states);
    }

    /// Runs the model. `rng` is `Some` while training (dropout draws from it, and the trace
    /// is what `backward` needs); `stateful` carries recurrent states between calls.
    pub fn forward(&mut self, batch: Batch<'_, T>, mut rng: Option<&mut Rng>, stateful: bool) -> Result<(Prediction<T>, ModelTrace<T>)> {
        let Batch { x, batch, steps, lengths } = batch;
        if let Some(l) = lengths {
            if l.len() != batch || l.iter().any(|&v| v > steps) {
                return Err(Error::shape("model: lengths", format!("{batch} lengths of at most {steps} steps"), format!("{l:?}")));
            }
        }
        let mut flow = Flow { data: Vec::new(), ids: Vec::new(), steps: Some(steps), batch, lengths: lengths.map(<[usize]>::to_vec) };
        match (x, self.ids) {
            (Inputs::Values(v), false) => {
                let f = self.input_features;
                let expected = elements("model: x", &[batch, steps, f])?;
                if v.len() != expected {
                    return Err(Error::shape("model: x", format!("[batch={batch}, steps={steps}, features={f}] = {expected} values"), format!("{} values", v.len())));
                }
                if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                    return Err(Error::numeric("model: x", format!("value {i} (batch {}, step {}) is {:?}", i / (steps * f), i / f % steps, v[i])));
                }
                flow.data = swap_leading(v, batch, steps, f)?;
            }
            (Inputs::Ids(ids), true) => {
                let expected = elements("model: ids", &[batch, steps])?;
                if ids.len() != expected {
                    return Err(Error::shape("model: ids", format!("[batch={batch}, steps={steps}] = {expected} ids"), format!("{} ids", ids.len())));
                }
                flow.ids = swap_leading(ids, batch, steps, 1)?;
            }
            (Inputs::Values(_), true) => return Err(Error::config("model: x", "this model starts with an embedding and takes integer token ids, not values")),
            (Inputs::Ids(_), false) => return Err(Error::config("model: x", "this model takes float values, not token ids (it has no embedding)")),
        }
        let mut traces = Vec::with_capacity(self.layers.len());
        let training = rng.is_some();
        for (layer, owner) in self.layers.iter_mut().zip(&self.owners) {
            let (next, trace) = layer.forward(flow, rng.as_deref_mut(), stateful).map_err(|e| e.within(&format!("layer {owner}")))?;
            // While training, name the first layer whose output overflows (weights grown too large).
            if training {
                if let Some(i) = next.data.iter().position(|v| !v.is_finite()) {
                    return Err(Error::numeric(format!("layer {owner} ({})", layer.kind()), format!("output value {i} is {:?}", next.data[i])));
                }
            }
            flow = next;
            traces.push(trace);
        }
        let features = self.output_shape().features;
        let y = match flow.steps {
            Some(s) => swap_leading(&flow.data, s, batch, features)?,
            None => flow.data,
        };
        let trace = ModelTrace { batch, input_steps: steps, output_steps: flow.steps, layers: traces };
        Ok((Prediction { y, batch, steps: flow.steps, features, lengths: flow.lengths }, trace))
    }

    /// Gradients given dL/d(output), batch-major like the prediction.
    pub fn backward(&self, trace: &ModelTrace<T>, dy: &[T]) -> Result<ModelGradients<T>> {
        self.backward_to(trace, dy, true)
    }

    /// `backward` without dL/dx (`dx` is `None`), as training needs it: PyTorch's inputs
    /// without `requires_grad`. The first layer's input gradient is then not computed.
    pub fn parameter_gradients(&self, trace: &ModelTrace<T>, dy: &[T]) -> Result<ModelGradients<T>> {
        self.backward_to(trace, dy, false)
    }

    fn backward_to(&self, trace: &ModelTrace<T>, dy: &[T], input_gradient: bool) -> Result<ModelGradients<T>> {
        let (batch, features) = (trace.batch, self.output_shape().features);
        let expected = batch * trace.output_steps.unwrap_or(1) * features;
        if dy.len() != expected {
            return Err(Error::shape("model: output gradient", format!("{expected} values, like the prediction"), format!("{} values", dy.len())));
        }
        let mut grad = match trace.output_steps {
            Some(s) => swap_leading(dy, batch, s, features)?,
            None => dy.to_vec(),
        };
        let (mut per_layer, mut state_norms) = (Vec::with_capacity(self.layers.len()), Vec::new());
        for (i, ((layer, owner), layer_trace)) in self.layers.iter().zip(&self.owners).zip(&trace.layers).enumerate().rev() {
            let mut norms = Vec::new();
            let (dx, params) = layer.backward(layer_trace, &grad, batch, &mut norms, i > 0 || input_gradient).map_err(|e| e.within(&format!("layer {owner}")))?;
            state_norms.extend(norms.into_iter().rev().map(|(name, n)| (format!("{owner}.{name}"), n)));
            grad = dx;
            per_layer.push(params);
        }
        state_norms.reverse();
        let parameters = per_layer.into_iter().rev().flatten().collect();
        let dx = if self.ids || !input_gradient { None } else { Some(swap_leading(&grad, trace.input_steps, batch, self.input_features)?) };
        Ok(ModelGradients { dx, parameters, state_norms })
    }
}
