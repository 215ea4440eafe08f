//! Elementwise activations, with derivatives written in terms of the activation's output
//! (what the tape stores), so backward passes never recompute the forward nonlinearity.

use crate::real::Real;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Tanh,
    Relu,
    Sigmoid,
    /// Keras 2's piecewise-linear sigmoid, `clip(0.2·x + 0.5, 0, 1)`: TF.js layers' default
    /// recurrent activation.
    HardSigmoid,
}

impl Activation {
    #[inline(always)]
    pub fn apply<T: Real>(self, x: T) -> T {
        match self {
            Activation::Tanh => T::activation_tanh(x),
            Activation::Relu => x.max(T::zero()),
            Activation::Sigmoid => sigmoid(x),
            Activation::HardSigmoid => (lit::<T>(0.2) * x + lit(0.5)).max(T::zero()).min(T::one()),
        }
    }

    /// dy/dx given y = apply(x).
    #[inline(always)]
    pub fn derivative_from_output<T: Real>(self, y: T) -> T {
        match self {
            Activation::Tanh => T::one() - y * y,
            Activation::Relu => if y > T::zero() { T::one() } else { T::zero() },
            Activation::Sigmoid => y * (T::one() - y),
            Activation::HardSigmoid => if y > T::zero() && y < T::one() { lit(0.2) } else { T::zero() },
        }
    }
}

#[inline(always)]
pub fn sigmoid<T: Real>(x: T) -> T {
    T::one() / (T::one() + T::activation_exp(-x))
}

/// `sigmoid` of every value, in place. A loop of nothing else is what LLVM vectorises; inside
/// the cells' fused loops it stayed scalar.
pub(crate) fn sigmoid_in_place<T: Real>(x: &mut [T]) {
    x.iter_mut().for_each(|v| *v = sigmoid(*v));
}

/// `tanh` of every value, in place; see `sigmoid_in_place`.
pub(crate) fn tanh_in_place<T: Real>(x: &mut [T]) {
    x.iter_mut().for_each(|v| *v = T::activation_tanh(*v));
}

#[inline(always)]
pub(crate) fn lit<T: Real>(value: f64) -> T {
    T::from(value).expect("a literal fits every float type")
}
