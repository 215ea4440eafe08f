//! A recurrent layer over whole sequences, in one direction, computed as the design notes'
//! cuDNN plan: the input projection of every step is one GEMM; each step does one recurrent
//! GEMM for all gates and one fused pass over them; backward mirrors that, and the weight
//! gradients of the whole sequence are one GEMM each after the loop.
//!
//! Layout is time-major (`[T, B, ·]`, PyTorch's default) and the parameters are PyTorch's:
//! `weight_ih [G·H, I]`, `weight_hh [G·H, H]`, `bias_ih [G·H]`, `bias_hh [G·H]`, plus
//! `weight_peephole [3H]` (gates i, f, o) for an LSTM with peepholes.
//!
//! Variable lengths follow PyTorch's packed sequences: past a sequence's length its state is
//! frozen and its output is zero, so the final state is the state at its own last step.

mod cells;
mod jordan;
mod parts;
mod rows;
mod spec;
mod stack;

pub use jordan::{JordanGradients, JordanLayer, JordanTrace};

pub use stack::{Merge, RecurrentStack, StackConfig, StackGradients, StackMasks, StackTrace};

use crate::activation::Activation;
use crate::gemm::{column_sums, gemm, gemm_packed, Accumulate, MatMut, MatRef, PackedB};
use crate::real::Real;
use crate::error::{elements, zeros};
use crate::{Error, Result};
use std::borrow::Cow;
use std::fmt;

/// The recurrence of a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    /// `h = act(W_ih·x + b_ih + W_hh·h_prev + b_hh)` with tanh or relu.
    Elman(Activation),
    /// Gates i, f, g, o and a cell state `c` besides `h`. `forget_gate: false` fixes f ≡ 1 (the
    /// classic ablation; the f rows of the weights then get no gradient); `peepholes` lets the
    /// gates see the cell (Gers and Schmidhuber); `projection > 0` projects the output to that
    /// size, `h = W_hr·(o⊙tanh(c))` (PyTorch's `proj_size`), and the state the gates read is `h`.
    Lstm { forget_gate: bool, peepholes: bool, projection: usize },
    /// Gates r, z, n. `reset_after: true` applies the reset after the recurrent product
    /// (PyTorch; Keras 3's default), `false` before it (Keras `reset_after=False`, TF.js).
    Gru { reset_after: bool },
}

impl Cell {
    /// PyTorch's `nn.LSTM`.
    pub const LSTM: Cell = Cell::Lstm { forget_gate: true, peepholes: false, projection: 0 };
    /// PyTorch's `nn.GRU`.
    pub const GRU: Cell = Cell::Gru { reset_after: true };

    pub fn gates(self) -> usize {
        match self {
            Cell::Elman(_) => 1,
            Cell::Lstm { .. } => 4,
            Cell::Gru { .. } => 3,
        }
    }

    pub fn has_cell_state(self) -> bool {
        matches!(self, Cell::Lstm { .. })
    }

    /// The size of `h` (and of the output) for a layer of `hidden` units.
    pub fn state_size(self, hidden: usize) -> usize {
        match self {
            Cell::Lstm { projection, .. } if projection > 0 => projection,
            _ => hidden,
        }
    }
}

/// One direction of one recurrent layer with its parameters.
#[derive(Clone, Debug)]
pub struct RecurrentLayer<T> {
    pub cell: Cell,
    pub input: usize,
    pub hidden: usize,
    pub weight_ih: Vec<T>,
    pub weight_hh: Vec<T>,
    pub bias_ih: Vec<T>,
    pub bias_hh: Vec<T>,
    /// `[3H]`: p_i, p_f, p_o; empty unless the cell is an LSTM with peepholes.
    pub weight_peephole: Vec<T>,
    /// `[P, H]`; empty unless the cell is an LSTM with a projection.
    pub weight_hr: Vec<T>,
}

/// A batch of sequences for `forward`.
#[derive(Clone, Copy, Debug)]
pub struct Sequences<'a, T> {
    /// `[steps, batch, input]`.
    pub x: &'a [T],
    pub steps: usize,
    pub batch: usize,
    /// Each sequence's length (at most `steps`); `None` when all are `steps` long.
    pub lengths: Option<&'a [usize]>,
    /// Initial hidden state `[batch, hidden]`; zeros when `None`.
    pub h0: Option<&'a [T]>,
    /// Initial cell state `[batch, hidden]` (LSTM only); zeros when `None`.
    pub c0: Option<&'a [T]>,
}

#[derive(Clone, Debug)]
pub struct Output<T> {
    /// `[steps, batch, hidden]`, zero past each sequence's length.
    pub y: Vec<T>,
    /// The state after each sequence's last step, `[batch, hidden]`.
    pub h_n: Vec<T>,
    /// The LSTM cell state after each sequence's last step.
    pub c_n: Option<Vec<T>>,
}

