//! The classic tasks of Hochreiter and Schmidhuber (1997), learned with fixed seeds: the
//! adding problem, where only gated cells carry the two marked numbers across 50 steps and
//! the gradient-flow diagnostic shows why, and the embedded Reber grammar.

mod common;

use seqwasm_core::model::{Batch, Inputs, Model};
use seqwasm_core::train::{Targets, Trainer, TrainerConfig};
use seqwasm_core::Rng;
use std::time::Instant;

/// A batch of the adding problem, batch-major: each step is (a value in [0, 1), a marker); the
/// markers pick one step in each half, and the target is the sum of the two marked values.
/// Predicting 1 always gives an MSE of about 1/6 (the variance of a sum of two uniforms).
fn adding_batch(rng: &mut Rng, batch: usize, steps: usize) -> (Vec<f32>, Vec<f32>) {
    let (mut x, mut y) = (vec![0.0; batch * steps * 2], vec![0.0; batch]);
    for b in 0..batch {
        let first = (rng.uniform() * (steps / 2) as f64) as usize;
        let second = steps / 2 + (rng.uniform() * (steps - steps / 2) as f64) as usize;
        for t in 0..steps {
            let value = rng.uniform() as f32;
            x[(b * steps + t) * 2] = value;
            if t == first || t == second {
                x[(b * steps + t) * 2 + 1] = 1.0;
                y[b] += value;
            }
        }
    }
    (x, y)
}

