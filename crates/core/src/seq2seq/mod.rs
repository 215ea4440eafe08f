//! Sequence to sequence: an encoder reads the source tokens, a decoder writes the target
//! tokens one step at a time, and attention lets each decoder step look back at the encoder's
//! outputs.
//!
//! Two attention styles: Bahdanau's (the query is the previous decoder state and the context
//! is part of the decoder's input; the output reads the state and the context) and Luong's
//! (the query is the new decoder state, the attentional state h̃ = tanh(W_c[c; s]) gives the
//! output and is fed to the next step's input). Without attention the decoder sees only the
//! encoder's final state. Training is teacher-forced, optionally with scheduled sampling
//! (Bengio et al. 2015): a row's previous token is then, with the given probability, the
//! model's own most likely one, taken as a constant.
//!
//! Parameters are named `source.weight`, `encoder.weight_ih_l0`, `target.weight`,
//! `decoder.weight_ih_l0`, `attention.key.weight`, `combine.weight`, `output.weight`, … in
//! PyTorch's layouts.

mod attention;
mod decode;
mod spec;

pub use attention::{Attention, Memory, Score, Window};
pub use decode::{Beam, Decoded};

use crate::error::{elements, zeros};
use crate::gemm::{gemm, Accumulate, MatMut, MatRef};
use crate::layers::{Dense, DenseTrace, Embedding};
use crate::model::swap_leading;
use crate::real::Real;
use crate::recurrent::{OutputGradients, RecurrentLayer, RecurrentStack, Sequences, StackTrace, Trace};
use crate::rng::Rng;
use crate::{Error, Result};

/// Where the attention's query comes from and where its context goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    None,
    Bahdanau,
    Luong,
}

#[derive(Clone, Debug)]
pub struct Seq2Seq<T> {
    pub source: Embedding<T>,
    pub encoder: RecurrentStack<T>,
    pub target: Embedding<T>,
    pub decoder: RecurrentLayer<T>,
    pub style: Style,
    pub attention: Option<Attention<T>>,
    /// Luong: W_c `[H, E + H]`.
    pub combine: Vec<T>,
    pub output: Dense<T>,
    pub start: u32,
    pub end: u32,
    /// The decoder starts from the encoder's final state (otherwise from zeros).
    pub bridge: bool,
}

/// A batch of source and target token sequences, batch-major and padded. A target holds the
/// tokens to produce, the end token included; the start token is added by the model.
#[derive(Clone, Copy, Debug)]
pub struct Pairs<'a> {
    pub batch: usize,
    pub source: &'a [u32],
    pub source_steps: usize,
    pub source_lengths: Option<&'a [usize]>,
    pub target: &'a [u32],
    pub target_steps: usize,
    pub target_lengths: Option<&'a [usize]>,
}

/// The decoder's state between steps (or its gradient, going back).
#[derive(Clone, Debug)]
pub(crate) struct Carry<T> {
    pub h: Vec<T>,
    pub c: Option<Vec<T>>,
    /// Luong: the previous attentional state h̃, fed to the input; empty otherwise.
    pub feed: Vec<T>,
}

/// What the backward pass of one decoder step needs.
#[derive(Clone, Debug)]
pub(crate) struct StepTrace<T> {
    tokens: Vec<u32>,
    h_prev: Vec<T>,
    /// Bahdanau: attention before the cell; Luong: after it.
    attention: Option<attention::StepTrace<T>>,
    cell: Trace<T>,
    s: Vec<T>,
    /// Luong: [c; s] and h̃.
    combined: Vec<T>,
    attentional: Vec<T>,
    out: DenseTrace<T>,
}

/// The encoder's work on a batch: the memory, the decoder's first state, and the trace.
pub(crate) struct Encoded<T> {
    pub memory: Memory<T>,
    pub start: Carry<T>,
    ids: Vec<u32>,
    trace: StackTrace<T>,
}

/// The loss of a batch and its gradients, in the order of `parameters`.
#[derive(Clone, Debug)]
pub struct Outcome<T> {
    pub loss: T,
    pub gradients: Vec<Vec<T>>,
    /// Target tokens predicted right with teacher forcing, and all target tokens.
    pub correct: usize,
    pub tokens: usize,
}

impl<T: Real> Seq2Seq<T> {
    /// The decoder's state size H and the encoder's output size E.
    pub fn sizes(&self) -> (usize, usize) {
        (self.decoder.state_size(), self.encoder.config.output_size())
    }