/// What backward needs from forward: the states of every step and the gate activations.
#[derive(Clone, Debug)]
pub struct Trace<T> {
    steps: usize,
    batch: usize,
    lengths: Vec<usize>,
    x: Vec<T>,
    /// `[steps + 1, batch, state]`: h_0 then the state after each step.
    h: Vec<T>,
    /// LSTM with projection: `o⊙tanh(c)` before the projection, `[steps, batch, hidden]`.
    m: Vec<T>,
    /// Like `h`, for the LSTM cell state.
    c: Vec<T>,
    /// `[steps, batch, G·H]`.
    gates: Vec<T>,
    /// GRU, reset after: the recurrent n part `W_hn·h + b_hn`; reset before: `r⊙h_prev`.
    /// `[steps, batch, hidden]`.
    gru: Vec<T>,
    input_mask: Option<Vec<T>>,
    recurrent_mask: Option<Vec<T>>,
    /// The traces of the row parts that ran apart (see `parts`), when the fields above are empty.
    parts: Vec<Trace<T>>,
}

impl<T: Real> Trace<T> {
    /// `h_{t−1}` of every step as the recurrent products read it: masked while training with
    /// recurrent dropout. `state` is the layer's state size.
    fn h_used(&self, state: usize) -> Cow<'_, [T]> {
        mask_rows(&self.h[..self.steps * self.batch * state], self.recurrent_mask.as_deref(), state, self.batch)
    }

    fn empty(steps: usize, batch: usize, lengths: Vec<usize>) -> Self {
        let none = Vec::new;
        Trace { steps, batch, lengths, x: none(), h: none(), m: none(), c: none(), gates: none(), gru: none(), input_mask: None, recurrent_mask: None, parts: Vec::new() }
    }
}

/// Variational dropout masks for training (Gal and Ghahramani; Keras `dropout` and
/// `recurrent_dropout`): one mask per sequence, the same at every step, already scaled
/// (`0` or `1/(1−p)`). `input` is `[batch, input]` and multiplies x; `recurrent` is
/// `[batch, hidden]` and multiplies the state where the recurrent products read it.
#[derive(Clone, Copy, Debug, Default)]
pub struct DropoutMasks<'a, T> {
    pub input: Option<&'a [T]>,
    pub recurrent: Option<&'a [T]>,
}

/// Gradients of the loss with respect to the layer's outputs; `None` means zero.
#[derive(Clone, Copy, Debug, Default)]
pub struct OutputGradients<'a, T> {
    pub dy: Option<&'a [T]>,
    pub dh_n: Option<&'a [T]>,
    pub dc_n: Option<&'a [T]>,
}

#[derive(Clone, Debug)]
pub struct Gradients<T> {
    pub dx: Vec<T>,
    pub dh0: Vec<T>,
    pub dc0: Option<Vec<T>>,
    /// One per parameter, in the order of `parameters`.
    pub parameters: Vec<Vec<T>>,
    /// ‖dL/dh_t‖ over the batch for every step `t`: the gradient-flow diagnostic that shows
    /// vanishing or exploding gradients.
    pub dh_norms: Vec<T>,
}

impl<T: Real> RecurrentLayer<T> {
    /// A layer with all parameters zero (initialisers fill them).
    pub fn new(cell: Cell, input: usize, hidden: usize) -> Result<Self> {
        if let Cell::Elman(act) = cell {
            if !matches!(act, Activation::Tanh | Activation::Relu) {
                return Err(Error::config("Elman layer", format!("activation must be tanh or relu, got {act:?}")));
            }
        }
        if input == 0 || hidden == 0 {
            return Err(Error::config(format!("{cell:?} layer"), format!("input and hidden sizes must be at least 1, got {input} and {hidden}")));
        }
        if let Cell::Lstm { projection, .. } = cell {
            if projection >= hidden {
                return Err(Error::config("LSTM layer", format!("projection must be smaller than hidden ({hidden}), got {projection}")));
            }
        }
        let (gh, state) = (cell.gates() * hidden, cell.state_size(hidden));
        let peepholes = matches!(cell, Cell::Lstm { peepholes: true, .. });
        Ok(RecurrentLayer {
            cell,
            input,
            hidden,
            weight_ih: vec![T::zero(); gh * input],
            weight_hh: vec![T::zero(); gh * state],
            bias_ih: vec![T::zero(); gh],
            bias_hh: vec![T::zero(); gh],
            weight_peephole: vec![T::zero(); if peepholes { 3 * hidden } else { 0 }],
            weight_hr: vec![T::zero(); if state < hidden { state * hidden } else { 0 }],
        })
    }

    /// The size of `h` and of the output: `hidden`, or the LSTM's projection.
    pub fn state_size(&self) -> usize {
        self.cell.state_size(self.hidden)
    }

