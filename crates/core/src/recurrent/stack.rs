//! Stacked and bidirectional recurrent layers, composed from one-direction layers.
//!
//! Layer `l` reads the merged output of layer `l − 1`. A reverse direction reads each sequence
//! backwards from its own last element (PyTorch's packed sequences) and its outputs are put
//! back in time order before merging. States are indexed `[layers · directions, batch, hidden]`
//! (layer-major, PyTorch's order) and reverse parameters carry PyTorch's `_reverse` suffix.

use super::{Cell, DropoutMasks, Gradients, Output, OutputGradients, RecurrentLayer, Sequences, Trace};
use crate::real::Real;
use crate::error::elements;
use crate::{Error, Result};
use std::fmt;

/// How the two directions of a bidirectional layer are combined (Keras' `merge_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Merge {
    Concat,
    Sum,
    Mul,
    Ave,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StackConfig {
    pub cell: Cell,
    pub input: usize,
    pub hidden: usize,
    pub layers: usize,
    pub bidirectional: bool,
    pub merge: Merge,
    /// Add each layer's input to its output, for every layer after the first (their sizes match).
    pub residual: bool,
    /// The probability of dropping an output of every layer but the last, while training.
    pub dropout: f64,
    /// Variational dropout of each layer's inputs and of its recurrent state (Keras `dropout`
    /// and `recurrent_dropout` of a recurrent layer): one mask per sequence for all steps.
    pub input_dropout: f64,
    pub recurrent_dropout: f64,
    /// LSTM only: the initial value of the forget gate's bias (Keras `unit_forget_bias` is 1),
    /// so that a fresh cell remembers; set in `bias_ih`, zero elsewhere.
    pub forget_bias: f64,
}

/// Scaled dropout masks for one training call (`0` or `1/(1−p)` per value).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StackMasks<T> {
    /// On the output of every layer but the last, `[T, B, output]` each.
    pub between: Vec<Vec<T>>,
    /// Per layer and direction, `[B, its input]` each; empty when `input_dropout` is 0.
    pub input: Vec<Vec<T>>,
    /// Per layer and direction, `[B, hidden]` each; empty when `recurrent_dropout` is 0.
    pub recurrent: Vec<Vec<T>>,
}

impl StackConfig {
    pub fn directions(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }

    /// The size of each direction's state and output: `hidden`, or the LSTM's projection.
    pub fn state_size(&self) -> usize {
        self.cell.state_size(self.hidden)
    }

    /// Features per step of each layer's (merged) output.
    pub fn output_size(&self) -> usize {
        if self.bidirectional && self.merge == Merge::Concat { 2 * self.state_size() } else { self.state_size() }
    }
}

#[derive(Clone, Debug)]
pub struct RecurrentStack<T> {
    pub config: StackConfig,
    /// Layer `l`, direction `d` at index `l · directions + d`.
    pub layers: Vec<RecurrentLayer<T>>,
    /// The states the last stateful call ended in: batch size, h, c. Public so that truncated
    /// BPTT can go back to a saved state.
    pub carried: Option<(usize, Vec<T>, Option<Vec<T>>)>,
}

/// Input of a stack; states are `[layers · directions, batch, hidden]`.
pub type StackInput<'a, T> = Sequences<'a, T>;

#[derive(Clone, Debug)]
pub struct StackTrace<T> {
    steps: usize,
    batch: usize,
    lengths: Option<Vec<usize>>,
    traces: Vec<Trace<T>>,
    /// The outputs of each direction of each layer, in time order, before merging.
    outputs: Vec<Vec<T>>,
    masks: StackMasks<T>,
}

#[derive(Clone, Debug)]
pub struct StackGradients<T> {
    pub dx: Vec<T>,
    pub dh0: Vec<T>,
    pub dc0: Option<Vec<T>>,
    /// Per layer and direction, in the order of `layers`.
    pub layers: Vec<Gradients<T>>,
}

