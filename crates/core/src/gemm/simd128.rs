//! The f32 micro-kernel with wasm simd128: a 4×8 tile held in eight `f32x4` accumulators.

use crate::real::{MR, NR};
use core::arch::wasm32::*;

pub(crate) fn micro_kernel(kc: usize, a: &[f32], b: &[f32], c: &mut [[f32; NR]; MR]) {
    assert!(a.len() >= kc * MR && b.len() >= kc * NR);
    let mut acc = [f32x4_splat(0.0); 2 * MR];
    for p in 0..kc {
        // SAFETY: the assert above keeps every read inside `a` and `b`; v128_load is unaligned.
        let (b0, b1, ap) = unsafe {
            let bp = b.as_ptr().add(p * NR);
            (v128_load(bp as *const v128), v128_load(bp.add(4) as *const v128), a.as_ptr().add(p * MR))
        };
        for r in 0..MR {
            // Multiply then add (not fused), to give the same bits as the portable kernel.
            let ar = f32x4_splat(unsafe { *ap.add(r) });
            acc[2 * r] = f32x4_add(acc[2 * r], f32x4_mul(ar, b0));
            acc[2 * r + 1] = f32x4_add(acc[2 * r + 1], f32x4_mul(ar, b1));
        }
    }
    for (r, row) in c.iter_mut().enumerate() {
        // SAFETY: each row holds NR = 8 f32, two v128 stores.
        unsafe {
            v128_store(row.as_mut_ptr() as *mut v128, acc[2 * r]);
            v128_store(row.as_mut_ptr().add(4) as *mut v128, acc[2 * r + 1]);
        }
    }
}
