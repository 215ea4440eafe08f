//! Models built from a JSON topology: gradients through every kind of layer equal finite
//! differences (f64), batch-major data round-trips through the time-major core, stateful calls
//! continue where they stopped, and bad topologies or inputs get errors that name the layer.

mod common;

use common::{assert_gradient, Rng};
use seqwasm_core::model::{Batch, Inputs, Model};
use seqwasm_core::Parameters;
use seqwasm_core::recurrent::{RecurrentStack, Sequences, StackConfig};

/// Σ out ⊙ w: a loss whose gradient with respect to the output is `w`.
fn weighted(out: &[f64], w: &[f64]) -> f64 {
    out.iter().zip(w).map(|(a, b)| a * b).sum()
}

/// Checks dL/dx and every parameter's gradient of `model` at input `x` against finite
/// differences, in training mode with the dropout masks fixed by `seed`.
fn check_model(mut model: Model<f64>, x: Inputs<'_, f64>, batch: usize, steps: usize, lengths: Option<&[usize]>, seed: u64) {
    let run = |m: &mut Model<f64>, x: Inputs<'_, f64>| m.forward(Batch { x, batch, steps, lengths }, Some(&mut seqwasm_core::Rng::new(seed)), false).unwrap();
    let (out, trace) = run(&mut model, x);
    let w = Rng(99).vec(out.y.len());
    let grads = model.backward(&trace, &w).unwrap();
    // Training asks for the parameters' gradients only: the same bits, and no dL/dx.
    let training = model.parameter_gradients(&trace, &w).unwrap();
    assert!(training.dx.is_none());
    assert_eq!(training.parameters, grads.parameters);
    assert_eq!(training.state_norms, grads.state_norms);
    if let (Inputs::Values(values), Some(dx)) = (x, &grads.dx) {
        let mut m = model.clone();
        assert_gradient("dx", dx, values, |moved| weighted(&run(&mut m, Inputs::Values(moved)).0.y, &w));
    }
    let names: Vec<String> = model.parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), grads.parameters.len());
    for (name, analytic) in names.iter().zip(&grads.parameters) {
        let point = model.parameter(name).unwrap().to_vec();
        let mut m = model.clone();
        assert_gradient(name, analytic, &point, |moved| {
            m.set_parameter(name, moved).unwrap();
            weighted(&run(&mut m, x).0.y, &w)
        });
    }
}

#[test]
fn gradients_flow_through_a_cnn_rnn_hybrid_with_every_kind_of_layer() {
    let json = r#"{"input": 3, "layers": [
        {"type": "conv1d", "filters": 4, "kernel_size": 3, "padding": "causal", "activation": "tanh"},
        {"type": "average_pooling1d", "pool_size": 2},
        {"type": "lstm", "units": 3, "bidirectional": true, "return_sequences": true, "peepholes": true},
        {"type": "layer_normalization"},
        {"type": "dense", "units": 5, "activation": "tanh"},
        {"type": "dropout", "rate": 0.3},
        {"type": "gru", "units": 4, "layers": 2, "dropout": 0.25},
        {"type": "dense", "units": 3, "activation": "softmax"}
    ]}"#;
    let model = Model::<f64>::from_json(json, 1).unwrap();
    let (batch, steps) = (2, 6);
    let x = Rng(2).vec(batch * steps * 3);
    check_model(model, Inputs::Values(&x), batch, steps, None, 5);
}

#[test]
fn gradients_flow_from_a_first_layer_of_stacked_bidirectional_recurrences() {
    // The first layer is recurrent, so training leaves out its input gradient, and only that.
    let json = r#"{"input": 3, "layers": [
        {"type": "lstm", "units": 3, "layers": 2, "bidirectional": true, "return_sequences": true},
        {"type": "gru", "units": 2},
        {"type": "dense", "units": 2}
    ]}"#;
    let model = Model::<f64>::from_json(json, 3).unwrap();
    let (batch, steps) = (3, 4);
    let x = Rng(6).vec(batch * steps * 3);
    check_model(model, Inputs::Values(&x), batch, steps, Some(&[4, 2, 3]), 8);
}

