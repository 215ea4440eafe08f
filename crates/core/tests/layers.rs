//! Dense, Embedding, LayerNorm and activation layers: forward by definition, backward by finite
//! differences (f64).

mod common;

use common::{assert_gradient, Rng};
use seqwasm_core::layers::{ActivationLayer, Dense, Embedding, LayerNorm};
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
        (dense.weight, dense.bias) = (rng.vec(12), rng.vec(3));
        let (rows, x, probe) = (5, rng.vec(20), rng.vec(15));
        let loss = |d: &Dense<f64>, x: &[f64]| dot(&d.forward(x, rows).unwrap().0, &probe);
        let grads = dense.backward(&dense.forward(&x, rows).unwrap().1, &probe).unwrap();
        let what = format!("{activation:?}");
        assert_gradient(&format!("{what} weight"), &grads.weight, &dense.weight, |w| loss(&Dense { weight: w.to_vec(), ..dense.clone() }, &x));
        assert_gradient(&format!("{what} bias"), &grads.bias, &dense.bias, |b| loss(&Dense { bias: b.to_vec(), ..dense.clone() }, &x));
        assert_gradient(&format!("{what} x"), &grads.dx, &x, |x| loss(&dense, x));
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn layer_norm_normalises_each_row() {
    let norm = LayerNorm::<f64>::new(4, 1e-5).unwrap();
    let (y, _) = norm.forward(&[1.0, 2.0, 3.0, 4.0, 10.0, 10.0, 10.0, 10.0]).unwrap();
    // Mean 2.5, biased variance 1.25.
    let s = (1.25f64 + 1e-5).sqrt();
    let want = [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s, 0.0, 0.0, 0.0, 0.0];
    assert!(y.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-12), "{y:?}");
}

#[test]
fn layer_norm_gradients_equal_finite_differences() {
    let mut rng = Rng(12);
    let mut norm = LayerNorm::<f64>::new(5, 1e-5).unwrap();
    (norm.weight, norm.bias) = (rng.vec(5), rng.vec(5));
    let (x, probe) = (rng.vec(15), rng.vec(15));
    let loss = |n: &LayerNorm<f64>, x: &[f64]| dot(&n.forward(x).unwrap().0, &probe);
    let grads = norm.backward(&norm.forward(&x).unwrap().1, &probe).unwrap();
    assert_gradient("LayerNorm weight", &grads.weight, &norm.weight, |w| loss(&LayerNorm { weight: w.to_vec(), ..norm.clone() }, &x));
    assert_gradient("LayerNorm bias", &grads.bias, &norm.bias, |b| loss(&LayerNorm { bias: b.to_vec(), ..norm.clone() }, &x));
    assert_gradient("LayerNorm x", &grads.dx, &x, |x| loss(&norm, x));
}

#[test]
fn activation_layers_and_softmax_have_exact_gradients() {
    let mut rng = Rng(13);
    let (x, probe) = (rng.vec(12), rng.vec(12));
    for layer in [
        ActivationLayer::Elementwise(Activation::Tanh),
        ActivationLayer::Elementwise(Activation::Sigmoid),
        ActivationLayer::Elementwise(Activation::HardSigmoid),
        ActivationLayer::Softmax { cols: 4 },
    ] {
        let y = layer.forward(&x).unwrap();
        let dx = layer.backward(&y, &probe).unwrap();
        assert_gradient(&format!("{layer:?}"), &dx, &x, |x| dot(&layer.forward(x).unwrap(), &probe));
    }
    let y = ActivationLayer::Softmax { cols: 3 }.forward(&[0.0, 0.0, 2f64.ln()]).unwrap();
    assert!(y.iter().zip([0.25, 0.25, 0.5]).all(|(a, b)| (a - b).abs() < 1e-15));
    assert!(ActivationLayer::Softmax { cols: 5 }.forward(&x).is_err());
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
