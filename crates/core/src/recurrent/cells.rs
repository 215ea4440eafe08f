//! The fused per-row math of each cell: one pass over a row's gates turns pre-activations into
//! the new state (forward) or the state's gradient into pre-activation gradients (backward).
//! Gate order and formulas are PyTorch's.
//!
//! Notation: `zx` is the row's input projection `W_ih·x + b_ih`, `zh` its recurrent product
//! `W_hh·h + b_hh`, both `[G·H]`; `gates` is what the tape keeps: the gate activations.

use crate::activation::{sigmoid, Activation};
use crate::real::Real;

/// LSTM forward, gates i, f, g, o: `c = f⊙c_prev + i⊙g`, `h = o⊙tanh(c)`.
/// Without a forget gate f ≡ 1; with peepholes `p = (p_i, p_f, p_o)` the gates also see the
/// cell: i and f see c_prev, o sees the new c.
pub(crate) fn lstm_forward<T: Real>(forget_gate: bool, peep: &[T], zx: &[T], zh: &[T], c_prev: &[T], gates: &mut [T], c: &mut [T], h: &mut [T]) {
    let n = h.len();
    let p = |k: usize, j: usize| if peep.is_empty() { T::zero() } else { peep[k * n + j] };
    for j in 0..n {
        let i = sigmoid(zx[j] + zh[j] + p(0, j) * c_prev[j]);
        let f = if forget_gate { sigmoid(zx[n + j] + zh[n + j] + p(1, j) * c_prev[j]) } else { T::one() };
        let g = (zx[2 * n + j] + zh[2 * n + j]).tanh();
        c[j] = f * c_prev[j] + i * g;
        let o = sigmoid(zx[3 * n + j] + zh[3 * n + j] + p(2, j) * c[j]);
        h[j] = o * c[j].tanh();
        (gates[j], gates[n + j], gates[2 * n + j], gates[3 * n + j]) = (i, f, g, o);
    }
}

/// LSTM backward for one row. `dc` holds dL/dc_t on entry and dL/dc_{t-1} on return;
/// peephole gradients are added into `dpeep`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn lstm_backward<T: Real>(forget_gate: bool, peep: &[T], gates: &[T], c_prev: &[T], c: &[T], dh: &[T], dc: &mut [T], dz: &mut [T], dpeep: &mut [T]) {
    let n = dh.len();
    let p = |k: usize, j: usize| if peep.is_empty() { T::zero() } else { peep[k * n + j] };
    for j in 0..n {
        let (i, f, g, o) = (gates[j], gates[n + j], gates[2 * n + j], gates[3 * n + j]);
        let tc = c[j].tanh();
        let dzo = dh[j] * tc * o * (T::one() - o);
        let dct = dc[j] + dh[j] * o * (T::one() - tc * tc) + dzo * p(2, j);
        let dzi = dct * g * i * (T::one() - i);
        let dzf = if forget_gate { dct * c_prev[j] * f * (T::one() - f) } else { T::zero() };
        (dz[j], dz[n + j], dz[2 * n + j], dz[3 * n + j]) = (dzi, dzf, dct * i * (T::one() - g * g), dzo);
        dc[j] = dct * f + dzi * p(0, j) + dzf * p(1, j);
        if !peep.is_empty() {
            dpeep[j] = dpeep[j] + dzi * c_prev[j];
            dpeep[n + j] = dpeep[n + j] + dzf * c_prev[j];
            dpeep[2 * n + j] = dpeep[2 * n + j] + dzo * c[j];
        }
    }
}

/// GRU forward (reset applied after the recurrent product), gates r, z, n:
/// `n = tanh(zx_n + r⊙zh_n)`, `h = (1 − z)⊙n + z⊙h_prev`. `zh_n` is kept for backward.
pub(crate) fn gru_forward<T: Real>(zx: &[T], zh: &[T], h_prev: &[T], gates: &mut [T], zh_n: &mut [T], h: &mut [T]) {
    let n = h.len();
    for j in 0..n {
        let r = sigmoid(zx[j] + zh[j]);
        let z = sigmoid(zx[n + j] + zh[n + j]);
        let candidate = (zx[2 * n + j] + r * zh[2 * n + j]).tanh();
        h[j] = (T::one() - z) * candidate + z * h_prev[j];
        (gates[j], gates[n + j], gates[2 * n + j]) = (r, z, candidate);
        zh_n[j] = zh[2 * n + j];
    }
}

