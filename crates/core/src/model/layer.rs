//! One layer of a model: the core layers behind one forward/backward interface over a
//! time-major batch (`[T, B, F]`, or `[B, F]` once a recurrent layer has returned only its
//! last output).

use crate::error::zeros;
use crate::layers::{ActivationLayer, Conv1d, Conv1dTrace, Dense, DenseTrace, Embedding, LayerNorm, LayerNormTrace, Pool1d};
use crate::real::Real;
use crate::recurrent::{JordanLayer, JordanTrace, Output, OutputGradients, RecurrentStack, Sequences, StackTrace};
use crate::rng::Rng;
use crate::{Error, Result};

#[derive(Clone, Debug)]
pub enum Layer<T> {
    Embedding(Embedding<T>),
    Recurrent {
        stack: RecurrentStack<T>,
        return_sequences: bool,
    },
    Jordan {
        layer: JordanLayer<T>,
        return_sequences: bool,
        carried: Option<(usize, Vec<T>)>,
    },
    Dense(Dense<T>),
    Conv1d(Conv1d<T>),
    Pool1d(Pool1d),
    LayerNorm(LayerNorm<T>),
    Activation(ActivationLayer),
    /// Inverted dropout with this rate, applied while training only.
    Dropout(f64),
}

/// A batch between two layers, time-major. `steps` is `None` after a layer that returned
/// only each sequence's last output; `lengths` are the ragged lengths, while they apply.
#[derive(Clone, Debug)]
pub struct Flow<T> {
    pub data: Vec<T>,
    pub ids: Vec<u32>,
    pub steps: Option<usize>,
    pub batch: usize,
    pub lengths: Option<Vec<usize>>,
}

/// The states a layer carries between stateful calls (see `Model::states`).
#[derive(Clone, Debug, PartialEq)]
pub enum LayerState<T> {
    Stateless,
    Recurrent(Option<(usize, Vec<T>, Option<Vec<T>>)>),
    Jordan(Option<(usize, Vec<T>)>),
}

#[derive(Clone, Debug)]
pub enum LayerTrace<T> {
    Embedding(Vec<u32>),
    Recurrent {
        trace: StackTrace<T>,
        h_n: Vec<T>,
    },
    Jordan {
        trace: JordanTrace<T>,
        steps: usize,
        lengths: Option<Vec<usize>>,
    },
    Dense(DenseTrace<T>),
    Conv1d(Conv1dTrace<T>),
    Pool1d {
        argmax: Vec<usize>,
        steps: usize,
        channels: usize,
    },
    LayerNorm(LayerNormTrace<T>),
    /// The activation's output.
    Activation(Vec<T>),
    /// The scaled mask; empty when nothing was dropped (inference).
    Dropout(Vec<T>),
}

impl<T: Real> Layer<T> {
    /// Keras' class names, for summaries and messages.
    pub fn kind(&self) -> String {
        match self {
            Layer::Embedding(_) => "Embedding".into(),
            Layer::Recurrent { stack, .. } => stack.to_string(),
            Layer::Jordan { .. } => "Jordan".into(),
            Layer::Dense(_) => "Dense".into(),
            Layer::Conv1d(_) => "Conv1D".into(),
            Layer::Pool1d(p) => format!("{:?}Pooling1D", p.kind),
            Layer::LayerNorm(_) => "LayerNormalization".into(),
            Layer::Activation(ActivationLayer::Softmax { .. }) => "Softmax".into(),
            Layer::Activation(ActivationLayer::Elementwise(a)) => format!("Activation ({a:?})"),
            Layer::Dropout(_) => "Dropout".into(),
        }
    }

    /// Parameters under their PyTorch names within the layer.
    pub fn parameters(&self) -> Vec<(String, &[T])> {
        match self {
            Layer::Embedding(e) => vec![("weight".into(), &e.weight[..])],
            Layer::Recurrent { stack, .. } => stack.parameters(),
            Layer::Jordan { layer, .. } => layer.parameters(0),
            Layer::Dense(d) => vec![("weight".into(), &d.weight[..]), ("bias".into(), &d.bias[..])],
            Layer::Conv1d(c) => vec![("weight".into(), &c.weight[..]), ("bias".into(), &c.bias[..])],
            Layer::LayerNorm(n) => vec![("weight".into(), &n.weight[..]), ("bias".into(), &n.bias[..])],
            Layer::Pool1d(_) | Layer::Activation(_) | Layer::Dropout(_) => Vec::new(),
        }
    }

