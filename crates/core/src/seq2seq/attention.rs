//! Attention of a decoder's query over the encoder's outputs (the memory), one decoder step at
//! a time, with its backward pass.
//!
//! Scores: Luong's `dot` (q·m_j) and `general` (q·W_a m_j), and the additive score of Bahdanau
//! (Luong's `concat`), v·tanh(W_q q + W_k m_j). The memory's side of a score (W_a m_j, W_k m_j)
//! is computed once per source sequence, as the keys. Windows: global attention weighs every
//! source position; Luong's local attention weighs a window [p − D, p + D], centred at the
//! decoder step (monotonic) or at a predicted p = S·sigmoid(v_p·tanh(W_p q)) with the weights
//! multiplied by a Gaussian of σ = D/2 (predictive). Padded source positions weigh nothing.

use crate::error::zeros;
use crate::gemm::{gemm, Accumulate, MatMut, MatRef};
use crate::activation::sigmoid;
use crate::real::Real;
use crate::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Score {
    Dot,
    General,
    /// Bahdanau's additive score, Luong's `concat`.
    Additive,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    Global,
    /// Centred at the decoder step `t` (clamped to the source), half-width `D`.
    Monotonic(usize),
    /// Centred at a predicted position, half-width `D`, Gaussian-weighted.
    Predictive(usize),
}

/// The parameters, in PyTorch's `[out, in]` layout; unused ones are empty.
#[derive(Clone, Debug)]
pub struct Attention<T> {
    pub score: Score,
    pub window: Window,
    /// The query's size (the decoder's state) and the memory's (the encoder's output).
    pub query: usize,
    pub memory: usize,
    /// Additive: `[A, Q]`.
    pub query_weight: Vec<T>,
    /// General: `[Q, E]`; additive: `[A, E]`.
    pub key_weight: Vec<T>,
    /// Additive: `[A]`.
    pub v: Vec<T>,
    /// Predictive: `[Q, Q]` and `[Q]`.
    pub position_weight: Vec<T>,
    pub position_v: Vec<T>,
}

/// The encoder's outputs of a batch, batch-major, with their keys.
#[derive(Clone, Debug)]
pub struct Memory<T> {
    pub batch: usize,
    pub steps: usize,
    /// `[B, S, E]`.
    pub values: Vec<T>,
    /// `[B, S, K]`: W_a m_j (general), W_k m_j (additive); empty for dot.
    pub keys: Vec<T>,
    pub lengths: Vec<usize>,
}

/// What the backward pass of one step needs.
#[derive(Clone, Debug)]
pub struct StepTrace<T> {
    /// The weights `[B, S]` (zero outside the window and past each length).
    pub weights: Vec<T>,
    /// The softmax before the Gaussian (predictive only), `[B, S]`.
    align: Vec<T>,
    /// Additive: tanh(W_q q + k_j), `[B, S, A]`.
    hidden: Vec<T>,
    /// Predictive: the centre p, sigmoid(z) and tanh(W_p q), per row.
    centre: Vec<T>,
    gate: Vec<T>,
    position_hidden: Vec<T>,
}

impl<T: Real> Attention<T> {
    /// Zero parameters of the right sizes (initialisers fill them); `units` is the additive
    /// score's hidden size.
    pub fn new(score: Score, window: Window, query: usize, memory: usize, units: usize) -> Result<Self> {
        let what = "attention";
        if score == Score::Dot && query != memory {
            return Err(Error::config(what, format!("the dot score needs the decoder's state ({query}) as wide as the encoder's output ({memory}); use `general` or `concat`")));
        }
        if let Window::Monotonic(0) | Window::Predictive(0) = window {
            return Err(Error::config(what, "a local window's half-width `width` must be at least 1"));
        }
        if score == Score::Additive && units == 0 {
            return Err(Error::config(what, "the additive score needs `units` ≥ 1"));
        }
        let (additive, predictive) = (score == Score::Additive, matches!(window, Window::Predictive(_)));
        let sized = |on: bool, n: usize| vec![T::zero(); if on { n } else { 0 }];
        Ok(Attention {
            score,
            window,
            query,
            memory,
            query_weight: sized(additive, units * query),
            key_weight: match score {
                Score::Dot => Vec::new(),
                Score::General => vec![T::zero(); query * memory],
                Score::Additive => vec![T::zero(); units * memory],
            },
            v: sized(additive, units),
            position_weight: sized(predictive, query * query),
            position_v: sized(predictive, query),
        })
    }

