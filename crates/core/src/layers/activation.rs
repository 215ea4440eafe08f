//! An activation applied on its own: element-wise, or a softmax over each row.

use crate::activation::Activation;
use crate::real::Real;
use crate::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActivationLayer {
    Elementwise(Activation),
    /// Over each row of `cols` values.
    Softmax { cols: usize },
}

impl ActivationLayer {
    pub fn forward<T: Real>(self, x: &[T]) -> Result<Vec<T>> {
        match self {
            ActivationLayer::Elementwise(act) => Ok(x.iter().map(|&v| act.apply(v)).collect()),
            ActivationLayer::Softmax { cols } => {
                check_rows(cols, x.len())?;
                let mut y = x.to_vec();
                for row in y.chunks_exact_mut(cols) {
                    let max = row.iter().fold(T::neg_infinity(), |a, &b| a.max(b));
                    row.iter_mut().for_each(|v| *v = (*v - max).exp());
                    let sum = row.iter().fold(T::zero(), |a, &b| a + b);
                    row.iter_mut().for_each(|v| *v = *v / sum);
                }
                Ok(y)
            }
        }
    }

    /// dL/dx from the forward output `y` and dL/dy.
    pub fn backward<T: Real>(self, y: &[T], dy: &[T]) -> Result<Vec<T>> {
        if y.len() != dy.len() {
            return Err(Error::shape(format!("{self:?} activation: dy"), format!("{} values", y.len()), format!("{} values", dy.len())));
        }
        match self {
            ActivationLayer::Elementwise(act) => Ok(y.iter().zip(dy).map(|(&y, &g)| g * act.derivative_from_output(y)).collect()),
            ActivationLayer::Softmax { cols } => {
                check_rows(cols, y.len())?;
                let mut dx = vec![T::zero(); y.len()];
                for ((y, g), d) in y.chunks_exact(cols).zip(dy.chunks_exact(cols)).zip(dx.chunks_exact_mut(cols)) {
                    // dx = y ⊙ (dy − Σ dy⊙y)
                    let dot = y.iter().zip(g).fold(T::zero(), |a, (&y, &g)| a + y * g);
                    for j in 0..cols {
                        d[j] = y[j] * (g[j] - dot);
                    }
                }
                Ok(dx)
            }
        }
    }
}

fn check_rows(cols: usize, len: usize) -> Result<()> {
    if cols == 0 || len % cols != 0 {
        return Err(Error::shape("softmax", format!("rows of {cols} values"), format!("{len} values")));
    }
    Ok(())
}