impl<T: Real> RecurrentStack<T> {
    pub fn new(config: StackConfig) -> Result<Self> {
        if config.layers == 0 {
            return Err(Error::config("recurrent stack", "layers must be at least 1"));
        }
        for (name, p) in [("dropout", config.dropout), ("input_dropout", config.input_dropout), ("recurrent_dropout", config.recurrent_dropout)] {
            if !(0.0..1.0).contains(&p) {
                return Err(Error::config("recurrent stack", format!("{name} must be in [0, 1), got {p}")));
            }
        }
        if config.forget_bias != 0.0 && !config.cell.has_cell_state() {
            return Err(Error::config("recurrent stack", "forget_bias applies only to an LSTM"));
        }
        let forget_bias = T::from(config.forget_bias).ok_or_else(|| Error::config("recurrent stack", "forget_bias is not a number"))?;
        let mut layers = Vec::new();
        for l in 0..config.layers {
            let input = if l == 0 { config.input } else { config.output_size() };
            for _ in 0..config.directions() {
                let mut layer = RecurrentLayer::new(config.cell, input, config.hidden)?;
                if config.cell.has_cell_state() {
                    layer.bias_ih[config.hidden..2 * config.hidden].fill(forget_bias);
                }
                layers.push(layer);
            }
        }
        Ok(RecurrentStack { config, layers, carried: None })
    }

