//! The Jordan network: the recurrent input is the layer's previous output, not its hidden state.
//!
//! `h_t = act(W_ih·x_t + b_ih + W_hh·y_{t−1} + b_hh)`, `y_t = out_act(W_hy·h_t + b_y)`, with
//! `weight_ih [H, I]`, `weight_hh [H, O]`, `weight_hy [O, H]`. Each step does two products (the
//! recurrent one and the output one); everything else follows `RecurrentLayer`: time-major,
//! initial state `y0`, ragged lengths freeze the state and zero the output.

use crate::activation::Activation;
use crate::error::{elements, zeros};
use crate::gemm::{column_sums, gemm, Accumulate, MatMut, MatRef};
use crate::real::Real;
use crate::{Error, Result};

#[derive(Clone, Debug)]
pub struct JordanLayer<T> {
    pub input: usize,
    pub hidden: usize,
    pub output: usize,
    pub activation: Activation,
    pub output_activation: Activation,
    pub weight_ih: Vec<T>,
    pub weight_hh: Vec<T>,
    pub bias_ih: Vec<T>,
    pub bias_hh: Vec<T>,
    pub weight_hy: Vec<T>,
    pub bias_y: Vec<T>,
}

#[derive(Clone, Debug)]
pub struct JordanTrace<T> {
    steps: usize,
    batch: usize,
    lengths: Vec<usize>,
    x: Vec<T>,
    /// `[steps, batch, hidden]`.
    h: Vec<T>,
    /// `[steps + 1, batch, output]`: y0 then the state after each step.
    y: Vec<T>,
}

#[derive(Clone, Debug)]
pub struct JordanGradients<T> {
    pub dx: Vec<T>,
    pub dy0: Vec<T>,
    /// In the order of `parameters`.
    pub parameters: Vec<Vec<T>>,
}

impl<T: Real> JordanLayer<T> {
    pub fn new(input: usize, hidden: usize, output: usize, activation: Activation, output_activation: Activation) -> Result<Self> {
        if input == 0 || hidden == 0 || output == 0 {
            return Err(Error::config("Jordan layer", format!("sizes must be at least 1, got input {input}, hidden {hidden}, output {output}")));
        }
        Ok(JordanLayer {
            input,
            hidden,
            output,
            activation,
            output_activation,
            weight_ih: vec![T::zero(); hidden * input],
            weight_hh: vec![T::zero(); hidden * output],
            bias_ih: vec![T::zero(); hidden],
            bias_hh: vec![T::zero(); hidden],
            weight_hy: vec![T::zero(); output * hidden],
            bias_y: vec![T::zero(); output],
        })
    }

    pub fn parameters(&self, index: usize) -> Vec<(String, &[T])> {
        vec![
            (format!("weight_ih_l{index}"), &self.weight_ih[..]),
            (format!("weight_hh_l{index}"), &self.weight_hh[..]),
            (format!("bias_ih_l{index}"), &self.bias_ih[..]),
            (format!("bias_hh_l{index}"), &self.bias_hh[..]),
            (format!("weight_hy_l{index}"), &self.weight_hy[..]),
            (format!("bias_y_l{index}"), &self.bias_y[..]),
        ]
    }

    pub fn parameters_mut(&mut self) -> Vec<&mut Vec<T>> {
        vec![&mut self.weight_ih, &mut self.weight_hh, &mut self.bias_ih, &mut self.bias_hh, &mut self.weight_hy, &mut self.bias_y]
    }

    /// `x [steps, batch, input]`, optional `lengths` and initial output `y0 [batch, output]`;
    /// returns the outputs `[steps, batch, output]` and the trace for backward.
    pub fn forward(&self, x: &[T], steps: usize, batch: usize, lengths: Option<&[usize]>, y0: Option<&[T]>) -> Result<(Vec<T>, JordanTrace<T>)> {
        let name = self.to_string();
        let (h_size, o_size) = (self.hidden, self.output);
        let expected = elements(&name, &[steps, batch, self.input])?;
        if x.len() != expected {
            return Err(Error::shape(format!("{name}: x"), format!("[T={steps}, B={batch}, I={}] = {expected} values", self.input), format!("{} values", x.len())));
        }
        if let Some(y0) = y0.filter(|y0| y0.len() != batch * o_size) {
            return Err(Error::shape(format!("{name}: y0"), format!("[B={batch}, O={o_size}] = {} values", batch * o_size), format!("{} values", y0.len())));
        }
        let lengths = match lengths {
            Some(l) if l.len() != batch || l.iter().any(|&v| v > steps) => {
                return Err(Error::shape(format!("{name}: lengths"), format!("{batch} lengths of at most T={steps}"), format!("{l:?}")));
            }
            Some(l) => l.to_vec(),
            None => vec![steps; batch],
        };
        let (bh, bo) = (batch * h_size, batch * o_size);
        let mut h = zeros(&name, elements(&name, &[steps, bh])?)?;
        gemm(MatRef::new(x, steps * batch, self.input)?, MatRef::new(&self.weight_ih, h_size, self.input)?.t(), MatMut::new(&mut h, steps * batch, h_size)?, Accumulate::Overwrite)?;
        let mut y = zeros(&name, elements(&name, &[steps + 1, bo])?)?;
        if let Some(y0) = y0 {
            y[..bo].copy_from_slice(y0);
        }
        let mut out = zeros(&name, steps * bo)?;
        let mut step_out = vec![T::zero(); bo];
        for t in 0..steps {
            let (done, rest) = y.split_at_mut((t + 1) * bo);
            let (y_prev, y_next) = (&done[t * bo..], &mut rest[..bo]);
            let h_t = &mut h[t * bh..(t + 1) * bh];
            // h_t = act(x_t·W_ihᵀ (already in h) + b_ih + y_{t−1}·W_hhᵀ + b_hh)
            gemm(MatRef::new(y_prev, batch, o_size)?, MatRef::new(&self.weight_hh, h_size, o_size)?.t(), MatMut::new(h_t, batch, h_size)?, Accumulate::Add)?;
            for row in h_t.chunks_exact_mut(h_size) {
                for ((v, &bi), &bh) in row.iter_mut().zip(&self.bias_ih).zip(&self.bias_hh) {
                    *v = self.activation.apply(*v + bi + bh);
                }
            }
            gemm(MatRef::new(h_t, batch, h_size)?, MatRef::new(&self.weight_hy, o_size, h_size)?.t(), MatMut::new(&mut step_out, batch, o_size)?, Accumulate::Overwrite)?;
            for b in 0..batch {
                let row = b * o_size..(b + 1) * o_size;
                if t < lengths[b] {
                    for (j, v) in step_out[row.clone()].iter().enumerate() {
                        y_next[row.start + j] = self.output_activation.apply(*v + self.bias_y[j]);
                    }
                    out[t * bo + row.start..t * bo + row.end].copy_from_slice(&y_next[row]);
                } else {
                    y_next[row.clone()].copy_from_slice(&y_prev[row]);
                }
            }
        }
        Ok((out, JordanTrace { steps, batch, lengths, x: x.to_vec(), h, y }))
    }