    pub fn parameters(&self) -> Vec<(String, &[T])> {
        self.parameters_with_shapes().into_iter().map(|(n, p, _)| (n, p)).collect()
    }

    /// Every parameter with its name and its PyTorch-layout shape.
    pub fn parameters_with_shapes(&self) -> Vec<(String, &[T], Vec<usize>)> {
        let (h, e) = self.sizes();
        let mut all = vec![("source.weight".to_string(), &self.source.weight[..], vec![self.source.num, self.source.dim])];
        for ((name, p), layer) in self.encoder.parameters().into_iter().zip(self.encoder.layers.iter().flat_map(|l| layer_shapes(l))) {
            debug_assert_eq!(p.len(), layer.iter().product::<usize>());
            all.push((format!("encoder.{name}"), p, layer));
        }
        all.push(("target.weight".into(), &self.target.weight, vec![self.target.num, self.target.dim]));
        for ((name, p), shape) in self.decoder.parameters(0).into_iter().zip(layer_shapes(&self.decoder)) {
            all.push((format!("decoder.{name}"), p, shape));
        }
        if let Some(a) = &self.attention {
            all.extend(a.parameters().into_iter().map(|(n, p, s)| (format!("attention.{n}"), p, s)));
        }
        if self.style == Style::Luong {
            all.push(("combine.weight".into(), &self.combine, vec![h, e + h]));
        }
        all.push(("output.weight".into(), &self.output.weight, vec![self.output.output, self.output.input]));
        all.push(("output.bias".into(), &self.output.bias, vec![self.output.output]));
        all
    }

    /// In the order of `parameters`.
    pub fn parameters_mut(&mut self) -> Vec<&mut Vec<T>> {
        let mut all = vec![&mut self.source.weight];
        all.extend(self.encoder.layers.iter_mut().flat_map(RecurrentLayer::parameters_mut));
        all.push(&mut self.target.weight);
        all.extend(self.decoder.parameters_mut());
        if let Some(a) = &mut self.attention {
            all.extend(a.parameters_mut());
        }
        if self.style == Style::Luong {
            all.push(&mut self.combine);
        }
        all.push(&mut self.output.weight);
        all.push(&mut self.output.bias);
        all
    }

    /// Checks the source ids and lengths and runs the encoder. `rng` draws the encoder's
    /// dropout masks while training.
    pub(crate) fn encode(&self, source: &[u32], steps: usize, lengths: Option<&[usize]>, batch: usize, rng: Option<&mut Rng>) -> Result<Encoded<T>> {
        let expected = elements("seq2seq: source", &[batch, steps])?;
        if batch == 0 || steps == 0 {
            return Err(Error::shape("seq2seq: source", "at least one sequence of at least one token", format!("[batch={batch}, steps={steps}]")));
        }
        if source.len() != expected {
            return Err(Error::shape("seq2seq: source", format!("[batch={batch}, steps={steps}] = {expected} ids"), format!("{} ids", source.len())));
        }
        let lengths = check_lengths("seq2seq: source lengths", lengths, batch, steps)?;
        let ids = swap_leading(source, batch, steps, 1)?;
        let x = self.source.forward(&ids).map_err(|e| e.within("seq2seq source"))?;
        let masks = rng.map(|r| self.encoder.dropout_masks(steps, batch, || r.uniform()));
        let (out, trace) = self.encoder.forward(Sequences { x: &x, steps, batch, lengths: Some(&lengths), h0: None, c0: None }, masks.as_ref())?;
        let (_, e) = self.sizes();
        let values = swap_leading(&out.y, steps, batch, e)?;
        let memory = match &self.attention {
            Some(a) => a.memory(values, batch, steps, lengths)?,
            None => Memory { batch, steps, values, keys: Vec::new(), lengths },
        };
        let (h, c) = self.top_states(&out.h_n, out.c_n.as_deref(), batch);
        let feed = if self.style == Style::Luong { vec![T::zero(); batch * self.sizes().0] } else { Vec::new() };
        Ok(Encoded { memory, start: Carry { h, c, feed }, ids, trace })
    }