    /// Every parameter under its PyTorch name (`weight_ih_l0`, `weight_hh_l1_reverse`, …).
    pub fn parameters(&self) -> Vec<(String, &[T])> {
        let d = self.config.directions();
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, layer)| {
                let suffix = if i % d == 1 { "_reverse" } else { "" };
                layer.parameters(i / d).into_iter().map(move |(name, v)| (name + suffix, v))
            })
            .collect()
    }

    /// The parameter called `name` (as in `parameters`).
    pub fn parameter(&self, name: &str) -> Result<&[T]> {
        self.parameters().into_iter().find(|(n, _)| n == name).map(|(_, v)| v).ok_or_else(|| self.unknown_parameter(name))
    }

    /// Replaces the parameter called `name`, checking its length.
    pub fn set_parameter(&mut self, name: &str, values: &[T]) -> Result<()> {
        let index = self.parameters().iter().position(|(n, _)| n == name).ok_or_else(|| self.unknown_parameter(name))?;
        // Every layer has the same cell, so the same number of parameters, listed layer by layer.
        let per_layer = self.layers[0].parameters_mut().len();
        let me = self.to_string();
        let target = &mut self.layers[index / per_layer].parameters_mut()[index % per_layer];
        if target.len() != values.len() {
            return Err(Error::shape(format!("{me}: parameter {name}"), format!("{} values", target.len()), format!("{} values", values.len())));
        }
        target.copy_from_slice(values);
        Ok(())
    }

    fn unknown_parameter(&self, name: &str) -> Error {
        let known: Vec<String> = self.parameters().into_iter().map(|(n, _)| n).collect();
        Error::config(self.to_string(), format!("no parameter named `{name}` (it has {})", known.join(", ")))
    }

    /// Scaled dropout masks for one training call, drawn from `uniform` (values in [0, 1)).
    pub fn dropout_masks(&self, steps: usize, batch: usize, mut uniform: impl FnMut() -> f64) -> StackMasks<T> {
        let c = self.config;
        let mut draw = |p: f64, len: usize| -> Vec<T> {
            let keep = T::from(1.0 / (1.0 - p)).unwrap_or_else(T::one);
            (0..len).map(|_| if uniform() < p { T::zero() } else { keep }).collect()
        };
        let between = (1..c.layers).map(|_| draw(c.dropout, steps * batch * c.output_size())).collect();
        let input = if c.input_dropout == 0.0 { Vec::new() } else { self.layers.iter().map(|l| draw(c.input_dropout, batch * l.input)).collect() };
        let recurrent = if c.recurrent_dropout == 0.0 { Vec::new() } else { self.layers.iter().map(|l| draw(c.recurrent_dropout, batch * l.state_size())).collect() };
        StackMasks { between, input, recurrent }
    }

    /// The last output of each sequence, `[batch, output]` (Keras `return_sequences=False`):
    /// the top layer's final states, merged like the outputs; for a bidirectional stack that is
    /// the forward direction at each sequence's end and the backward one at its start.
    pub fn last_output(&self, output: &Output<T>, batch: usize) -> Result<Vec<T>> {
        let directions = self.top_states(&output.h_n, batch)?;
        Ok(merge(self.config.merge, &directions, batch, self.config.state_size()))
    }

    /// The `dh_n` for `backward` that a gradient of `last_output` gives (zero below the top layer).
    pub fn last_output_gradient(&self, d_last: &[T], output: &Output<T>, batch: usize) -> Result<Vec<T>> {
        let c = self.config;
        check_len(d_last.len(), batch * c.output_size(), || format!("{self}: last output gradient"), || format!("[B={batch}, {}]", c.output_size()))?;
        let directions = self.top_states(&output.h_n, batch)?;
        let mut dh_n = vec![T::zero(); output.h_n.len()];
        let top = (c.layers - 1) * c.directions() * batch * c.state_size();
        for (d, grad) in unmerge(c.merge, d_last, &directions, batch, c.state_size()).into_iter().enumerate() {
            let start = top + d * grad.len();
            dh_n[start..start + grad.len()].copy_from_slice(&grad);
        }
        Ok(dh_n)
    }

    /// The top layer's final state of each direction, `[batch, state]` each.
    fn top_states(&self, h_n: &[T], batch: usize) -> Result<Vec<Vec<T>>> {
        let c = self.config;
        let size = batch * c.state_size();
        check_len(h_n.len(), c.layers * c.directions() * size, || format!("{self}: final states"), || format!("[layers·directions={}, B={batch}, H={}]", c.layers * c.directions(), c.state_size()))?;
        let top = (c.layers - 1) * c.directions() * size;
        Ok(h_n[top..].chunks_exact(size).map(<[T]>::to_vec).collect())
    }

    /// Stateful mode (Keras `stateful=True`): starts from the states the previous stateful call
    /// ended in (zeros at first and after `reset_states`), and keeps the new ones. Initial
    /// states given in `seq` take precedence. No gradient flows between calls.
    pub fn forward_stateful(&mut self, seq: StackInput<'_, T>, masks: Option<&StackMasks<T>>) -> Result<(Output<T>, StackTrace<T>)> {
        let carried = match &self.carried {
            Some((batch, _, _)) if *batch != seq.batch => {
                return Err(Error::shape(format!("{self}: stateful batch"), format!("batch {batch}, as in the previous call (reset the states to change it)"), format!("batch {}", seq.batch)));
            }
            Some((_, h, c)) => Some((h.clone(), c.clone())),
            None => None,
        };
        let (h, c) = carried.map_or((None, None), |(h, c)| (Some(h), c));
        let seq = StackInput { h0: seq.h0.or(h.as_deref()), c0: seq.c0.or(c.as_deref()), ..seq };
        let (output, trace) = self.forward(seq, masks)?;
        self.carried = Some((seq.batch, output.h_n.clone(), output.c_n.clone()));
        Ok((output, trace))
    }

    /// Forgets the carried states: the next stateful call starts from zeros.
    pub fn reset_states(&mut self) {
        self.carried = None;
    }

    /// Runs the stack; `masks` (from `dropout_masks`) apply dropout, `None` is inference.
    pub fn forward(&self, seq: StackInput<'_, T>, masks: Option<&StackMasks<T>>) -> Result<(Output<T>, StackTrace<T>)> {
        let c = self.config;
        let (steps, batch, d) = (seq.steps, seq.batch, c.directions());
        check_len(seq.x.len(), elements(self, &[steps, batch, c.input])?, || format!("{self}: x"), || format!("[T={steps}, B={batch}, I={}]", c.input))?;
        // h is `state` wide (the projection, if any), c is `hidden` wide.
        let (bs, bh, out_len) = (batch * c.state_size(), batch * c.hidden, elements(self, &[steps, batch, c.output_size()])?);
        let states = elements(self, &[c.layers, d, bh])?;
        for (name, state, width) in [("h0", seq.h0, c.state_size()), ("c0", seq.c0, c.hidden)] {
            if let Some(s) = state {
                check_len(s.len(), c.layers * d * batch * width, || format!("{self}: {name}"), || format!("[layers·directions={}, B={batch}, H={width}]", c.layers * d))?;
            }
        }
        if let Some(masks) = masks {
            let between = &masks.between;
            if between.len() != c.layers - 1 || between.iter().any(|m| m.len() != out_len) {
                let sizes: Vec<usize> = between.iter().map(Vec::len).collect();
                return Err(Error::shape(format!("{self}: dropout masks"), format!("{} masks of {out_len} values", c.layers - 1), format!("masks of {sizes:?} values")));
            }
            for (what, per_layer) in [("input", &masks.input), ("recurrent", &masks.recurrent)] {
                if !per_layer.is_empty() && per_layer.len() != self.layers.len() {
                    return Err(Error::shape(format!("{self}: {what} dropout masks"), format!("none or {} (one per layer and direction)", self.layers.len()), format!("{}", per_layer.len())));
                }
            }
        }
        let masks = masks.cloned().unwrap_or_default();

        let lengths = seq.lengths.map(<[usize]>::to_vec);
        let (mut h_n, mut c_n) = (Vec::with_capacity(states), Vec::with_capacity(states));
        let (mut traces, mut outputs) = (Vec::new(), Vec::new());
        let mut input = seq.x.to_vec();
        for l in 0..c.layers {
            let width = input.len() / (steps * batch).max(1);
            let mut directions = Vec::new();
            for dir in 0..d {
                let k = l * d + dir;
                let reversed = (dir == 1).then(|| reverse_in_time(&input, steps, batch, width, seq.lengths));
                let x = reversed.as_deref().unwrap_or(&input);
                let layer_masks = DropoutMasks { input: masks.input.get(k).map(|m| &m[..]), recurrent: masks.recurrent.get(k).map(|m| &m[..]) };
                let (out, trace) = self.layers[k].forward_with_dropout(Sequences { x, h0: slot(seq.h0, k, bs), c0: slot(seq.c0, k, bh), ..seq }, layer_masks)?;
                h_n.extend_from_slice(&out.h_n);
                c_n.extend(out.c_n.unwrap_or_default());
                traces.push(trace);
                directions.push(if dir == 1 { reverse_in_time(&out.y, steps, batch, c.state_size(), seq.lengths) } else { out.y });
            }
            let mut merged = merge(c.merge, &directions, steps * batch, c.state_size());
            if c.residual && l > 0 {
                merged.iter_mut().zip(&input).for_each(|(y, &x)| *y = *y + x);
            }
            if let Some(mask) = masks.between.get(l) {
                merged.iter_mut().zip(mask).for_each(|(y, &m)| *y = *y * m);
            }
            outputs.extend(directions);
            input = merged;
        }
        let output = Output { y: input, h_n, c_n: c.cell.has_cell_state().then_some(c_n) };
        Ok((output, StackTrace { steps, batch, lengths, traces, outputs, masks }))
    }

    pub fn backward(&self, trace: &StackTrace<T>, grads: OutputGradients<'_, T>) -> Result<StackGradients<T>> {
        self.backward_to(trace, grads, true)
    }

    /// `backward`, leaving `dx` empty unless `input_gradient` (see `RecurrentLayer::backward_to`).
    pub(crate) fn backward_to(&self, trace: &StackTrace<T>, grads: OutputGradients<'_, T>, input_gradient: bool) -> Result<StackGradients<T>> {
        let c = self.config;
        let (steps, batch, d) = (trace.steps, trace.batch, c.directions());
        let (bs, bh) = (batch * c.state_size(), batch * c.hidden);
        let out_len = steps * batch * c.output_size();
        if let Some(dy) = grads.dy {
            check_len(dy.len(), out_len, || format!("{self}: dy"), || format!("[T={steps}, B={batch}, {}]", c.output_size()))?;
        }
        for (name, state) in [("dh_n", grads.dh_n), ("dc_n", grads.dc_n)] {
            if let Some(s) = state {
                let width = if name == "dh_n" { c.state_size() } else { c.hidden };
                check_len(s.len(), c.layers * d * batch * width, || format!("{self}: {name}"), || format!("[layers·directions={}, B={batch}, H={width}]", c.layers * d))?;
            }
        }
        let lengths = trace.lengths.as_deref();
        let mut dy = grads.dy.map_or_else(|| vec![T::zero(); out_len], <[T]>::to_vec);
        let mut layer_grads: Vec<Option<Gradients<T>>> = vec![None; c.layers * d];
        for l in (0..c.layers).rev() {
            if let Some(mask) = trace.masks.between.get(l) {
                dy.iter_mut().zip(mask).for_each(|(g, &m)| *g = *g * m);
            }
            let direction_dy = unmerge(c.merge, &dy, &trace.outputs[l * d..(l + 1) * d], steps * batch, c.state_size());
            // Every layer but the first feeds its dx to the layer below.
            let wants_dx = l > 0 || input_gradient;
            let mut dx: Option<Vec<T>> = None;
            for dir in 0..d {
                let k = l * d + dir;
                let width = self.layers[k].input;
                let dy_dir = if dir == 1 { reverse_in_time(&direction_dy[dir], steps, batch, c.state_size(), lengths) } else { direction_dy[dir].clone() };
                let g = self.layers[k].backward_to(&trace.traces[k], OutputGradients { dy: Some(&dy_dir), dh_n: slot(grads.dh_n, k, bs), dc_n: slot(grads.dc_n, k, bh) }, wants_dx)?;
                if wants_dx {
                    let g_dx = if dir == 1 { reverse_in_time(&g.dx, steps, batch, width, lengths) } else { g.dx.clone() };
                    dx = Some(match dx {
                        None => g_dx,
                        Some(mut sum) => {
                            sum.iter_mut().zip(&g_dx).for_each(|(s, &v)| *s = *s + v);
                            sum
                        }
                    });
                }
                layer_grads[k] = Some(g);
            }
            let mut dx = dx.unwrap_or_default();
            if c.residual && l > 0 {
                dx.iter_mut().zip(&dy).for_each(|(g, &v)| *g = *g + v);
            }
            dy = dx;
        }
        let layers: Vec<Gradients<T>> = layer_grads.into_iter().flatten().collect();
        let dh0 = layers.iter().flat_map(|g| g.dh0.iter().copied()).collect();
        let dc0 = c.cell.has_cell_state().then(|| layers.iter().flat_map(|g| g.dc0.iter().flatten().copied()).collect());
        Ok(StackGradients { dx: dy, dh0, dc0, layers })
    }
}