    fn units(&self) -> usize {
        self.v.len()
    }

    fn key_size(&self) -> usize {
        match self.score {
            Score::Dot => 0,
            Score::General => self.query,
            Score::Additive => self.units(),
        }
    }

    /// The non-empty parameters under their names (`key.weight`, …) with PyTorch-layout shapes.
    pub fn parameters(&self) -> Vec<(&'static str, &[T], Vec<usize>)> {
        let all = [
            ("query.weight", &self.query_weight, vec![self.units(), self.query]),
            ("key.weight", &self.key_weight, vec![self.key_size(), self.memory]),
            ("v", &self.v, vec![self.units()]),
            ("position.weight", &self.position_weight, vec![self.query, self.query]),
            ("position.v", &self.position_v, vec![self.query]),
        ];
        all.into_iter().filter(|(_, p, _)| !p.is_empty()).map(|(n, p, s)| (n, &p[..], s)).collect()
    }

    pub fn parameters_mut(&mut self) -> Vec<&mut Vec<T>> {
        [&mut self.query_weight, &mut self.key_weight, &mut self.v, &mut self.position_weight, &mut self.position_v].into_iter().filter(|p| !p.is_empty()).collect()
    }

    /// The same attention with every parameter zero: the accumulator of its gradients.
    pub fn zeroed(&self) -> Self {
        let mut z = self.clone();
        z.parameters_mut().into_iter().for_each(|p| p.fill(T::zero()));
        z
    }

    /// The memory of a batch from the encoder's outputs `[B, S, E]`.
    pub fn memory(&self, values: Vec<T>, batch: usize, steps: usize, lengths: Vec<usize>) -> Result<Memory<T>> {
        let rows = batch * steps;
        let mut keys = Vec::new();
        if self.score != Score::Dot {
            let k = self.key_size();
            keys = zeros("attention keys", rows * k)?;
            gemm(MatRef::new(&values, rows, self.memory)?, MatRef::new(&self.key_weight, k, self.memory)?.t(), MatMut::new(&mut keys, rows, k)?, Accumulate::Overwrite)?;
        }
        Ok(Memory { batch, steps, values, keys, lengths })
    }

    /// dL/d(values) from dL/d(keys), added to `dvalues`, and the key weight's gradient.
    pub fn memory_backward(&self, memory: &Memory<T>, dkeys: &[T], dvalues: &mut [T], grads: &mut Self) -> Result<()> {
        if self.score == Score::Dot {
            return Ok(());
        }
        let (rows, k) = (memory.batch * memory.steps, self.key_size());
        gemm(MatRef::new(dkeys, rows, k)?.t(), MatRef::new(&memory.values, rows, self.memory)?, MatMut::new(&mut grads.key_weight, k, self.memory)?, Accumulate::Add)?;
        gemm(MatRef::new(dkeys, rows, k)?, MatRef::new(&self.key_weight, k, self.memory)?, MatMut::new(dvalues, rows, self.memory)?, Accumulate::Add)
    }

