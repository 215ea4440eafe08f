//! Stacked and bidirectional layers: the reverse direction reads each sequence from its own
//! end, every merge mode and option has gradients equal to finite differences (f64), and the
//! parameters carry PyTorch's names.

mod common;

use common::{assert_gradient, Rng};
use seqwasm_core::recurrent::{Cell, Merge, OutputGradients, RecurrentLayer, RecurrentStack, Sequences, StackConfig};
use seqwasm_core::Activation;

fn config(cell: Cell) -> StackConfig {
    StackConfig { cell, input: 3, hidden: 4, layers: 1, bidirectional: false, merge: Merge::Concat, residual: false, dropout: 0.0, input_dropout: 0.0, recurrent_dropout: 0.0, forget_bias: 0.0 }
}

fn randomize(stack: &mut RecurrentStack<f64>, rng: &mut Rng) {
    for layer in &mut stack.layers {
        for p in layer.parameters_mut() {
            p.iter_mut().for_each(|x| *x = rng.next() * 0.6);
        }
    }
}

#[test]
fn the_reverse_direction_reads_each_sequence_from_its_own_end() {
    let mut rng = Rng(1);
    let mut stack = RecurrentStack::<f64>::new(StackConfig { bidirectional: true, ..config(Cell::GRU) }).unwrap();
    randomize(&mut stack, &mut rng);
    let (steps, batch, lengths) = (5, 2, [5, 3]);
    let x = rng.vec(steps * batch * 3);
    let (out, _) = stack.forward(Sequences { x: &x, steps, batch, lengths: Some(&lengths), h0: None, c0: None }, None).unwrap();

    // Sequence 1 alone, reversed by hand over its 3 steps, through the reverse layer.
    let reverse: &RecurrentLayer<f64> = &stack.layers[1];
    let reversed: Vec<f64> = (0..3).rev().flat_map(|t| x[(t * batch + 1) * 3..(t * batch + 2) * 3].to_vec()).collect();
    let (alone, _) = reverse.forward(Sequences { x: &reversed, steps: 3, batch: 1, lengths: None, h0: None, c0: None }).unwrap();
    for t in 0..3 {
        // Concat puts the reverse direction in the second half of each step's features.
        let got = &out.y[(t * batch + 1) * 8 + 4..(t * batch + 1) * 8 + 8];
        let want = &alone.y[(2 - t) * 4..(3 - t) * 4];
        assert!(got.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12), "step {t}: {got:?} vs {want:?}");
    }
    // Past its length, both directions output zeros.
    assert!(out.y[(3 * batch + 1) * 8..(4 * batch) * 8].iter().all(|&v| v == 0.0));
    // The reverse direction's final state is after reading the sequence's first element.
    assert!(out.h_n[(batch + 1) * 4..(batch + 2) * 4].iter().zip(&alone.h_n).all(|(a, b)| (a - b).abs() < 1e-12));
}

fn gradient_check(config: StackConfig, seed: u64) {
    let mut rng = Rng(seed);
    let mut stack = RecurrentStack::<f64>::new(config).unwrap();
    randomize(&mut stack, &mut rng);
    let stack = stack;
    let (steps, lengths) = (4, vec![4, 2, 3]);
    let batch = lengths.len();
    let states = config.layers * config.directions() * batch * config.state_size();
    let cells = config.layers * config.directions() * batch * config.hidden;
    let x = rng.vec(steps * batch * config.input);
    let h0 = rng.vec(states);
    let c0 = rng.vec(cells);
    let lstm = config.cell.has_cell_state();
    let masks = stack.dropout_masks(steps, batch, || (rng.next() + 1.0) / 2.0);
    let wy = rng.vec(steps * batch * config.output_size());
    let (wh, wc) = (rng.vec(states), rng.vec(cells));

    let loss = |stack: &RecurrentStack<f64>, x: &[f64], h0: &[f64], c0: &[f64]| {
        let seq = Sequences { x, steps, batch, lengths: Some(&lengths), h0: Some(h0), c0: lstm.then_some(c0) };
        let (out, _) = stack.forward(seq, Some(&masks)).unwrap();
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
        dot(&out.y, &wy) + dot(&out.h_n, &wh) + out.c_n.as_deref().map_or(0.0, |c| dot(c, &wc))
    };
    let seq = Sequences { x: &x, steps, batch, lengths: Some(&lengths), h0: Some(&h0), c0: lstm.then_some(&c0[..]) };
    let (_, trace) = stack.forward(seq, Some(&masks)).unwrap();
    let grads = stack.backward(&trace, OutputGradients { dy: Some(&wy), dh_n: Some(&wh), dc_n: lstm.then_some(&wc[..]) }).unwrap();

    let what = format!("{config:?}");
    for k in 0..stack.layers.len() {
        for (p, analytic) in grads.layers[k].parameters.iter().enumerate() {
            let point = stack.layers[k].parameters(0)[p].1.to_vec();
            assert_gradient(&format!("{what}\nlayer {k} parameter {p}"), analytic, &point, |values| {
                let mut moved = stack.clone();
                *moved.layers[k].parameters_mut()[p] = values.to_vec();
                loss(&moved, &x, &h0, &c0)
            });
        }
    }
    assert_gradient(&format!("{what}\nx"), &grads.dx, &x, |x| loss(&stack, x, &h0, &c0));
    assert_gradient(&format!("{what}\nh0"), &grads.dh0, &h0, |h0| loss(&stack, &x, h0, &c0));
    if lstm {
        assert_gradient(&format!("{what}\nc0"), grads.dc0.as_ref().unwrap(), &c0, |c0| loss(&stack, &x, &h0, c0));
    }
}