impl<T> fmt::Display for RecurrentStack<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        let cell = match c.cell {
            Cell::Elman(_) => "Elman",
            Cell::Lstm { .. } => "LSTM",
            Cell::Gru { .. } => "GRU",
        };
        let direction = if c.bidirectional { "bidirectional " } else { "" };
        write!(f, "{direction}{cell} (input {}, hidden {}, {} layer{})", c.input, c.hidden, c.layers, if c.layers == 1 { "" } else { "s" })
    }
}

/// The state of layer-direction `k` in a `[layers · directions, batch, hidden]` array.
fn slot<T>(states: Option<&[T]>, k: usize, size: usize) -> Option<&[T]> {
    states.map(|s| &s[k * size..(k + 1) * size])
}

/// `what` and `shape` are only formatted for the error, off the hot path of a streaming step.
fn check_len(got: usize, expected: usize, what: impl FnOnce() -> String, shape: impl FnOnce() -> String) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(Error::shape(what(), format!("{} = {expected} values", shape()), format!("{got} values")))
    }
}

/// Reverses each sequence in time within its own length; steps past it stay in place (they are
/// masked anyway). Its own inverse.
fn reverse_in_time<T: Copy>(data: &[T], steps: usize, batch: usize, width: usize, lengths: Option<&[usize]>) -> Vec<T> {
    let mut out = data.to_vec();
    for b in 0..batch {
        let length = lengths.map_or(steps, |l| l[b]);
        for t in 0..length {
            let (from, to) = ((t * batch + b) * width, ((length - 1 - t) * batch + b) * width);
            out[to..to + width].copy_from_slice(&data[from..from + width]);
        }
    }
    out
}