    /// Gradients given dL/d(outputs) `[steps, batch, output]` and optionally dL/d(final output).
    pub fn backward(&self, trace: &JordanTrace<T>, dy: &[T], dy_n: Option<&[T]>) -> Result<JordanGradients<T>> {
        let JordanTrace { steps, batch, .. } = *trace;
        let (h_size, o_size) = (self.hidden, self.output);
        let (bh, bo) = (batch * h_size, batch * o_size);
        let name = self.to_string();
        if dy.len() != steps * bo || dy_n.is_some_and(|d| d.len() != bo) {
            return Err(Error::shape(format!("{name}: dy"), format!("[T={steps}, B={batch}, O={o_size}] = {} values (and dy_n {bo})", steps * bo), format!("{} values", dy.len())));
        }
        let mut dz_h = zeros(&name, steps * bh)?;
        let mut dz_y = zeros(&name, steps * bo)?;
        let mut carry = dy_n.map_or_else(|| vec![T::zero(); bo], <[T]>::to_vec);
        let mut next_carry = vec![T::zero(); bo];
        for t in (0..steps).rev() {
            // dL/dy_t, then through the output activation and W_hy to h_t, then through act.
            for b in 0..batch {
                let row = b * o_size..(b + 1) * o_size;
                if t < trace.lengths[b] {
                    for j in row.clone() {
                        let y = trace.y[(t + 1) * bo + j];
                        dz_y[t * bo + j] = (carry[j] + dy[t * bo + j]) * self.output_activation.derivative_from_output(y);
                    }
                    next_carry[row].fill(T::zero());
                } else {
                    next_carry[row.clone()].copy_from_slice(&carry[row]);
                }
            }
            let dz_h_t = &mut dz_h[t * bh..(t + 1) * bh];
            gemm(MatRef::new(&dz_y[t * bo..(t + 1) * bo], batch, o_size)?, MatRef::new(&self.weight_hy, o_size, h_size)?, MatMut::new(dz_h_t, batch, h_size)?, Accumulate::Overwrite)?;
            for (d, &h) in dz_h_t.iter_mut().zip(&trace.h[t * bh..(t + 1) * bh]) {
                *d = *d * self.activation.derivative_from_output(h);
            }
            // Inactive rows have zero dz, so only active rows send gradient back through W_hh.
            gemm(MatRef::new(dz_h_t, batch, h_size)?, MatRef::new(&self.weight_hh, h_size, o_size)?, MatMut::new(&mut next_carry, batch, o_size)?, Accumulate::Add)?;
            std::mem::swap(&mut carry, &mut next_carry);
        }
        let rows = steps * batch;
        let dz_h_all = MatRef::new(&dz_h, rows, h_size)?;
        let mut weight_ih = vec![T::zero(); h_size * self.input];
        gemm(dz_h_all.t(), MatRef::new(&trace.x, rows, self.input)?, MatMut::new(&mut weight_ih, h_size, self.input)?, Accumulate::Overwrite)?;
        let mut weight_hh = vec![T::zero(); h_size * o_size];
        gemm(dz_h_all.t(), MatRef::new(&trace.y[..rows * o_size], rows, o_size)?, MatMut::new(&mut weight_hh, h_size, o_size)?, Accumulate::Overwrite)?;
        let mut weight_hy = vec![T::zero(); o_size * h_size];
        gemm(MatRef::new(&dz_y, rows, o_size)?.t(), MatRef::new(&trace.h, rows, h_size)?, MatMut::new(&mut weight_hy, o_size, h_size)?, Accumulate::Overwrite)?;
        let mut dx = zeros(&name, rows * self.input)?;
        gemm(dz_h_all, MatRef::new(&self.weight_ih, h_size, self.input)?, MatMut::new(&mut dx, rows, self.input)?, Accumulate::Overwrite)?;
        let bias_h = column_sums(&dz_h, h_size);
        Ok(JordanGradients { dx, dy0: carry, parameters: vec![weight_ih, weight_hh, bias_h.clone(), bias_h, weight_hy, column_sums(&dz_y, o_size)] })
    }
}

impl<T> std::fmt::Display for JordanLayer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Jordan layer (input {}, hidden {}, output {})", self.input, self.hidden, self.output)
    }
}
