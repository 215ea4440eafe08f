//! The f32 micro-kernel with wasm simd128: a 4×8 tile held in eight `f32x4` accumulators.
//! They are named locals rather than an array so that they stay in registers.
//!
//! The relaxed-simd build (`+relaxed-simd`) multiplies and adds in one instruction, fused where
//! the CPU has FMA: one rounding instead of two, so its bits differ from the default build's
//! (and may differ between CPUs), but not between thread counts on one machine.

use crate::real::{MR, NR};
use core::arch::wasm32::*;

/// `c + a·b`: a separate multiply and add, giving the portable kernel's bits.
#[cfg(not(target_feature = "relaxed-simd"))]
#[inline(always)]
fn madd(a: v128, b: v128, c: v128) -> v128 {
    f32x4_add(c, f32x4_mul(a, b))
}

/// `c + a·b` in one relaxed multiply-add (fused on x86 with FMA and on arm64).
#[cfg(target_feature = "relaxed-simd")]
#[inline(always)]
fn madd(a: v128, b: v128, c: v128) -> v128 {
    f32x4_relaxed_madd(a, b, c)
}

pub(crate) fn micro_kernel(kc: usize, a: &[f32], b: &[f32], c: &mut [[f32; NR]; MR]) {
    assert!(a.len() >= kc * MR && b.len() >= kc * NR);
    let zero = f32x4_splat(0.0);
    let (mut c00, mut c01, mut c10, mut c11) = (zero, zero, zero, zero);
    let (mut c20, mut c21, mut c30, mut c31) = (zero, zero, zero, zero);
    let (mut ap, mut bp) = (a.as_ptr(), b.as_ptr());
    for _ in 0..kc {
        // SAFETY: the assert above keeps every read inside `a` and `b`; wasm loads may be unaligned.
        unsafe {
            let b0 = v128_load(bp as *const v128);
            let b1 = v128_load(bp.add(4) as *const v128);
            let a0 = v128_load32_splat(ap as *const u32);
            c00 = madd(a0, b0, c00);
            c01 = madd(a0, b1, c01);
            let a1 = v128_load32_splat(ap.add(1) as *const u32);
            c10 = madd(a1, b0, c10);
            c11 = madd(a1, b1, c11);
            let a2 = v128_load32_splat(ap.add(2) as *const u32);
            c20 = madd(a2, b0, c20);
            c21 = madd(a2, b1, c21);
            let a3 = v128_load32_splat(ap.add(3) as *const u32);
            c30 = madd(a3, b0, c30);
            c31 = madd(a3, b1, c31);
            ap = ap.add(MR);
            bp = bp.add(NR);
        }
    }
    for (row, (lo, hi)) in c.iter_mut().zip([(c00, c01), (c10, c11), (c20, c21), (c30, c31)]) {
        // SAFETY: each row holds NR = 8 f32, two v128 stores.
        unsafe {
            v128_store(row.as_mut_ptr() as *mut v128, lo);
            v128_store(row.as_mut_ptr().add(4) as *mut v128, hi);
        }
    }
}

/// `Σ a[p]·b[p]` in the order of `Real::dot`'s portable version: two `f32x4` accumulators are
/// its eight partial sums.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let whole = n / 8 * 8;
    let (mut lo, mut hi) = (f32x4_splat(0.0), f32x4_splat(0.0));
    let mut p = 0;
    while p < whole {
        // SAFETY: p + 8 <= whole <= both lengths; wasm loads may be unaligned.
        unsafe {
            let (ap, bp) = (a.as_ptr().add(p), b.as_ptr().add(p));
            lo = madd(v128_load(ap as *const v128), v128_load(bp as *const v128), lo);
            hi = madd(v128_load(ap.add(4) as *const v128), v128_load(bp.add(4) as *const v128), hi);
        }
        p += 8;
    }
    let t = f32x4_add(lo, hi);
    let mut sum = (f32x4_extract_lane::<0>(t) + f32x4_extract_lane::<1>(t)) + (f32x4_extract_lane::<2>(t) + f32x4_extract_lane::<3>(t));
    for p in whole..n {
        sum += a[p] * b[p];
    }
    sum
}