/// GRU backward for one row: the input-side and recurrent-side pre-activation gradients differ
/// (the reset scales only the recurrent n part), and h_prev also flows directly through z.
pub(crate) fn gru_backward<T: Real>(gates: &[T], zh_n: &[T], h_prev: &[T], dh: &[T], dzx: &mut [T], dzh: &mut [T], dh_prev: &mut [T]) {
    let n = dh.len();
    for j in 0..n {
        let (r, z, candidate) = (gates[j], gates[n + j], gates[2 * n + j]);
        let dn = dh[j] * (T::one() - z) * (T::one() - candidate * candidate);
        let dz = dh[j] * (h_prev[j] - candidate) * z * (T::one() - z);
        let dr = dn * zh_n[j] * r * (T::one() - r);
        (dzx[j], dzx[n + j], dzx[2 * n + j]) = (dr, dz, dn);
        (dzh[j], dzh[n + j], dzh[2 * n + j]) = (dr, dz, dn * r);
        dh_prev[j] = dh[j] * z;
    }
}

/// GRU with the reset applied before the recurrent product (Keras `reset_after=False`), first
/// half: r and z from `zh_rz = W_hh[r,z]·h_prev + b_hh[r,z]`, and the reset state `r⊙h_prev`
/// that the second recurrent product reads.
pub(crate) fn gru_before_gates<T: Real>(zx: &[T], zh_rz: &[T], h_prev: &[T], gates: &mut [T], reset_h: &mut [T]) {
    let n = h_prev.len();
    for j in 0..n {
        let r = sigmoid(zx[j] + zh_rz[j]);
        let z = sigmoid(zx[n + j] + zh_rz[n + j]);
        (gates[j], gates[n + j]) = (r, z);
        reset_h[j] = r * h_prev[j];
    }
}

/// Second half: `n = tanh(zx_n + W_hn·(r⊙h_prev) + b_hn)`, `h = (1 − z)⊙n + z⊙h_prev`.
pub(crate) fn gru_before_output<T: Real>(zx: &[T], zh_n: &[T], h_prev: &[T], gates: &mut [T], h: &mut [T]) {
    let n = h.len();
    for j in 0..n {
        let z = gates[n + j];
        let candidate = (zx[2 * n + j] + zh_n[j]).tanh();
        gates[2 * n + j] = candidate;
        h[j] = (T::one() - z) * candidate + z * h_prev[j];
    }
}

/// Backward of the second half: the z and n pre-activation gradients (written into `dz`'s z and
/// n blocks) and the direct `dh⊙z` part of dL/dh_prev.
pub(crate) fn gru_before_output_backward<T: Real>(gates: &[T], h_prev: &[T], dh: &[T], dz: &mut [T], dh_prev: &mut [T]) {
    let n = dh.len();
    for j in 0..n {
        let (z, candidate) = (gates[n + j], gates[2 * n + j]);
        dz[n + j] = dh[j] * (h_prev[j] - candidate) * z * (T::one() - z);
        dz[2 * n + j] = dh[j] * (T::one() - z) * (T::one() - candidate * candidate);
        dh_prev[j] = dh[j] * z;
    }
}

/// Backward of the first half, given `d_reset_h = dL/d(r⊙h)` where `h` is the state the
/// products read: the r pre-activation gradient, and the reset path's part of dL/dh (added).
pub(crate) fn gru_before_gates_backward<T: Real>(gates: &[T], h: &[T], d_reset_h: &[T], dz: &mut [T], dh: &mut [T]) {
    for j in 0..h.len() {
        let r = gates[j];
        dz[j] = d_reset_h[j] * h[j] * r * (T::one() - r);
        dh[j] = dh[j] + d_reset_h[j] * r;
    }
}

/// Elman forward: `h = act(zx + zh)`.
pub(crate) fn elman_forward<T: Real>(act: Activation, zx: &[T], zh: &[T], h: &mut [T]) {
    for ((h, &x), &r) in h.iter_mut().zip(zx).zip(zh) {
        *h = act.apply(x + r);
    }
}

pub(crate) fn elman_backward<T: Real>(act: Activation, h: &[T], dh: &[T], dz: &mut [T]) {
    for ((dz, &h), &dh) in dz.iter_mut().zip(h).zip(dh) {
        *dz = dh * act.derivative_from_output(h);
    }
}
