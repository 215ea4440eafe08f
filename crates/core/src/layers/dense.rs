//! A fully connected layer on every row (Keras `TimeDistributed(Dense)`, PyTorch `Linear`):
//! `y = act(x·Wᵀ + b)` with PyTorch's layout `weight [out, in]`, `bias [out]`.

use crate::activation::Activation;
use crate::error::{elements, zeros};
use crate::gemm::{column_sums, gemm, Accumulate, MatMut, MatRef};
use crate::real::Real;
use crate::{Error, Result};

#[derive(Clone, Debug)]
pub struct Dense<T> {
    pub input: usize,
    pub output: usize,
    /// `None` is linear.
    pub activation: Option<Activation>,
    pub weight: Vec<T>,
    pub bias: Vec<T>,
}

/// What backward needs: the input, and the activated output when there is an activation.
#[derive(Clone, Debug)]
pub struct DenseTrace<T> {
    rows: usize,
    x: Vec<T>,
    y: Vec<T>,
}

#[derive(Clone, Debug)]
pub struct DenseGradients<T> {
    pub dx: Vec<T>,
    pub weight: Vec<T>,
    pub bias: Vec<T>,
}

impl<T: Real> Dense<T> {
    pub fn new(input: usize, output: usize, activation: Option<Activation>) -> Result<Self> {
        if input == 0 || output == 0 {
            return Err(Error::config("Dense layer", format!("input and output sizes must be at least 1, got {input} and {output}")));
        }
        Ok(Dense { input, output, activation, weight: vec![T::zero(); output * input], bias: vec![T::zero(); output] })
    }

    pub fn forward(&self, x: &[T], rows: usize) -> Result<(Vec<T>, DenseTrace<T>)> {
        let name = self.to_string();
        let expected = elements(&name, &[rows, self.input])?;
        if x.len() != expected {
            return Err(Error::shape(format!("{name}: x"), format!("[rows={rows}, {}] = {expected} values", self.input), format!("{} values", x.len())));
        }
        let mut y = zeros(&name, elements(&name, &[rows, self.output])?)?;
        gemm(MatRef::new(x, rows, self.input)?, MatRef::new(&self.weight, self.output, self.input)?.t(), MatMut::new(&mut y, rows, self.output)?, Accumulate::Overwrite)?;
        for row in y.chunks_exact_mut(self.output) {
            for (v, &b) in row.iter_mut().zip(&self.bias) {
                *v = self.activation.map_or(*v + b, |a| a.apply(*v + b));
            }
        }
        let kept = if self.activation.is_some() { y.clone() } else { Vec::new() };
        Ok((y, DenseTrace { rows, x: x.to_vec(), y: kept }))
    }

    pub fn backward(&self, trace: &DenseTrace<T>, dy: &[T]) -> Result<DenseGradients<T>> {
        let rows = trace.rows;
        if dy.len() != rows * self.output {
            return Err(Error::shape(format!("{self}: dy"), format!("[rows={rows}, {}] = {} values", self.output, rows * self.output), format!("{} values", dy.len())));
        }
        let dz: Vec<T> = match self.activation {
            None => dy.to_vec(),
            Some(act) => dy.iter().zip(&trace.y).map(|(&g, &y)| g * act.derivative_from_output(y)).collect(),
        };
        let mut weight = vec![T::zero(); self.output * self.input];
        gemm(MatRef::new(&dz, rows, self.output)?.t(), MatRef::new(&trace.x, rows, self.input)?, MatMut::new(&mut weight, self.output, self.input)?, Accumulate::Overwrite)?;
        let mut dx = zeros(&self.to_string(), trace.x.len())?;
        gemm(MatRef::new(&dz, rows, self.output)?, MatRef::new(&self.weight, self.output, self.input)?, MatMut::new(&mut dx, rows, self.input)?, Accumulate::Overwrite)?;
        Ok(DenseGradients { dx, weight, bias: column_sums(&dz, self.output) })
    }
}

impl<T> std::fmt::Display for Dense<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dense layer ({} → {})", self.input, self.output)
    }
}