#[test]
fn bidirectional_gradients_for_every_merge_mode() {
    for (n, merge) in [Merge::Concat, Merge::Sum, Merge::Mul, Merge::Ave].into_iter().enumerate() {
        for cell in [Cell::LSTM, Cell::GRU, Cell::Gru { reset_after: false }, Cell::Lstm { forget_gate: true, peepholes: false, projection: 3 }] {
            gradient_check(StackConfig { bidirectional: true, merge, ..config(cell) }, 10 + n as u64);
        }
    }
}

#[test]
fn stacked_gradients_with_residual_connections_and_fixed_dropout_masks() {
    for (n, cell) in [Cell::Lstm { forget_gate: true, peepholes: true, projection: 0 }, Cell::GRU, Cell::Elman(Activation::Tanh)].into_iter().enumerate() {
        gradient_check(StackConfig { layers: 3, residual: true, dropout: 0.3, ..config(cell) }, 20 + n as u64);
        gradient_check(StackConfig { layers: 2, bidirectional: true, residual: true, dropout: 0.5, ..config(cell) }, 30 + n as u64);
    }
}

#[test]
fn stacked_gradients_with_variational_input_and_recurrent_dropout() {
    for (n, cell) in [Cell::LSTM, Cell::Gru { reset_after: false }, Cell::Elman(Activation::Tanh)].into_iter().enumerate() {
        let config = StackConfig { layers: 2, bidirectional: true, dropout: 0.3, input_dropout: 0.4, recurrent_dropout: 0.5, ..config(cell) };
        gradient_check(config, 50 + n as u64);
        // One mask per layer and direction, each [batch, its input] and [batch, hidden].
        let masks = RecurrentStack::<f64>::new(config).unwrap().dropout_masks(4, 3, || 0.9);
        let sizes = |m: &[Vec<f64>]| m.iter().map(Vec::len).collect::<Vec<_>>();
        assert_eq!((sizes(&masks.input), sizes(&masks.recurrent)), (vec![9, 9, 24, 24], vec![12; 4]));
    }
}

