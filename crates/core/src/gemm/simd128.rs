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

/// Four `dot`s sharing the loads of `a`: eight accumulators in flight instead of two.
pub(crate) fn dot4(a: &[f32], b: [&[f32]; 4]) -> [f32; 4] {
    let n = b.iter().fold(a.len(), |n, b| n.min(b.len()));
    let whole = n / 8 * 8;
    let zero = f32x4_splat(0.0);
    let (mut lo0, mut hi0, mut lo1, mut hi1) = (zero, zero, zero, zero);
    let (mut lo2, mut hi2, mut lo3, mut hi3) = (zero, zero, zero, zero);
    let mut p = 0;
    while p < whole {
        // SAFETY: p + 8 <= whole <= every length; wasm loads may be unaligned.
        unsafe {
            let ap = a.as_ptr().add(p);
            let (a_lo, a_hi) = (v128_load(ap as *const v128), v128_load(ap.add(4) as *const v128));
            let load = |x: &[f32]| (v128_load(x.as_ptr().add(p) as *const v128), v128_load(x.as_ptr().add(p + 4) as *const v128));
            let (b0l, b0h) = load(b[0]);
            lo0 = madd(a_lo, b0l, lo0);
            hi0 = madd(a_hi, b0h, hi0);
            let (b1l, b1h) = load(b[1]);
            lo1 = madd(a_lo, b1l, lo1);
            hi1 = madd(a_hi, b1h, hi1);
            let (b2l, b2h) = load(b[2]);
            lo2 = madd(a_lo, b2l, lo2);
            hi2 = madd(a_hi, b2h, hi2);
            let (b3l, b3h) = load(b[3]);
            lo3 = madd(a_lo, b3l, lo3);
            hi3 = madd(a_hi, b3h, hi3);
        }
        p += 8;
    }
    let fold = |lo: v128, hi: v128, b: &[f32]| {
        let t = f32x4_add(lo, hi);
        let mut sum = (f32x4_extract_lane::<0>(t) + f32x4_extract_lane::<1>(t)) + (f32x4_extract_lane::<2>(t) + f32x4_extract_lane::<3>(t));
        for q in whole..n {
            sum += a[q] * b[q];
        }
        sum
    };
    [fold(lo0, hi0, b[0]), fold(lo1, hi1, b[1]), fold(lo2, hi2, b[2]), fold(lo3, hi3, b[3])]
}
