//! Losses: values from their definitions, gradients by finite differences (f64), masks drop rows.

mod common;

use common::{numeric_derivative, relative_error, Rng};
use seqwasm_core::{Loss, Target};

const VALUE_LOSSES: [Loss; 6] = [
    Loss::MeanSquaredError,
    Loss::MeanAbsoluteError,
    Loss::Huber { delta: 0.5 },
    Loss::BinaryCrossEntropy { from_logits: true },
    Loss::BinaryCrossEntropy { from_logits: false },
    Loss::KlDivergence,
];

#[test]
fn values_match_their_definitions() {
    let (p, t) = ([0.0, 2.0, 1.0, 4.0], [1.0, 1.0, 1.0, 1.0]);
    let value = |loss: Loss, p: &[f64], t: &[f64], rows, cols| loss.evaluate(p, Target::Values(t), rows, cols, None).unwrap().0;
    assert_eq!(value(Loss::MeanSquaredError, &p, &t, 2, 2), (1.0 + 1.0 + 0.0 + 9.0) / 4.0);
    assert_eq!(value(Loss::MeanAbsoluteError, &p, &t, 2, 2), (1.0 + 1.0 + 0.0 + 3.0) / 4.0);
    // Huber, δ = 1: ½d² inside, δ(|d| − ½δ) outside: (½ + ½ + 0 + 2.5) / 4.
    assert_eq!(value(Loss::Huber { delta: 1.0 }, &p, &t, 2, 2), 3.5 / 4.0);
    // Binary cross-entropy of logit 0 is ln 2 whatever the target.
    assert!((value(Loss::BinaryCrossEntropy { from_logits: true }, &[0.0], &[0.3], 1, 1) - 2f64.ln()).abs() < 1e-15);
    assert!((value(Loss::BinaryCrossEntropy { from_logits: false }, &[0.5], &[1.0], 1, 1) - 2f64.ln()).abs() < 1e-15);
    // KL of a distribution from itself is 0; of target (½, ½) from prediction (¼, ¾): ½ln2 + ½ln(2/3).
    assert!(value(Loss::KlDivergence, &[0.2, 0.8], &[0.2, 0.8], 1, 2).abs() < 1e-15);
    assert!((value(Loss::KlDivergence, &[0.25, 0.75], &[0.5, 0.5], 1, 2) - (0.5 * 2f64.ln() + 0.5 * (2.0f64 / 3.0).ln())).abs() < 1e-15);
    // Cross-entropy of uniform logits over C classes is ln C.
    let ce = Loss::SoftmaxCrossEntropy.evaluate(&[3.0; 5], Target::<f64>::Classes(&[4]), 1, 5, None).unwrap().0;
    assert!((ce - 5f64.ln()).abs() < 1e-15);
    // ...and stays finite for huge logits.
    let ce = Loss::SoftmaxCrossEntropy.evaluate(&[1000.0, 0.0], Target::<f64>::Classes(&[1]), 1, 2, None).unwrap().0;
    assert_eq!(ce, 1000.0);
}

#[test]
fn gradients_equal_finite_differences() {
    let mut rng = Rng(9);
    let (rows, cols) = (4, 3);
    let mask = [1.0, 0.0, 2.0, 1.0];
    for loss in VALUE_LOSSES {
        // Probabilities for the losses that need them, anything for the others.
        let positive = matches!(loss, Loss::BinaryCrossEntropy { from_logits: false } | Loss::KlDivergence);
        let draw = |rng: &mut Rng| if positive { 0.1 + 0.4 * (rng.next() + 1.0) } else { rng.next() * 2.0 };
        let pred: Vec<f64> = (0..rows * cols).map(|_| draw(&mut rng)).collect();
        let target: Vec<f64> = (0..rows * cols).map(|_| if positive { 0.05 + 0.45 * (rng.next() + 1.0) } else { rng.next() }).collect();
        for mask in [None, Some(&mask[..])] {
            let (_, grad) = loss.evaluate(&pred, Target::Values(&target), rows, cols, mask).unwrap();
            for i in 0..pred.len() {
                let numeric = numeric_derivative(|d| {
                    let mut moved = pred.clone();
                    moved[i] += d;
                    loss.evaluate(&moved, Target::Values(&target), rows, cols, mask).unwrap().0
                });
                assert!(relative_error(grad[i], numeric) < 1e-6, "{loss:?} mask {mask:?} [{i}]: {} vs {numeric}", grad[i]);
            }
        }
    }
    let logits = rng.vec(rows * cols);
    // Probabilities in (0.1, 0.9) for the cross-entropy that takes them.
    let probabilities: Vec<f64> = logits.iter().map(|z| 0.5 + 0.4 * z).collect();
    let classes = [2, 0, 1, 2];
    for (loss, point) in [(Loss::SoftmaxCrossEntropy, &logits), (Loss::CrossEntropy, &probabilities)] {
        for mask in [None, Some(&mask[..])] {
            let (_, grad) = loss.evaluate(point, Target::Classes(&classes), rows, cols, mask).unwrap();
            for i in 0..point.len() {
                let numeric = numeric_derivative(|d| {
                    let mut moved = point.clone();
                    moved[i] += d;
                    loss.evaluate(&moved, Target::Classes(&classes), rows, cols, mask).unwrap().0
                });
                assert!(relative_error(grad[i], numeric) < 1e-6, "{loss:?} [{i}]: {} vs {numeric}", grad[i]);
            }
        }
    }
}