    /// The parameters under their PyTorch names for layer `index`, e.g. `weight_ih_l0`.
    pub fn parameters(&self, index: usize) -> Vec<(String, &[T])> {
        let mut all = vec![
            (format!("weight_ih_l{index}"), &self.weight_ih[..]),
            (format!("weight_hh_l{index}"), &self.weight_hh[..]),
            (format!("bias_ih_l{index}"), &self.bias_ih[..]),
            (format!("bias_hh_l{index}"), &self.bias_hh[..]),
        ];
        if !self.weight_peephole.is_empty() {
            all.push((format!("weight_peephole_l{index}"), &self.weight_peephole[..]));
        }
        if !self.weight_hr.is_empty() {
            all.push((format!("weight_hr_l{index}"), &self.weight_hr[..]));
        }
        all
    }

    /// The parameters in the order of `parameters`.
    pub fn parameters_mut(&mut self) -> Vec<&mut Vec<T>> {
        let mut all = vec![&mut self.weight_ih, &mut self.weight_hh, &mut self.bias_ih, &mut self.bias_hh];
        if !self.weight_peephole.is_empty() {
            all.push(&mut self.weight_peephole);
        }
        if !self.weight_hr.is_empty() {
            all.push(&mut self.weight_hr);
        }
        all
    }

    pub fn forward(&self, seq: Sequences<'_, T>) -> Result<(Output<T>, Trace<T>)> {
        self.forward_with_dropout(seq, DropoutMasks::default())
    }

    /// `forward` with variational dropout masks (training).
    pub fn forward_with_dropout(&self, seq: Sequences<'_, T>, masks: DropoutMasks<'_, T>) -> Result<(Output<T>, Trace<T>)> {
        let lengths = self.check_input(&seq)?;
        let (batch, state) = (seq.batch, self.state_size());
        self.check_len("input dropout mask", masks.input, batch * self.input, || format!("[B={batch}, I={}]", self.input))?;
        self.check_len("recurrent dropout mask", masks.recurrent, batch * state, || format!("[B={batch}, H={state}]"))?;
        #[cfg(feature = "parallel")]
        if let Some(parts) = parts::split(batch) {
            return parts::forward(self, seq, masks, &lengths, &parts);
        }
        self.forward_rows(seq, masks, lengths)
    }

