//! Recurrent layers: forward equals the published equations, backward equals finite
//! differences of the forward (in f64), and bad shapes are named.

mod common;

use common::{assert_gradient, Rng};
use seqwasm_core::recurrent::{Cell, DropoutMasks, OutputGradients, RecurrentLayer, Sequences};
use seqwasm_core::{Activation, Error};

const CELLS: [Cell; 9] = [
    Cell::Elman(Activation::Tanh),
    Cell::Elman(Activation::Relu),
    Cell::LSTM,
    Cell::Lstm { forget_gate: false, peepholes: false, projection: 0 },
    Cell::Lstm { forget_gate: true, peepholes: true, projection: 0 },
    Cell::Lstm { forget_gate: true, peepholes: false, projection: 3 },
    Cell::Lstm { forget_gate: true, peepholes: true, projection: 2 },
    Cell::GRU,
    Cell::Gru { reset_after: false },
];

fn random_layer(cell: Cell, input: usize, hidden: usize, rng: &mut Rng) -> RecurrentLayer<f64> {
    let mut layer = RecurrentLayer::new(cell, input, hidden).unwrap();
    for p in layer.parameters_mut() {
        p.iter_mut().for_each(|x| *x = rng.next() * 0.6);
    }
    layer
}

/// A batch with everything optional given: initial states and ragged lengths.
#[derive(Clone)]
struct Case {
    steps: usize,
    batch: usize,
    x: Vec<f64>,
    lengths: Option<Vec<usize>>,
    h0: Option<Vec<f64>>,
    c0: Option<Vec<f64>>,
    /// Scaled variational dropout masks, `[batch, input]` and `[batch, hidden]`.
    input_mask: Option<Vec<f64>>,
    recurrent_mask: Option<Vec<f64>>,
}

impl Case {
    fn new(layer: &RecurrentLayer<f64>, steps: usize, lengths: Option<Vec<usize>>, initial: bool, rng: &mut Rng) -> Self {
        let batch = lengths.as_ref().map_or(2, Vec::len);
        let (state, cell) = (batch * layer.state_size(), batch * layer.hidden);
        Case {
            steps,
            batch,
            x: rng.vec(steps * batch * layer.input),
            lengths,
            h0: initial.then(|| rng.vec(state)),
            c0: (initial && layer.cell.has_cell_state()).then(|| rng.vec(cell)),
            input_mask: None,
            recurrent_mask: None,
        }
    }

    /// Adds dropout masks with rate 1/2: each value 0 or 2.
    fn with_dropout(mut self, layer: &RecurrentLayer<f64>, rng: &mut Rng) -> Self {
        let mut mask = |n: usize| (0..n).map(|_| if rng.next() < 0.0 { 0.0 } else { 2.0 }).collect::<Vec<f64>>();
        self.input_mask = Some(mask(self.batch * layer.input));
        self.recurrent_mask = Some(mask(self.batch * layer.state_size()));
        self
    }

    fn masks(&self) -> DropoutMasks<'_, f64> {
        DropoutMasks { input: self.input_mask.as_deref(), recurrent: self.recurrent_mask.as_deref() }
    }

    fn sequences(&self) -> Sequences<'_, f64> {
        Sequences { x: &self.x, steps: self.steps, batch: self.batch, lengths: self.lengths.as_deref(), h0: self.h0.as_deref(), c0: self.c0.as_deref() }
    }
}