    /// Each parameter's shape in PyTorch's layout (a Conv1D weight is `[out, in, kernel]`).
    pub fn parameter_shapes(&self) -> Vec<Vec<usize>> {
        match self {
            Layer::Conv1d(c) => vec![vec![c.output, c.input, c.kernel], vec![c.output]],
            Layer::Embedding(e) => vec![vec![e.num, e.dim]],
            Layer::Dense(d) => vec![vec![d.output, d.input], vec![d.output]],
            Layer::Recurrent { stack, .. } => stack
                .layers
                .iter()
                .flat_map(|l| {
                    let (rows, state) = (l.cell.gates() * l.hidden, l.state_size());
                    let mut shapes = vec![vec![rows, l.input], vec![rows, state], vec![rows], vec![rows]];
                    if !l.weight_peephole.is_empty() {
                        shapes.push(vec![l.weight_peephole.len()]);
                    }
                    if !l.weight_hr.is_empty() {
                        shapes.push(vec![state, l.hidden]);
                    }
                    shapes
                })
                .collect(),
            Layer::Jordan { layer: j, .. } => vec![vec![j.hidden, j.input], vec![j.hidden, j.output], vec![j.hidden], vec![j.hidden], vec![j.output, j.hidden], vec![j.output]],
            _ => self.parameters().iter().map(|(_, p)| vec![p.len()]).collect(),
        }
    }

    pub fn parameters_mut(&mut self) -> Vec<&mut Vec<T>> {
        match self {
            Layer::Embedding(e) => vec![&mut e.weight],
            Layer::Recurrent { stack, .. } => stack.layers.iter_mut().flat_map(|l| l.parameters_mut()).collect(),
            Layer::Jordan { layer, .. } => layer.parameters_mut(),
            Layer::Dense(d) => vec![&mut d.weight, &mut d.bias],
            Layer::Conv1d(c) => vec![&mut c.weight, &mut c.bias],
            Layer::LayerNorm(n) => vec![&mut n.weight, &mut n.bias],
            Layer::Pool1d(_) | Layer::Activation(_) | Layer::Dropout(_) => Vec::new(),
        }
    }

    pub fn state(&self) -> LayerState<T> {
        match self {
            Layer::Recurrent { stack, .. } => LayerState::Recurrent(stack.carried.clone()),
            Layer::Jordan { carried, .. } => LayerState::Jordan(carried.clone()),
            _ => LayerState::Stateless,
        }
    }

    pub fn set_state(&mut self, state: LayerState<T>) {
        match (self, state) {
            (Layer::Recurrent { stack, .. }, LayerState::Recurrent(s)) => stack.carried = s,
            (Layer::Jordan { carried, .. }, LayerState::Jordan(s)) => *carried = s,
            _ => {}
        }
    }

    pub fn reset_states(&mut self) {
        match self {
            Layer::Recurrent { stack, .. } => stack.reset_states(),
            Layer::Jordan { carried, .. } => *carried = None,
            _ => {}
        }
    }