    /// The forward pass over rows whose input, masks and `lengths` were checked.
    fn forward_rows(&self, seq: Sequences<'_, T>, masks: DropoutMasks<'_, T>, lengths: Vec<usize>) -> Result<(Output<T>, Trace<T>)> {
        let (steps, batch, hidden) = (seq.steps, seq.batch, self.hidden);
        let gh = self.cell.gates() * hidden;
        // h and the output are `state` wide (the projection); c and the gates `hidden`.
        let (state, bh) = (self.state_size(), batch * hidden);
        let (bs, projecting) = (batch * state, state < hidden);
        let x = mask_rows(seq.x, masks.input, self.input, batch).into_owned();
        let mut h_masked = if masks.recurrent.is_some() { vec![T::zero(); bs] } else { Vec::new() };

        // 1. The input projection of every step at once: ZX = X·W_ihᵀ + b_ih, which each step
        // turns into its gates in place.
        let mut gates = zeros(self, elements(self, &[steps, batch, gh])?)?;
        gemm(
            MatRef::new(&x, steps * batch, self.input)?,
            MatRef::new(&self.weight_ih, gh, self.input)?.t(),
            MatMut::new(&mut gates, steps * batch, gh)?,
            Accumulate::Overwrite,
        )?;
        add_rows(&mut gates, &self.bias_ih);

        let lstm = self.cell.has_cell_state();
        let states = elements(self, &[steps + 1, bh])?;
        let mut h = zeros(self, (steps + 1) * bs)?;
        let mut c = if lstm { zeros(self, states)? } else { Vec::new() };
        let mut m = if projecting { zeros(self, states - bh)? } else { Vec::new() };
        if let Some(h0) = seq.h0 {
            h[..bs].copy_from_slice(h0);
        }
        if let (Some(c0), true) = (seq.c0, lstm) {
            c[..bh].copy_from_slice(c0);
        }
        let mut gru = if matches!(self.cell, Cell::Gru { .. }) { zeros(self, states - bh)? } else { Vec::new() };
        let mut y = zeros(self, steps * bs)?;
        let mut zh = vec![T::zero(); batch * gh];
        let h2 = 2 * hidden;
        let weights = self.packed_recurrent(true)?;

        for t in 0..steps {
            let (done, rest) = h.split_at_mut((t + 1) * bs);
            let (h_prev, h_next) = (&done[t * bs..], &mut rest[..bs]);
            // The state as the recurrent products read it: masked when training with dropout.
            let h_used: &[T] = match masks.recurrent {
                Some(mask) => {
                    h_masked.iter_mut().zip(h_prev.iter().zip(mask)).for_each(|(u, (&h, &m))| *u = h * m);
                    &h_masked
                }
                None => h_prev,
            };
            let active = |b: usize| t < lengths[b];
            let row = |b: usize| b * hidden..(b + 1) * hidden;
            let grow = |b: usize| (t * batch + b) * gh..(t * batch + b + 1) * gh;
            let srow = |b: usize| t * bh + b * hidden..t * bh + (b + 1) * hidden;
            let orow = |b: usize| b * state..(b + 1) * state;
            let osrow = |b: usize| t * bs + b * state..t * bs + (b + 1) * state;
            if let Hh::ResetBefore { rz, n } = &weights.hh {
                // Reset before the product: r and z first, then a second product of r⊙h_prev.
                recurrent_product(h_used, batch, rz, &self.bias_hh[..h2], hidden, &mut zh[..batch * h2])?;
                for b in (0..batch).filter(|&b| active(b)) {
                    cells::gru_before_gates(&zh[b * h2..(b + 1) * h2], &h_used[row(b)], &mut gates[grow(b)], &mut gru[srow(b)]);
                }
                let zh_n = &mut zh[..bh];
                recurrent_product(&gru[t * bh..(t + 1) * bh], batch, n, &self.bias_hh[h2..], hidden, zh_n)?;
                for b in (0..batch).filter(|&b| active(b)) {
                    cells::gru_before_output(&zh_n[row(b)], &h_prev[row(b)], &mut gates[grow(b)], &mut h_next[row(b)]);
                }
            } else if let Hh::Joint(all) = &weights.hh {
                // 2. One recurrent product for all gates: ZH = h_{t-1}·W_hhᵀ + b_hh.
                recurrent_product(h_used, batch, all, &self.bias_hh, state, &mut zh)?;
                // 3. One fused pass over the gates of each row, rows over threads.
                let (c_done, c_rest) = c.split_at_mut(if lstm { (t + 1) * bh } else { 0 });
                let c_prev = if lstm { &c_done[t * bh..] } else { &[][..] };
                let c_next = if lstm { &mut c_rest[..bh] } else { &mut [][..] };
                // With a projection the cell's output goes to `m` and is projected below.
                let out = if projecting { &mut m[t * bh..(t + 1) * bh] } else { &mut *h_next };
                let gru_t = if gru.is_empty() { &mut [][..] } else { &mut gru[t * bh..(t + 1) * bh] };
                let parts = rows::rows_mut(&mut gates[t * batch * gh..(t + 1) * batch * gh], batch).into_iter().zip(rows::rows_mut(c_next, batch)).zip(rows::rows_mut(out, batch)).zip(rows::rows_mut(gru_t, batch));
                let active_rows: Vec<_> = parts.enumerate().filter(|&(b, _)| active(b)).collect();
                rows::for_each_row(active_rows, bh, |(b, (((gates, c), out), gru))| {
                    let zh_row = &zh[b * gh..(b + 1) * gh];
                    match self.cell {
                        Cell::Lstm { forget_gate, .. } => cells::lstm_forward(forget_gate, &self.weight_peephole, zh_row, &c_prev[row(b)], gates, c, out),
                        Cell::Gru { .. } => cells::gru_forward(zh_row, &h_prev[row(b)], gates, gru, out),
                        Cell::Elman(act) => {
                            cells::elman_forward(act, gates, zh_row, out);
                            gates.copy_from_slice(out);
                        }
                    }
                });
            }
            if let Some(w_hr) = &weights.hr {
                // h_t = m_t·W_hrᵀ, one product for the batch (frozen rows are restored below).
                gemm_packed(MatRef::new(&m[t * bh..(t + 1) * bh], batch, hidden)?, w_hr, MatMut::new(h_next, batch, state)?, Accumulate::Overwrite)?;
            }
            for b in 0..batch {
                if active(b) {
                    y[osrow(b)].copy_from_slice(&h_next[orow(b)]);
                } else {
                    // Past its length a sequence's state is frozen and its output stays zero.
                    h_next[orow(b)].copy_from_slice(&h_prev[orow(b)]);
                    if lstm {
                        c.copy_within(srow(b), (t + 1) * bh + b * hidden);
                    }
                }
            }
        }

        let output = Output { y, h_n: h[steps * bs..].to_vec(), c_n: lstm.then(|| c[steps * bh..].to_vec()) };
        let (input_mask, recurrent_mask) = (masks.input.map(<[T]>::to_vec), masks.recurrent.map(<[T]>::to_vec));
        let trace = Trace { steps, batch, lengths, x, h, m, c, gates, gru, input_mask, recurrent_mask, parts: Vec::new() };
        Ok((output, trace))
    }

    pub fn backward(&self, trace: &Trace<T>, grads: OutputGradients<'_, T>) -> Result<Gradients<T>> {
        self.backward_to(trace, grads, true)
    }

