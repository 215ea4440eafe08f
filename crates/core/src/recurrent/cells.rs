//! The per-row math of each cell: a few passes over a row's gates turn pre-activations into
//! the new state (forward) or the state's gradient into pre-activation gradients (backward).
//! Gate order and formulas are PyTorch's.
//!
//! Notation: `zx` is the row's input projection `W_ih·x + b_ih`, `zh` its recurrent product
//! `W_hh·h + b_hh`, both `[G·H]`; `gates` is what the tape keeps: the gate activations. The
//! forward functions take `gates` holding zx and turn it into the gates in place, since zx is
//! read nowhere else: a sequence's gates need no buffer of their own.

use crate::activation::{sigmoid, sigmoid_in_place, tanh_in_place, Activation};
use crate::real::Real;

/// LSTM forward, gates i, f, g, o: `c = f⊙c_prev + i⊙g`, `h = o⊙tanh(c)`.
/// Without a forget gate f ≡ 1; with peepholes `p = (p_i, p_f, p_o)` the gates also see the
/// cell: i and f see c_prev, o sees the new c.
pub(crate) fn lstm_forward<T: Real>(forget_gate: bool, peep: &[T], zh: &[T], c_prev: &[T], gates: &mut [T], c: &mut [T], h: &mut [T]) {
    if peep.is_empty() {
        lstm_forward_row::<T, false>(forget_gate, peep, zh, c_prev, gates, c, h)
    } else {
        lstm_forward_row::<T, true>(forget_gate, peep, zh, c_prev, gates, c, h)
    }
}

/// `lstm_forward` with the peephole test out of the loops, over blocks of exactly `n` values, and
/// the activations in passes of their own, so that every loop vectorises. Each value is computed
/// by the same operations in the same order as the fused formula.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn lstm_forward_row<T: Real, const PEEP: bool>(forget_gate: bool, peep: &[T], zh: &[T], c_prev: &[T], gates: &mut [T], c: &mut [T], h: &mut [T]) {
    let n = h.len();
    let [hi, hf, hg, ho] = blocks(zh, n);
    let [pi, pf, po] = if PEEP { blocks(peep, n) } else { [&[][..]; 3] };
    let [gi, gf, gg, go] = blocks_mut(gates, n);
    let (c_prev, c) = (&c_prev[..n], &mut c[..n]);
    let p = |block: &[T], j: usize, x: T| if PEEP { block[j] * x } else { T::zero() };
    for j in 0..n {
        gi[j] = gi[j] + hi[j] + p(pi, j, c_prev[j]);
        gf[j] = gf[j] + hf[j] + p(pf, j, c_prev[j]);
        gg[j] = gg[j] + hg[j];
    }
    sigmoid_in_place(gi);
    if forget_gate {
        sigmoid_in_place(gf);
    } else {
        gf.fill(T::one());
    }
    tanh_in_place(gg);
    for j in 0..n {
        c[j] = gf[j] * c_prev[j] + gi[j] * gg[j];
        go[j] = go[j] + ho[j] + p(po, j, c[j]);
    }
    sigmoid_in_place(go);
    h.copy_from_slice(c);
    tanh_in_place(h);
    h.iter_mut().zip(go.iter()).for_each(|(h, &o)| *h = o * *h);
}