#[test]
fn training_gradients_of_a_batch_in_parts_equal_the_full_backward() {
    // 17 rows run in row parts with the parallel feature; the parts skip dL/dx as one loop does.
    let json = r#"{"input": 5, "layers": [{"type": "gru", "units": 6}, {"type": "dense", "units": 1}]}"#;
    let mut model = Model::<f32>::from_json(json, 4).unwrap();
    let (batch, steps) = (17, 5);
    let x: Vec<f32> = Rng(7).vec(batch * steps * 5).into_iter().map(|v| v as f32).collect();
    let (out, trace) = model.forward(Batch { x: Inputs::Values(&x), batch, steps, lengths: None }, None, false).unwrap();
    let w = vec![1.0f32; out.y.len()];
    let (all, training) = (model.backward(&trace, &w).unwrap(), model.parameter_gradients(&trace, &w).unwrap());
    assert_eq!(all.dx.map(|dx| dx.len()), Some(batch * steps * 5));
    assert!(training.dx.is_none());
    assert_eq!(training.parameters, all.parameters);
}

#[test]
fn gradients_flow_through_ragged_sequences_and_max_pooling() {
    let json = r#"{"input": 2, "layers": [
        {"type": "rnn", "units": 3, "return_sequences": true},
        {"type": "jordan", "units": 4, "output": 2, "return_sequences": true},
        {"type": "dense", "units": 2, "activation": "sigmoid"},
        {"type": "rnn", "units": 3, "activation": "relu"}
    ]}"#;
    let model = Model::<f64>::from_json(json, 3).unwrap();
    let x = Rng(4).vec(3 * 5 * 2);
    check_model(model, Inputs::Values(&x), 3, 5, Some(&[5, 2, 4]), 0);

    let pooled = r#"{"input": 2, "layers": [
        {"type": "max_pooling1d", "pool_size": 2, "strides": 1},
        {"type": "jordan", "units": 3, "output": 2}
    ]}"#;
    check_model(Model::<f64>::from_json(pooled, 3).unwrap(), Inputs::Values(&x), 3, 5, None, 0);
}

#[test]
fn an_embedding_model_takes_ids_and_its_weights_get_gradients() {
    let json = r#"{"layers": [
        {"type": "embedding", "vocab": 7, "dim": 3},
        {"type": "gru", "units": 4, "reset_after": false, "return_sequences": true},
        {"type": "dense", "units": 7}
    ]}"#;
    let model = Model::<f64>::from_json(json, 8).unwrap();
    let ids = [0u32, 3, 6, 6, 1, 2, 5, 4];
    check_model(model, Inputs::Ids(&ids), 2, 4, None, 0);
}

#[test]
fn data_is_batch_major_outside_and_matches_the_time_major_stack() {
    let mut model = Model::<f64>::from_json(r#"{"input": 3, "layers": [{"type": "lstm", "units": 4, "return_sequences": true}]}"#, 11).unwrap();
    let (batch, steps) = (2, 5);
    let x = Rng(6).vec(batch * steps * 3);
    let (out, _) = model.forward(Batch { x: Inputs::Values(&x), batch, steps, lengths: None }, None, false).unwrap();
    assert_eq!((out.batch, out.steps, out.features), (2, Some(5), 4));

    let mut stack = RecurrentStack::<f64>::new(StackConfig { forget_bias: 1.0, ..stack_config() }).unwrap();
    for name in ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"] {
        stack.set_parameter(name, model.parameter(&format!("0.{name}")).unwrap()).unwrap();
    }
    let time_major: Vec<f64> = (0..steps).flat_map(|t| (0..batch).flat_map(move |b| (0..3).map(move |f| (b, t, f)))).map(|(b, t, f)| x[(b * steps + t) * 3 + f]).collect();
    let (direct, _) = stack.forward(Sequences { x: &time_major, steps, batch, lengths: None, h0: None, c0: None }, None).unwrap();
    for b in 0..batch {
        for t in 0..steps {
            for h in 0..4 {
                assert!((out.y[(b * steps + t) * 4 + h] - direct.y[(t * batch + b) * 4 + h]).abs() < 1e-14);
            }
        }
    }
}