    /// `backward`, leaving `dx` empty unless `input_gradient`: the first layer of a model being
    /// trained has no use for it, and it costs a GEMM as large as the input weight's gradient.
    pub(crate) fn backward_to(&self, trace: &Trace<T>, grads: OutputGradients<'_, T>, input_gradient: bool) -> Result<Gradients<T>> {
        let Trace { steps, batch, .. } = *trace;
        let (hidden, state) = (self.hidden, self.state_size());
        self.check_len("dy", grads.dy, steps * batch * state, || format!("[T={steps}, B={batch}, H={state}]"))?;
        self.check_len("dh_n", grads.dh_n, batch * state, || format!("[B={batch}, H={state}]"))?;
        if self.cell.has_cell_state() {
            self.check_len("dc_n", grads.dc_n, batch * hidden, || format!("[B={batch}, H={hidden}]"))?;
        }
        let weights = self.packed_recurrent(false)?;
        #[cfg(feature = "parallel")]
        if !trace.parts.is_empty() && self.weight_peephole.is_empty() {
            return parts::backward(self, trace, grads, &weights, input_gradient);
        }
        let merged = (!trace.parts.is_empty()).then(|| parts::merge(trace, true));
        let trace = merged.as_ref().unwrap_or(trace);
        let h_used = trace.h_used(state);
        let steps = self.backward_steps(trace, &h_used, grads, &weights, false)?;
        self.weight_gradients(trace, &h_used, steps, input_gradient)
    }