    /// `rng` is `Some` while training (dropout draws from it); `stateful` carries recurrent
    /// states from the previous stateful call.
    pub fn forward(&mut self, input: Flow<T>, rng: Option<&mut Rng>, stateful: bool) -> Result<(Flow<T>, LayerTrace<T>)> {
        let Flow { data, ids, steps, batch, lengths } = input;
        let same = |data: Vec<T>, lengths: Option<Vec<usize>>| Flow { data, ids: Vec::new(), steps, batch, lengths };
        let seq_steps = |what: &dyn std::fmt::Display| steps.ok_or_else(|| Error::config(what.to_string(), "needs sequences, but the layer before it returns only the last output (set return_sequences)"));
        Ok(match self {
            Layer::Embedding(e) => {
                let y = e.forward(&ids)?;
                (same(y, lengths), LayerTrace::Embedding(ids))
            }
            Layer::Recurrent { stack, return_sequences } => {
                let steps = seq_steps(stack)?;
                let seq = Sequences { x: &data, steps, batch, lengths: lengths.as_deref(), h0: None, c0: None };
                let masks = rng.map(|rng| stack.dropout_masks(steps, batch, || rng.uniform()));
                let (out, trace) = if stateful { stack.forward_stateful(seq, masks.as_ref())? } else { stack.forward(seq, masks.as_ref())? };
                let trace = LayerTrace::Recurrent { trace, h_n: out.h_n.clone() };
                if *return_sequences {
                    (same(out.y, lengths), trace)
                } else {
                    let last = stack.last_output(&out, batch)?;
                    (Flow { data: last, ids: Vec::new(), steps: None, batch, lengths: None }, trace)
                }
            }
            Layer::Jordan { layer, return_sequences, carried } => {
                let steps = seq_steps(layer)?;
                let y0 = match carried {
                    Some((b, _)) if stateful && *b != batch => {
                        return Err(Error::shape(format!("{layer}: stateful batch"), format!("batch {b}, as in the previous call (reset the states to change it)"), format!("batch {batch}")));
                    }
                    Some((_, y)) if stateful => Some(y.clone()),
                    _ => None,
                };
                let (y, trace) = layer.forward(&data, steps, batch, lengths.as_deref(), y0.as_deref())?;
                let last = last_steps(&y, y0.as_deref(), steps, batch, layer.output, lengths.as_deref());
                if stateful {
                    *carried = Some((batch, last.clone()));
                }
                let trace = LayerTrace::Jordan { trace, steps, lengths: lengths.clone() };
                if *return_sequences {
                    (same(y, lengths), trace)
                } else {
                    (Flow { data: last, ids: Vec::new(), steps: None, batch, lengths: None }, trace)
                }
            }
            Layer::Dense(d) => {
                let rows = data.len() / d.input.max(1);
                let (y, trace) = d.forward(&data, rows)?;
                (same(y, lengths), LayerTrace::Dense(trace))
            }
            Layer::Conv1d(c) => {
                let steps = seq_steps(c)?;
                no_lengths(&c.to_string(), &lengths)?;
                let (y, trace) = c.forward(&data, steps, batch)?;
                (Flow { data: y, ids: Vec::new(), steps: Some(c.output_steps(steps)), batch, lengths: None }, LayerTrace::Conv1d(trace))
            }
            Layer::Pool1d(p) => {
                let what = format!("{:?}Pooling1D", p.kind);
                let steps = seq_steps(&what)?;
                no_lengths(&what, &lengths)?;
                let channels = data.len() / (steps * batch).max(1);
                let (y, argmax) = p.forward(&data, steps, batch, channels)?;
                let out_steps = (steps - p.size) / p.stride + 1;
                (Flow { data: y, ids: Vec::new(), steps: Some(out_steps), batch, lengths: None }, LayerTrace::Pool1d { argmax, steps, channels })
            }
            Layer::LayerNorm(n) => {
                let (y, trace) = n.forward(&data)?;
                (same(y, lengths), LayerTrace::LayerNorm(trace))
            }
            Layer::Activation(a) => {
                let y = a.forward(&data)?;
                (same(y.clone(), lengths), LayerTrace::Activation(y))
            }
            Layer::Dropout(rate) => match rng {
                Some(rng) if *rate > 0.0 => {
                    let keep = T::from(1.0 / (1.0 - *rate)).unwrap_or_else(T::one);
                    let mask: Vec<T> = (0..data.len()).map(|_| if rng.uniform() < *rate { T::zero() } else { keep }).collect();
                    let y = data.iter().zip(&mask).map(|(&x, &m)| x * m).collect();
                    (same(y, lengths), LayerTrace::Dropout(mask))
                }
                _ => (same(data, lengths), LayerTrace::Dropout(Vec::new())),
            },
        })
    }