/// The published equations, one sequence and one unit at a time, with no GEMM and no fusion.
/// PyTorch's nn.RNN / nn.LSTM / nn.GRU documentation, gate rows in its order.
fn naive(layer: &RecurrentLayer<f64>, case: &Case) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (ni, nh, ns) = (layer.input, layer.hidden, layer.state_size());
    let (mut y, mut h_n, mut c_n) = (vec![0.0; case.steps * case.batch * ns], vec![0.0; case.batch * ns], vec![0.0; case.batch * nh]);
    // Row `r` of W·v + b for gate block `g`.
    let affine = |w: &[f64], b: &[f64], v: &[f64], g: usize, j: usize| -> f64 {
        let r = g * nh + j;
        b[r] + (0..v.len()).map(|k| w[r * v.len() + k] * v[k]).sum::<f64>()
    };
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    for b in 0..case.batch {
        let mut h = case.h0.as_ref().map_or(vec![0.0; ns], |h0| h0[b * ns..(b + 1) * ns].to_vec());
        let mut c = case.c0.as_ref().map_or(vec![0.0; nh], |c0| c0[b * nh..(b + 1) * nh].to_vec());
        let length = case.lengths.as_ref().map_or(case.steps, |l| l[b]);
        let in_mask = case.input_mask.as_ref().map_or(vec![1.0; ni], |m| m[b * ni..(b + 1) * ni].to_vec());
        let rec_mask = case.recurrent_mask.as_ref().map_or(vec![1.0; ns], |m| m[b * ns..(b + 1) * ns].to_vec());
        for t in 0..length {
            // Dropout: x and the state the recurrent products read are masked.
            let x: Vec<f64> = (0..ni).map(|k| case.x[(t * case.batch + b) * ni + k] * in_mask[k]).collect();
            let x = &x[..];
            let h_used: Vec<f64> = (0..ns).map(|k| h[k] * rec_mask[k]).collect();
            let gate = |g: usize, j: usize| affine(&layer.weight_ih, &layer.bias_ih, x, g, j) + affine(&layer.weight_hh, &layer.bias_hh, &h_used, g, j);
            let (next_h, next_c): (Vec<f64>, Vec<f64>) = match layer.cell {
                Cell::Elman(act) => ((0..nh).map(|j| if act == Activation::Tanh { gate(0, j).tanh() } else { gate(0, j).max(0.0) }).collect(), c.clone()),
                Cell::Lstm { forget_gate, peepholes, projection } => {
                    // Peepholes (Gers and Schmidhuber): i and f also see c_prev, o sees the new c.
                    let p = |k: usize, j: usize| if peepholes { layer.weight_peephole[k * nh + j] } else { 0.0 };
                    let next_c: Vec<f64> = (0..nh)
                        .map(|j| {
                            let f = if forget_gate { sigmoid(gate(1, j) + p(1, j) * c[j]) } else { 1.0 };
                            f * c[j] + sigmoid(gate(0, j) + p(0, j) * c[j]) * gate(2, j).tanh()
                        })
                        .collect();
                    let m: Vec<f64> = (0..nh).map(|j| sigmoid(gate(3, j) + p(2, j) * next_c[j]) * next_c[j].tanh()).collect();
                    // Projection (PyTorch proj_size): h = W_hr·m, W_hr [P, H].
                    let h = if projection > 0 { (0..projection).map(|k| (0..nh).map(|j| layer.weight_hr[k * nh + j] * m[j]).sum()).collect() } else { m };
                    (h, next_c)
                }
                Cell::Gru { reset_after } => ((0..nh)
                    .map(|j| {
                        let r = sigmoid(gate(0, j));
                        let z = sigmoid(gate(1, j));
                        let recurrent_n = if reset_after {
                            r * affine(&layer.weight_hh, &layer.bias_hh, &h_used, 2, j)
                        } else {
                            // Keras reset_after=False: W_hn·(r⊙h) + b_hn, r of every unit.
                            let reset_h: Vec<f64> = (0..nh).map(|k| sigmoid(gate(0, k)) * h_used[k]).collect();
                            affine(&layer.weight_hh, &layer.bias_hh, &reset_h, 2, j)
                        };
                        let n = (affine(&layer.weight_ih, &layer.bias_ih, x, 2, j) + recurrent_n).tanh();
                        (1.0 - z) * n + z * h[j]
                    })
                    .collect(), c.clone()),
            };
            (h, c) = (next_h, next_c);
            y[(t * case.batch + b) * ns..(t * case.batch + b + 1) * ns].copy_from_slice(&h);
        }
        h_n[b * ns..(b + 1) * ns].copy_from_slice(&h);
        c_n[b * nh..(b + 1) * nh].copy_from_slice(&c);
    }
    (y, h_n, c_n)
}

fn assert_all_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{what}[{i}] = {g}, want {w}");
    }
}

