//! Dense and Embedding: forward by definition, backward by finite differences (f64).

mod common;

use common::{numeric_derivative, relative_error, Rng};
use seqwasm_core::layers::{Dense, Embedding};
use seqwasm_core::Activation;

#[test]
fn dense_computes_x_times_w_transposed_plus_b() {
    let mut dense = Dense::<f64>::new(2, 3, None).unwrap();
    dense.weight = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // [out=3, in=2], PyTorch's layout
    dense.bias = vec![0.5, 0.0, -0.5];
    let (y, _) = dense.forward(&[1.0, -1.0, 2.0, 0.0], 2).unwrap();
    assert_eq!(y, [-0.5, -1.0, -1.5, 2.5, 6.0, 9.5]);
}

#[test]
fn dense_gradients_equal_finite_differences() {
    for activation in [None, Some(Activation::Tanh), Some(Activation::Sigmoid), Some(Activation::Relu)] {
        let mut rng = Rng(3);
        let mut dense = Dense::<f64>::new(4, 3, activation).unwrap();
        dense.weight = rng.vec(12);
        dense.bias = rng.vec(3);
        let (rows, x, probe) = (5, rng.vec(20), rng.vec(15));
        let loss = |d: &Dense<f64>, x: &[f64]| d.forward(x, rows).unwrap().0.iter().zip(&probe).map(|(a, b)| a * b).sum::<f64>();
        let (_, trace) = dense.forward(&x, rows).unwrap();
        let grads = dense.backward(&trace, &probe).unwrap();
        for (i, &analytic) in grads.weight.iter().enumerate() {
            let numeric = numeric_derivative(|d| {
                let mut moved = dense.clone();
                moved.weight[i] += d;
                loss(&moved, &x)
            });
            assert!(relative_error(analytic, numeric) < 1e-6, "{activation:?} weight[{i}]: {analytic} vs {numeric}");
        }
        for (i, &analytic) in grads.bias.iter().enumerate() {
            let numeric = numeric_derivative(|d| {
                let mut moved = dense.clone();
                moved.bias[i] += d;
                loss(&moved, &x)
            });
            assert!(relative_error(analytic, numeric) < 1e-6, "{activation:?} bias[{i}]: {analytic} vs {numeric}");
        }
        for (i, &analytic) in grads.dx.iter().enumerate() {
            let numeric = numeric_derivative(|d| {
                let mut moved = x.clone();
                moved[i] += d;
                loss(&dense, &moved)
            });
            assert!(relative_error(analytic, numeric) < 1e-6, "{activation:?} x[{i}]: {analytic} vs {numeric}");
        }
    }
}

#[test]
fn embedding_looks_up_rows_and_scatters_gradients() {
    let mut embedding = Embedding::<f64>::new(4, 2).unwrap();
    embedding.weight = vec![0.0, 1.0, 10.0, 11.0, 20.0, 21.0, 30.0, 31.0];
    assert_eq!(embedding.forward(&[2, 0, 2]).unwrap(), [20.0, 21.0, 0.0, 1.0, 20.0, 21.0]);
    // Row 2 is used twice, so its gradient is the sum of both rows of dy.
    let grad = embedding.backward(&[2, 0, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    assert_eq!(grad, [3.0, 4.0, 0.0, 0.0, 6.0, 8.0, 0.0, 0.0]);
}

#[test]
fn bad_input_is_named() {
    let dense = Dense::<f32>::new(4, 3, None).unwrap();
    assert_eq!(dense.forward(&[0.0; 7], 2).unwrap_err().to_string(), "Dense layer (4 → 3): x: expected [rows=2, 4] = 8 values, got 7 values");
    let embedding = Embedding::<f32>::new(65, 8).unwrap();
    assert_eq!(embedding.forward(&[3, 65]).unwrap_err().to_string(), "Embedding layer (65 × 8): ids: expected ids below 65, got 65 at position 1");
    assert_eq!(Dense::<f32>::new(0, 3, None).unwrap_err().kind(), "ConfigError");
}