fn stack_config() -> StackConfig {
    StackConfig::from_json(r#"{"cell": "lstm", "input": 3, "hidden": 4}"#).unwrap()
}

#[test]
fn stateful_calls_continue_where_the_previous_one_stopped() {
    for kind in [r#"{"type": "lstm", "units": 4}"#, r#"{"type": "jordan", "units": 4, "output": 2}"#] {
        let json = format!(r#"{{"input": 2, "layers": [{kind}]}}"#);
        let mut model = Model::<f64>::from_json(&json, 2).unwrap();
        let (batch, steps) = (2, 6);
        let x = Rng(7).vec(batch * steps * 2);
        let (whole, _) = model.forward(Batch { x: Inputs::Values(&x), batch, steps, lengths: None }, None, false).unwrap();
        // The same batch in two halves of 3 steps, batch-major.
        let half = |h: usize| -> Vec<f64> { (0..batch).flat_map(|b| x[(b * steps + 3 * h) * 2..(b * steps + 3 * h + 3) * 2].to_vec()).collect() };
        let mut last = Vec::new();
        for h in 0..2 {
            let part = half(h);
            last = model.forward(Batch { x: Inputs::Values(&part), batch, steps: 3, lengths: None }, None, true).unwrap().0.y;
        }
        assert!(whole.y.iter().zip(&last).all(|(a, b)| (a - b).abs() < 1e-14), "{kind}: {:?} vs {last:?}", whole.y);
        model.reset_states();
        let restarted = model.forward(Batch { x: Inputs::Values(&half(1)), batch, steps: 3, lengths: None }, None, true).unwrap().0.y;
        assert!(restarted.iter().zip(&last).any(|(a, b)| (a - b).abs() > 1e-6), "{kind}: reset_states did not forget");
    }
}

#[test]
fn summary_counts_parameters_with_pytorch_layout() {
    let json = r#"{"input": 3, "layers": [{"type": "lstm", "units": 4}, {"type": "gru", "units": 4}, {"type": "dense", "units": 2, "activation": "softmax"}]}"#;
    let err = Model::<f32>::from_json(json, 0).unwrap_err();
    assert!(err.to_string().contains("layer 1 (gru)") && err.to_string().contains("return_sequences"), "{err}");

    let json = r#"{"input": 3, "layers": [{"type": "lstm", "units": 4, "return_sequences": true}, {"type": "gru", "units": 4}, {"type": "dense", "units": 2, "activation": "softmax"}]}"#;
    let model = Model::<f32>::from_json(json, 0).unwrap();
    let rows: Vec<(usize, String, bool, usize, usize)> = model.summary().into_iter().map(|r| (r.index, r.kind, r.sequence, r.features, r.parameters)).collect();
    assert_eq!(
        rows,
        vec![
            // 4 gates × 4 units × (3 inputs + 4 recurrent) weights + two biases of 16.
            (0, "LSTM (input 3, hidden 4, 1 layer)".into(), true, 4, 4 * 4 * 7 + 32),
            (1, "GRU (input 4, hidden 4, 1 layer)".into(), false, 4, 3 * 4 * 8 + 24),
            (2, "Dense".into(), false, 2, 2 * 4 + 2),
            (2, "Softmax".into(), false, 2, 0),
        ]
    );
    assert_eq!(model.parameters().iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>()[8..], ["2.weight", "2.bias"]);
}

#[test]
fn initial_weights_follow_keras_defaults_and_the_seed() {
    let json = r#"{"input": 5, "layers": [{"type": "lstm", "units": 6}, {"type": "dense", "units": 3}]}"#;
    let a = Model::<f64>::from_json(json, 42).unwrap();
    let b = Model::<f64>::from_json(json, 42).unwrap();
    let c = Model::<f64>::from_json(json, 43).unwrap();
    assert_eq!(a.parameters(), b.parameters());
    assert_ne!(a.parameter("0.weight_ih_l0").unwrap(), c.parameter("0.weight_ih_l0").unwrap());

    // Glorot uniform: within ±√(6 / (fan_in + fan_out)) and spread across most of it.
    let w = a.parameter("0.weight_ih_l0").unwrap();
    let limit = (6.0f64 / (5.0 + 24.0)).sqrt();
    let max = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(max <= limit && max > 0.8 * limit, "{max} vs {limit}");
    // Orthogonal recurrent weights: [24, 6] with orthonormal columns.
    let u = a.parameter("0.weight_hh_l0").unwrap();
    for i in 0..6 {
        for j in 0..6 {
            let dot: f64 = (0..24).map(|r| u[r * 6 + i] * u[r * 6 + j]).sum();
            assert!((dot - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12, "column {i}·{j} = {dot}");
        }
    }
    // Keras' unit_forget_bias: the f block of the bias is 1, the rest 0.
    let bias = a.parameter("0.bias_ih_l0").unwrap();
    assert!(bias[6..12].iter().all(|&v| v == 1.0) && bias[..6].iter().chain(&bias[12..]).all(|&v| v == 0.0));
    assert!(a.parameter("1.bias").unwrap().iter().all(|&v| v == 0.0));

    let pytorch = Model::<f64>::from_json(r#"{"input": 5, "layers": [{"type": "gru", "units": 4, "kernel_initializer": "pytorch", "bias_initializer": "pytorch"}]}"#, 1).unwrap();
    let b = pytorch.parameter("0.bias_hh_l0").unwrap();
    assert!(b.iter().all(|v| v.abs() <= 0.5) && b.iter().any(|&v| v != 0.0));
}

#[test]
fn bad_topologies_and_inputs_name_the_problem() {
    let cases = [
        (r#"{"input": 3, "layers": [{"type": "transformer"}]}"#, "unknown layer type `transformer`"),
        (r#"{"input": 3, "layers": [{"type": "lstm", "units": 4, "colour": 1}]}"#, "colour"),
        (r#"{"input": 3, "layers": [{"type": "dense", "units": 4, "activation": "swish"}]}"#, "unknown activation `swish`"),
        (r#"{"input": 3, "layers": [{"type": "gru", "units": 4, "peepholes": true}]}"#, "layer 0 (gru)"),
        (r#"{"input": 3, "layers": [{"type": "lstm", "units": 4, "kernel_initializer": "lecun"}]}"#, "unknown initializer `lecun`"),
        (r#"{"input": 3, "layers": [{"type": "dense", "units": 4}, {"type": "embedding", "vocab": 3, "dim": 2}]}"#, "must be the first layer"),
        (r#"{"layers": [{"type": "dense", "units": 4}]}"#, "`input`"),
        (r#"{"input": 3, "layers": []}"#, "at least one layer"),
        (r#"{"input": 3, "layers": [{"type": "dropout", "rate": 1.5}]}"#, "rate must be in [0, 1)"),
    ];
    for (json, needle) in cases {
        let err = Model::<f32>::from_json(json, 0).unwrap_err();
        assert_eq!(err.kind(), "ConfigError", "{json}");
        assert!(err.to_string().contains(needle), "{json}: {err}");
    }

    let mut model = Model::<f32>::from_json(r#"{"input": 2, "layers": [{"type": "conv1d", "filters": 2, "kernel_size": 2}, {"type": "lstm", "units": 3}]}"#, 0).unwrap();
    let x = vec![0.5f32; 2 * 4 * 2];
    let run = |m: &mut Model<f32>, x: &[f32], batch, steps, lengths: Option<&[usize]>| m.forward(Batch { x: Inputs::Values(x), batch, steps, lengths }, None, false).map(|_| ()).unwrap_err();
    let err = run(&mut model, &x[1..], 2, 4, None);
    assert_eq!(err.kind(), "ShapeError");
    assert!(err.to_string().contains("[batch=2, steps=4, features=2] = 16 values") && err.to_string().contains("got 15"), "{err}");
    let mut nan = x.clone();
    nan[5] = f32::NAN;
    let err = run(&mut model, &nan, 2, 4, None);
    assert_eq!(err.kind(), "NumericError");
    assert!(err.to_string().contains("value 5 (batch 0, step 2) is NaN"), "{err}");
    let err = run(&mut model, &x, 2, 4, Some(&[4, 2]));
    assert!(err.to_string().contains("layer 0: Conv1D") && err.to_string().contains("ragged"), "{err}");
    let err = run(&mut model, &x, 2, 4, Some(&[4, 9]));
    assert!(err.to_string().contains("lengths"), "{err}");
    let err = model.forward(Batch { x: Inputs::Ids(&[1, 2]), batch: 1, steps: 2, lengths: None }, None, false).map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("not token ids"), "{err}");
    assert_eq!(model.set_parameter("1.weight_ih_l0", &[f32::INFINITY; 24]).unwrap_err().kind(), "NumericError");
    assert!(model.set_parameter("1.weight", &[0.0]).unwrap_err().to_string().contains("no parameter named `1.weight`"));
}

#[test]
fn parameter_shapes_cover_every_value_in_pytorch_layout() {
    let json = r#"{"input": 3, "layers": [
        {"type": "conv1d", "filters": 4, "kernel_size": 3},
        {"type": "lstm", "units": 5, "proj_size": 2, "peepholes": true, "bidirectional": true, "return_sequences": true},
        {"type": "jordan", "units": 3, "output": 2, "return_sequences": true},
        {"type": "layer_normalization"},
        {"type": "dense", "units": 2}
    ]}"#;
    let model = Model::<f32>::from_json(json, 0).unwrap();
    let shapes = model.parameter_shapes();
    let params = model.parameters();
    assert_eq!(shapes.len(), params.len());
    for ((name, p), shape) in params.iter().zip(&shapes) {
        assert_eq!(shape.iter().product::<usize>(), p.len(), "{name} {shape:?}");
    }
    assert_eq!(shapes[0], [4, 3, 3]);
    assert_eq!(shapes[3], [20, 2]); // weight_hh_l0 reads the projected state
    assert_eq!(shapes[7], [2, 5]); // weight_hr_l0
}

#[test]
fn generation_samples_from_the_model_and_repeats_for_a_seed() {
    use seqwasm_core::model::Sampling;
    let json = r#"{"layers": [{"type": "embedding", "vocab": 6, "dim": 4}, {"type": "gru", "units": 8, "return_sequences": true}, {"type": "dense", "units": 6}]}"#;
    let mut model = Model::<f64>::from_json(json, 4).unwrap();
    let greedy = Sampling { temperature: 0.0, top_k: 0, top_p: 1.0, logits: true, seed: 0 };
    let tokens = model.generate(&[1, 2], 8, greedy).unwrap();
    // The same by hand: feed the whole sequence so far and take the argmax of the last step.
    let mut seq = vec![1u32, 2];
    for _ in 0..8 {
        let out = model.forward(Batch { x: Inputs::Ids(&seq), batch: 1, steps: seq.len(), lengths: None }, None, false).unwrap().0.y;
        let last = &out[out.len() - 6..];
        seq.push((0..6).fold(0, |b, j| if last[j] > last[b] { j } else { b }) as u32);
    }
    assert_eq!(tokens, seq[2..]);
    assert_eq!(model.generate(&[1, 2], 8, Sampling { temperature: 1.0, top_k: 1, ..greedy }).unwrap(), tokens);

    let hot = Sampling { temperature: 1.5, top_k: 0, top_p: 1.0, logits: true, seed: 7 };
    let a = model.generate(&[3], 30, hot).unwrap();
    assert_eq!(a, model.generate(&[3], 30, hot).unwrap());
    assert_ne!(a, model.generate(&[3], 30, Sampling { seed: 8, ..hot }).unwrap());
    assert!(a.iter().all(|&t| t < 6));
    assert!(model.generate(&[], 3, hot).unwrap_err().to_string().contains("prime"));
    let mut values = Model::<f64>::from_json(r#"{"input": 2, "layers": [{"type": "lstm", "units": 2, "return_sequences": true}]}"#, 0).unwrap();
    assert_eq!(values.generate(&[1], 3, hot).unwrap_err().kind(), "ConfigError");
}

#[test]
fn every_initializer_has_its_distribution() {
    use seqwasm_core::{Initializer, Rng as Seeded};
    // A [256, 128] weight: fan-in 128, fan-out 256.
    let (rows, cols) = (256, 128);
    let stats = |init: Initializer| {
        let mut w = vec![0.0f64; rows * cols];
        init.fill(&mut w, rows, cols, 1, 64, &mut Seeded::new(1));
        let mean = w.iter().sum::<f64>() / w.len() as f64;
        let std = (w.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / w.len() as f64).sqrt();
        let max = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        (mean, std, max)
    };
    let close = |what: &str, got: f64, want: f64| assert!((got - want).abs() < 0.03 * want, "{what}: {got} vs {want}");
    // Uniform on ±L has standard deviation L/√3.
    let glorot = (6.0f64 / 384.0).sqrt();
    let (m, s, max) = stats(Initializer::GlorotUniform);
    assert!(m.abs() < 0.01 && max <= glorot);
    close("glorot_uniform std", s, glorot / 3f64.sqrt());
    close("he_uniform std", stats(Initializer::HeUniform).1, (6.0f64 / 128.0).sqrt() / 3f64.sqrt());
    close("pytorch std", stats(Initializer::PytorchUniform).1, (1.0f64 / 64.0).sqrt() / 3f64.sqrt());
    // The truncated normals keep their intended standard deviation, within two of its σ.
    let (_, s, max) = stats(Initializer::GlorotNormal);
    close("glorot_normal std", s, (2.0f64 / 384.0).sqrt());
    assert!(max <= 2.0 * (2.0f64 / 384.0).sqrt() / 0.879_625_661_034_239_8 + 1e-12);
    close("he_normal std", stats(Initializer::HeNormal).1, (2.0f64 / 128.0).sqrt());
    assert_eq!(stats(Initializer::Zeros), (0.0, 0.0, 0.0));
    assert_eq!(stats(Initializer::Ones).0, 1.0);
    // Orthogonal with more columns than rows: orthonormal rows.
    let mut q = vec![0.0f64; 3 * 5];
    Initializer::Orthogonal.fill(&mut q, 3, 5, 1, 5, &mut Seeded::new(2));
    for i in 0..3 {
        for j in 0..3 {
            let dot: f64 = (0..5).map(|c| q[i * 5 + c] * q[j * 5 + c]).sum();
            assert!((dot - f64::from(u8::from(i == j))).abs() < 1e-12);
        }
    }
}
