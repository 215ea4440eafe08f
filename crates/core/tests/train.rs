//! Training: each optimizer follows its published update rule on hand-computed steps,
//! clipping bounds the norm exactly, schedules give their formulas, TBPTT's gradients equal a
//! brute-force truncated gradient, non-finite steps stop with a named error and leave the last
//! good weights, and metrics and early stopping do what Keras' do.

mod common;

use common::{assert_gradient, Rng};
use seqwasm_core::model::{Batch, Inputs, Model};
use seqwasm_core::Parameters;
use seqwasm_core::train::*;

fn optimizer(json: &str) -> Optimizer<f64> {
    Optimizer::new(OptimizerConfig::from_value(serde_json::from_str(json).unwrap()).unwrap())
}

/// Two updates of one parameter starting at 1 with gradients 0.5 then −0.2.
fn two_steps(json: &str) -> (f64, f64) {
    let mut opt = optimizer(json);
    let lr = opt.config.learning_rate;
    let mut p = vec![1.0];
    opt.update(vec![&mut p], &[vec![0.5]], lr).unwrap();
    let first = p[0];
    opt.update(vec![&mut p], &[vec![-0.2]], lr).unwrap();
    (first, p[0])
}

fn close(got: (f64, f64), want: (f64, f64)) {
    assert!((got.0 - want.0).abs() < 1e-12 && (got.1 - want.1).abs() < 1e-12, "{got:?} vs {want:?}");
}