    /// The context `[B, E]` for the queries `[B, Q]` at decoder step `t`.
    pub fn step(&self, memory: &Memory<T>, query: &[T], t: usize) -> Result<(Vec<T>, StepTrace<T>)> {
        let (batch, steps, e, q) = (memory.batch, memory.steps, self.memory, self.query);
        if query.len() != batch * q {
            return Err(Error::shape("attention: query", format!("[B={batch}, {q}]"), format!("{} values", query.len())));
        }
        let (a, k) = (self.units(), self.key_size());
        let predictive = matches!(self.window, Window::Predictive(_));
        let mut trace = StepTrace {
            weights: vec![T::zero(); batch * steps],
            align: if predictive { vec![T::zero(); batch * steps] } else { Vec::new() },
            hidden: vec![T::zero(); if a > 0 { batch * steps * a } else { 0 }],
            centre: vec![T::zero(); batch],
            gate: vec![T::zero(); if predictive { batch } else { 0 }],
            position_hidden: vec![T::zero(); if predictive { batch * q } else { 0 }],
        };
        let mut context = vec![T::zero(); batch * e];
        let mut scores = vec![T::zero(); steps];
        let mut projected = vec![T::zero(); a];
        for b in 0..batch {
            let query = &query[b * q..(b + 1) * q];
            let len = memory.lengths[b];
            let centre = match self.window {
                Window::Global => T::zero(),
                Window::Monotonic(_) => T::from(t.min(len.saturating_sub(1))).unwrap_or_else(T::zero),
                Window::Predictive(_) => {
                    let u = &mut trace.position_hidden[b * q..(b + 1) * q];
                    matvec(&self.position_weight, query, u);
                    u.iter_mut().for_each(|x| *x = x.tanh());
                    let g = sigmoid(T::dot(&self.position_v, u));
                    trace.gate[b] = g;
                    T::from(len).unwrap_or_else(T::zero) * g
                }
            };
            trace.centre[b] = centre;
            let valid = self.valid(len, centre);
            if a > 0 {
                matvec(&self.query_weight, query, &mut projected);
            }
            for j in valid.clone() {
                let m = &memory.values[(b * steps + j) * e..(b * steps + j + 1) * e];
                scores[j] = match self.score {
                    Score::Dot => T::dot(query, m),
                    Score::General => T::dot(query, &memory.keys[(b * steps + j) * k..(b * steps + j + 1) * k]),
                    Score::Additive => {
                        let key = &memory.keys[(b * steps + j) * k..(b * steps + j + 1) * k];
                        let h = &mut trace.hidden[(b * steps + j) * a..(b * steps + j + 1) * a];
                        h.iter_mut().zip(projected.iter().zip(key)).for_each(|(h, (&p, &k))| *h = (p + k).tanh());
                        T::dot(&self.v, h)
                    }
                };
            }
            let max = valid.clone().map(|j| scores[j]).fold(T::neg_infinity(), T::max);
            let total = valid.clone().fold(T::zero(), |s, j| s + (scores[j] - max).exp());
            let row = &mut trace.weights[b * steps..(b + 1) * steps];
            for j in valid.clone() {
                let alpha = (scores[j] - max).exp() / total;
                row[j] = alpha;
                if predictive {
                    trace.align[b * steps + j] = alpha;
                    row[j] = alpha * self.gaussian(j, centre);
                }
            }
            let ctx = &mut context[b * e..(b + 1) * e];
            for j in valid {
                let m = &memory.values[(b * steps + j) * e..(b * steps + j + 1) * e];
                ctx.iter_mut().zip(m).for_each(|(c, &m)| *c = *c + row[j] * m);
            }
        }
        Ok((context, trace))
    }

