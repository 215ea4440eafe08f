//! Encoder-decoder models with attention: the gradients of every attention variant and of the
//! whole model equal finite differences (f64), padded source positions get no attention, and
//! beam search agrees with greedy decoding and with the model's own log-probability.

mod common;

use common::{assert_gradient, Rng};
use seqwasm_core::seq2seq::{Beam, Pairs, Seq2Seq};
use seqwasm_core::Parameters;

/// Two ragged pairs: sources of 4 and 2 tokens (padded to 4), targets of 3 and 2.
const SOURCE: [u32; 8] = [3, 1, 4, 2, 5, 2, 0, 0];
const SOURCE_LENGTHS: [usize; 2] = [4, 2];
const TARGET: [u32; 6] = [3, 4, 1, 4, 1, 0];
const TARGET_LENGTHS: [usize; 2] = [3, 2];

fn pairs() -> Pairs<'static> {
    Pairs { batch: 2, source: &SOURCE, source_steps: 4, source_lengths: Some(&SOURCE_LENGTHS), target: &TARGET, target_steps: 3, target_lengths: Some(&TARGET_LENGTHS) }
}

fn model(encoder: &str, decoder: &str, attention: &str) -> Seq2Seq<f64> {
    let json = format!(r#"{{"source": {{"vocab": 6, "dim": 3}}, "target": {{"vocab": 5, "dim": 3}}, "encoder": {encoder}, "decoder": {decoder}, {attention} "start_token": 0, "end_token": 1}}"#);
    let mut m = Seq2Seq::from_json(&json, 7).unwrap();
    // Biases and positions away from zero, so that every path carries a gradient.
    let mut rng = Rng(3);
    for p in m.parameters_mut() {
        p.iter_mut().for_each(|v| *v += 0.3 * rng.next());
    }
    m
}

/// Checks every parameter's gradient of the loss, in training mode with the encoder's dropout
/// masks and the scheduled-sampling draws fixed by one seed.
fn check(model: Seq2Seq<f64>, sampling: f64) {
    let loss = |m: &Seq2Seq<f64>| m.loss_and_gradients(pairs(), Some(&mut seqwasm_core::Rng::new(11)), sampling).unwrap();
    let outcome = loss(&model);
    assert!(outcome.loss > 0.0);
    let names: Vec<String> = model.parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), outcome.gradients.len());
    for (name, analytic) in names.iter().zip(&outcome.gradients) {
        assert!(analytic.iter().any(|&g| g != 0.0), "{name} gets no gradient");
        let point = model.parameter(name).unwrap().to_vec();
        let mut m = model.clone();
        assert_gradient(name, analytic, &point, |moved| {
            m.set_parameter(name, moved).unwrap();
            loss(&m).loss
        });
    }
}

const BI_LSTM: &str = r#"{"type": "lstm", "units": 3, "bidirectional": true}"#;
const LSTM6: &str = r#"{"type": "lstm", "units": 6}"#;

