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

    /// `out[j] = Σ a[p]·b[j·stride + p]` (a row of A against the rows of a weight), each in a
    /// fixed order of its own: four partial sums (`s[l]` over `p ≡ l mod 4` of the whole blocks
    /// of 4), folded as `(s0 + s1) + (s2 + s3)`, then the remaining values one by one. One
    /// accumulator per weight row rather than `dot`'s two, so that the simd128 version can read
    /// six rows at once, which streams a batch of one's weights faster.
    fn dot_rows(a: &[Self], b: &[Self], stride: usize, out: &mut [Self]) {
        for (j, o) in out.iter_mut().enumerate() {
            *o = portable_dot_lanes(a, &b[j * stride..j * stride + a.len()]);
        }
    }

    /// `exp` as the gate activations use it: libm's in f64 (gradient checks); in f32 a
    /// polynomial without branches or calls, so the gate loops vectorise (libm's `expf` and
    /// `tanhf` were a quarter of a recurrent forward pass), with the same bits on every target.
    fn activation_exp(x: Self) -> Self {
        x.exp()
    }

    /// `tanh` as the gate activations use it; see `activation_exp`.
    fn activation_tanh(x: Self) -> Self {
        x.tanh()
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
    fn dot_rows(a: &[f32], b: &[f32], stride: usize, out: &mut [f32]) {
        crate::gemm::simd128::dot_rows(a, b, stride, out)
    }

    #[inline(always)]
    fn activation_exp(x: f32) -> f32 {
        exp_f32(x)
    }

    #[inline(always)]
    fn activation_tanh(x: f32) -> f32 {
        tanh_f32(x)
    }
}

/// Cephes' `expf`: `x = n·ln2 + r` with |r| ≤ ln2/2, a degree-7 polynomial for `e^r`, and `2^n`
/// built in the exponent bits. Within 2 ulp of `exp`; the clamp keeps `2^n` a normal number,
/// which saturates the far tails (they only feed sigmoids and tanh) and lets NaN through.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 split in two, so that n·LN2_HI is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.3, 88.0);
    let n = (x * LOG2_E + 0.5).floor();
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4_f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 5.000_000_1e-1;
    let e_r = p * (r * r) + r + 1.0;
    e_r * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// Cephes' `tanhf`: an odd polynomial below |x| = 0.625, `1 − 2/(e^{2|x|} + 1)` above, both
/// computed and one chosen, so the loop has no branch.
#[inline(always)]
fn tanh_f32(x: f32) -> f32 {
    let z = x * x;
    let p = -5.704_988_7e-3_f32;
    let p = p * z + 2.063_908_9e-2;
    let p = p * z - 5.373_971_6e-2;
    let p = p * z + 1.333_144_2e-1;
    let p = p * z - 3.333_328_2e-1;
    let small = p * z * x + x;
    let a = x.abs();
    let large = 1.0 - 2.0 / (exp_f32(2.0 * a) + 1.0);
    if a < 0.625 { small } else { large.copysign(x) }
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
    lane_dot::<T, 8>(a, b, |s| {
        let t: [T; 4] = std::array::from_fn(|l| s[l] + s[l + 4]);
        (t[0] + t[1]) + (t[2] + t[3])
    })
}

fn portable_dot_lanes<T: Real>(a: &[T], b: &[T]) -> T {
    lane_dot::<T, 4>(a, b, |s| (s[0] + s[1]) + (s[2] + s[3]))
}

/// `Σ a[p]·b[p]` as `L` partial sums over the whole blocks of `L` (`s[l]` over `p ≡ l mod L`),
/// folded by `fold`, then the remaining values one by one: the order the simd128 kernels keep.
fn lane_dot<T: Real, const L: usize>(a: &[T], b: &[T], fold: impl Fn([T; L]) -> T) -> T {
    let n = a.len().min(b.len());
    let whole = n / L * L;
    let mut s = [T::zero(); L];
    for (ab, bb) in a[..whole].chunks_exact(L).zip(b[..whole].chunks_exact(L)) {
        for l in 0..L {
            s[l] = s[l] + ab[l] * bb[l];
        }
    }
    (whole..n).fold(fold(s), |sum, p| sum + a[p] * b[p])
}
