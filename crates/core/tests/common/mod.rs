//! Helpers shared by the integration tests.
#![allow(dead_code)]

/// A small deterministic generator (SplitMix64) so failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    /// Uniform in [-1, 1).
    pub fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }

    pub fn vec(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.next()).collect()
    }

    pub fn vec_f32(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.next() as f32).collect()
    }
}

/// The derivative at 0 of `f(δ)` (the loss with one value moved by δ), by the five-point
/// central difference: truncation error O(h⁴) ≈ 1e-16 and round-off about 1e-11 in f64 for
/// losses of order 10, while h stays small enough not to cross a relu's kink.
pub fn numeric_derivative(mut f: impl FnMut(f64) -> f64) -> f64 {
    let h = 1e-4;
    (-f(2.0 * h) + 8.0 * f(h) - 8.0 * f(-h) + f(-2.0 * h)) / (12.0 * h)
}

/// Relative error as in the usual gradient check, measured against at least 1e-4, so that a
/// gradient below 1e-4 must match to 1e-10 absolute rather than to round-off-sized ratios.
pub fn relative_error(analytic: f64, numeric: f64) -> f64 {
    (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(1e-4)
}

/// Asserts that `analytic` is the gradient of `loss` at `point`, element by element.
pub fn assert_gradient(what: &str, analytic: &[f64], point: &[f64], mut loss: impl FnMut(&[f64]) -> f64) {
    assert_eq!(analytic.len(), point.len(), "{what}: gradient length");
    let mut moved = point.to_vec();
    for i in 0..point.len() {
        let numeric = numeric_derivative(|d| {
            moved[i] = point[i] + d;
            let value = loss(&moved);
            moved[i] = point[i];
            value
        });
        let err = relative_error(analytic[i], numeric);
        assert!(err < 1e-6, "{what}[{i}]: analytic {} vs numeric {numeric} (relative error {err:e})", analytic[i]);
    }
}