    /// The decoder's first state: the encoder's top layer's final states, the directions side
    /// by side in each row, or zeros.
    fn top_states(&self, h_n: &[T], c_n: Option<&[T]>, batch: usize) -> (Vec<T>, Option<Vec<T>>) {
        let (h, lstm) = (self.decoder.state_size(), self.decoder.cell.has_cell_state());
        let c0 = lstm.then(|| vec![T::zero(); batch * self.decoder.hidden]);
        if !self.bridge {
            return (vec![T::zero(); batch * h], c0);
        }
        let conf = self.encoder.config;
        let gather = |all: &[T], width: usize| -> Vec<T> {
            let d = conf.directions();
            let top = (conf.layers - 1) * d;
            let mut out = Vec::with_capacity(batch * d * width);
            for b in 0..batch {
                for dir in 0..d {
                    let at = ((top + dir) * batch + b) * width;
                    out.extend_from_slice(&all[at..at + width]);
                }
            }
            out
        };
        let c = match (c_n, self.carries_cell()) {
            (Some(c_n), true) => Some(gather(c_n, conf.hidden)),
            _ => c0,
        };
        (gather(h_n, conf.state_size()), c)
    }

    /// The encoder's final cell state becomes the decoder's (both LSTMs of matching sizes).
    fn carries_cell(&self) -> bool {
        let conf = self.encoder.config;
        self.bridge && conf.cell.has_cell_state() && self.decoder.cell.has_cell_state() && conf.directions() * conf.hidden == self.decoder.hidden
    }

    /// One decoder step for the rows' previous tokens; `t` is the step (for a monotonic window).
    pub(crate) fn step(&self, memory: &Memory<T>, carry: &Carry<T>, tokens: &[u32], t: usize) -> Result<(Vec<T>, Carry<T>, StepTrace<T>)> {
        let batch = tokens.len();
        let (h, e) = self.sizes();
        let emb = self.target.forward(tokens).map_err(|e| e.within("seq2seq target"))?;
        let dim = self.target.dim;
        let (mut attention, mut context) = (None, Vec::new());
        let x = match self.style {
            Style::None => emb,
            Style::Luong => concat_rows(&emb, dim, &carry.feed, h, batch),
            Style::Bahdanau => {
                let a = self.attention.as_ref().expect("Bahdanau style has attention");
                let (c, trace) = a.step(memory, &carry.h, t)?;
                (attention, context) = (Some(trace), c);
                concat_rows(&emb, dim, &context, e, batch)
            }
        };
        let seq = Sequences { x: &x, steps: 1, batch, lengths: None, h0: Some(&carry.h), c0: carry.c.as_deref() };
        let (out, cell) = self.decoder.forward(seq)?;
        let s = out.h_n;
        let (mut combined, mut attentional, mut feed) = (Vec::new(), Vec::new(), Vec::new());
        let o_in = match self.style {
            Style::None => s.clone(),
            Style::Bahdanau => concat_rows(&s, h, &context, e, batch),
            Style::Luong => {
                let a = self.attention.as_ref().expect("Luong style has attention");
                let (context, trace) = a.step(memory, &s, t)?;
                attention = Some(trace);
                combined = concat_rows(&context, e, &s, h, batch);
                attentional = zeros("seq2seq", batch * h)?;
                gemm(
                    MatRef::new(&combined, batch, e + h)?,
                    MatRef::new(&self.combine, h, e + h)?.t(),
                    MatMut::new(&mut attentional, batch, h)?,
                    Accumulate::Overwrite,
                )?;
                attentional.iter_mut().for_each(|v| *v = v.tanh());
                feed = attentional.clone();
                attentional.clone()
            }
        };
        let (logits, out_trace) = self.output.forward(&o_in, batch)?;
        let next = Carry { h: s.clone(), c: out.c_n, feed };
        let trace = StepTrace { tokens: tokens.to_vec(), h_prev: carry.h.clone(), attention, cell, s, combined, attentional, out: out_trace };
        Ok((logits, next, trace))
    }

