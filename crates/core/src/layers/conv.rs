//! One-dimensional convolution and pooling over time, for CNN-RNN hybrids, on time-major
//! sequences `[T, B, C]`.
//!
//! The convolution is im2col and one GEMM: each output step's window (`C_in·K` values, in the
//! order of PyTorch's `weight [C_out, C_in, K]`) becomes a row, and the rows times `Wᵀ` are the
//! output. Padding follows Keras: `valid` (none), `same` (output length ⌈T/stride⌉, the extra
//! padding on the right, as TensorFlow does), `causal` (K − 1 zeros on the left).

use crate::error::{elements, zeros};
use crate::gemm::{column_sums, gemm, Accumulate, MatMut, MatRef};
use crate::real::Real;
use crate::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    Valid,
    Same,
    Causal,
}

#[derive(Clone, Debug)]
pub struct Conv1d<T> {
    pub input: usize,
    pub output: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: Padding,
    pub weight: Vec<T>,
    pub bias: Vec<T>,
}

#[derive(Clone, Debug)]
pub struct Conv1dTrace<T> {
    steps: usize,
    batch: usize,
    cols: Vec<T>,
}

#[derive(Clone, Debug)]
pub struct Conv1dGradients<T> {
    pub dx: Vec<T>,
    pub weight: Vec<T>,
    pub bias: Vec<T>,
}

/// The output length and the zeros added before the first step.
fn geometry(steps: usize, kernel: usize, stride: usize, padding: Padding) -> (usize, usize) {
    match padding {
        Padding::Valid => (if steps >= kernel { (steps - kernel) / stride + 1 } else { 0 }, 0),
        Padding::Causal => (if steps == 0 { 0 } else { (steps - 1) / stride + 1 }, kernel - 1),
        Padding::Same => {
            let out = steps.div_ceil(stride);
            let total = ((out.max(1) - 1) * stride + kernel).saturating_sub(steps);
            (out, total / 2)
        }
    }
}

impl<T: Real> Conv1d<T> {
    pub fn new(input: usize, output: usize, kernel: usize, stride: usize, padding: Padding) -> Result<Self> {
        if input == 0 || output == 0 || kernel == 0 || stride == 0 {
            return Err(Error::config("Conv1D layer", format!("channels, kernel and stride must be at least 1, got {input}, {output}, {kernel}, {stride}")));
        }
        Ok(Conv1d { input, output, kernel, stride, padding, weight: vec![T::zero(); output * input * kernel], bias: vec![T::zero(); output] })
    }

    /// The number of output steps for `steps` input steps.
    pub fn output_steps(&self, steps: usize) -> usize {
        geometry(steps, self.kernel, self.stride, self.padding).0
    }

    /// `x [steps, batch, input]` → `[output_steps, batch, output]`.
    pub fn forward(&self, x: &[T], steps: usize, batch: usize) -> Result<(Vec<T>, Conv1dTrace<T>)> {
        let name = self.to_string();
        let expected = elements(&name, &[steps, batch, self.input])?;
        if x.len() != expected {
            return Err(Error::shape(format!("{name}: x"), format!("[T={steps}, B={batch}, C={}] = {expected} values", self.input), format!("{} values", x.len())));
        }
        let (out_steps, left) = geometry(steps, self.kernel, self.stride, self.padding);
        if out_steps == 0 {
            return Err(Error::shape(format!("{name}: x"), format!("at least {} steps", self.kernel), format!("{steps}")));
        }
        let (rows, width) = (out_steps * batch, self.input * self.kernel);
        let mut cols = zeros(&name, elements(&name, &[rows, width])?)?;
        for t in 0..out_steps {
            for k in 0..self.kernel {
                let Some(source) = (t * self.stride + k).checked_sub(left).filter(|&s| s < steps) else { continue };
                for b in 0..batch {
                    let row = &mut cols[(t * batch + b) * width..(t * batch + b + 1) * width];
                    for c in 0..self.input {
                        row[c * self.kernel + k] = x[(source * batch + b) * self.input + c];
                    }
                }
            }
        }
        let mut y = zeros(&name, rows * self.output)?;
        gemm(MatRef::new(&cols, rows, width)?, MatRef::new(&self.weight, self.output, width)?.t(), MatMut::new(&mut y, rows, self.output)?, Accumulate::Overwrite)?;
        for row in y.chunks_exact_mut(self.output) {
            row.iter_mut().zip(&self.bias).for_each(|(v, &b)| *v = *v + b);
        }
        Ok((y, Conv1dTrace { steps, batch, cols }))
    }

