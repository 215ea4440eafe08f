//! The Jordan network: forward equals its equations, backward equals finite differences (f64).

mod common;

use common::{assert_gradient, Rng};
use seqwasm_core::recurrent::JordanLayer;
use seqwasm_core::Activation;

fn layer(rng: &mut Rng, activation: Activation, output_activation: Activation) -> JordanLayer<f64> {
    let mut layer = JordanLayer::new(3, 5, 2, activation, output_activation).unwrap();
    for p in layer.parameters_mut() {
        p.iter_mut().for_each(|v| *v = rng.next() * 0.7);
    }
    layer
}

/// `h = act(W_ih·x + b_ih + W_hh·y_prev + b_hh)`, `y = out_act(W_hy·h + b_y)`, one sequence at a time.
fn naive(l: &JordanLayer<f64>, x: &[f64], steps: usize, batch: usize, lengths: &[usize], y0: &[f64]) -> Vec<f64> {
    let (ni, nh, no) = (l.input, l.hidden, l.output);
    let mut out = vec![0.0; steps * batch * no];
    for b in 0..batch {
        let mut y = y0[b * no..(b + 1) * no].to_vec();
        for t in 0..lengths[b] {
            let xt = &x[(t * batch + b) * ni..(t * batch + b + 1) * ni];
            let h: Vec<f64> = (0..nh)
                .map(|j| {
                    let z = l.bias_ih[j] + l.bias_hh[j] + (0..ni).map(|k| l.weight_ih[j * ni + k] * xt[k]).sum::<f64>() + (0..no).map(|k| l.weight_hh[j * no + k] * y[k]).sum::<f64>();
                    l.activation.apply(z)
                })
                .collect();
            y = (0..no).map(|j| l.output_activation.apply(l.bias_y[j] + (0..nh).map(|k| l.weight_hy[j * nh + k] * h[k]).sum::<f64>())).collect();
            out[(t * batch + b) * no..(t * batch + b + 1) * no].copy_from_slice(&y);
        }
    }
    out
}

#[test]
fn forward_equals_the_equations() {
    let mut rng = Rng(4);
    for (act, out_act) in [(Activation::Tanh, Activation::Sigmoid), (Activation::Relu, Activation::Tanh)] {
        let l = layer(&mut rng, act, out_act);
        let (steps, batch, lengths) = (6, 3, [6, 2, 0]);
        let (x, y0) = (rng.vec(steps * batch * 3), rng.vec(batch * 2));
        let (y, _) = l.forward(&x, steps, batch, Some(&lengths), Some(&y0)).unwrap();
        let want = naive(&l, &x, steps, batch, &lengths, &y0);
        assert!(y.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-12), "{y:?}\n{want:?}");
    }
}

#[test]
fn gradients_equal_finite_differences() {
    let mut rng = Rng(8);
    let l = layer(&mut rng, Activation::Tanh, Activation::Sigmoid);
    let (steps, batch, lengths) = (5, 3, [5, 3, 4]);
    let (x, y0, probe, probe_n) = (rng.vec(steps * batch * 3), rng.vec(batch * 2), rng.vec(steps * batch * 2), rng.vec(batch * 2));
    // L = Σ probe⊙y + Σ probe_n⊙(final output of each sequence).
    let loss = |l: &JordanLayer<f64>, x: &[f64], y0: &[f64]| {
        let (y, _) = l.forward(x, steps, batch, Some(&lengths), Some(y0)).unwrap();
        let last: f64 = (0..batch).map(|b| (0..2).map(|j| probe_n[b * 2 + j] * y[((lengths[b] - 1) * batch + b) * 2 + j]).sum::<f64>()).sum();
        y.iter().zip(&probe).map(|(a, b)| a * b).sum::<f64>() + last
    };
    let (_, trace) = l.forward(&x, steps, batch, Some(&lengths), Some(&y0)).unwrap();
    let grads = l.backward(&trace, &probe, Some(&probe_n)).unwrap();
    for (k, analytic) in grads.parameters.iter().enumerate() {
        let point = l.parameters(0)[k].1.to_vec();
        assert_gradient(&format!("parameter {k}"), analytic, &point, |p| {
            let mut moved = l.clone();
            *moved.parameters_mut()[k] = p.to_vec();
            loss(&moved, &x, &y0)
        });
    }
    assert_gradient("x", &grads.dx, &x, |x| loss(&l, x, &y0));
    assert_gradient("y0", &grads.dy0, &y0, |y0| loss(&l, &x, y0));
}

#[test]
fn bad_input_is_named() {
    let l = JordanLayer::<f64>::new(3, 5, 2, Activation::Tanh, Activation::Tanh).unwrap();
    let err = l.forward(&[0.0; 17], 3, 2, None, None).unwrap_err();
    assert_eq!(err.to_string(), "Jordan layer (input 3, hidden 5, output 2): x: expected [T=3, B=2, I=3] = 18 values, got 17 values");
    assert!(l.forward(&[0.0; 18], 3, 2, Some(&[4, 1]), None).unwrap_err().to_string().contains("lengths"));
    assert!(l.forward(&[0.0; 18], 3, 2, None, Some(&[0.0; 3])).unwrap_err().to_string().contains("y0"));
    let names: Vec<String> = l.parameters(0).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hy_l0", "bias_y_l0"]);
}