    /// The attention weights `[B, S]` of a step, if the model attends.
    pub(crate) fn weights_of<'a>(&self, trace: &'a StepTrace<T>) -> Option<&'a [T]> {
        trace.attention.as_ref().map(|a| &a.weights[..])
    }

    /// Back through one step, given dL/dlogits and the gradient of the state it handed on.
    fn step_backward(&self, memory: &Memory<T>, trace: &StepTrace<T>, dlogits: &[T], next: Carry<T>, grads: &mut Accumulated<T>) -> Result<Carry<T>> {
        let batch = trace.tokens.len();
        let (h, e) = self.sizes();
        let dim = self.target.dim;
        let out = self.output.backward(&trace.out, dlogits)?;
        add(&mut grads.output_weight, &out.weight);
        add(&mut grads.output_bias, &out.bias);
        let mut ds = next.h;
        let mut dcontext_out = Vec::new();
        match self.style {
            Style::None => add(&mut ds, &out.dx),
            Style::Bahdanau => {
                let (d_s, d_c) = split_rows(&out.dx, h, e, batch);
                add(&mut ds, &d_s);
                dcontext_out = d_c;
            }
            Style::Luong => {
                let a = self.attention.as_ref().expect("Luong style has attention");
                let mut dpre = out.dx;
                add(&mut dpre, &next.feed);
                dpre.iter_mut().zip(&trace.attentional).for_each(|(d, &y)| *d = *d * (T::one() - y * y));
                gemm(
                    MatRef::new(&dpre, batch, h)?.t(),
                    MatRef::new(&trace.combined, batch, e + h)?,
                    MatMut::new(&mut grads.combine, h, e + h)?,
                    Accumulate::Add,
                )?;
                let mut dcombined = vec![T::zero(); batch * (e + h)];
                gemm(
                    MatRef::new(&dpre, batch, h)?,
                    MatRef::new(&self.combine, h, e + h)?,
                    MatMut::new(&mut dcombined, batch, e + h)?,
                    Accumulate::Overwrite,
                )?;
                let (dcontext, d_s) = split_rows(&dcombined, e, h, batch);
                add(&mut ds, &d_s);
                let trace_a = trace.attention.as_ref().expect("Luong style has an attention trace");
                a.step_backward(memory, trace_a, &trace.s, &dcontext, &mut ds, &mut grads.dvalues, &mut grads.dkeys, grads.attention.as_mut().expect("attention gradients"))?;
            }
        }
        let g = self.decoder.backward(&trace.cell, OutputGradients { dy: None, dh_n: Some(&ds), dc_n: next.c.as_deref() })?;
        for (acc, p) in grads.decoder.iter_mut().zip(&g.parameters) {
            add(acc, p);
        }
        let rest = self.decoder.input - dim;
        let (demb, dfeed) = split_rows(&g.dx, dim, rest, batch);
        add(&mut grads.target, &self.target.backward(&trace.tokens, &demb)?);
        let mut dh_prev = g.dh0;
        let feed = match self.style {
            Style::Luong => dfeed,
            Style::Bahdanau => {
                let a = self.attention.as_ref().expect("Bahdanau style has attention");
                let mut dcontext = dfeed;
                add(&mut dcontext, &dcontext_out);
                let trace_a = trace.attention.as_ref().expect("Bahdanau style has an attention trace");
                a.step_backward(memory, trace_a, &trace.h_prev, &dcontext, &mut dh_prev, &mut grads.dvalues, &mut grads.dkeys, grads.attention.as_mut().expect("attention gradients"))?;
                Vec::new()
            }
            Style::None => Vec::new(),
        };
        Ok(Carry { h: dh_prev, c: g.dc0, feed })
    }

    /// The loss of a batch (softmax cross-entropy over the real target tokens, averaged) and
    /// its gradients. With `rng` this is training: encoder dropout is on and each previous
    /// token is the model's own with probability `sampling`.
    pub fn loss_and_gradients(&self, pairs: Pairs<'_>, rng: Option<&mut Rng>, sampling: f64) -> Result<Outcome<T>> {
        self.run(pairs, rng, sampling, true)
    }

    /// The loss of a batch, teacher-forced, in inference mode; `gradients` is empty.
    pub fn loss(&self, pairs: Pairs<'_>) -> Result<Outcome<T>> {
        self.run(pairs, None, 0.0, false)
    }

    fn run(&self, pairs: Pairs<'_>, mut rng: Option<&mut Rng>, sampling: f64, backward: bool) -> Result<Outcome<T>> {
        let (batch, steps) = (pairs.batch, pairs.target_steps);
        let expected = elements("seq2seq: target", &[batch, steps])?;
        if steps == 0 || pairs.target.len() != expected {
            return Err(Error::shape("seq2seq: target", format!("[batch={batch}, steps={steps}] = {expected} ids, at least one step"), format!("{} ids", pairs.target.len())));
        }
        let target_lengths = check_lengths("seq2seq: target lengths", pairs.target_lengths, batch, steps)?;
        if let Some(i) = pairs.target.iter().position(|&id| id as usize >= self.target.num) {
            return Err(Error::shape("seq2seq: target", format!("ids below {}", self.target.num), format!("{} at position {i}", pairs.target[i])));
        }
        if !(0.0..=1.0).contains(&sampling) {
            return Err(Error::config("seq2seq", format!("the scheduled sampling ratio must be in [0, 1], got {sampling}")));
        }
        let encoded = self.encode(pairs.source, pairs.source_steps, pairs.source_lengths, batch, rng.as_deref_mut())?;
        let vocab = self.target.num;
        let tokens: usize = target_lengths.iter().sum();
        let scale = T::one() / T::from(tokens.max(1)).unwrap_or_else(T::one);
        let (mut carry, mut traces, mut dlogits) = (encoded.start.clone(), Vec::with_capacity(steps), Vec::with_capacity(steps));
        let (mut loss, mut correct) = (T::zero(), 0);
        let mut previous: Vec<u32> = vec![self.start; batch];
        for t in 0..steps {
            let (logits, next, trace) = self.step(&encoded.memory, &carry, &previous, t)?;
            let mut d = vec![T::zero(); batch * vocab];
            for b in 0..batch {
                let row = &logits[b * vocab..(b + 1) * vocab];
                let best = argmax(row);
                if t < target_lengths[b] {
                    let y = pairs.target[b * steps + t] as usize;
                    let max = row.iter().copied().fold(T::neg_infinity(), T::max);
                    let total = row.iter().fold(T::zero(), |s, &v| s + (v - max).exp());
                    loss = loss - (row[y] - max - total.ln()) * scale;
                    for (k, g) in d[b * vocab..(b + 1) * vocab].iter_mut().enumerate() {
                        let p = (row[k] - max).exp() / total;
                        *g = (p - if k == y { T::one() } else { T::zero() }) * scale;
                    }
                    correct += usize::from(best as usize == y);
                }
                let teacher = pairs.target[b * steps + t];
                let own = sampling > 0.0 && rng.as_deref_mut().is_some_and(|r| r.uniform() < sampling);
                previous[b] = if own { best } else { teacher };
            }
            if let Some(i) = logits.iter().position(|v| !v.is_finite()) {
                return Err(Error::numeric(format!("seq2seq: decoder step {t}"), format!("output value {i} is {:?}", logits[i])));
            }
            carry = next;
            traces.push(trace);
            dlogits.push(d);
        }
        let gradients = if backward { self.backward(&encoded, &traces, &dlogits)? } else { Vec::new() };
        Ok(Outcome { loss, gradients, correct, tokens })
    }

    fn backward(&self, encoded: &Encoded<T>, traces: &[StepTrace<T>], dlogits: &[Vec<T>]) -> Result<Vec<Vec<T>>> {
        let memory = &encoded.memory;
        let batch = memory.batch;
        let e = self.sizes().1;
        let mut grads = Accumulated {
            target: vec![T::zero(); self.target.weight.len()],
            decoder: self.decoder.parameters(0).iter().map(|(_, p)| vec![T::zero(); p.len()]).collect(),
            attention: self.attention.as_ref().map(Attention::zeroed),
            combine: vec![T::zero(); self.combine.len()],
            output_weight: vec![T::zero(); self.output.weight.len()],
            output_bias: vec![T::zero(); self.output.bias.len()],
            dvalues: vec![T::zero(); memory.values.len()],
            dkeys: vec![T::zero(); memory.keys.len()],
        };
        let start = &encoded.start;
        let mut carry = Carry { h: vec![T::zero(); start.h.len()], c: start.c.as_ref().map(|c| vec![T::zero(); c.len()]), feed: vec![T::zero(); start.feed.len()] };
        for (trace, d) in traces.iter().zip(dlogits).rev() {
            carry = self.step_backward(memory, trace, d, carry, &mut grads)?;
        }
        if let Some(a) = &self.attention {
            a.memory_backward(memory, &grads.dkeys, &mut grads.dvalues, grads.attention.as_mut().expect("attention gradients"))?;
        }
        // Back into the encoder: its outputs (through the memory) and its final states.
        let conf = self.encoder.config;
        let steps = memory.steps;
        let dy = swap_leading(&grads.dvalues, batch, steps, e)?;
        let (mut dh_n, mut dc_n) = (vec![T::zero(); conf.layers * conf.directions() * batch * conf.state_size()], None);
        if self.bridge {
            scatter_top(&carry.h, &mut dh_n, conf.layers, conf.directions(), batch, conf.state_size());
            if self.carries_cell() {
                let mut d = vec![T::zero(); conf.layers * conf.directions() * batch * conf.hidden];
                scatter_top(carry.c.as_deref().unwrap_or_default(), &mut d, conf.layers, conf.directions(), batch, conf.hidden);
                dc_n = Some(d);
            }
        }
        let g = self.encoder.backward(&encoded.trace, OutputGradients { dy: Some(&dy), dh_n: Some(&dh_n), dc_n: dc_n.as_deref() })?;
        let mut all = vec![self.source.backward(&encoded.ids, &g.dx)?];
        all.extend(g.layers.into_iter().flat_map(|l| l.parameters));
        all.push(grads.target);
        all.extend(grads.decoder);
        if let Some(a) = &mut grads.attention {
            all.extend(a.parameters_mut().into_iter().map(std::mem::take));
        }
        if self.style == Style::Luong {
            all.push(grads.combine);
        }
        all.push(grads.output_weight);
        all.push(grads.output_bias);
        Ok(all)
    }
}

