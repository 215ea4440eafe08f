//! Truncated backpropagation through time, TBPTT(k1, k2) (Williams and Peng 1990; Sutskever
//! 2013): over one long stream, an update every `k1` steps, each backpropagating through the
//! last `k2` steps. The state is carried across windows: the forward pass of a window starts
//! from the state its first step had, computed with the weights current at the time.
//!
//! At an update after step `t`, the window is `[max(0, t − k2), t)` and the loss covers the
//! steps of that window not yet trained on, `[max(t_prev, t − k2), t)`. With `k2 ≥ k1` every
//! step's loss is used once and its error flows back `k2` steps at most; with `k2 < k1` the
//! steps before `t − k2` take no part in the loss (the usual reading of the two parameters).

use super::{StepReport, Targets, Trainer};
use crate::model::{Batch, Inputs};
use crate::real::Real;
use crate::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tbptt {
    pub k1: usize,
    pub k2: usize,
}

/// One update's steps: the forward runs `[start, end)`, the loss covers `[loss_from, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: usize,
    pub loss_from: usize,
    pub end: usize,
}

impl Tbptt {
    pub fn windows(self, steps: usize) -> Result<Vec<Window>> {
        if self.k1 == 0 || self.k2 == 0 {
            return Err(Error::config("tbptt", format!("k1 and k2 must be at least 1, got {} and {}", self.k1, self.k2)));
        }
        let mut ends: Vec<usize> = (1..=steps / self.k1).map(|i| i * self.k1).collect();
        if steps % self.k1 != 0 {
            ends.push(steps);
        }
        let mut previous = 0;
        Ok(ends
            .into_iter()
            .map(|end| {
                let start = end.saturating_sub(self.k2);
                let window = Window { start, loss_from: previous.max(start), end };
                previous = end;
                window
            })
            .collect())
    }
}

impl<T: Real> Trainer<T> {
    /// Trains over one long stream per batch row, `x [batch, steps, ·]` with per-step targets,
    /// by TBPTT(k1, k2), starting from zero states. `on_window` sees each window, its report
    /// and its gradients before clipping (what the truncated-gradient test compares).
    pub fn train_stream(&mut self, x: Inputs<'_, T>, y: Targets<'_, T>, batch: usize, steps: usize, tbptt: Tbptt, mut on_window: impl FnMut(&Window, &StepReport, &[Vec<T>])) -> Result<Vec<StepReport>> {
        if !self.model.output_shape().sequence {
            return Err(Error::config("tbptt", "needs a model whose output is a sequence (return_sequences: true on its last recurrent layer)"));
        }
        let width_x = match x {
            Inputs::Values(v) => v.len() / (batch * steps).max(1),
            Inputs::Ids(v) => v.len() / (batch * steps).max(1),
        };
        let width_y = match y {
            Targets::Values(v) => v.len() / (batch * steps).max(1),
            Targets::Classes(c) => c.len() / (batch * steps).max(1),
        };
        let (len_x, len_y) = match (x, y) {
            (Inputs::Values(v), Targets::Values(t)) => (v.len(), t.len()),
            (Inputs::Values(v), Targets::Classes(t)) => (v.len(), t.len()),
            (Inputs::Ids(v), Targets::Values(t)) => (v.len(), t.len()),
            (Inputs::Ids(v), Targets::Classes(t)) => (v.len(), t.len()),
        };
        if width_x == 0 || len_x != batch * steps * width_x || width_y == 0 || len_y != batch * steps * width_y {
            return Err(Error::shape("tbptt stream", format!("x and targets of [batch={batch}, steps={steps}, ·] each"), format!("{len_x} inputs and {len_y} targets")));
        }
        self.model.reset_states();
        let mut reports = Vec::new();
        let mut position = 0;
        for window in tbptt.windows(steps)? {
            // Advance the carried state to the window's start with the current weights.
            if window.start > position {
                let part = slice_inputs(x, batch, steps, width_x, position, window.start);
                self.model.forward(Batch { x: part.as_inputs(), batch, steps: window.start - position, lengths: None }, None, true)?;
            }
            let at_start = self.model.states();
            let part = slice_inputs(x, batch, steps, width_x, window.start, window.end);
            let targets = slice_targets(y, batch, steps, width_y, window.start, window.end);
            let n = window.end - window.start;
            let (loss, grads, _) = self.gradients(Batch { x: part.as_inputs(), batch, steps: n, lengths: None }, targets.as_targets(), Some(window.loss_from - window.start), true).map_err(|e| self.at_step(e))?;
            let raw = grads.parameters.clone();
            let report = self.apply(loss, grads.parameters)?;
            on_window(&window, &report, &raw);
            reports.push(report);
            self.model.set_states(at_start);
            position = window.start;
        }
        Ok(reports)
    }
}

enum Owned<T> {
    Values(Vec<T>),
    Ids(Vec<u32>),
}

impl<T: Copy> Owned<T> {
    fn as_inputs(&self) -> Inputs<'_, T> {
        match self {
            Owned::Values(v) => Inputs::Values(v),
            Owned::Ids(v) => Inputs::Ids(v),
        }
    }

    fn as_targets(&self) -> Targets<'_, T> {
        match self {
            Owned::Values(v) => Targets::Values(v),
            Owned::Ids(v) => Targets::Classes(v),
        }
    }
}

/// Steps `[from, to)` of every row of a batch-major `[batch, steps, width]` array.
fn time_slice<V: Copy>(data: &[V], batch: usize, steps: usize, width: usize, from: usize, to: usize) -> Vec<V> {
    (0..batch).flat_map(|b| data[(b * steps + from) * width..(b * steps + to) * width].iter().copied()).collect()
}

fn slice_inputs<T: Copy>(x: Inputs<'_, T>, batch: usize, steps: usize, width: usize, from: usize, to: usize) -> Owned<T> {
    match x {
        Inputs::Values(v) => Owned::Values(time_slice(v, batch, steps, width, from, to)),
        Inputs::Ids(v) => Owned::Ids(time_slice(v, batch, steps, width, from, to)),
    }
}

fn slice_targets<T: Copy>(y: Targets<'_, T>, batch: usize, steps: usize, width: usize, from: usize, to: usize) -> Owned<T> {
    match y {
        Targets::Values(v) => Owned::Values(time_slice(v, batch, steps, width, from, to)),
        Targets::Classes(c) => Owned::Ids(time_slice(c, batch, steps, width, from, to)),
    }
}