#[test]
fn forward_equals_the_published_equations() {
    let mut rng = Rng(11);
    for cell in CELLS {
        let layer = random_layer(cell, 3, 5, &mut rng);
        for (lengths, initial, dropout) in [(None, false, false), (Some(vec![6, 2, 4]), true, false), (Some(vec![0, 6]), true, false), (Some(vec![6, 3, 5]), true, true)] {
            let mut case = Case::new(&layer, 6, lengths, initial, &mut rng);
            if dropout {
                case = case.with_dropout(&layer, &mut rng);
            }
            let (out, _) = layer.forward_with_dropout(case.sequences(), case.masks()).unwrap();
            let (y, h_n, c_n) = naive(&layer, &case);
            assert_all_close(&out.y, &y, 1e-12, &format!("{layer} y"));
            assert_all_close(&out.h_n, &h_n, 1e-12, &format!("{layer} h_n"));
            if cell.has_cell_state() {
                assert_all_close(out.c_n.as_ref().unwrap(), &c_n, 1e-12, &format!("{layer} c_n"));
            } else {
                assert!(out.c_n.is_none());
            }
        }
    }
}

/// The loss L = Σ wy⊙y + Σ wh⊙h_n + Σ wc⊙c_n, so that dL/dy = wy, dL/dh_n = wh, dL/dc_n = wc.
struct Probe {
    wy: Vec<f64>,
    wh: Vec<f64>,
    wc: Vec<f64>,
}

impl Probe {
    fn loss(&self, layer: &RecurrentLayer<f64>, case: &Case) -> f64 {
        let (out, _) = layer.forward_with_dropout(case.sequences(), case.masks()).unwrap();
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        dot(&out.y, &self.wy) + dot(&out.h_n, &self.wh) + out.c_n.as_deref().map_or(0.0, |c| dot(c, &self.wc))
    }
}

fn gradient_check(cell: Cell, lengths: Option<Vec<usize>>, initial: bool, dropout: bool, seed: u64) {
    let mut rng = Rng(seed);
    let layer = random_layer(cell, 3, 4, &mut rng);
    let mut case = Case::new(&layer, 5, lengths, initial, &mut rng);
    if dropout {
        case = case.with_dropout(&layer, &mut rng);
    }
    let (bs, bh, steps) = (case.batch * layer.state_size(), case.batch * layer.hidden, case.steps);
    let probe = Probe { wy: rng.vec(steps * bs), wh: rng.vec(bs), wc: rng.vec(bh) };
    let (_, trace) = layer.forward_with_dropout(case.sequences(), case.masks()).unwrap();
    let grads = layer
        .backward(&trace, OutputGradients { dy: Some(&probe.wy), dh_n: Some(&probe.wh), dc_n: cell.has_cell_state().then_some(&probe.wc[..]) })
        .unwrap();
    let name = layer.to_string();

    assert_eq!(grads.parameters.len(), layer.parameters(0).len());
    for (k, expected) in grads.parameters.iter().enumerate() {
        let point = layer.parameters(0)[k].1.to_vec();
        assert_gradient(&format!("{name} parameter {k}"), expected, &point, |p| {
            let mut moved = layer.clone();
            *moved.parameters_mut()[k] = p.to_vec();
            probe.loss(&moved, &case)
        });
    }
    assert_gradient(&format!("{name} x"), &grads.dx, &case.x, |x| probe.loss(&layer, &Case { x: x.to_vec(), ..case.clone() }));
    if initial {
        let h0 = case.h0.clone().unwrap();
        assert_gradient(&format!("{name} h0"), &grads.dh0, &h0, |h0| probe.loss(&layer, &Case { h0: Some(h0.to_vec()), ..case.clone() }));
        if cell.has_cell_state() {
            let c0 = case.c0.clone().unwrap();
            assert_gradient(&format!("{name} c0"), grads.dc0.as_ref().unwrap(), &c0, |c0| probe.loss(&layer, &Case { c0: Some(c0.to_vec()), ..case.clone() }));
        }
    }
}

#[test]
fn gradients_equal_finite_differences_for_every_cell() {
    for (n, cell) in CELLS.into_iter().enumerate() {
        gradient_check(cell, None, false, false, 100 + n as u64);
        gradient_check(cell, None, true, false, 200 + n as u64);
    }
}

#[test]
fn gradients_equal_finite_differences_with_ragged_lengths() {
    for (n, cell) in CELLS.into_iter().enumerate() {
        gradient_check(cell, Some(vec![5, 2, 0, 4]), true, false, 300 + n as u64);
    }
}