#[test]
fn parameters_carry_pytorch_names() {
    let stack = RecurrentStack::<f32>::new(StackConfig { layers: 2, bidirectional: true, ..config(Cell::LSTM) }).unwrap();
    let names: Vec<String> = stack.parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(&names[..5], ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l0_reverse"]);
    assert_eq!(names.last().unwrap(), "bias_hh_l1_reverse");
    // Layer 1 reads both directions of layer 0: weight_ih_l1 is [4H, 2H].
    assert_eq!(stack.parameters()[8].1.len(), 16 * 8);
}

#[test]
fn wrong_shapes_are_named() {
    let stack = RecurrentStack::<f64>::new(StackConfig { layers: 2, bidirectional: true, ..config(Cell::GRU) }).unwrap();
    let x = vec![0.0; 4 * 2 * 3];
    let err = stack.forward(Sequences { x: &x, steps: 4, batch: 2, lengths: None, h0: Some(&[0.0; 8]), c0: None }, None).unwrap_err();
    assert_eq!(err.to_string(), "bidirectional GRU (input 3, hidden 4, 2 layers): h0: expected [layers·directions=4, B=2, H=4] = 32 values, got 8 values");
    let err = stack.forward(Sequences { x: &x, steps: usize::MAX / 2, batch: 3, lengths: None, h0: None, c0: None }, None).unwrap_err();
    assert!(err.to_string().contains("dimensions whose product fits in memory"), "{err}");
    let err = stack.forward(Sequences { x: &x, steps: 4, batch: 2, lengths: None, h0: None, c0: None }, Some(&Default::default())).unwrap_err();
    assert!(err.to_string().contains("dropout masks"), "{err}");
    let (_, trace) = stack.forward(Sequences { x: &x, steps: 4, batch: 2, lengths: None, h0: None, c0: None }, None).unwrap();
    let err = stack.backward(&trace, OutputGradients { dh_n: Some(&[0.0; 3]), ..Default::default() }).unwrap_err();
    assert!(err.to_string().contains("dh_n"), "{err}");
    assert_eq!(RecurrentStack::<f64>::new(StackConfig { dropout: 1.0, ..config(Cell::GRU) }).unwrap_err().kind(), "ConfigError");
}

#[test]
fn configs_parse_from_json_and_reject_what_does_not_apply() {
    let config = StackConfig::from_json(r#"{"cell": "lstm", "input": 8, "hidden": 16, "layers": 2, "bidirectional": true, "merge": "sum", "peepholes": true}"#).unwrap();
    assert_eq!(config, StackConfig { cell: Cell::Lstm { forget_gate: true, peepholes: true, projection: 0 }, layers: 2, bidirectional: true, merge: Merge::Sum, input: 8, hidden: 16, ..StackConfig::from_json(r#"{"cell": "lstm", "input": 1, "hidden": 1}"#).unwrap() });
    assert_eq!(StackConfig::from_json(r#"{"cell": "lstm", "input": 1, "hidden": 4, "proj_size": 2}"#).unwrap().cell, Cell::Lstm { forget_gate: true, peepholes: false, projection: 2 });
    let config = StackConfig::from_json(r#"{"cell": "gru", "input": 1, "hidden": 2, "input_dropout": 0.25, "recurrent_dropout": 0.5}"#).unwrap();
    assert_eq!((config.input_dropout, config.recurrent_dropout), (0.25, 0.5));
    // The forget gate's initial bias (Keras unit_forget_bias) fills the f block of bias_ih only.
    let stack = RecurrentStack::<f32>::new(StackConfig::from_json(r#"{"cell": "lstm", "input": 1, "hidden": 2, "forget_bias": 1}"#).unwrap()).unwrap();
    assert_eq!(stack.parameter("bias_ih_l0").unwrap(), [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    assert!(stack.parameter("bias_hh_l0").unwrap().iter().all(|&b| b == 0.0));
    assert!(StackConfig::from_json(r#"{"cell": "gru", "input": 1, "hidden": 2, "forget_bias": 1}"#).unwrap_err().to_string().contains("applies only to a lstm"));
    assert_eq!(StackConfig::from_json(r#"{"cell": "gru", "input": 1, "hidden": 2, "reset_after": false}"#).unwrap().cell, Cell::Gru { reset_after: false });
    assert_eq!(StackConfig::from_json(r#"{"cell": "elman", "input": 1, "hidden": 2, "activation": "relu"}"#).unwrap().cell, Cell::Elman(Activation::Relu));

    let err = StackConfig::from_json(r#"{"cell": "lstm", "input": 8, "hidden": 16, "hiden": 3}"#).unwrap_err();
    assert_eq!(err.kind(), "ConfigError");
    assert!(err.to_string().contains("unknown field `hiden`"), "{err}");
    let err = StackConfig::from_json(r#"{"cell": "gru", "input": 8, "hidden": 16, "peepholes": true}"#).unwrap_err();
    assert!(err.to_string().contains("`peepholes` applies only to a lstm cell"), "{err}");
    assert!(StackConfig::from_json(r#"{"cell": "transformer", "input": 8, "hidden": 16}"#).unwrap_err().to_string().contains("unknown variant `transformer`"));
    assert!(StackConfig::from_json("{").is_err());
}

#[test]
fn parameters_are_set_and_read_by_name() {
    let config = StackConfig { layers: 2, bidirectional: true, ..config(Cell::Lstm { forget_gate: true, peepholes: true, projection: 0 }) };
    let mut stack = RecurrentStack::<f32>::new(config).unwrap();
    let values: Vec<f32> = (0..12).map(|v| v as f32).collect();
    stack.set_parameter("weight_peephole_l1_reverse", &values).unwrap();
    assert_eq!(stack.layers[3].weight_peephole, values);
    assert_eq!(stack.parameter("weight_peephole_l1_reverse").unwrap(), &values[..]);
    let err = stack.set_parameter("bias_ih_l0", &values).unwrap_err();
    assert_eq!(err.to_string(), "bidirectional LSTM (input 3, hidden 4, 2 layers): parameter bias_ih_l0: expected 16 values, got 12 values");
    let err = stack.parameter("weight_ih_l2").unwrap_err();
    assert!(err.to_string().contains("no parameter named `weight_ih_l2`"), "{err}");
}

#[test]
fn stateful_calls_continue_where_the_last_one_ended() {
    let mut rng = Rng(40);
    for cell in [Cell::LSTM, Cell::GRU] {
        let mut stack = RecurrentStack::<f64>::new(StackConfig { layers: 2, ..config(cell) }).unwrap();
        randomize(&mut stack, &mut rng);
        let (steps, batch) = (6, 2);
        let x = rng.vec(steps * batch * 3);
        let whole = stack.forward(Sequences { x: &x, steps, batch, lengths: None, h0: None, c0: None }, None).unwrap().0;
        // The same sequences in three calls of two steps.
        let mut pieces = Vec::new();
        for chunk in x.chunks(2 * batch * 3) {
            pieces.extend(stack.forward_stateful(Sequences { x: chunk, steps: 2, batch, lengths: None, h0: None, c0: None }, None).unwrap().0.y);
        }
        assert!(pieces.iter().zip(&whole.y).all(|(a, b)| (a - b).abs() < 1e-12), "{cell:?}");
        // A different batch size needs a reset first; after it, the stack starts from zeros again.
        let err = stack.forward_stateful(Sequences { x: &x[..3], steps: 1, batch: 1, lengths: None, h0: None, c0: None }, None).unwrap_err();
        assert!(err.to_string().contains("reset the states"), "{err}");
        stack.reset_states();
        let first = stack.forward_stateful(Sequences { x: &x[..2 * batch * 3], steps: 2, batch, lengths: None, h0: None, c0: None }, None).unwrap().0.y;
        assert_eq!(first, pieces[..first.len()]);
    }
}

#[test]
fn the_last_output_is_each_sequences_output_at_its_end_and_has_exact_gradients() {
    let mut rng = Rng(60);
    let (steps, lengths) = (5, [5, 2, 4]);
    let batch = lengths.len();
    // One direction: the last output is y at each sequence's own last step.
    let mut stack = RecurrentStack::<f64>::new(StackConfig { layers: 2, ..config(Cell::LSTM) }).unwrap();
    randomize(&mut stack, &mut rng);
    let x = rng.vec(steps * batch * 3);
    let seq = Sequences { x: &x, steps, batch, lengths: Some(&lengths), h0: None, c0: None };
    let (out, _) = stack.forward(seq, None).unwrap();
    let last = stack.last_output(&out, batch).unwrap();
    for b in 0..batch {
        let at = ((lengths[b] - 1) * batch + b) * 4;
        assert_eq!(&last[b * 4..(b + 1) * 4], &out.y[at..at + 4]);
    }
    // Bidirectional, every merge: the gradient of the last output reaches x exactly.
    for merge in [Merge::Concat, Merge::Sum, Merge::Mul, Merge::Ave] {
        let mut stack = RecurrentStack::<f64>::new(StackConfig { layers: 2, bidirectional: true, merge, ..config(Cell::GRU) }).unwrap();
        randomize(&mut stack, &mut rng);
        let probe = rng.vec(batch * stack.config.output_size());
        let loss = |x: &[f64]| {
            let (out, _) = stack.forward(Sequences { x, ..seq }, None).unwrap();
            stack.last_output(&out, batch).unwrap().iter().zip(&probe).map(|(a, b)| a * b).sum::<f64>()
        };
        let (out, trace) = stack.forward(seq, None).unwrap();
        let dh_n = stack.last_output_gradient(&probe, &out, batch).unwrap();
        let grads = stack.backward(&trace, OutputGradients { dh_n: Some(&dh_n), ..Default::default() }).unwrap();
        assert_gradient(&format!("{merge:?} last output"), &grads.dx, &x, loss);
    }
    assert!(stack.last_output_gradient(&[0.0; 2], &out, batch).is_err());
}
