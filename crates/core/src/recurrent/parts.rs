//! A large batch over threads, in parts of rows that each run the whole sequence.
//!
//! The rows of a recurrent layer never meet until the weight gradients, so each part can run
//! every time step on its own thread. Splitting each step's product instead cost a wake-up
//! across threads per step, and on a virtual machine that was as long as the step itself: two
//! threads ran no faster than one. A part has more than `MR` rows, as the whole batch has, so
//! its products take the same path through the GEMM and give the same bits: how many parts
//! there are may follow the number of threads.

use super::Trace;
use crate::real::Real;
#[cfg(feature = "parallel")]
use {
    super::{norm, DropoutMasks, Gradients, Output, OutputGradients, Recurrent, RecurrentLayer, Sequences, Steps},
    crate::{real::MR, Result},
    rayon::prelude::*,
    std::ops::Range,
};

#[cfg(feature = "parallel")]
/// The fewest rows a part has: a part of at most `MR` rows would take the GEMM's few-rows path.
const PART_ROWS: usize = 2 * MR;

#[cfg(feature = "parallel")]
/// The row ranges to run apart, or `None` when the batch is too small or there is one thread.
pub(super) fn split(batch: usize) -> Option<Vec<Range<usize>>> {
    let parts = rayon::current_num_threads().min(batch / PART_ROWS);
    (parts > 1).then(|| (0..parts).map(|p| batch * p / parts..batch * (p + 1) / parts).collect())
}

#[cfg(feature = "parallel")]
/// `RecurrentLayer::forward_with_dropout` in parts; `lengths` were checked for the whole batch.
pub(super) fn forward<T: Real>(layer: &RecurrentLayer<T>, seq: Sequences<'_, T>, masks: DropoutMasks<'_, T>, lengths: &[usize], parts: &[Range<usize>]) -> Result<(Output<T>, Trace<T>)> {
    let (steps, batch, state, hidden) = (seq.steps, seq.batch, layer.state_size(), layer.hidden);
    let done = parts
        .par_iter()
        .map(|rows| {
            let x = take_rows(seq.x, steps, batch, rows);
            let part = Sequences { x: &x, batch: rows.len(), lengths: None, h0: rows_of(seq.h0, rows, state), c0: rows_of(seq.c0, rows, hidden), ..seq };
            let masks = DropoutMasks { input: rows_of(masks.input, rows, layer.input), recurrent: rows_of(masks.recurrent, rows, state) };
            layer.forward_rows(part, masks, lengths[rows.clone()].to_vec())
        })
        .collect::<Result<Vec<_>>>()?;
    let (outputs, traces): (Vec<Output<T>>, Vec<Trace<T>>) = done.into_iter().unzip();
    let output = Output {
        y: interleave(outputs.iter().map(|o| &o.y[..]), steps),
        h_n: outputs.iter().flat_map(|o| o.h_n.iter().copied()).collect(),
        c_n: layer.cell.has_cell_state().then(|| outputs.iter().flat_map(|o| o.c_n.iter().flatten().copied()).collect()),
    };
    let trace = Trace { parts: traces, ..Trace::empty(steps, batch, lengths.to_vec()) };
    Ok((output, trace))
}