#[test]
fn losses_parse_from_keras_names() {
    assert_eq!(Loss::from_json(r#""mse""#).unwrap(), Loss::MeanSquaredError);
    assert_eq!(Loss::from_json(r#"{"type": "huber", "delta": 0.5}"#).unwrap(), Loss::Huber { delta: 0.5 });
    assert_eq!(Loss::from_json(r#""sparse_categorical_crossentropy""#).unwrap(), Loss::CrossEntropy);
    assert_eq!(Loss::from_json(r#"{"type": "sparse_categorical_crossentropy", "from_logits": true}"#).unwrap(), Loss::SoftmaxCrossEntropy);
    assert_eq!(Loss::from_json(r#"{"type": "binary_crossentropy", "from_logits": true}"#).unwrap(), Loss::BinaryCrossEntropy { from_logits: true });
    for (json, needle) in [(r#""hinge""#, "unknown loss `hinge`"), (r#"{"type": "mse", "delta": 1}"#, "`delta` applies only to huber"), (r#"{"type": "huber", "delta": -1}"#, "positive"), (r#"{"type": "mse", "weight": 1}"#, "weight")] {
        let err = Loss::from_json(json).unwrap_err();
        assert!(err.kind() == "ConfigError" && err.to_string().contains(needle), "{json}: {err}");
    }
}

#[test]
fn a_mask_drops_rows_and_weighs_the_rest() {
    let pred = [1.0, 100.0, 3.0];
    let target = [0.0, 0.0, 0.0];
    let (loss, grad) = Loss::MeanSquaredError.evaluate(&pred, Target::Values(&target), 3, 1, Some(&[1.0, 0.0, 1.0])).unwrap();
    assert_eq!(loss, (1.0 + 9.0) / 2.0);
    assert_eq!(grad[1], 0.0);
    let (loss, grad) = Loss::MeanSquaredError.evaluate(&pred, Target::Values(&target), 3, 1, Some(&[0.0; 3])).unwrap();
    assert_eq!((loss, grad), (0.0, vec![0.0; 3]));
}

#[test]
fn bad_input_is_named() {
    let err = Loss::MeanSquaredError.evaluate(&[0.0f32; 5], Target::Values(&[0.0; 6]), 2, 3, None).unwrap_err();
    assert_eq!(err.to_string(), "MeanSquaredError loss: predictions: expected [2, 3] = 6 values, got 5 values");
    let err = Loss::SoftmaxCrossEntropy.evaluate(&[0.0f32; 6], Target::Classes(&[0, 3]), 2, 3, None).unwrap_err();
    assert_eq!(err.to_string(), "SoftmaxCrossEntropy loss: targets: expected class ids below 3, got 3 at row 1");
    assert_eq!(Loss::SoftmaxCrossEntropy.evaluate(&[0.0f32; 6], Target::Values(&[0.0; 6]), 2, 3, None).unwrap_err().kind(), "ConfigError");
    assert_eq!(Loss::MeanAbsoluteError.evaluate(&[0.0f32; 6], Target::Classes(&[0, 1]), 2, 3, None).unwrap_err().kind(), "ConfigError");
    assert!(Loss::MeanSquaredError.evaluate(&[0.0f32; 6], Target::Values(&[0.0; 6]), 2, 3, Some(&[1.0])).unwrap_err().to_string().contains("mask"));
}
