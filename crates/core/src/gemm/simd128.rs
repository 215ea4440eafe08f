//! The f32 micro-kernel with wasm simd128: a 4×8 tile held in eight `f32x4` accumulators.
//! They are named locals rather than an array so that they stay in registers.

use crate::real::{MR, NR};
use core::arch::wasm32::*;

pub(crate) fn micro_kernel(kc: usize, a: &[f32], b: &[f32], c: &mut [[f32; NR]; MR]) {
    assert!(a.len() >= kc * MR && b.len() >= kc * NR);
    let zero = f32x4_splat(0.0);
    let (mut c00, mut c01, mut c10, mut c11) = (zero, zero, zero, zero);
    let (mut c20, mut c21, mut c30, mut c31) = (zero, zero, zero, zero);
    let (mut ap, mut bp) = (a.as_ptr(), b.as_ptr());
    for _ in 0..kc {
        // SAFETY: the assert above keeps every read inside `a` and `b`; wasm loads may be unaligned.
        // Multiply then add (not fused), to give the same bits as the portable kernel.
        unsafe {
            let b0 = v128_load(bp as *const v128);
            let b1 = v128_load(bp.add(4) as *const v128);
            let a0 = v128_load32_splat(ap as *const u32);
            c00 = f32x4_add(c00, f32x4_mul(a0, b0));
            c01 = f32x4_add(c01, f32x4_mul(a0, b1));
            let a1 = v128_load32_splat(ap.add(1) as *const u32);
            c10 = f32x4_add(c10, f32x4_mul(a1, b0));
            c11 = f32x4_add(c11, f32x4_mul(a1, b1));
            let a2 = v128_load32_splat(ap.add(2) as *const u32);
            c20 = f32x4_add(c20, f32x4_mul(a2, b0));
            c21 = f32x4_add(c21, f32x4_mul(a2, b1));
            let a3 = v128_load32_splat(ap.add(3) as *const u32);
            c30 = f32x4_add(c30, f32x4_mul(a3, b0));
            c31 = f32x4_add(c31, f32x4_mul(a3, b1));
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
            lo = f32x4_add(lo, f32x4_mul(v128_load(ap as *const v128), v128_load(bp as *const v128)));
            hi = f32x4_add(hi, f32x4_mul(v128_load(ap.add(4) as *const v128), v128_load(bp.add(4) as *const v128)));
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
            lo0 = f32x4_add(lo0, f32x4_mul(a_lo, b0l));
            hi0 = f32x4_add(hi0, f32x4_mul(a_hi, b0h));
            let (b1l, b1h) = load(b[1]);
            lo1 = f32x4_add(lo1, f32x4_mul(a_lo, b1l));
            hi1 = f32x4_add(hi1, f32x4_mul(a_hi, b1h));
            let (b2l, b2h) = load(b[2]);
            lo2 = f32x4_add(lo2, f32x4_mul(a_lo, b2l));
            hi2 = f32x4_add(hi2, f32x4_mul(a_hi, b2h));
            let (b3l, b3h) = load(b[3]);
            lo3 = f32x4_add(lo3, f32x4_mul(a_lo, b3l));
            hi3 = f32x4_add(hi3, f32x4_mul(a_hi, b3h));
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