fn merge<T: Real>(mode: Merge, directions: &[Vec<T>], rows: usize, hidden: usize) -> Vec<T> {
    let [forward, backward] = match directions {
        [only] => return only.clone(),
        [f, b] => [f, b],
        _ => unreachable!("one or two directions"),
    };
    match mode {
        Merge::Concat => (0..rows).flat_map(|r| forward[r * hidden..(r + 1) * hidden].iter().chain(&backward[r * hidden..(r + 1) * hidden]).copied()).collect(),
        Merge::Sum => forward.iter().zip(backward).map(|(&a, &b)| a + b).collect(),
        Merge::Mul => forward.iter().zip(backward).map(|(&a, &b)| a * b).collect(),
        Merge::Ave => forward.iter().zip(backward).map(|(&a, &b)| (a + b) / (T::one() + T::one())).collect(),
    }
}

/// The gradient of each direction's output, given the merged output's gradient.
fn unmerge<T: Real>(mode: Merge, dy: &[T], directions: &[Vec<T>], rows: usize, hidden: usize) -> Vec<Vec<T>> {
    let [forward, backward] = match directions {
        [_] => return vec![dy.to_vec()],
        [f, b] => [f, b],
        _ => unreachable!("one or two directions"),
    };
    match mode {
        Merge::Concat => (0..2).map(|d| (0..rows).flat_map(|r| dy[(2 * r + d) * hidden..(2 * r + d + 1) * hidden].iter().copied()).collect()).collect(),
        Merge::Sum => vec![dy.to_vec(), dy.to_vec()],
        Merge::Mul => vec![dy.iter().zip(backward).map(|(&g, &b)| g * b).collect(), dy.iter().zip(forward).map(|(&g, &f)| g * f).collect()],
        Merge::Ave => {
            let half: Vec<T> = dy.iter().map(|&g| g / (T::one() + T::one())).collect();
            vec![half.clone(), half]
        }
    }
}