#[test]
fn sgd_follows_its_update_rule() {
    close(two_steps(r#"{"type": "sgd", "learning_rate": 0.1}"#), (0.95, 0.97));
    // Momentum 0.9: b1 = 0.5, b2 = 0.9·0.5 − 0.2 = 0.25.
    close(two_steps(r#"{"type": "sgd", "learning_rate": 0.1, "momentum": 0.9}"#), (0.95, 0.95 - 0.025));
    // Nesterov: step g + μb: 0.5 + 0.45 = 0.95, then −0.2 + 0.9·0.25 = 0.025.
    close(two_steps(r#"{"type": "sgd", "learning_rate": 0.1, "momentum": 0.9, "nesterov": true}"#), (1.0 - 0.095, 1.0 - 0.095 - 0.0025));
    // Weight decay 0.1 adds 0.1·p to the gradient: 0.5 + 0.1 = 0.6, then −0.2 + 0.094 = −0.106.
    close(two_steps(r#"{"type": "sgd", "learning_rate": 0.1, "weight_decay": 0.1}"#), (0.94, 0.94 + 0.0106));
}

#[test]
fn adam_and_adamw_follow_their_update_rules() {
    let (b1, b2, eps, lr) = (0.9f64, 0.999f64, 1e-8, 0.1);
    let adam = |wd: f64, decoupled: bool| {
        let (mut p, mut m, mut v) = (1.0f64, 0.0, 0.0);
        let mut out = Vec::new();
        for (t, g) in [(1, 0.5), (2, -0.2)] {
            let g = if decoupled {
                p -= lr * wd * p;
                g
            } else {
                g + wd * p
            };
            m = b1 * m + (1.0 - b1) * g;
            v = b2 * v + (1.0 - b2) * g * g;
            let (mh, vh) = (m / (1.0 - b1.powi(t)), v / (1.0 - b2.powi(t)));
            p -= lr * mh / (vh.sqrt() + eps);
            out.push(p);
        }
        (out[0], out[1])
    };
    close(two_steps(r#"{"type": "adam", "learning_rate": 0.1, "epsilon": 1e-8}"#), adam(0.0, false));
    // The first Adam step moves by the learning rate whatever the gradient's size.
    assert!((two_steps(r#"{"type": "adam", "learning_rate": 0.1, "epsilon": 1e-8}"#).0 - 0.9).abs() < 1e-7);
    close(two_steps(r#"{"type": "adam", "learning_rate": 0.1, "epsilon": 1e-8, "weight_decay": 0.1}"#), adam(0.1, false));
    close(two_steps(r#"{"type": "adamw", "learning_rate": 0.1, "epsilon": 1e-8, "weight_decay": 0.1}"#), adam(0.1, true));
}

#[test]
fn rmsprop_and_adagrad_follow_their_update_rules() {
    // RMSprop ρ = 0.9: v1 = 0.1·0.25 = 0.025; v2 = 0.9·0.025 + 0.1·0.04 = 0.0265.
    let e = 1e-7;
    let p1 = 1.0 - 0.01 * 0.5 / (0.025f64.sqrt() + e);
    close(two_steps(r#"{"type": "rmsprop", "learning_rate": 0.01}"#), (p1, p1 + 0.01 * 0.2 / (0.0265f64.sqrt() + e)));
    // Centred: a1 = 0.05, a2 = 0.9·0.05 − 0.02 = 0.025; v̄ = v − a².
    let c1 = 1.0 - 0.01 * 0.5 / ((0.025f64 - 0.0025).sqrt() + e);
    close(two_steps(r#"{"type": "rmsprop", "learning_rate": 0.01, "centered": true}"#), (c1, c1 + 0.01 * 0.2 / ((0.0265f64 - 0.000625).sqrt() + e)));
    // Momentum 0.5: b1 = 0.5/√v1, b2 = 0.5·b1 − 0.2/√v2.
    let (s1, s2) = (0.5 / (0.025f64.sqrt() + e), -0.2 / (0.0265f64.sqrt() + e));
    close(two_steps(r#"{"type": "rmsprop", "learning_rate": 0.01, "momentum": 0.5}"#), (1.0 - 0.01 * s1, 1.0 - 0.01 * s1 - 0.01 * (0.5 * s1 + s2)));
    // Adagrad from 0.1: s1 = 0.35, s2 = 0.39.
    let a1 = 1.0 - 0.1 * 0.5 / (0.35f64.sqrt() + e);
    close(two_steps(r#"{"type": "adagrad", "learning_rate": 0.1}"#), (a1, a1 + 0.1 * 0.2 / (0.39f64.sqrt() + e)));
}

#[test]
fn clipping_bounds_the_global_norm_exactly() {
    let opt = optimizer(r#"{"type": "sgd", "global_clipnorm": 1.0}"#);
    let mut grads = vec![vec![3.0, 4.0], vec![12.0]];
    assert_eq!(opt.clip(&mut grads), 13.0);
    assert!((global_norm(&grads) - 1.0).abs() < 1e-15);
    assert!((grads[0][0] - 3.0 / 13.0).abs() < 1e-15);
    // Below the bound nothing changes.
    let mut small = vec![vec![0.3, 0.4]];
    opt.clip(&mut small);
    assert_eq!(small, vec![vec![0.3, 0.4]]);
    let by_value = optimizer(r#"{"type": "sgd", "clipvalue": 0.5}"#);
    let mut grads = vec![vec![3.0, -4.0, 0.25]];
    by_value.clip(&mut grads);
    assert_eq!(grads, vec![vec![0.5, -0.5, 0.25]]);
}

#[test]
fn schedules_give_their_formulas() {
    let s = |json: &str| Schedule::from_value(serde_json::from_str(json).unwrap()).unwrap();
    let step = s(r#"{"type": "step", "step_size": 10, "gamma": 0.5}"#);
    assert_eq!([step.rate(1.0, 0), step.rate(1.0, 9), step.rate(1.0, 10), step.rate(1.0, 25)], [1.0, 1.0, 0.5, 0.25]);
    let exp = s(r#"{"type": "exponential", "decay_steps": 100, "decay_rate": 0.5}"#);
    assert!((exp.rate(2.0, 50) - 2.0 * 0.5f64.sqrt()).abs() < 1e-15);
    let cos = s(r#"{"type": "cosine", "decay_steps": 100, "alpha": 0.1, "warmup_steps": 10}"#);
    assert_eq!(cos.rate(1.0, 0), 0.1);
    assert_eq!(cos.rate(1.0, 4), 0.5);
    assert!((cos.rate(1.0, 10) - 1.0).abs() < 1e-15);
    assert!((cos.rate(1.0, 60) - (0.9 * 0.5 + 0.1)).abs() < 1e-15);
    assert!((cos.rate(1.0, 500) - 0.1).abs() < 1e-15);
    let err = Schedule::from_value(serde_json::from_str(r#"{"type": "step", "decay_rate": 0.5, "step_size": 2}"#).unwrap()).unwrap_err();
    assert!(err.to_string().contains("`decay_rate` does not apply"), "{err}");
}

#[test]
fn bad_training_configs_are_named() {
    for (json, needle) in [
        (r#"{"loss": "mse", "optimizer": "adamax"}"#, "unknown optimizer `adamax`"),
        (r#"{"loss": "mse", "optimizer": {"type": "adam", "momentum": 0.9}}"#, "`momentum` does not apply to adam"),
        (r#"{"loss": "mse", "optimizer": {"type": "sgd", "learning_rate": -1}}"#, "learning_rate"),
        (r#"{"loss": "mse", "metrics": ["f1"]}"#, "unknown metric `f1`"),
        (r#"{"loss": "mse", "epochs": 3}"#, "epochs"),
    ] {
        let err = TrainerConfig::from_json(json).unwrap_err();
        assert!(err.kind() == "ConfigError" && err.to_string().contains(needle), "{json}: {err}");
    }
}

fn trainer(model: &str, config: &str, seed: u64) -> Trainer<f64> {
    Trainer::new(Model::from_json(model, seed).unwrap(), TrainerConfig::from_json(config).unwrap())
}

#[test]
fn a_non_finite_step_is_named_and_leaves_the_last_good_weights() {
    let model = r#"{"input": 2, "layers": [{"type": "lstm", "units": 3}, {"type": "dense", "units": 1}]}"#;
    let mut t = trainer(model, r#"{"loss": "mse", "optimizer": {"type": "sgd", "learning_rate": 0.1}}"#, 1);
    let x = Rng(1).vec(2 * 4 * 2);
    let batch = Batch { x: Inputs::Values(&x), batch: 2, steps: 4, lengths: None };
    t.train_batch(batch, Targets::Values(&[0.5, -0.5])).unwrap();
    let good = t.snapshot();
    let err = t.train_batch(batch, Targets::Values(&[f64::NAN, 0.0])).unwrap_err();
    assert_eq!(err.kind(), "NumericError");
    assert!(err.to_string().contains("training step 2: targets: value 0 is NaN") && err.to_string().contains("the weights are those of step 1"), "{err}");
    assert_eq!(t.snapshot(), good);

    // Weights that make a layer overflow: the step names that layer.
    let mut huge = trainer(r#"{"input": 2, "layers": [{"type": "dense", "units": 3}, {"type": "rnn", "units": 2}]}"#, r#"{"loss": "mse"}"#, 1);
    huge.model.set_parameter("0.weight", &[f64::MAX; 6]).unwrap();
    let ones = [1.0; 2 * 4 * 2];
    let err = huge.train_batch(Batch { x: Inputs::Values(&ones), batch: 2, steps: 4, lengths: None }, Targets::Values(&[0.5, 0.5, -0.5, -0.5])).unwrap_err();
    assert!(err.kind() == "NumericError" && err.to_string().contains("training step 1: layer 0 (Dense): output value 0 is inf"), "{err}");

    // An update that overflows a weight is undone, optimizer state included.
    let mut t = trainer(model, r#"{"loss": "mse", "optimizer": {"type": "sgd", "learning_rate": 1e308, "momentum": 0.5}}"#, 1);
    let before = t.snapshot();
    let err = t.train_batch(batch, Targets::Values(&[1e3, -1e3])).unwrap_err();
    assert!(err.to_string().contains("training step 1: layer ") && err.to_string().contains("non-finite"), "{err}");
    assert_eq!(t.snapshot(), before);
    assert_eq!(t.optimizer.steps, 0);
}

#[test]
fn tbptt_gradients_equal_the_brute_force_truncated_gradient() {
    let model_json = r#"{"input": 2, "layers": [{"type": "rnn", "units": 3, "return_sequences": true}, {"type": "dense", "units": 1}]}"#;
    let (batch, steps) = (2, 9);
    let x = Rng(3).vec(batch * steps * 2);
    let y = Rng(4).vec(batch * steps);
    let slice = |data: &[f64], width: usize, from: usize, to: usize| -> Vec<f64> { (0..batch).flat_map(|b| data[(b * steps + from) * width..(b * steps + to) * width].to_vec()).collect() };
    for (k1, k2) in [(3, 3), (2, 4), (4, 2), (3, 5), (1, 1), (9, 9)] {
        // Learning rate 0 keeps the weights, so every window can be checked against one model.
        let mut t = trainer(model_json, r#"{"loss": "mse", "optimizer": {"type": "sgd", "learning_rate": 0}}"#, 5);
        let fresh = t.model.clone();
        let mut windows = Vec::new();
        t.train_stream(Inputs::Values(&x), Targets::Values(&y), batch, steps, Tbptt { k1, k2 }, |w, _, g| windows.push((*w, g.to_vec()))).unwrap();
        assert_eq!(windows.len(), steps.div_ceil(k1), "k1 {k1}");
        for (w, grads) in windows {
            // The state at the window's start, from the stream before it; held fixed.
            let mut m = fresh.clone();
            if w.start > 0 {
                let before = slice(&x, 2, 0, w.start);
                m.forward(Batch { x: Inputs::Values(&before), batch, steps: w.start, lengths: None }, None, true).unwrap();
            }
            let (xs, ys) = (slice(&x, 2, w.start, w.end), slice(&y, 1, w.loss_from, w.end));
            let n = w.end - w.start;
            let loss = |m: &Model<f64>| -> f64 {
                let mut m = m.clone();
                let out = m.forward(Batch { x: Inputs::Values(&xs), batch, steps: n, lengths: None }, None, true).unwrap().0.y;
                let kept: Vec<f64> = (0..batch).flat_map(|b| out[b * n + (w.loss_from - w.start)..(b + 1) * n].to_vec()).collect();
                kept.iter().zip(&ys).map(|(p, t)| (p - t) * (p - t)).sum::<f64>() / kept.len() as f64
            };
            let names: Vec<String> = m.parameters().into_iter().map(|(n, _)| n).collect();
            for (name, analytic) in names.iter().zip(&grads) {
                let point = m.parameter(name).unwrap().to_vec();
                let mut moved = m.clone();
                assert_gradient(&format!("TBPTT({k1}, {k2}) window {w:?} {name}"), analytic, &point, |p| {
                    moved.set_parameter(name, p).unwrap();
                    loss(&moved)
                });
            }
        }
    }
    assert_eq!(Tbptt { k1: 4, k2: 2 }.windows(9).unwrap()[1], Window { start: 6, loss_from: 6, end: 8 });
    assert_eq!(Tbptt { k1: 2, k2: 4 }.windows(9).unwrap()[2], Window { start: 2, loss_from: 4, end: 6 });
}

#[test]
fn metrics_match_their_definitions() {
    let tally = |metric: Metric, pred: &[f64], classes: Option<&[u32]>, values: Option<&[f64]>, rows: usize, cols: usize, scores: Scores| {
        let mut t = Tally::default();
        metrics::accumulate(metric, &mut t, pred, classes, values, rows, cols, None, scores).unwrap();
        t.value(metric)
    };
    let logits = [2.0, 1.0, 0.0, /**/ 0.0, 1.0, 3.0, /**/ 1.0, 2.0, 0.5];
    assert_eq!(tally(Metric::Accuracy, &logits, Some(&[0, 2, 0]), None, 3, 3, Scores::Logits), 2.0 / 3.0);
    assert_eq!(tally(Metric::TopK(2), &logits, Some(&[1, 0, 0]), None, 3, 3, Scores::Logits), 2.0 / 3.0);
    // Uniform logits over 8 classes: perplexity 8, three bits per character.
    let uniform = [0.25; 8];
    assert!((tally(Metric::Perplexity, &uniform, Some(&[3]), None, 1, 8, Scores::Logits) - 8.0).abs() < 1e-12);
    assert!((tally(Metric::BitsPerCharacter, &uniform, Some(&[3]), None, 1, 8, Scores::Logits) - 3.0).abs() < 1e-12);
    let (p, t) = ([1.0, 2.0, 4.0], [2.0, 2.0, 2.0]);
    assert_eq!(tally(Metric::MeanAbsoluteError, &p, None, Some(&t), 3, 1, Scores::Probabilities), 1.0);
    assert!((tally(Metric::RootMeanSquaredError, &p, None, Some(&t), 3, 1, Scores::Probabilities) - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
    assert_eq!(tally(Metric::MeanAbsolutePercentageError, &p, None, Some(&t), 3, 1, Scores::Probabilities), 50.0);
    // Binary accuracy: one probability per row against 0/1 targets.
    assert_eq!(tally(Metric::Accuracy, &[0.7, 0.2, 0.6], None, Some(&[1.0, 0.0, 0.0]), 3, 1, Scores::Probabilities), 2.0 / 3.0);

    // BLEU: precisions 4/5, 3/4, 2/3, 1/2 and no brevity penalty give 0.2^(1/4).
    let b = bleu(&[vec![1, 2, 3, 4, 5]], &[vec![1, 2, 3, 4, 6]], 4).unwrap();
    assert!((b - 0.2f64.powf(0.25)).abs() < 1e-12, "{b}");
    assert_eq!(bleu(&[vec![7, 8, 9, 10]], &[vec![7, 8, 9, 10]], 4).unwrap(), 1.0);
    // A candidate shorter than its reference pays exp(1 − r/c).
    let short = bleu(&[vec![1, 2, 3, 4]], &[vec![1, 2, 3, 4, 5, 6]], 4).unwrap();
    assert!((short - (1.0f64 - 1.5).exp()).abs() < 1e-12, "{short}");
}

#[test]
fn early_stopping_waits_patience_epochs_then_restores_the_best_weights() {
    let mut e = EarlyStopping::new(Mode::Min, 2, 0.0, true);
    let verdicts: Vec<Verdict> = [1.0, 0.9, 0.95, 0.91, 0.92].iter().map(|&v| e.observe(v)).collect();
    assert_eq!(verdicts, [Verdict::Improved, Verdict::Improved, Verdict::Waiting, Verdict::Waiting, Verdict::Stop]);
    assert_eq!((e.best, e.best_epoch), (Some(0.9), Some(1)));

    // A learning rate too large to settle: validation loss wanders, and fit must end on the best.
    let mut t = trainer(r#"{"input": 1, "layers": [{"type": "gru", "units": 4}, {"type": "dense", "units": 1}]}"#, r#"{"loss": "mse", "optimizer": {"type": "sgd", "learning_rate": 0.9}, "seed": 3}"#, 2);
    let mut rng = Rng(8);
    let (n, steps) = (16, 5);
    let x = rng.vec(n * steps);
    let y: Vec<f64> = (0..n).map(|i| x[i * steps..(i + 1) * steps].iter().sum::<f64>() / 5.0).collect();
    let data = Dataset { x: Inputs::Values(&x), y: Targets::Values(&y), samples: n, steps, lengths: None };
    let history = t.fit(&data, Some(&data), FitOptions { epochs: 40, batch_size: 4, shuffle: true, early_stopping: Some(EarlyStopping::new(Mode::Min, 3, 0.0, true)) }, |_| true).unwrap();
    let losses: Vec<f64> = history.iter().map(|h| h.validation.as_ref().unwrap().loss).collect();
    let best = losses.iter().cloned().fold(f64::INFINITY, f64::min);
    let final_loss = t.evaluate(&data, 4).unwrap().loss;
    assert!((final_loss - best).abs() < 1e-12, "restored {final_loss}, best {best}, history {losses:?}");
}