/// Gradients summed over the decoder steps.
struct Accumulated<T> {
    target: Vec<T>,
    decoder: Vec<Vec<T>>,
    attention: Option<Attention<T>>,
    combine: Vec<T>,
    output_weight: Vec<T>,
    output_bias: Vec<T>,
    dvalues: Vec<T>,
    dkeys: Vec<T>,
}

/// The shapes of a recurrent layer's parameters, in the order of its `parameters`.
fn layer_shapes<T: Real>(l: &RecurrentLayer<T>) -> Vec<Vec<usize>> {
    let gh = l.cell.gates() * l.hidden;
    let mut shapes = vec![vec![gh, l.input], vec![gh, l.state_size()], vec![gh], vec![gh]];
    if !l.weight_peephole.is_empty() {
        shapes.push(vec![3 * l.hidden]);
    }
    if !l.weight_hr.is_empty() {
        shapes.push(vec![l.state_size(), l.hidden]);
    }
    shapes
}

/// Lengths given or all `steps`; each must be in 1..=steps.
fn check_lengths(what: &str, lengths: Option<&[usize]>, batch: usize, steps: usize) -> Result<Vec<usize>> {
    match lengths {
        None => Ok(vec![steps; batch]),
        Some(l) if l.len() != batch => Err(Error::shape(what, format!("{batch} lengths (one per sequence)"), format!("{}", l.len()))),
        Some(l) => match l.iter().position(|&v| v == 0 || v > steps) {
            Some(b) => Err(Error::shape(what, format!("lengths from 1 to {steps}"), format!("{} for sequence {b}", l[b]))),
            None => Ok(l.to_vec()),
        },
    }
}