/// LSTM backward for one row. `dc` holds dL/dc_t on entry and dL/dc_{t-1} on return;
/// peephole gradients are added into `dpeep`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn lstm_backward<T: Real>(forget_gate: bool, peep: &[T], gates: &[T], c_prev: &[T], c: &[T], dh: &[T], dc: &mut [T], dz: &mut [T], dpeep: &mut [T]) {
    if peep.is_empty() {
        lstm_backward_row::<T, false>(forget_gate, peep, gates, c_prev, c, dh, dc, dz, dpeep)
    } else {
        lstm_backward_row::<T, true>(forget_gate, peep, gates, c_prev, c, dh, dc, dz, dpeep)
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn lstm_backward_row<T: Real, const PEEP: bool>(forget_gate: bool, peep: &[T], gates: &[T], c_prev: &[T], c: &[T], dh: &[T], dc: &mut [T], dz: &mut [T], dpeep: &mut [T]) {
    let n = dh.len();
    let [i, f, g, o] = blocks(gates, n);
    let [pi, pf, po] = if PEEP { blocks(peep, n) } else { [&[][..]; 3] };
    let [dzi, dzf, dzg, dzo] = blocks_mut(dz, n);
    let [dpi, dpf, dpo] = if PEEP { blocks_mut(dpeep, n) } else { [&mut [][..], &mut [][..], &mut [][..]] };
    let (c_prev, c, dc) = (&c_prev[..n], &c[..n], &mut dc[..n]);
    let p = |block: &[T], j: usize, x: T| if PEEP { block[j] * x } else { T::zero() };
    // tanh(c) in a pass of its own (it vectorises there), held in o's gradient block until used.
    dzo.copy_from_slice(c);
    tanh_in_place(dzo);
    for j in 0..n {
        let tc = dzo[j];
        let d_o = dh[j] * tc * o[j] * (T::one() - o[j]);
        let dct = dc[j] + dh[j] * o[j] * (T::one() - tc * tc) + p(po, j, d_o);
        let d_i = dct * g[j] * i[j] * (T::one() - i[j]);
        let d_f = if forget_gate { dct * c_prev[j] * f[j] * (T::one() - f[j]) } else { T::zero() };
        (dzi[j], dzf[j], dzg[j], dzo[j]) = (d_i, d_f, dct * i[j] * (T::one() - g[j] * g[j]), d_o);
        dc[j] = dct * f[j] + p(pi, j, d_i) + p(pf, j, d_f);
        if PEEP {
            dpi[j] = dpi[j] + d_i * c_prev[j];
            dpf[j] = dpf[j] + d_f * c_prev[j];
            dpo[j] = dpo[j] + d_o * c[j];
        }
    }
}

/// GRU forward (reset applied after the recurrent product), gates r, z, n:
/// `n = tanh(zx_n + r⊙zh_n)`, `h = (1 − z)⊙n + z⊙h_prev`. `zh_n` is kept for backward.
/// Laid out as `lstm_forward_row` is, for the same reason.
pub(crate) fn gru_forward<T: Real>(zh: &[T], h_prev: &[T], gates: &mut [T], zh_n: &mut [T], h: &mut [T]) {
    let n = h.len();
    let [hr, hz, hn] = blocks(zh, n);
    let [gr, gz, gn] = blocks_mut(gates, n);
    let h_prev = &h_prev[..n];
    for j in 0..n {
        gr[j] = gr[j] + hr[j];
        gz[j] = gz[j] + hz[j];
    }
    sigmoid_in_place(gr);
    sigmoid_in_place(gz);
    for j in 0..n {
        gn[j] = gn[j] + gr[j] * hn[j];
    }
    tanh_in_place(gn);
    for j in 0..n {
        h[j] = (T::one() - gz[j]) * gn[j] + gz[j] * h_prev[j];
    }
    zh_n[..n].copy_from_slice(hn);
}

/// The `G` blocks of `n` values at the start of a row of gates.
#[inline(always)]
fn blocks<T, const G: usize>(row: &[T], n: usize) -> [&[T]; G] {
    std::array::from_fn(|k| &row[k * n..(k + 1) * n])
}

#[inline(always)]
fn blocks_mut<T, const G: usize>(row: &mut [T], n: usize) -> [&mut [T]; G] {
    let mut rest = &mut row[..G * n];
    std::array::from_fn(|_| {
        let (block, tail) = std::mem::take(&mut rest).split_at_mut(n);
        rest = tail;
        block
    })
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
pub(crate) fn gru_before_gates<T: Real>(zh_rz: &[T], h_prev: &[T], gates: &mut [T], reset_h: &mut [T]) {
    let n = h_prev.len();
    for j in 0..n {
        let r = sigmoid(gates[j] + zh_rz[j]);
        let z = sigmoid(gates[n + j] + zh_rz[n + j]);
        (gates[j], gates[n + j]) = (r, z);
        reset_h[j] = r * h_prev[j];
    }
}

/// Second half: `n = tanh(zx_n + W_hn·(r⊙h_prev) + b_hn)`, `h = (1 − z)⊙n + z⊙h_prev`.
pub(crate) fn gru_before_output<T: Real>(zh_n: &[T], h_prev: &[T], gates: &mut [T], h: &mut [T]) {
    let n = h.len();
    for j in 0..n {
        let z = gates[n + j];
        let candidate = T::activation_tanh(gates[2 * n + j] + zh_n[j]);
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