    /// The time loop of `backward`: every step's pre-activation gradients, and the gradients
    /// that reach the initial states. `h_used_all` is `trace.h_used`; `record` keeps dL/dh of
    /// every step in `dh_steps`.
    fn backward_steps(&self, trace: &Trace<T>, h_used_all: &[T], grads: OutputGradients<'_, T>, weights: &Recurrent<'_, T>, record: bool) -> Result<Steps<T>> {
        let Trace { steps, batch, .. } = *trace;
        let hidden = self.hidden;
        let (bh, gh) = (batch * hidden, self.cell.gates() * hidden);
        let (state, lstm) = (self.state_size(), self.cell.has_cell_state());
        let (bs, projecting) = (batch * state, state < hidden);
        let reset_before = self.cell == (Cell::Gru { reset_after: false });

        let mut dzx = zeros(self, trace.gates.len())?;
        // The reset-after GRU's recurrent pre-activation gradient differs from the input one
        // (the reset scales only the recurrent n part); every other cell shares dZX.
        let mut dzh_gru = if self.cell == Cell::GRU { zeros(self, trace.gates.len())? } else { Vec::new() };
        let mut dh = grads.dh_n.map_or_else(|| vec![T::zero(); bs], <[T]>::to_vec);
        let mut dc = if lstm { grads.dc_n.map_or_else(|| vec![T::zero(); bh], <[T]>::to_vec) } else { Vec::new() };
        let mut dh_prev = vec![T::zero(); bs];
        let mut d_reset_h = if reset_before { vec![T::zero(); bh] } else { Vec::new() };
        // dL/d(the state as the products read it), masked back into dh_prev each step.
        let mut dh_used = vec![T::zero(); bs];
        // With a projection: dL/dh of every step (for W_hr's gradient) and dL/dm of this step.
        let (mut dh_all, mut dm) = if projecting { (zeros(self, steps * bs)?, vec![T::zero(); bh]) } else { (Vec::new(), Vec::new()) };
        let mut dpeep = vec![T::zero(); self.weight_peephole.len()];
        let mut dh_norms = vec![T::zero(); steps];
        let mut dh_steps = if record { zeros(self, steps * bs)? } else { Vec::new() };
        let h2 = 2 * hidden;

        for t in (0..steps).rev() {
            let active = |b: usize| t < trace.lengths[b];
            let row = |b: usize| b * hidden..(b + 1) * hidden;
            let grow = |b: usize| (t * batch + b) * gh..(t * batch + b + 1) * gh;
            let srow = |step: usize, b: usize| step * bh + b * hidden..step * bh + (b + 1) * hidden;
            let orow = |b: usize| b * state..(b + 1) * state;
            let osrow = |step: usize, b: usize| step * bs + b * state..step * bs + (b + 1) * state;
            for b in 0..batch {
                if !active(b) {
                    // A frozen state passes its gradient straight back; its output was a constant.
                    dh_prev[orow(b)].copy_from_slice(&dh[orow(b)]);
                } else if let Some(dy) = grads.dy {
                    dh[orow(b)].iter_mut().zip(&dy[osrow(t, b)]).for_each(|(d, &g)| *d = *d + g);
                }
            }
            dh_norms[t] = norm(&dh);
            if record {
                dh_steps[t * bs..(t + 1) * bs].copy_from_slice(&dh);
            }
            if let Some(w_hr) = &weights.hr {
                // dL/dm = dL/dh · W_hr for the active rows; W_hr's gradient is summed after the loop.
                for b in 0..batch {
                    if active(b) {
                        dh_all[osrow(t, b)].copy_from_slice(&dh[orow(b)]);
                    }
                }
                gemm_packed(MatRef::new(&dh_all[t * bs..(t + 1) * bs], batch, state)?, w_hr, MatMut::new(&mut dm, batch, hidden)?, Accumulate::Overwrite)?;
            }
            // The cells, rows over threads; peephole gradients add up over the rows, in order.
            let dz_t = t * batch * gh..(t + 1) * batch * gh;
            let dzh_t = if dzh_gru.is_empty() { &mut [][..] } else { &mut dzh_gru[dz_t.clone()] };
            let parts = rows::rows_mut(&mut dzx[dz_t.clone()], batch).into_iter().zip(rows::rows_mut(dzh_t, batch)).zip(rows::rows_mut(&mut dc, batch)).zip(rows::rows_mut(&mut dh_prev, batch));
            let active_rows: Vec<_> = parts.enumerate().filter(|&(b, _)| active(b)).collect();
            let cell = |(b, (((dz, dzh), dc), dh_prev)): (usize, (((&mut [T], &mut [T]), &mut [T]), &mut [T])), dpeep: &mut [T]| {
                let gates = &trace.gates[grow(b)];
                match self.cell {
                    Cell::Lstm { forget_gate, .. } => {
                        let (c_prev, c_now) = (&trace.c[srow(t, b)], &trace.c[srow(t + 1, b)]);
                        let dh_row = if projecting { &dm[row(b)] } else { &dh[orow(b)] };
                        cells::lstm_backward(forget_gate, &self.weight_peephole, gates, c_prev, c_now, dh_row, dc, dz, dpeep);
                        dh_prev.fill(T::zero());
                    }
                    Cell::Gru { reset_after: true } => {
                        let (h_prev, zh_n) = (&trace.h[osrow(t, b)], &trace.gru[srow(t, b)]);
                        cells::gru_backward(gates, zh_n, h_prev, &dh[row(b)], dz, dzh, dh_prev);
                    }
                    Cell::Gru { reset_after: false } => cells::gru_before_output_backward(gates, &trace.h[osrow(t, b)], &dh[row(b)], dz, dh_prev),
                    Cell::Elman(act) => {
                        cells::elman_backward(act, gates, &dh[row(b)], dz);
                        dh_prev.fill(T::zero());
                    }
                }
            };
            if dpeep.is_empty() {
                rows::for_each_row(active_rows, bh, |r| cell(r, &mut []));
            } else {
                active_rows.into_iter().for_each(|r| cell(r, &mut dpeep));
            }
            if let Hh::ResetBefore { rz, n } = &weights.hh {
                // d(r⊙h_prev) = dZ_n · W_hn, then r's gradient; dh_prev += dZ_rz · W_hh[r,z].
                gemm_packed(
                    MatRef::with_row_stride(&dzx[dz_t.start + h2..dz_t.end], batch, hidden, gh)?,
                    n,
                    MatMut::new(&mut d_reset_h, batch, hidden)?,
                    Accumulate::Overwrite,
                )?;
                dh_used.fill(T::zero());
                for b in (0..batch).filter(|&b| active(b)) {
                    cells::gru_before_gates_backward(&trace.gates[grow(b)], &h_used_all[srow(t, b)], &d_reset_h[row(b)], &mut dzx[grow(b)], &mut dh_used[row(b)]);
                }
                gemm_packed(
                    MatRef::with_row_stride(&dzx[dz_t], batch, h2, gh)?,
                    rz,
                    MatMut::new(&mut dh_used, batch, hidden)?,
                    Accumulate::Add,
                )?;
            } else if let Hh::Joint(all) = &weights.hh {
                // dh_{t-1} = (direct part) + dZH_t · W_hh, one GEMM for the whole batch.
                let dzh = if self.cell == Cell::GRU { &dzh_gru } else { &dzx };
                gemm_packed(MatRef::new(&dzh[dz_t], batch, gh)?, all, MatMut::new(&mut dh_used, batch, state)?, Accumulate::Overwrite)?;
            }
            let mask = trace.recurrent_mask.as_deref();
            for (i, (d, &u)) in dh_prev.iter_mut().zip(&dh_used).enumerate() {
                *d = *d + mask.map_or(u, |m| u * m[i]);
            }
            std::mem::swap(&mut dh, &mut dh_prev);
        }
        Ok(Steps { dzx, dzh_gru, dh, dc, dh_all, dpeep, dh_norms, dh_steps })
    }

