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
    /// so every implementation gives the same bits as the portable one; only the opt-in
    /// relaxed-simd build fuses them.
    fn micro_kernel(kc: usize, a: &[Self], b: &[Self], c: &mut [[Self; NR]; MR]) {
        portable_micro_kernel(kc, a, b, c)
    }

    /// `Σ a[p]·b[p]` in a fixed order that every implementation follows: eight partial sums
    /// (`s[l]` over `p ≡ l mod 8` of the whole blocks of 8), folded as `t[l] = s[l] + s[l+4]` and
    /// `(t0 + t1) + (t2 + t3)`, then the remaining values one by one.
    fn dot(a: &[Self], b: &[Self]) -> Self {
        portable_dot(a, b)
    }

    /// Four `dot`s of `a` with `b[0..4]`, each in `dot`'s order (one pass over `a`, for speed).
    fn dot4(a: &[Self], b: [&[Self]; 4]) -> [Self; 4] {
        b.map(|b| Self::dot(a, b))
    }
}

impl Real for f64 {}

impl Real for f32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn micro_kernel(kc: usize, a: &[f32], b: &[f32], c: &mut [[f32; NR]; MR]) {
        crate::gemm::simd128::micro_kernel(kc, a, b, c)
    }

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn dot(a: &[f32], b: &[f32]) -> f32 {
        crate::gemm::simd128::dot(a, b)
    }

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    fn dot4(a: &[f32], b: [&[f32]; 4]) -> [f32; 4] {
        crate::gemm::simd128::dot4(a, b)
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

fn portable_dot<T: Real>(a: &[T], b: &[T]) -> T {
    let n = a.len().min(b.len());
    let whole = n / 8 * 8;
    let mut s = [T::zero(); 8];
    for (ab, bb) in a[..whole].chunks_exact(8).zip(b[..whole].chunks_exact(8)) {
        for l in 0..8 {
            s[l] = s[l] + ab[l] * bb[l];
        }
    }
    let t: [T; 4] = std::array::from_fn(|l| s[l] + s[l + 4]);
    let mut sum = (t[0] + t[1]) + (t[2] + t[3]);
    for p in whole..n {
        sum = sum + a[p] * b[p];
    }
    sum
}