#[test]
fn gradients_equal_finite_differences_with_input_and_recurrent_dropout() {
    for (n, cell) in CELLS.into_iter().enumerate() {
        gradient_check(cell, Some(vec![5, 3, 4]), true, true, 400 + n as u64);
    }
}

/// Golden values from closed-form weights, each with its computation beside it.
#[test]
fn golden_values_from_closed_form_weights() {
    let one_step = |cell: Cell, set: &dyn Fn(&mut RecurrentLayer<f64>), x: &[f64], h0: f64, c0: Option<f64>| {
        let mut layer = RecurrentLayer::new(cell, 1, 1).unwrap();
        set(&mut layer);
        let (h0, c0) = ([h0], c0.map(|c| [c]));
        let seq = Sequences { x, steps: x.len(), batch: 1, lengths: None, h0: Some(&h0), c0: c0.as_ref().map(|c| &c[..]) };
        layer.forward(seq).unwrap().0
    };

    // Elman tanh, W_ih = 1, W_hh = 0.5, no bias, x = (1, 0, -1), h0 = 0:
    // h1 = tanh(1), h2 = tanh(0.5·h1), h3 = tanh(-1 + 0.5·h2) (evaluated with Python's math.tanh).
    let out = one_step(Cell::Elman(Activation::Tanh), &|l| (l.weight_ih[0], l.weight_hh[0]) = (1.0, 0.5), &[1.0, 0.0, -1.0], 0.0, None);
    assert_all_close(&out.y, &[0.7615941559557649, 0.3633994843890525, -0.6741436761583508], 1e-15, "Elman");

    // LSTM with every weight and bias zero: i = f = o = σ(0) = 1/2 and g = tanh(0) = 0, so
    // c_t = c_{t-1}/2 and h_t = tanh(c_t)/2; from c0 = 1: c = 1/2, 1/4.
    let out = one_step(Cell::LSTM, &|_| {}, &[3.0, -2.0], 0.7, Some(1.0));
    assert_all_close(&out.y, &[0.5 * 0.5f64.tanh(), 0.5 * 0.25f64.tanh()], 1e-15, "LSTM y");
    assert_all_close(out.c_n.as_ref().unwrap(), &[0.25], 1e-15, "LSTM c_n");

    // LSTM whose only nonzero parameter is the g-gate input weight 2: from c0 = 0, x = 1:
    // c1 = (1/2)·tanh(2), h1 = (1/2)·tanh(c1).
    let out = one_step(Cell::LSTM, &|l| l.weight_ih[2] = 2.0, &[1.0], 0.0, Some(0.0));
    let c1 = 0.5 * 2f64.tanh();
    assert_all_close(&out.y, &[0.5 * c1.tanh()], 1e-15, "LSTM g gate");

    // GRU with zero weights and b_hn = 1, W_in = 1: r = z = 1/2, n = tanh(x + r·1):
    // from h0 = 1, x = 1: h1 = (1/2)·tanh(1.5) + (1/2)·1.
    let out = one_step(Cell::GRU, &|l| (l.weight_ih[2], l.bias_hh[2]) = (1.0, 1.0), &[1.0], 1.0, None);
    assert_all_close(&out.y, &[0.5 * 1.5f64.tanh() + 0.5], 1e-15, "GRU");
}

#[test]
fn f32_forward_agrees_with_f64() {
    let mut rng = Rng(5);
    for cell in CELLS {
        let layer64 = random_layer(cell, 7, 16, &mut rng);
        let layer32 = RecurrentLayer::<f32> {
            cell,
            input: 7,
            hidden: 16,
            weight_ih: layer64.weight_ih.iter().map(|&v| v as f32).collect(),
            weight_hh: layer64.weight_hh.iter().map(|&v| v as f32).collect(),
            bias_ih: layer64.bias_ih.iter().map(|&v| v as f32).collect(),
            bias_hh: layer64.bias_hh.iter().map(|&v| v as f32).collect(),
            weight_peephole: layer64.weight_peephole.iter().map(|&v| v as f32).collect(),
            weight_hr: layer64.weight_hr.iter().map(|&v| v as f32).collect(),
        };
        let x = rng.vec(20 * 3 * 7);
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let y64 = layer64.forward(Sequences { x: &x, steps: 20, batch: 3, lengths: None, h0: None, c0: None }).unwrap().0.y;
        let y32 = layer32.forward(Sequences { x: &x32, steps: 20, batch: 3, lengths: None, h0: None, c0: None }).unwrap().0.y;
        let worst = y64.iter().zip(&y32).map(|(a, &b)| (a - b as f64).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-4, "{layer64}: f32 differs from f64 by {worst}");
    }
}