    /// dL/d(input) (empty for an embedding, whose ids have none) and the parameter gradients
    /// in the order of `parameters`. A recurrent layer adds ‖dL/dh_t‖ per step of each of its
    /// layers and directions to `state_norms`, under names like `l0` and `l1_reverse`. Without
    /// `input_gradient` a recurrent layer may leave dL/d(input) empty (the model's first layer).
    pub fn backward(&self, trace: &LayerTrace<T>, dy: &[T], batch: usize, state_norms: &mut Vec<(String, Vec<T>)>, input_gradient: bool) -> Result<(Vec<T>, Vec<Vec<T>>)> {
        Ok(match (self, trace) {
            (Layer::Embedding(e), LayerTrace::Embedding(ids)) => (Vec::new(), vec![e.backward(ids, dy)?]),
            (Layer::Recurrent { stack, return_sequences }, LayerTrace::Recurrent { trace, h_n }) => {
                let output = Output { y: Vec::new(), h_n: h_n.clone(), c_n: None };
                let grads = if *return_sequences {
                    stack.backward_to(trace, OutputGradients { dy: Some(dy), dh_n: None, dc_n: None }, input_gradient)?
                } else {
                    let dh_n = stack.last_output_gradient(dy, &output, batch)?;
                    stack.backward_to(trace, OutputGradients { dy: None, dh_n: Some(&dh_n), dc_n: None }, input_gradient)?
                };
                let directions = stack.config.directions();
                for (k, g) in grads.layers.iter().enumerate() {
                    let mut norms = g.dh_norms.clone();
                    let name = if k % directions == 1 {
                        // The reverse direction ran backwards in time.
                        norms.reverse();
                        format!("l{}_reverse", k / directions)
                    } else {
                        format!("l{}", k / directions)
                    };
                    state_norms.push((name, norms));
                }
                (grads.dx, grads.layers.into_iter().flat_map(|g| g.parameters).collect())
            }
            (Layer::Jordan { layer, return_sequences, .. }, LayerTrace::Jordan { trace, steps, lengths }) => {
                let full;
                let dy = if *return_sequences {
                    dy
                } else {
                    full = scatter_last(dy, *steps, batch, layer.output, lengths.as_deref());
                    &full[..]
                };
                let g = layer.backward(trace, dy, None)?;
                (g.dx, g.parameters)
            }
            (Layer::Dense(d), LayerTrace::Dense(trace)) => {
                let g = d.backward(trace, dy)?;
                (g.dx, vec![g.weight, g.bias])
            }
            (Layer::Conv1d(c), LayerTrace::Conv1d(trace)) => {
                let g = c.backward(trace, dy)?;
                (g.dx, vec![g.weight, g.bias])
            }
            (Layer::Pool1d(p), LayerTrace::Pool1d { argmax, steps, channels }) => (p.backward(dy, argmax, *steps, batch, *channels)?, Vec::new()),
            (Layer::LayerNorm(n), LayerTrace::LayerNorm(trace)) => {
                let g = n.backward(trace, dy)?;
                (g.dx, vec![g.weight, g.bias])
            }
            (Layer::Activation(a), LayerTrace::Activation(y)) => (a.backward(y, dy)?, Vec::new()),
            (Layer::Dropout(_), LayerTrace::Dropout(mask)) if mask.is_empty() => (dy.to_vec(), Vec::new()),
            (Layer::Dropout(_), LayerTrace::Dropout(mask)) => (dy.iter().zip(mask).map(|(&g, &m)| g * m).collect(), Vec::new()),
            _ => return Err(Error::config(self.kind(), "backward was given the trace of another layer")),
        })
    }
}

fn no_lengths(what: &str, lengths: &Option<Vec<usize>>) -> Result<()> {
    match lengths {
        Some(_) => Err(Error::config(what.to_string(), "ragged batches (lengths) are not supported through a convolution or pooling; pad the sequences instead")),
        None => Ok(()),
    }
}

/// Each sequence's output at its last step (`y0`, or zeros, for an empty one): `[batch, width]`.
fn last_steps<T: Real>(y: &[T], y0: Option<&[T]>, steps: usize, batch: usize, width: usize, lengths: Option<&[usize]>) -> Vec<T> {
    let mut last = y0.map_or_else(|| vec![T::zero(); batch * width], <[T]>::to_vec);
    for b in 0..batch {
        let length = lengths.map_or(steps, |l| l[b]);
        if length > 0 {
            let from = ((length - 1) * batch + b) * width;
            last[b * width..(b + 1) * width].copy_from_slice(&y[from..from + width]);
        }
    }
    last
}

/// The gradient of `last_steps` as a `[steps, batch, width]` gradient of the whole output.
fn scatter_last<T: Real>(d_last: &[T], steps: usize, batch: usize, width: usize, lengths: Option<&[usize]>) -> Vec<T> {
    let mut dy = vec![T::zero(); steps * batch * width];
    for b in 0..batch {
        let length = lengths.map_or(steps, |l| l[b]);
        if length > 0 {
            let to = ((length - 1) * batch + b) * width;
            dy[to..to + width].copy_from_slice(&d_last[b * width..(b + 1) * width]);
        }
    }
    dy
}

/// `[a, b, width]` → `[b, a, width]`: between the user's batch-major layout and the core's
/// time-major one.
pub fn swap_leading<T: Copy + num_traits::Zero>(data: &[T], a: usize, b: usize, width: usize) -> Result<Vec<T>> {
    let mut out = zeros("layout change", data.len())?;
    for i in 0..a {
        for j in 0..b {
            let (from, to) = ((i * b + j) * width, (j * a + i) * width);
            out[to..to + width].copy_from_slice(&data[from..from + width]);
        }
    }
    Ok(out)
}
