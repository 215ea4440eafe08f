//! The f32 gate activations are polynomials (they vectorise; libm's calls do not): they must
//! stay within a few ulp of the true functions over the whole range, and keep NaN a NaN.

use seqwasm_core::Real;

fn ulps(got: f32, want: f64) -> f64 {
    let want32 = want as f32;
    let ulp = (f32::from_bits(want32.abs().to_bits() + 1) - want32.abs()) as f64;
    (got as f64 - want).abs() / ulp
}

fn grid(from: f32, to: f32, count: usize) -> impl Iterator<Item = f32> {
    (0..=count).map(move |i| from + (to - from) * i as f32 / count as f32)
}

#[test]
fn exp_is_within_two_ulp_of_exp_over_the_range_it_is_used_in() {
    let worst = grid(-87.0, 88.0, 400_000).map(|x| ulps(f32::activation_exp(x), (x as f64).exp())).fold(0.0, f64::max);
    assert!(worst <= 2.0, "worst error {worst} ulp");
}

#[test]
fn tanh_is_within_two_ulp_of_tanh_or_1e_8_of_it_near_the_saturation() {
    for x in grid(-20.0, 20.0, 400_000).chain(grid(-1e-3, 1e-3, 10_000)) {
        let (got, want) = (f32::activation_tanh(x), (x as f64).tanh());
        assert!(ulps(got, want) <= 2.0 || (got as f64 - want).abs() <= 1e-8, "tanh({x}) = {got}, want {want}");
    }
}

#[test]
fn saturates_the_tails_and_keeps_nan() {
    assert_eq!(f32::activation_tanh(f32::INFINITY), 1.0);
    assert_eq!(f32::activation_tanh(f32::NEG_INFINITY), -1.0);
    assert!(f32::activation_exp(f32::NEG_INFINITY) < 1e-37);
    assert!(f32::activation_exp(1000.0).is_finite() && f32::activation_exp(1000.0) > 1e38);
    assert!(f32::activation_exp(f32::NAN).is_nan());
    assert!(f32::activation_tanh(f32::NAN).is_nan());
}

#[test]
fn f64_keeps_libm_for_gradient_checks() {
    for x in [-3.0, -0.1, 0.0, 0.5, 7.0] {
        assert_eq!(f64::activation_exp(x), x.exp());
        assert_eq!(f64::activation_tanh(x), x.tanh());
    }
}