#[test]
fn wrong_shapes_and_options_are_named() {
    let layer = RecurrentLayer::<f64>::new(Cell::LSTM, 3, 4).unwrap();
    let x = vec![0.0; 2 * 5 * 3 - 1];
    let err = layer.forward(Sequences { x: &x, steps: 5, batch: 2, lengths: None, h0: None, c0: None }).unwrap_err();
    assert_eq!(err.to_string(), "LSTM layer (input 3, hidden 4): x: expected [T=5, B=2, I=3] = 30 values, got 29 values");

    let x = vec![0.0; 30];
    let err = layer.forward(Sequences { x: &x, steps: 5, batch: 2, lengths: Some(&[5, 6]), h0: None, c0: None }).unwrap_err();
    assert_eq!(err.to_string(), "LSTM layer (input 3, hidden 4): lengths: expected lengths of at most T=5, got 6 for sequence 1");
    let err = layer.forward(Sequences { x: &x, steps: 5, batch: 2, lengths: Some(&[5]), h0: None, c0: None }).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    let err = layer.forward(Sequences { x: &x, steps: 5, batch: 2, lengths: None, h0: Some(&[0.0; 7]), c0: None }).unwrap_err();
    assert!(err.to_string().contains("h0: expected [B=2, H=4] = 8 values, got 7 values"), "{err}");

    let gru = RecurrentLayer::<f64>::new(Cell::GRU, 3, 4).unwrap();
    let err = gru.forward(Sequences { x: &x, steps: 5, batch: 2, lengths: None, h0: None, c0: Some(&[0.0; 8]) }).unwrap_err();
    assert_eq!(err.kind(), "ConfigError");

    let (_, trace) = layer.forward(Sequences { x: &x, steps: 5, batch: 2, lengths: None, h0: None, c0: None }).unwrap();
    let err = layer.backward(&trace, OutputGradients { dy: Some(&[0.0; 3]), ..Default::default() }).unwrap_err();
    assert!(err.to_string().contains("dy: expected [T=5, B=2, H=4] = 40 values"), "{err}");

    assert_eq!(RecurrentLayer::<f64>::new(Cell::Elman(Activation::Sigmoid), 3, 4).unwrap_err().kind(), "ConfigError");
    assert_eq!(RecurrentLayer::<f64>::new(Cell::GRU, 0, 4).unwrap_err().kind(), "ConfigError");
}

#[test]
fn without_a_forget_gate_the_cell_only_accumulates() {
    // f ≡ 1, so c_t = c_{t-1} + i⊙g: with zero weights i = 1/2, and g = tanh(W_ig·x) = tanh(x)
    // when W_ig = 1; from c0 = 0 over x = (1, 1): c = tanh(1)/2, then tanh(1).
    let mut layer = RecurrentLayer::<f64>::new(Cell::Lstm { forget_gate: false, peepholes: false, projection: 0 }, 1, 1).unwrap();
    layer.weight_ih[2] = 1.0;
    let (out, _) = layer.forward(Sequences { x: &[1.0, 1.0], steps: 2, batch: 1, lengths: None, h0: None, c0: Some(&[0.0]) }).unwrap();
    assert!((out.c_n.unwrap()[0] - 1f64.tanh()).abs() < 1e-15);
    // ...and the forget gate's weights get no gradient.
    let (_, trace) = layer.forward(Sequences { x: &[1.0, 1.0], steps: 2, batch: 1, lengths: None, h0: None, c0: None }).unwrap();
    let grads = layer.backward(&trace, OutputGradients { dy: Some(&[1.0, 1.0]), ..Default::default() }).unwrap();
    assert_eq!(grads.parameters[0][1], 0.0);
    assert_eq!(grads.parameters[2][1], 0.0);
}