/// Rows of `a` and `b` side by side.
fn concat_rows<T: Real>(a: &[T], wa: usize, b: &[T], wb: usize, rows: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(rows * (wa + wb));
    for r in 0..rows {
        out.extend_from_slice(&a[r * wa..(r + 1) * wa]);
        out.extend_from_slice(&b[r * wb..(r + 1) * wb]);
    }
    out
}

/// The inverse of `concat_rows`.
fn split_rows<T: Real>(x: &[T], wa: usize, wb: usize, rows: usize) -> (Vec<T>, Vec<T>) {
    let (mut a, mut b) = (Vec::with_capacity(rows * wa), Vec::with_capacity(rows * wb));
    for row in x.chunks_exact(wa + wb).take(rows) {
        a.extend_from_slice(&row[..wa]);
        b.extend_from_slice(&row[wa..]);
    }
    (a, b)
}

/// `[B, d·width]` rows back into the top layer's slots of `[layers·d, B, width]`.
fn scatter_top<T: Real>(rows: &[T], all: &mut [T], layers: usize, d: usize, batch: usize, width: usize) {
    let top = (layers - 1) * d;
    for b in 0..batch {
        for dir in 0..d {
            let at = ((top + dir) * batch + b) * width;
            let from = (b * d + dir) * width;
            all[at..at + width].copy_from_slice(&rows[from..from + width]);
        }
    }
}

fn add<T: Real>(acc: &mut [T], x: &[T]) {
    acc.iter_mut().zip(x).for_each(|(a, &v)| *a = *a + v);
}

/// The first index of the largest value.
pub(crate) fn argmax<T: Real>(row: &[T]) -> u32 {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best as u32
}
