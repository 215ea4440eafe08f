//! The float types the core computes in.

use num_traits::Float;
use std::fmt::Debug;

/// Rows and columns of the GEMM register tile. 4×8 f32 is eight simd128 accumulators,
/// which measured fastest in V8 (larger tiles spill registers).
pub const MR: usize = 4;
pub const NR: usize = 8;

/// A float the core can compute in: `f32` for use, `f64` for gradient checks.
pub trait Real: Float + Debug + Default + Send + Sync + 'static {
    /// `c[r][j] = Σ_p a[p·MR + r] · b[p·NR + j]` over `kc` packed steps.
    ///
    /// The sum runs in order of `p` with a separate multiply and add (no fused multiply-add),
    /// so every implementation gives the same bits as the portable one.
    fn micro_kernel(kc: usize, a: &[Self], b: &[Self], c: &mut [[Self; NR]; MR]) {
        portable_micro_kernel(kc, a, b, c)
    }
}

impl Real for f64 {}

impl Real for f32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn micro_kernel(kc: usize, a: &[f32], b: &[f32], c: &mut [[f32; NR]; MR]) {
        crate::gemm::simd128::micro_kernel(kc, a, b, c)
    }
}

fn portable_micro_kernel<T: Real>(kc: usize, a: &[T], b: &[T], c: &mut [[T; NR]; MR]) {
    let mut acc = [[T::zero(); NR]; MR];
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)).take(kc) {
        for (row, &ar) in acc.iter_mut().zip(ap) {
            for (x, &bj) in row.iter_mut().zip(bp) {
                *x = *x + ar * bj;
            }
        }
    }
    *c = acc;
}
