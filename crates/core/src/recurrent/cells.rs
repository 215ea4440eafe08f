//! The fused per-row math of each cell: one pass over a row's gates turns pre-activations into
//! the new state (forward) or the state's gradient into pre-activation gradients (backward).
//! Gate order and formulas are PyTorch's.
//!
//! Notation: `zx` is the row's input projection `W_ih·x + b_ih`, `zh` its recurrent product
//! `W_hh·h + b_hh`, both `[G·H]`; `gates` is what the tape keeps: the gate activations.

use crate::activation::{sigmoid, Activation};
use crate::real::Real;

/// LSTM forward, gates i, f, g, o:
/// `c = f⊙c_prev + i⊙g`, `h = o⊙tanh(c)`.
pub(crate) fn lstm_forward<T: Real>(zx: &[T], zh: &[T], c_prev: &[T], gates: &mut [T], c: &mut [T], h: &mut [T]) {
    let n = h.len();
    for j in 0..n {
        let i = sigmoid(zx[j] + zh[j]);
        let f = sigmoid(zx[n + j] + zh[n + j]);
        let g = (zx[2 * n + j] + zh[2 * n + j]).tanh();
        let o = sigmoid(zx[3 * n + j] + zh[3 * n + j]);
        c[j] = f * c_prev[j] + i * g;
        h[j] = o * c[j].tanh();
        (gates[j], gates[n + j], gates[2 * n + j], gates[3 * n + j]) = (i, f, g, o);
    }
}

/// LSTM backward for one row. `dc` holds dL/dc_t on entry and dL/dc_{t-1} on return.
pub(crate) fn lstm_backward<T: Real>(gates: &[T], c_prev: &[T], c: &[T], dh: &[T], dc: &mut [T], dz: &mut [T]) {
    let n = dh.len();
    for j in 0..n {
        let (i, f, g, o) = (gates[j], gates[n + j], gates[2 * n + j], gates[3 * n + j]);
        let tc = c[j].tanh();
        let dct = dc[j] + dh[j] * o * (T::one() - tc * tc);
        dz[j] = dct * g * i * (T::one() - i);
        dz[n + j] = dct * c_prev[j] * f * (T::one() - f);
        dz[2 * n + j] = dct * i * (T::one() - g * g);
        dz[3 * n + j] = dh[j] * tc * o * (T::one() - o);
        dc[j] = dct * f;
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