    /// The weight gradients of `backward` from the time loop's `steps`.
    fn weight_gradients(&self, trace: &Trace<T>, h_used_all: &[T], steps: Steps<T>, input_gradient: bool) -> Result<Gradients<T>> {
        let Steps { dzx, dzh_gru, dh, dc, dh_all, dpeep, dh_norms, .. } = steps;
        let Trace { steps, batch, .. } = *trace;
        let (gh, state, lstm) = (self.cell.gates() * self.hidden, self.state_size(), self.cell.has_cell_state());
        let (hidden, projecting) = (self.hidden, state < self.hidden);
        let reset_before = self.cell == (Cell::Gru { reset_after: false });

        // The weight gradients of the whole sequence, one GEMM each.
        let rows = steps * batch;
        let dzh = if self.cell == Cell::GRU { &dzh_gru } else { &dzx };
        let h_prev_all = MatRef::new(h_used_all, rows, state)?;
        let mut weight_ih = vec![T::zero(); gh * self.input];
        gemm(MatRef::new(&dzx, rows, gh)?.t(), MatRef::new(&trace.x, rows, self.input)?, MatMut::new(&mut weight_ih, gh, self.input)?, Accumulate::Overwrite)?;
        let mut weight_hh = vec![T::zero(); gh * state];
        if reset_before {
            let (h2, (rz, n)) = (2 * hidden, weight_hh.split_at_mut(2 * hidden * hidden));
            gemm(MatRef::with_row_stride(dzh, rows, h2, gh)?.t(), h_prev_all, MatMut::new(rz, h2, hidden)?, Accumulate::Overwrite)?;
            gemm(MatRef::with_row_stride(&dzh[h2..], rows, hidden, gh)?.t(), MatRef::new(&trace.gru, rows, hidden)?, MatMut::new(n, hidden, hidden)?, Accumulate::Overwrite)?;
        } else {
            gemm(MatRef::new(dzh, rows, gh)?.t(), h_prev_all, MatMut::new(&mut weight_hh, gh, state)?, Accumulate::Overwrite)?;
        }
        let mut dx = Vec::new();
        if input_gradient {
            dx = zeros(self, rows * self.input)?;
            gemm(MatRef::new(&dzx, rows, gh)?, MatRef::new(&self.weight_ih, gh, self.input)?, MatMut::new(&mut dx, rows, self.input)?, Accumulate::Overwrite)?;
            if trace.input_mask.is_some() {
                dx = mask_rows(&dx, trace.input_mask.as_deref(), self.input, batch).into_owned();
            }
        }

        let mut parameters = vec![weight_ih, weight_hh, column_sums(&dzx, gh), column_sums(dzh, gh)];
        if !dpeep.is_empty() {
            parameters.push(dpeep);
        }
        if projecting {
            let mut weight_hr = vec![T::zero(); state * hidden];
            gemm(MatRef::new(&dh_all, rows, state)?.t(), MatRef::new(&trace.m, rows, hidden)?, MatMut::new(&mut weight_hr, state, hidden)?, Accumulate::Overwrite)?;
            parameters.push(weight_hr);
        }
        Ok(Gradients { dx, dh0: dh, dc0: lstm.then_some(dc), parameters, dh_norms })
    }

    fn check_input(&self, seq: &Sequences<'_, T>) -> Result<Vec<usize>> {
        let (steps, batch) = (seq.steps, seq.batch);
        self.check_len("x", Some(seq.x), elements(format_args!("{self}: x"), &[steps, batch, self.input])?, || format!("[T={steps}, B={batch}, I={}]", self.input))?;
        elements(format_args!("{self}: x"), &[steps + 1, batch, self.cell.gates() * self.hidden])?;
        self.check_len("h0", seq.h0, batch * self.state_size(), || format!("[B={batch}, H={}]", self.state_size()))?;
        if seq.c0.is_some() && !self.cell.has_cell_state() {
            return Err(Error::config(self.to_string(), "c0 is given but only an LSTM has a cell state"));
        }
        self.check_len("c0", seq.c0, batch * self.hidden, || format!("[B={batch}, H={}]", self.hidden))?;
        match seq.lengths {
            None => Ok(vec![steps; batch]),
            Some(lengths) if lengths.len() != batch => Err(Error::shape(format!("{self}: lengths"), format!("{batch} lengths (one per sequence)"), format!("{}", lengths.len()))),
            Some(lengths) => match lengths.iter().position(|&l| l > steps) {
                Some(b) => Err(Error::shape(format!("{self}: lengths"), format!("lengths of at most T={steps}"), format!("{} for sequence {b}", lengths[b]))),
                None => Ok(lengths.to_vec()),
            },
        }
    }

