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