/// Trains `cell` on fresh batches of the adding problem for at most `budget` updates or until
/// a test MSE below 0.01; returns the final test MSE and the trainer.
fn learn_adding(cell: &str, units: usize, steps: usize, budget: usize, lr: f64) -> (f64, Trainer<f32>) {
    let model = Model::from_json(&format!(r#"{{"input": 2, "layers": [{{"type": "{cell}", "units": {units}}}, {{"type": "dense", "units": 1}}]}}"#), 1).unwrap();
    let config = TrainerConfig::from_json(&format!(r#"{{"loss": "mse", "optimizer": {{"type": "adam", "learning_rate": {lr}, "global_clipnorm": 1.0}}, "seed": 1}}"#)).unwrap();
    let mut trainer = Trainer::new(model, config);
    let mut rng = Rng::new(7);
    let (test_x, test_y) = adding_batch(&mut Rng::new(12345), 500, steps);
    let test_mse = |t: &mut Trainer<f32>| -> f64 {
        let out = t.model.forward(Batch { x: Inputs::Values(&test_x), batch: 500, steps, lengths: None }, None, false).unwrap().0.y;
        out.iter().zip(&test_y).map(|(p, t)| f64::from((p - t) * (p - t))).sum::<f64>() / 500.0
    };
    let started = Instant::now();
    let mut mse = test_mse(&mut trainer);
    for update in 1..=budget {
        let (x, y) = adding_batch(&mut rng, 32, steps);
        trainer.train_batch(Batch { x: Inputs::Values(&x), batch: 32, steps, lengths: None }, Targets::Values(&y)).unwrap();
        if update % 100 == 0 {
            mse = test_mse(&mut trainer);
            eprintln!("{cell} T={steps}: update {update}, test MSE {mse:.4}, {:.1} s", started.elapsed().as_secs_f64());
            if mse < 0.01 && cell != "rnn" {
                break;
            }
        }
    }
    (mse, trainer)
}

/// ‖dL/dh_t‖ of the first recurrent layer at every step, for one adding batch of `steps`.
fn state_norms(trainer: &mut Trainer<f32>, steps: usize) -> Vec<f64> {
    let (x, y) = adding_batch(&mut Rng::new(99), 32, steps);
    let d = trainer.diagnose(Batch { x: Inputs::Values(&x), batch: 32, steps, lengths: None }, Targets::Values(&y)).unwrap();
    assert_eq!(d.state_norms[0].0, "0.l0");
    d.state_norms[0].1.clone()
}

#[test]
fn lstm_learns_the_adding_problem_where_elman_fails_and_the_gradient_flow_shows_why() {
    let (mse, mut lstm) = learn_adding("lstm", 32, 50, 3000, 0.01);
    assert!(mse < 0.01, "LSTM test MSE {mse}");

    let (elman_mse, mut elman) = learn_adding("rnn", 32, 200, 400, 0.01);
    assert!(elman_mse > 0.1, "Elman test MSE {elman_mse} at T = 200");

    // The loss is at the last step; how much of its gradient reaches the first one?
    let (l, e) = (state_norms(&mut lstm, 200), state_norms(&mut elman, 200));
    eprintln!("‖dL/dh_t‖ at t = 0, 100, 199: LSTM {:.2e} {:.2e} {:.2e}; Elman {:.2e} {:.2e} {:.2e}", l[0], l[100], l[199], e[0], e[100], e[199]);
    assert!(e[0] < l[0] / 1000.0, "Elman {:e} vs LSTM {:e} at t = 0", e[0], l[0]);
}

#[test]
fn gru_learns_the_adding_problem() {
    let (mse, _) = learn_adding("gru", 32, 50, 3000, 0.01);
    assert!(mse < 0.01, "GRU test MSE {mse}");
}

/// Symbols of the Reber grammar: B T P S X V E.
const B: u32 = 0;
const T: u32 = 1;
const P: u32 = 2;
const E: u32 = 6;

/// The Reber grammar's transitions (Fahlman's numbering): from each state, the symbols that
/// may follow with the state each leads to. State 0 is after B, state 5 is before E.
const REBER: [&[(u32, usize)]; 6] = [&[(1, 1), (2, 2)], &[(3, 1), (4, 3)], &[(1, 2), (5, 4)], &[(4, 2), (3, 5)], &[(2, 3), (5, 5)], &[(E, 6)]];

/// An embedded Reber string, `B c <Reber string> c E` with `c` in {T, P}, and for each position
/// the set of symbols that may come next (as a bit mask).
fn embedded_reber(rng: &mut Rng) -> (Vec<u32>, Vec<u8>) {
    let c = if rng.uniform() < 0.5 { T } else { P };
    let (mut s, mut next): (Vec<u32>, Vec<u8>) = (vec![B, c, B], vec![1 << T | 1 << P, 1 << B, 0]);
    let mut state = 0;
    while state < 6 {
        let choices = REBER[state];
        *next.last_mut().unwrap() = choices.iter().fold(0, |m, &(sym, _)| m | 1 << sym);
        let (sym, to) = choices[(rng.uniform() * choices.len() as f64) as usize];
        s.push(sym);
        next.push(0);
        state = to;
    }
    // After the inner E: only the symbol chosen at the start, then E.
    *next.last_mut().unwrap() = 1 << c;
    s.push(c);
    next.push(1 << E);
    s.push(E);
    next.push(0);
    (s, next)
}

#[test]
fn lstm_predicts_every_possible_next_symbol_of_the_embedded_reber_grammar() {
    let started = Instant::now();
    let mut rng = Rng::new(3);
    let strings: Vec<(Vec<u32>, Vec<u8>)> = (0..1000).map(|_| embedded_reber(&mut rng)).collect();
    let held_out: Vec<(Vec<u32>, Vec<u8>)> = (0..500).map(|_| embedded_reber(&mut rng)).collect();
    // Inputs are every symbol but the last, targets every symbol but the first, padded.
    let pad = |set: &[(Vec<u32>, Vec<u8>)]| {
        let steps = set.iter().map(|(s, _)| s.len() - 1).max().unwrap();
        let (mut x, mut y, mut lengths) = (Vec::new(), Vec::new(), Vec::new());
        for (s, _) in set {
            let n = s.len() - 1;
            x.extend(s[..n].iter().copied().chain(std::iter::repeat(0).take(steps - n)));
            y.extend(s[1..].iter().copied().chain(std::iter::repeat(0).take(steps - n)));
            lengths.push(n);
        }
        (x, y, lengths, steps)
    };
    let (x, y, lengths, steps) = pad(&strings);
    let model = Model::from_json(r#"{"layers": [{"type": "embedding", "vocab": 7, "dim": 8}, {"type": "lstm", "units": 16, "return_sequences": true}, {"type": "dense", "units": 7}]}"#, 2).unwrap();
    let config = TrainerConfig::from_json(r#"{"loss": {"type": "sparse_categorical_crossentropy", "from_logits": true}, "optimizer": {"type": "adam", "learning_rate": 0.01}, "seed": 4}"#).unwrap();
    let mut trainer = Trainer::new(model, config);

    // A string is right when, at every step, the symbols given a probability above 0.25 are
    // exactly the symbols that may come next.
    let (hx, _, hlengths, hsteps) = pad(&held_out);
    let accuracy = |t: &mut Trainer<f32>| -> f64 {
        let out = t.model.forward(Batch { x: Inputs::Ids(&hx), batch: held_out.len(), steps: hsteps, lengths: Some(&hlengths) }, None, false).unwrap().0.y;
        let right = held_out.iter().enumerate().filter(|(i, (_, next))| {
            (0..hlengths[*i]).all(|t| {
                let logits = &out[(i * hsteps + t) * 7..(i * hsteps + t + 1) * 7];
                let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
                let sum: f32 = logits.iter().map(|z| (z - max).exp()).sum();
                let predicted = (0..7).filter(|&k| (logits[k] - max).exp() / sum > 0.25).fold(0u8, |m, k| m | 1 << k);
                predicted == next[t]
            })
        });
        right.count() as f64 / held_out.len() as f64
    };
    let mut acc = 0.0;
    for epoch in 1..=40 {
        let data = seqwasm_core::train::Dataset { x: Inputs::Ids(&x), y: Targets::Classes(&y), samples: strings.len(), steps, lengths: Some(&lengths) };
        trainer.fit(&data, None, seqwasm_core::train::FitOptions { epochs: 1, batch_size: 32, shuffle: true, early_stopping: None }, |_| true).unwrap();
        acc = accuracy(&mut trainer);
        eprintln!("Reber: epoch {epoch}, held-out strings right {:.1}%, {:.1} s", 100.0 * acc, started.elapsed().as_secs_f64());
        if acc >= 0.99 {
            break;
        }
    }
    assert!(acc >= 0.99, "{:.1}% of held-out strings right", 100.0 * acc);
}