#[cfg(feature = "parallel")]
/// `RecurrentLayer::backward` over the parts that ran apart: the time loop part by part, then
/// the weight gradients over the whole batch (a sum over every row, as without parts).
pub(super) fn backward<T: Real>(layer: &RecurrentLayer<T>, trace: &Trace<T>, grads: OutputGradients<'_, T>, weights: &Recurrent<'_, T>, input_gradient: bool) -> Result<Gradients<T>> {
    let (steps, batch, state, hidden) = (trace.steps, trace.batch, layer.state_size(), layer.hidden);
    let rows: Vec<Range<usize>> = trace.parts.iter().scan(0, |start, part| {
        let rows = *start..*start + part.batch;
        *start = rows.end;
        Some(rows)
    }).collect();
    let done = trace
        .parts
        .par_iter()
        .zip(&rows)
        .map(|(part, rows)| {
            let dy = grads.dy.map(|dy| take_rows(dy, steps, batch, rows));
            let grads = OutputGradients { dy: dy.as_deref(), dh_n: rows_of(grads.dh_n, rows, state), dc_n: rows_of(grads.dc_n, rows, hidden) };
            layer.backward_steps(part, &part.h_used(state), grads, weights, true)
        })
        .collect::<Result<Vec<_>>>()?;
    let time_major = |field: fn(&Steps<T>) -> &[T]| interleave(done.iter().map(field), steps);
    let batch_major = |field: fn(&Steps<T>) -> &[T]| done.iter().flat_map(|s| field(s).iter().copied()).collect();
    // ‖dL/dh_t‖ over the whole batch, in row order as the loop over the whole batch sums it.
    let dh_steps = time_major(|s| &s.dh_steps);
    let dh_norms = dh_steps.chunks_exact(batch * state).map(norm).collect();
    let all = Steps {
        dzx: time_major(|s| &s.dzx),
        dzh_gru: time_major(|s| &s.dzh_gru),
        dh_all: time_major(|s| &s.dh_all),
        dh: batch_major(|s| &s.dh),
        dc: batch_major(|s| &s.dc),
        dpeep: Vec::new(),
        dh_norms,
        dh_steps: Vec::new(),
    };
    let merged = merge(trace, false);
    layer.weight_gradients(&merged, &merged.h_used(state), all, input_gradient)
}

/// The whole batch's trace from its parts' traces; without `with_tape`, only what the weight
/// gradients read (not the gates and cell states).
pub(super) fn merge<T: Real>(trace: &Trace<T>, with_tape: bool) -> Trace<T> {
    let (parts, steps) = (&trace.parts, trace.steps);
    let time_major = |field: fn(&Trace<T>) -> &[T], steps: usize| interleave(parts.iter().map(field), steps);
    let batch_major = |field: fn(&Trace<T>) -> Option<&[T]>| parts.iter().map(field).collect::<Option<Vec<&[T]>>>().map(|all| all.concat());
    let tape = |field: fn(&Trace<T>) -> &[T], steps: usize| if with_tape { time_major(field, steps) } else { Vec::new() };
    Trace {
        x: time_major(|p| &p.x, steps),
        h: time_major(|p| &p.h, steps + 1),
        m: time_major(|p| &p.m, steps),
        c: tape(|p| &p.c, steps + 1),
        gates: tape(|p| &p.gates, steps),
        gru: time_major(|p| &p.gru, steps),
        input_mask: batch_major(|p| p.input_mask.as_deref()),
        recurrent_mask: batch_major(|p| p.recurrent_mask.as_deref()),
        ..Trace::empty(steps, trace.batch, trace.lengths.clone())
    }
}

#[cfg(feature = "parallel")]
/// Rows `rows` of a batch-major `[batch, width]` array.
fn rows_of<'a, T>(v: Option<&'a [T]>, rows: &Range<usize>, width: usize) -> Option<&'a [T]> {
    v.map(|v| &v[rows.start * width..rows.end * width])
}

#[cfg(feature = "parallel")]
/// Rows `rows` of a time-major `[steps, batch, width]` array, as `[steps, rows, width]`.
fn take_rows<T: Copy>(x: &[T], steps: usize, batch: usize, rows: &Range<usize>) -> Vec<T> {
    let width = x.len() / (steps * batch).max(1);
    (0..steps).flat_map(|t| &x[(t * batch + rows.start) * width..(t * batch + rows.end) * width]).copied().collect()
}

/// Time-major parts `[steps, rows_p, ·]` side by side as one `[steps, Σ rows_p, ·]`.
fn interleave<'a, T: Copy + 'a>(parts: impl Iterator<Item = &'a [T]> + Clone, steps: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(parts.clone().map(<[T]>::len).sum());
    for t in 0..steps {
        for part in parts.clone() {
            let block = part.len() / steps;
            out.extend_from_slice(&part[t * block..(t + 1) * block]);
        }
    }
    out
}