#[test]
fn parameters_have_pytorch_names_and_shapes() {
    let layer = RecurrentLayer::<f32>::new(Cell::LSTM, 3, 4).unwrap();
    let names: Vec<(String, usize)> = layer.parameters(1).into_iter().map(|(n, v)| (n, v.len())).collect();
    assert_eq!(names, [("weight_ih_l1".into(), 16 * 3), ("weight_hh_l1".into(), 16 * 4), ("bias_ih_l1".into(), 16), ("bias_hh_l1".into(), 16)]);
    let peepholes = RecurrentLayer::<f32>::new(Cell::Lstm { forget_gate: true, peepholes: true, projection: 0 }, 3, 4).unwrap();
    assert_eq!(peepholes.parameters(0)[4].0, "weight_peephole_l0");
    assert_eq!(peepholes.parameters(0)[4].1.len(), 12);
    // With a projection to 2: weight_hh reads h, [4H, P], and weight_hr is [P, H], as in PyTorch.
    let projected = RecurrentLayer::<f32>::new(Cell::Lstm { forget_gate: true, peepholes: false, projection: 2 }, 3, 4).unwrap();
    let shapes: Vec<(String, usize)> = projected.parameters(0).into_iter().map(|(n, v)| (n, v.len())).collect();
    assert_eq!(shapes[1], ("weight_hh_l0".to_string(), 16 * 2));
    assert_eq!(shapes[4], ("weight_hr_l0".to_string(), 2 * 4));
    assert_eq!(RecurrentLayer::<f32>::new(Cell::Lstm { forget_gate: true, peepholes: false, projection: 4 }, 3, 4).unwrap_err().kind(), "ConfigError");
}

/// With the `parallel` feature a large batch runs over threads: in parts of rows that each run
/// the whole sequence (at least 16 rows), and with its cells over threads (at least 4096 state
/// values a step). Each row is still computed by the same code, so nothing may change a bit,
/// with initial states, ragged lengths and dropout masks sliced to each part.
#[cfg(feature = "parallel")]
#[test]
fn a_batch_over_threads_gives_the_same_bits_as_one_thread() {
    let (steps, input, hidden) = (3, 5, 256);
    for (batch, cell) in [17, 40].into_iter().flat_map(|b| CELLS.map(|c| (b, c))) {
        let mut rng = Rng(11);
        let mut layer = RecurrentLayer::<f32>::new(cell, input, hidden).unwrap();
        for p in layer.parameters_mut() {
            p.iter_mut().for_each(|x| *x = (rng.next() * 0.2) as f32);
        }
        let x = rng.vec_f32(steps * batch * input);
        // Ragged, so some rows are frozen while others step.
        let lengths: Vec<usize> = (0..batch).map(|b| 1 + b % steps).collect();
        let (bs, bh) = (batch * layer.state_size(), batch * hidden);
        let (dy, dh_n, dc_n) = (rng.vec_f32(steps * bs), rng.vec_f32(bs), rng.vec_f32(bh));
        let (h0, c0) = (rng.vec_f32(bs), rng.vec_f32(bh));
        let keep = |v: f64| if v > 0.0 { 2.0 } else { 0.0 };
        let (input_mask, recurrent_mask): (Vec<f32>, Vec<f32>) = ((0..batch * input).map(|_| keep(rng.next())).collect(), (0..bs).map(|_| keep(rng.next())).collect());
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let seq = Sequences { x: &x, steps, batch, lengths: Some(&lengths), h0: Some(&h0), c0: cell.has_cell_state().then_some(&c0[..]) };
                let masks = DropoutMasks { input: Some(&input_mask), recurrent: Some(&recurrent_mask) };
                let (out, trace) = layer.forward_with_dropout(seq, masks).unwrap();
                let grads = layer.backward(&trace, OutputGradients { dy: Some(&dy), dh_n: Some(&dh_n), dc_n: cell.has_cell_state().then_some(&dc_n[..]) }).unwrap();
                let mut all = vec![out.y, out.h_n, out.c_n.unwrap_or_default(), grads.dx, grads.dh0, grads.dc0.unwrap_or_default(), grads.dh_norms];
                all.extend(grads.parameters);
                all
            })
        };
        let one = run(1);
        for threads in [2, 3] {
            for (k, (got, want)) in run(threads).iter().zip(&one).enumerate() {
                assert!(got.len() == want.len() && got.iter().zip(want).all(|(a, b)| a.to_bits() == b.to_bits()), "{layer}, batch {batch}, {threads} threads: output {k} differs from 1 thread");
            }
        }
    }
}