    pub fn backward(&self, trace: &Conv1dTrace<T>, dy: &[T]) -> Result<Conv1dGradients<T>> {
        let (steps, batch) = (trace.steps, trace.batch);
        let (out_steps, left) = geometry(steps, self.kernel, self.stride, self.padding);
        let (rows, width) = (out_steps * batch, self.input * self.kernel);
        if dy.len() != rows * self.output {
            return Err(Error::shape(format!("{self}: dy"), format!("[{out_steps}, {batch}, {}] = {} values", self.output, rows * self.output), format!("{} values", dy.len())));
        }
        let mut weight = vec![T::zero(); self.weight.len()];
        gemm(MatRef::new(dy, rows, self.output)?.t(), MatRef::new(&trace.cols, rows, width)?, MatMut::new(&mut weight, self.output, width)?, Accumulate::Overwrite)?;
        let mut dcols = zeros(&self.to_string(), rows * width)?;
        gemm(MatRef::new(dy, rows, self.output)?, MatRef::new(&self.weight, self.output, width)?, MatMut::new(&mut dcols, rows, width)?, Accumulate::Overwrite)?;
        // col2im: every window value goes back, added, to the input it was copied from.
        let mut dx = zeros(&self.to_string(), steps * batch * self.input)?;
        for t in 0..out_steps {
            for k in 0..self.kernel {
                let Some(source) = (t * self.stride + k).checked_sub(left).filter(|&s| s < steps) else { continue };
                for b in 0..batch {
                    for c in 0..self.input {
                        let i = (source * batch + b) * self.input + c;
                        dx[i] = dx[i] + dcols[(t * batch + b) * width + c * self.kernel + k];
                    }
                }
            }
        }
        Ok(Conv1dGradients { dx, weight, bias: column_sums(dy, self.output) })
    }
}

impl<T> std::fmt::Display for Conv1d<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Conv1D layer ({} → {}, kernel {}, stride {}, {:?})", self.input, self.output, self.kernel, self.stride, self.padding)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    Average,
}

/// Max or average pooling over time windows of `size` steps, `stride` apart (no padding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool1d {
    pub kind: PoolKind,
    pub size: usize,
    pub stride: usize,
}

impl Pool1d {
    /// `x [steps, batch, channels]` → `[out_steps, batch, channels]`, and for max pooling the
    /// index in `x` of each output's maximum (what backward routes the gradient to).
    pub fn forward<T: Real>(self, x: &[T], steps: usize, batch: usize, channels: usize) -> Result<(Vec<T>, Vec<usize>)> {
        let what = format!("{:?} pooling (size {}, stride {})", self.kind, self.size, self.stride);
        if self.size == 0 || self.stride == 0 {
            return Err(Error::config(what, "size and stride must be at least 1"));
        }
        let expected = elements(&what, &[steps, batch, channels])?;
        if x.len() != expected || steps < self.size {
            return Err(Error::shape(format!("{what}: x"), format!("[T ≥ {}, B={batch}, C={channels}] = {expected} values", self.size), format!("{} values over {steps} steps", x.len())));
        }
        let out_steps = (steps - self.size) / self.stride + 1;
        let bc = batch * channels;
        let (mut y, mut argmax) = (vec![T::zero(); out_steps * bc], Vec::new());
        for t in 0..out_steps {
            for i in 0..bc {
                let window = (0..self.size).map(|k| (t * self.stride + k) * bc + i);
                y[t * bc + i] = match self.kind {
                    PoolKind::Average => window.fold(T::zero(), |a, j| a + x[j]) / T::from(self.size).unwrap_or_else(T::one),
                    PoolKind::Max => {
                        let best = window.fold(t * self.stride * bc + i, |best, j| if x[j] > x[best] { j } else { best });
                        argmax.push(best);
                        x[best]
                    }
                };
            }
        }
        Ok((y, argmax))
    }

    pub fn backward<T: Real>(self, dy: &[T], argmax: &[usize], steps: usize, batch: usize, channels: usize) -> Result<Vec<T>> {
        let bc = batch * channels;
        let out_steps = if steps >= self.size { (steps - self.size) / self.stride + 1 } else { 0 };
        if dy.len() != out_steps * bc || (self.kind == PoolKind::Max && argmax.len() != dy.len()) {
            return Err(Error::shape(format!("{:?} pooling: dy", self.kind), format!("{} values", out_steps * bc), format!("{} values", dy.len())));
        }
        let mut dx = vec![T::zero(); steps * bc];
        for (o, &g) in dy.iter().enumerate() {
            match self.kind {
                PoolKind::Max => dx[argmax[o]] = dx[argmax[o]] + g,
                PoolKind::Average => {
                    let (t, i) = (o / bc, o % bc);
                    let share = g / T::from(self.size).unwrap_or_else(T::one);
                    for k in 0..self.size {
                        let j = (t * self.stride + k) * bc + i;
                        dx[j] = dx[j] + share;
                    }
                }
            }
        }
        Ok(dx)
    }
}