    /// Given dL/d(context) `[B, E]`: adds dL/d(query) to `dquery`, dL/d(values) and
    /// dL/d(keys) to `dvalues` and `dkeys`, and the parameters' gradients to `grads`.
    #[allow(clippy::too_many_arguments)]
    pub fn step_backward(&self, memory: &Memory<T>, trace: &StepTrace<T>, query: &[T], dcontext: &[T], dquery: &mut [T], dvalues: &mut [T], dkeys: &mut [T], grads: &mut Self) -> Result<()> {
        let (batch, steps, e, q) = (memory.batch, memory.steps, self.memory, self.query);
        if dcontext.len() != batch * e {
            return Err(Error::shape("attention: context gradient", format!("[B={batch}, {e}]"), format!("{} values", dcontext.len())));
        }
        let (a, k) = (self.units(), self.key_size());
        let predictive = matches!(self.window, Window::Predictive(_));
        let mut dalign = vec![T::zero(); steps];
        let mut dprojected = vec![T::zero(); a];
        for b in 0..batch {
            let (query, dq) = (&query[b * q..(b + 1) * q], &mut dquery[b * q..(b + 1) * q]);
            let dctx = &dcontext[b * e..(b + 1) * e];
            let (len, centre) = (memory.lengths[b], trace.centre[b]);
            let valid = self.valid(len, centre);
            let weights = &trace.weights[b * steps..(b + 1) * steps];
            // The softmax's output α is the weight itself, or the weight before the Gaussian.
            let alpha = if predictive { &trace.align[b * steps..(b + 1) * steps] } else { weights };
            let mut dcentre = T::zero();
            for j in valid.clone() {
                let at = (b * steps + j) * e..(b * steps + j + 1) * e;
                let dweight = T::dot(dctx, &memory.values[at.clone()]);
                dvalues[at].iter_mut().zip(dctx).for_each(|(d, &g)| *d = *d + weights[j] * g);
                dalign[j] = dweight;
                if predictive {
                    let (g, sigma2) = (self.gaussian(j, centre), self.sigma2());
                    dalign[j] = dweight * g;
                    dcentre = dcentre + dweight * alpha[j] * g * (T::from(j).unwrap_or_else(T::zero) - centre) / sigma2;
                }
            }
            let mean = valid.clone().fold(T::zero(), |s, j| s + alpha[j] * dalign[j]);
            dprojected.fill(T::zero());
            for j in valid {
                let dscore = alpha[j] * (dalign[j] - mean);
                let at = b * steps + j;
                match self.score {
                    Score::Dot => {
                        let m = &memory.values[at * e..(at + 1) * e];
                        dq.iter_mut().zip(m).for_each(|(d, &m)| *d = *d + dscore * m);
                        dvalues[at * e..(at + 1) * e].iter_mut().zip(query).for_each(|(d, &x)| *d = *d + dscore * x);
                    }
                    Score::General => {
                        let key = &memory.keys[at * k..(at + 1) * k];
                        dq.iter_mut().zip(key).for_each(|(d, &m)| *d = *d + dscore * m);
                        dkeys[at * k..(at + 1) * k].iter_mut().zip(query).for_each(|(d, &x)| *d = *d + dscore * x);
                    }
                    Score::Additive => {
                        let h = &trace.hidden[at * a..(at + 1) * a];
                        grads.v.iter_mut().zip(h).for_each(|(d, &h)| *d = *d + dscore * h);
                        let dkey = &mut dkeys[at * k..(at + 1) * k];
                        for i in 0..a {
                            let dpre = dscore * self.v[i] * (T::one() - h[i] * h[i]);
                            dkey[i] = dkey[i] + dpre;
                            dprojected[i] = dprojected[i] + dpre;
                        }
                    }
                }
            }
            if a > 0 {
                outer_add(&mut grads.query_weight, &dprojected, query);
                matvec_t_add(&self.query_weight, &dprojected, dq);
            }
            if predictive {
                let g = trace.gate[b];
                let dz = dcentre * T::from(len).unwrap_or_else(T::zero) * g * (T::one() - g);
                let u = &trace.position_hidden[b * q..(b + 1) * q];
                grads.position_v.iter_mut().zip(u).for_each(|(d, &u)| *d = *d + dz * u);
                let dpre: Vec<T> = u.iter().zip(&self.position_v).map(|(&u, &v)| dz * v * (T::one() - u * u)).collect();
                outer_add(&mut grads.position_weight, &dpre, query);
                matvec_t_add(&self.position_weight, &dpre, dq);
            }
        }
        Ok(())
    }

    /// The source positions a row attends to: before its length, and inside the window.
    fn valid(&self, len: usize, centre: T) -> std::ops::Range<usize> {
        let d = match self.window {
            Window::Global => return 0..len,
            Window::Monotonic(d) | Window::Predictive(d) => T::from(d).unwrap_or_else(T::zero),
        };
        let lo = (centre - d).ceil().max(T::zero()).to_usize().unwrap_or(0);
        let hi = (centre + d).floor().to_usize().map_or(0, |h| h + 1).min(len);
        lo.min(hi)..hi
    }

    fn sigma2(&self) -> T {
        let d = match self.window {
            Window::Predictive(d) | Window::Monotonic(d) => d as f64,
            Window::Global => 0.0,
        };
        T::from(d * d / 4.0).unwrap_or_else(T::one)
    }

    fn gaussian(&self, j: usize, centre: T) -> T {
        let x = T::from(j).unwrap_or_else(T::zero) - centre;
        (-(x * x) / (T::from(2.0).unwrap_or_else(T::one) * self.sigma2())).exp()
    }
}

/// `out = W·x` for `W [out.len(), x.len()]`.
fn matvec<T: Real>(w: &[T], x: &[T], out: &mut [T]) {
    for (o, row) in out.iter_mut().zip(w.chunks_exact(x.len())) {
        *o = T::dot(row, x);
    }
}

/// `out += Wᵀ·y` for `W [y.len(), out.len()]`.
fn matvec_t_add<T: Real>(w: &[T], y: &[T], out: &mut [T]) {
    for (row, &g) in w.chunks_exact(out.len()).zip(y) {
        out.iter_mut().zip(row).for_each(|(o, &w)| *o = *o + g * w);
    }
}

/// `W += y ⊗ x`.
fn outer_add<T: Real>(w: &mut [T], y: &[T], x: &[T]) {
    for (row, &g) in w.chunks_exact_mut(x.len()).zip(y) {
        row.iter_mut().zip(x).for_each(|(w, &x)| *w = *w + g * x);
    }
}