    /// The recurrent weights as every step's products read them, packed once for a sequence:
    /// transposed for the forward pass (`h·Wᵀ`), as they are for the backward one (`dZ·W`).
    fn packed_recurrent(&self, transposed: bool) -> Result<Recurrent<'_, T>> {
        let (hidden, state) = (self.hidden, self.state_size());
        fn pack<T: Real>(w: &[T], rows: usize, cols: usize, transposed: bool) -> Result<PackedB<'_, T>> {
            let w = MatRef::new(w, rows, cols)?;
            Ok(PackedB::new(if transposed { w.t() } else { w }))
        }
        let h2 = 2 * hidden;
        let hh = if self.cell == (Cell::Gru { reset_after: false }) {
            Hh::ResetBefore { rz: pack(&self.weight_hh[..h2 * hidden], h2, hidden, transposed)?, n: pack(&self.weight_hh[h2 * hidden..], hidden, hidden, transposed)? }
        } else {
            Hh::Joint(pack(&self.weight_hh, self.cell.gates() * hidden, state, transposed)?)
        };
        let hr = if state < hidden { Some(pack(&self.weight_hr, state, hidden, transposed)?) } else { None };
        Ok(Recurrent { hh, hr })
    }

    /// `shape` is only formatted for the error, off the hot path of a streaming step.
    fn check_len(&self, what: &str, value: Option<&[T]>, expected: usize, shape: impl FnOnce() -> String) -> Result<()> {
        match value {
            Some(v) if v.len() != expected => Err(Error::shape(format!("{self}: {what}"), format!("{} = {expected} values", shape()), format!("{} values", v.len()))),
            _ => Ok(()),
        }
    }
}

/// Time-major rows `[T·B, width]` with row `t·B + b` multiplied by mask row `b`; borrowed
/// unchanged when there is no mask.
fn mask_rows<'a, T: Real>(rows: &'a [T], mask: Option<&[T]>, width: usize, batch: usize) -> Cow<'a, [T]> {
    let Some(mask) = mask else { return Cow::Borrowed(rows) };
    let mut out = rows.to_vec();
    for (r, row) in out.chunks_exact_mut(width).enumerate() {
        let m = &mask[(r % batch) * width..(r % batch + 1) * width];
        row.iter_mut().zip(m).for_each(|(v, &k)| *v = *v * k);
    }
    Cow::Owned(out)
}

/// `out = h·Wᵀ + b` for `h [batch, hidden]` and `Wᵀ` packed from `W [rows, hidden]`.
fn recurrent_product<T: Real>(h: &[T], batch: usize, w_t: &PackedB<'_, T>, b: &[T], hidden: usize, out: &mut [T]) -> Result<()> {
    gemm_packed(MatRef::new(h, batch, hidden)?, w_t, MatMut::new(out, batch, b.len())?, Accumulate::Overwrite)?;
    add_rows(out, b);
    Ok(())
}

/// What the time loop of `backward` hands to the weight gradients (see `backward_steps`).
struct Steps<T> {
    /// `[steps, batch, G·H]`: dL/d(input pre-activations), and for the reset-after GRU the
    /// recurrent ones (`dzh_gru`; every other cell shares `dzx`).
    dzx: Vec<T>,
    dzh_gru: Vec<T>,
    /// dL/dh_0 and dL/dc_0.
    dh: Vec<T>,
    dc: Vec<T>,
    /// With a projection: dL/dh of every step, for W_hr's gradient.
    dh_all: Vec<T>,
    dpeep: Vec<T>,
    dh_norms: Vec<T>,
    /// dL/dh of every step `[steps, batch, state]`, when recorded (for the parts' norms).
    #[cfg_attr(not(feature = "parallel"), allow(dead_code))]
    dh_steps: Vec<T>,
}

/// A layer's recurrent weights, packed (see `RecurrentLayer::packed_recurrent`).
struct Recurrent<'a, T> {
    hh: Hh<'a, T>,
    /// The LSTM projection `W_hr`, when there is one.
    hr: Option<PackedB<'a, T>>,
}

/// `W_hh` whole, or, for a GRU that resets before the product, its [r, z] rows and its n rows
/// (two products a step).
enum Hh<'a, T> {
    Joint(PackedB<'a, T>),
    ResetBefore { rz: PackedB<'a, T>, n: PackedB<'a, T> },
}

impl<T> fmt::Display for RecurrentLayer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.cell {
            Cell::Elman(_) => "Elman",
            Cell::Lstm { .. } => "LSTM",
            Cell::Gru { .. } => "GRU",
        };
        write!(f, "{name} layer (input {}, hidden {})", self.input, self.hidden)
    }
}

/// The Euclidean norm, summed in order.
fn norm<T: Real>(v: &[T]) -> T {
    v.iter().fold(T::zero(), |a, &x| a + x * x).sqrt()
}

fn add_rows<T: Real>(matrix: &mut [T], bias: &[T]) {
    for row in matrix.chunks_exact_mut(bias.len()) {
        row.iter_mut().zip(bias).for_each(|(x, &b)| *x = *x + b);
    }
}

