//! Conv1D and pooling over time: forward equals the direct formula for every padding and stride,
//! backward equals finite differences (f64).

mod common;

use common::{assert_gradient, Rng};
use seqwasm_core::layers::{Conv1d, Padding, Pool1d, PoolKind};

/// `y[t, b, o] = bias[o] + Σ_c Σ_k W[o, c, k] · x[t·stride + k − left, b, c]`, zero outside.
fn direct(conv: &Conv1d<f64>, x: &[f64], steps: usize, batch: usize, left: usize) -> Vec<f64> {
    let out_steps = conv.output_steps(steps);
    let mut y = vec![0.0; out_steps * batch * conv.output];
    for t in 0..out_steps {
        for b in 0..batch {
            for o in 0..conv.output {
                let mut v = conv.bias[o];
                for c in 0..conv.input {
                    for k in 0..conv.kernel {
                        let s = (t * conv.stride + k) as isize - left as isize;
                        if s >= 0 && (s as usize) < steps {
                            v += conv.weight[(o * conv.input + c) * conv.kernel + k] * x[(s as usize * batch + b) * conv.input + c];
                        }
                    }
                }
                y[(t * batch + b) * conv.output + o] = v;
            }
        }
    }
    y
}

#[test]
fn output_lengths_follow_keras() {
    let conv = |kernel, stride, padding| Conv1d::<f32>::new(1, 1, kernel, stride, padding).unwrap();
    assert_eq!(conv(3, 2, Padding::Valid).output_steps(10), 4);
    assert_eq!(conv(3, 3, Padding::Same).output_steps(10), 4);
    assert_eq!(conv(4, 1, Padding::Same).output_steps(10), 10);
    assert_eq!(conv(3, 1, Padding::Causal).output_steps(10), 10);
    assert_eq!(conv(3, 1, Padding::Causal).output_steps(0), 0);
}

#[test]
fn forward_equals_the_direct_formula_and_gradients_are_exact() {
    let mut rng = Rng(21);
    let (steps, batch) = (9, 2);
    for (padding, kernel, stride, left) in [
        (Padding::Valid, 3, 1, 0),
        (Padding::Valid, 4, 2, 0),
        (Padding::Causal, 3, 1, 2),
        (Padding::Same, 3, 1, 1),
        // TensorFlow's rule for an even kernel: 3 zeros, 1 before and 2 after.
        (Padding::Same, 4, 1, 1),
        (Padding::Same, 3, 2, 1),
    ] {
        let mut conv = Conv1d::<f64>::new(3, 2, kernel, stride, padding).unwrap();
        (conv.weight, conv.bias) = (rng.vec(2 * 3 * kernel), rng.vec(2));
        let x = rng.vec(steps * batch * 3);
        let (y, trace) = conv.forward(&x, steps, batch).unwrap();
        let want = direct(&conv, &x, steps, batch, left);
        assert!(y.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-12), "{conv}: {y:?} vs {want:?}");

        let probe = rng.vec(y.len());
        let dot = |v: &[f64]| v.iter().zip(&probe).map(|(a, b)| a * b).sum::<f64>();
        let grads = conv.backward(&trace, &probe).unwrap();
        let what = conv.to_string();
        assert_gradient(&format!("{what} weight"), &grads.weight, &conv.weight, |w| dot(&Conv1d { weight: w.to_vec(), ..conv.clone() }.forward(&x, steps, batch).unwrap().0));
        assert_gradient(&format!("{what} bias"), &grads.bias, &conv.bias, |b| dot(&Conv1d { bias: b.to_vec(), ..conv.clone() }.forward(&x, steps, batch).unwrap().0));
        assert_gradient(&format!("{what} x"), &grads.dx, &x, |x| dot(&conv.forward(x, steps, batch).unwrap().0));
    }
}

#[test]
fn pooling_takes_window_maxima_and_means_and_routes_gradients() {
    // One sequence, one channel: 1 5 2 8 3 4, windows of 2 every 2 steps.
    let x = [1.0, 5.0, 2.0, 8.0, 3.0, 4.0];
    let max = Pool1d { kind: PoolKind::Max, size: 2, stride: 2 };
    let (y, argmax) = max.forward(&x, 6, 1, 1).unwrap();
    assert_eq!((y, argmax.clone()), (vec![5.0, 8.0, 4.0], vec![1, 3, 5]));
    assert_eq!(max.backward(&[1.0, 2.0, 3.0], &argmax, 6, 1, 1).unwrap(), [0.0, 1.0, 0.0, 2.0, 0.0, 3.0]);
    let avg = Pool1d { kind: PoolKind::Average, size: 3, stride: 1 };
    assert_eq!(avg.forward(&x, 6, 1, 1).unwrap().0, [8.0 / 3.0, 5.0, 13.0 / 3.0, 5.0]);

    let mut rng = Rng(22);
    let (steps, batch, channels) = (7, 2, 3);
    let x = rng.vec(steps * batch * channels);
    for pool in [Pool1d { kind: PoolKind::Max, size: 3, stride: 2 }, Pool1d { kind: PoolKind::Average, size: 2, stride: 1 }] {
        let (y, argmax) = pool.forward(&x, steps, batch, channels).unwrap();
        let probe = rng.vec(y.len());
        let dx = pool.backward(&probe, &argmax, steps, batch, channels).unwrap();
        assert_gradient(&format!("{pool:?}"), &dx, &x, |x| pool.forward(x, steps, batch, channels).unwrap().0.iter().zip(&probe).map(|(a, b)| a * b).sum());
    }
}

#[test]
fn bad_input_is_named() {
    let conv = Conv1d::<f32>::new(3, 2, 5, 1, Padding::Valid).unwrap();
    assert_eq!(conv.forward(&[0.0; 10], 2, 2).unwrap_err().to_string(), "Conv1D layer (3 → 2, kernel 5, stride 1, Valid): x: expected [T=2, B=2, C=3] = 12 values, got 10 values");
    assert!(conv.forward(&[0.0; 12], 2, 2).unwrap_err().to_string().contains("at least 5 steps"));
    assert_eq!(Conv1d::<f32>::new(3, 2, 0, 1, Padding::Same).unwrap_err().kind(), "ConfigError");
    assert!(Pool1d { kind: PoolKind::Max, size: 4, stride: 1 }.forward(&[0.0f32; 6], 3, 2, 1).is_err());
    assert_eq!(Pool1d { kind: PoolKind::Max, size: 0, stride: 1 }.forward(&[0.0f32; 6], 3, 2, 1).unwrap_err().kind(), "ConfigError");
}