/// `Real::dot_rows`: six weight rows at a time against `a`, one `f32x4` accumulator each,
/// sharing the loads of `a`, as named locals over raw row pointers (an array of accumulators,
/// or a call per group, measured a third to a half slower). Six, not eight: V8 loads a round's rows
/// before it multiplies, and eight rows, eight accumulators and `a` overflow x64's sixteen
/// vector registers, spilling two accumulators to the stack every round (12% slower). The
/// last rows one at a time, in the same order.
pub(crate) fn dot_rows(a: &[f32], b: &[f32], stride: usize, out: &mut [f32]) {
    let (k, n) = (a.len(), out.len());
    assert!(n == 0 || (n - 1) * stride + k <= b.len());
    let whole = k / 4 * 4;
    let x = a.as_ptr();
    let tail = |sum: f32, row: *const f32| {
        // SAFETY: q < k, inside `a` and (by the assert) inside the row.
        (whole..k).fold(sum, |sum, q| unsafe { sum + *x.add(q) * *row.add(q) })
    };
    let mut j = 0;
    while j + 6 <= n {
        let zero = f32x4_splat(0.0);
        let (mut s0, mut s1, mut s2, mut s3, mut s4, mut s5) = (zero, zero, zero, zero, zero, zero);
        // SAFETY: rows j..j+6 lie inside `b` by the assert.
        let rows: [*const f32; 6] = std::array::from_fn(|r| unsafe { b.as_ptr().add((j + r) * stride) });
        let [r0, r1, r2, r3, r4, r5] = rows;
        let mut p = 0;
        while p < whole {
            // SAFETY: p + 4 <= whole <= k, inside `a` and every row; wasm loads may be unaligned.
            unsafe {
                let load = |r: *const f32| v128_load(r.add(p) as *const v128);
                let xv = load(x);
                s0 = madd(xv, load(r0), s0);
                s1 = madd(xv, load(r1), s1);
                s2 = madd(xv, load(r2), s2);
                s3 = madd(xv, load(r3), s3);
                s4 = madd(xv, load(r4), s4);
                s5 = madd(xv, load(r5), s5);
            }
            p += 4;
        }
        let mut sums = [0.0; 8];
        // SAFETY: two v128 stores fill the eight values (the last two repeat s4 and s5).
        unsafe {
            v128_store(sums.as_mut_ptr() as *mut v128, fold4(s0, s1, s2, s3));
            v128_store(sums.as_mut_ptr().add(4) as *mut v128, fold4(s4, s5, s4, s5));
        }
        for ((o, &sum), row) in out[j..j + 6].iter_mut().zip(&sums).zip(rows) {
            *o = tail(sum, row);
        }
        j += 6;
    }
    for (j, o) in out.iter_mut().enumerate().skip(j) {
        // SAFETY: row j lies inside `b` by the assert.
        let row = unsafe { b.as_ptr().add(j * stride) };
        let mut s = f32x4_splat(0.0);
        for p in (0..whole).step_by(4) {
            // SAFETY: as in the loop above.
            unsafe { s = madd(v128_load(x.add(p) as *const v128), v128_load(row.add(p) as *const v128), s) };
        }
        let sum = (f32x4_extract_lane::<0>(s) + f32x4_extract_lane::<1>(s)) + (f32x4_extract_lane::<2>(s) + f32x4_extract_lane::<3>(s));
        *o = tail(sum, row);
    }
}

/// The lanes of four accumulators folded as `(l0 + l1) + (l2 + l3)`, one result per lane: a 4×4
/// transpose, so that the adds are vector adds.
#[inline(always)]
fn fold4(a: v128, b: v128, c: v128, d: v128) -> v128 {
    let ab_lo = i32x4_shuffle::<0, 4, 1, 5>(a, b);
    let ab_hi = i32x4_shuffle::<2, 6, 3, 7>(a, b);
    let cd_lo = i32x4_shuffle::<0, 4, 1, 5>(c, d);
    let cd_hi = i32x4_shuffle::<2, 6, 3, 7>(c, d);
    let l0 = i64x2_shuffle::<0, 2>(ab_lo, cd_lo);
    let l1 = i64x2_shuffle::<1, 3>(ab_lo, cd_lo);
    let l2 = i64x2_shuffle::<0, 2>(ab_hi, cd_hi);
    let l3 = i64x2_shuffle::<1, 3>(ab_hi, cd_hi);
    f32x4_add(f32x4_add(l0, l1), f32x4_add(l2, l3))
}