#[test]
fn luong_general_attention_over_a_bidirectional_lstm() {
    check(model(BI_LSTM, LSTM6, r#""attention": {"type": "luong", "score": "general"},"#), 0.0);
}

#[test]
fn luong_dot_attention_with_gru_encoder_and_decoder() {
    check(model(r#"{"type": "gru", "units": 4}"#, r#"{"type": "gru", "units": 4}"#, r#""attention": {"type": "luong", "score": "dot"},"#), 0.0);
}

#[test]
fn luong_concat_attention_in_a_monotonic_local_window() {
    check(model(BI_LSTM, LSTM6, r#""attention": {"type": "luong", "score": "concat", "units": 4, "window": "monotonic", "width": 1},"#), 0.0);
}

#[test]
fn luong_general_attention_in_a_predictive_local_window() {
    check(model(BI_LSTM, LSTM6, r#""attention": {"type": "luong", "score": "general", "window": "predictive", "width": 2},"#), 0.0);
}

#[test]
fn bahdanau_attention_over_two_dropout_gru_layers() {
    let encoder = r#"{"type": "gru", "units": 3, "layers": 2, "bidirectional": true, "dropout": 0.3, "recurrent_dropout": 0.2}"#;
    check(model(encoder, r#"{"type": "gru", "units": 6}"#, r#""attention": {"type": "bahdanau", "units": 4},"#), 0.0);
}

#[test]
fn no_attention_and_an_elman_decoder_from_the_encoders_state() {
    check(model(r#"{"type": "rnn", "units": 5}"#, r#"{"type": "rnn", "units": 5}"#, ""), 0.0);
}

#[test]
fn scheduled_sampling_feeds_the_models_own_tokens_as_constants() {
    check(model(BI_LSTM, LSTM6, r#""attention": {"type": "bahdanau", "units": 3},"#), 0.5);
}

#[test]
fn padded_source_positions_get_no_attention_and_weights_sum_to_one() {
    let m = model(BI_LSTM, LSTM6, r#""attention": {"type": "luong", "score": "general"},"#);
    let out = m.greedy(&SOURCE, 4, Some(&SOURCE_LENGTHS), 2, 5, 0.0).unwrap();
    for (d, &len) in out.iter().zip(&SOURCE_LENGTHS) {
        assert_eq!(d.source_length, len);
        assert_eq!(d.attention.len(), (d.tokens.len() + usize::from(d.finished)) * len);
        for row in d.attention.chunks_exact(len) {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{row:?}");
        }
    }
    // The padding's ids do not matter: the second source decodes the same with other padding.
    let mut other = SOURCE;
    other[6..].copy_from_slice(&[4, 5]);
    assert_eq!(m.greedy(&other, 4, Some(&SOURCE_LENGTHS), 2, 5, 0.0).unwrap(), out);
}

/// The model's log-probability of `tokens` followed by the end token, by teacher forcing.
fn log_prob(m: &Seq2Seq<f64>, source: &[u32], tokens: &[u32]) -> f64 {
    let mut target = tokens.to_vec();
    target.push(m.end);
    let n = target.len();
    let pairs = Pairs { batch: 1, source, source_steps: source.len(), source_lengths: None, target: &target, target_steps: n, target_lengths: None };
    -m.loss_and_gradients(pairs, None, 0.0).unwrap().loss * n as f64
}

#[test]
fn beam_search_of_width_one_is_greedy_and_wider_beams_never_score_lower() {
    let mut m = model(BI_LSTM, LSTM6, r#""attention": {"type": "luong", "score": "general"},"#);
    // An untrained model ends at once; a lower end-token bias makes outputs of a few tokens.
    m.output.bias[1] -= 1.5;
    let mut rng = Rng(5);
    let mut better = 0;
    for _ in 0..40 {
        let len = 2 + (rng.next().abs() * 4.0) as usize;
        let source: Vec<u32> = (0..len).map(|_| (rng.next().abs() * 6.0) as u32 % 6).collect();
        let greedy = m.greedy(&source, len, None, 1, 12, 0.0).unwrap().remove(0);
        let one = m.beam_search(&source, Beam { width: 1, max_length: 12, length_penalty: 0.0 }).unwrap();
        assert_eq!(one, greedy);
        for width in [2, 3, 5] {
            let wide = m.beam_search(&source, Beam { width, max_length: 12, length_penalty: 0.0 }).unwrap();
            assert!(wide.log_prob >= greedy.log_prob - 1e-12, "width {width}: {} < greedy {}", wide.log_prob, greedy.log_prob);
            better += usize::from(wide.log_prob > greedy.log_prob + 1e-9);
            if wide.finished {
                // The score beam search reports is the model's own log-probability of its output.
                assert!((log_prob(&m, &source, &wide.tokens) - wide.log_prob).abs() < 1e-9);
            }
        }
    }
    assert!(better > 0, "a wider beam never found a more probable output than greedy decoding");
}

#[test]
fn length_normalisation_ranks_by_log_probability_per_step() {
    let m = model(BI_LSTM, LSTM6, r#""attention": {"type": "luong", "score": "dot"},"#.replace("dot", "general").as_str());
    let d = m.beam_search(&[3, 1, 4], Beam { width: 3, max_length: 10, length_penalty: 1.0 }).unwrap();
    let steps = (d.tokens.len() + usize::from(d.finished)) as f64;
    assert!((d.score - d.log_prob / steps).abs() < 1e-12);
}

#[test]
fn bad_configurations_and_inputs_name_the_problem() {
    let base = |encoder: &str, decoder: &str, attention: &str| {
        let json = format!(r#"{{"source": {{"vocab": 6, "dim": 3}}, "target": {{"vocab": 5, "dim": 3}}, "encoder": {encoder}, "decoder": {decoder}, {attention} "start_token": 0, "end_token": 1}}"#);
        Seq2Seq::<f64>::from_json(&json, 1).err().map(|e| e.to_string()).unwrap_or_default()
    };
    assert!(base(BI_LSTM, r#"{"type": "lstm", "units": 4}"#, "").contains("must be 6 (2 direction(s) × 3)"));
    assert!(base(r#"{"type": "gru", "units": 3}"#, r#"{"type": "gru", "units": 4}"#, r#""attention": {"type": "luong", "score": "dot"}, "initial_state": "zeros","#).contains("dot score"));
    assert!(base(BI_LSTM, LSTM6, r#""attention": {"type": "bahdanau", "window": "monotonic"},"#).contains("Luong's options"));
    assert!(base(BI_LSTM, LSTM6, r#""attention": {"type": "luong", "score": "cosine"},"#).contains("unknown score"));
    assert!(base(BI_LSTM, r#"{"type": "lstm", "units": 6, "bidirectional": true}"#, "").contains("one layer in one direction"));
    assert!(base(BI_LSTM, LSTM6, r#""initial_state": "zeros","#).contains("would never see the source"));
    assert!(base(r#"{"type": "transformer", "units": 3}"#, LSTM6, "").contains("lstm, gru or rnn"));
    let m = model(BI_LSTM, LSTM6, "");
    let bad_ids = Pairs { target: &[3, 4, 9, 4, 1, 0], ..pairs() };
    assert!(m.loss_and_gradients(bad_ids, None, 0.0).unwrap_err().to_string().contains("ids below 5"));
    let bad_lengths = Pairs { source_lengths: Some(&[4, 0]), ..pairs() };
    assert!(m.loss_and_gradients(bad_lengths, None, 0.0).unwrap_err().to_string().contains("lengths from 1 to 4"));
    assert!(m.greedy(&[9, 1], 2, None, 1, 4, 0.0).unwrap_err().to_string().contains("ids below 6"));
}

/// `n` random digit strings of 2 to 5 symbols (source ids 1..=8, padded with 0) and their
/// reversals as targets (ids 2..=9, then the end token 1).
fn reversals(n: usize, rng: &mut Rng) -> (Vec<u32>, Vec<usize>, Vec<u32>, Vec<usize>) {
    let (mut source, mut source_lengths, mut target, mut target_lengths) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let len = 2 + (rng.next().abs() * 4.0) as usize % 4;
        let digits: Vec<u32> = (0..len).map(|_| 1 + (rng.next().abs() * 8.0) as u32 % 8).collect();
        source.extend(digits.iter().copied().chain(std::iter::repeat(0)).take(5));
        target.extend(digits.iter().rev().map(|d| d + 1).chain([1]).chain(std::iter::repeat(0)).take(6));
        source_lengths.push(len);
        target_lengths.push(len + 1);
    }
    (source, source_lengths, target, target_lengths)
}

#[test]
fn an_attention_model_learns_to_reverse_digit_strings() {
    use seqwasm_core::train::Seq2SeqTrainer;
    let json = r#"{"source": {"vocab": 9, "dim": 8}, "target": {"vocab": 10, "dim": 8}, "encoder": {"type": "gru", "units": 16, "bidirectional": true},
                   "decoder": {"type": "gru", "units": 32}, "attention": {"type": "luong", "score": "general"}, "start_token": 0, "end_token": 1}"#;
    let mut trainer = Seq2SeqTrainer::new(Seq2Seq::<f32>::from_json(json, 1).unwrap(), r#"{"optimizer": {"type": "adam", "learning_rate": 0.01}, "seed": 2}"#).unwrap();
    let mut rng = Rng(8);
    let (s, sl, t, tl) = reversals(64 * 400, &mut rng);
    for b in 0..400 {
        let pairs = Pairs { batch: 64, source: &s[b * 320..(b + 1) * 320], source_steps: 5, source_lengths: Some(&sl[b * 64..(b + 1) * 64]), target: &t[b * 384..(b + 1) * 384], target_steps: 6, target_lengths: Some(&tl[b * 64..(b + 1) * 64]) };
        trainer.train_batch(pairs).unwrap();
    }
    let (s, sl, t, tl) = reversals(500, &mut Rng(9));
    let held_out = Pairs { batch: 500, source: &s, source_steps: 5, source_lengths: Some(&sl), target: &t, target_steps: 6, target_lengths: Some(&tl) };
    let eval = trainer.evaluate(held_out, 100, 8).unwrap();
    eprintln!("{eval:?}");
    assert!(eval.exact_match > 0.95, "{eval:?}");
}

#[test]
fn scheduled_sampling_changes_what_the_decoder_reads_and_nothing_else() {
    let m = model(BI_LSTM, LSTM6, r#""attention": {"type": "luong", "score": "general"},"#);
    let run = |sampling: f64, rng: bool| m.loss_and_gradients(pairs(), rng.then_some(&mut seqwasm_core::Rng::new(4)), sampling).unwrap().loss;
    // Without dropout, training mode with no sampling is teacher forcing, as evaluation is.
    assert_eq!(run(0.0, true), run(0.0, false));
    // Always feeding its own (untrained) guesses gives another loss; at evaluation the ratio is ignored.
    assert_ne!(run(1.0, true), run(0.0, true));
    assert_eq!(run(1.0, false), run(0.0, false));
}
