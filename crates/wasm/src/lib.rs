//! The wasm boundary of seqwasm: one file a reader can take in at once.
//!
//! Every export does one crossing per call: slices in (one copy into linear memory),
//! a `Vec` out (one copy out), and core errors turned into JS errors whose `name` is the
//! facade's error class. No math and no policy live here.

use seqwasm_core as core;
use seqwasm_core::Parameters;
use wasm_bindgen::prelude::*;

#[cfg(feature = "threads")]
mod pool;

/// Each call that computes starts here, so that the threads build's pool can have its workers
/// awake for it (see pool.rs).
fn starting() {
    #[cfg(feature = "threads")]
    pool::keep_warm();
}

/// Which build this is: `"simd"` or `"threads"`.
#[wasm_bindgen]
pub fn flavour() -> String {
    if cfg!(feature = "threads") { "threads" } else { "simd" }.to_string()
}

/// `C = A·B` for row-major `A [m, k]` and `B [k, n]`; returns `C [m, n]`.
#[wasm_bindgen]
pub fn matmul(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Result<Vec<f32>, JsValue> {
    starting();
    let a = core::MatRef::new(a, m, k).map_err(|e| named(e, "A"))?;
    let b = core::MatRef::new(b, k, n).map_err(|e| named(e, "B"))?;
    let mut c = vec![0.0; m * n];
    core::gemm(a, b, core::MatMut::new(&mut c, m, n).map_err(to_js)?, core::Accumulate::Overwrite).map_err(to_js)?;
    Ok(c)
}

/// A stack of recurrent layers living in wasm memory; JS holds it by handle, and only inputs,
/// outputs and parameters cross.
#[wasm_bindgen(js_name = RecurrentStack)]
pub struct RecurrentStackHandle {
    stack: core::recurrent::RecurrentStack<f32>,
    /// What the last `forwardTrain` recorded, for `backward`.
    trace: Option<core::recurrent::StackTrace<f32>>,
}

#[wasm_bindgen(js_class = RecurrentStack)]
impl RecurrentStackHandle {
    /// `config` is the JSON of `StackConfig::from_json`, e.g. `{"cell": "lstm", "input": 8, "hidden": 32}`.
    #[wasm_bindgen(constructor)]
    pub fn new(config: &str) -> Result<RecurrentStackHandle, JsValue> {
        let config = core::recurrent::StackConfig::from_json(config).map_err(to_js)?;
        Ok(RecurrentStackHandle { stack: core::recurrent::RecurrentStack::new(config).map_err(to_js)?, trace: None })
    }

    /// PyTorch's names of every parameter, in order.
    #[wasm_bindgen(js_name = parameterNames)]
    pub fn parameter_names(&self) -> Vec<String> {
        self.stack.parameters().into_iter().map(|(name, _)| name).collect()
    }

    pub fn parameter(&self, name: &str) -> Result<Vec<f32>, JsValue> {
        self.stack.parameter(name).map(<[f32]>::to_vec).map_err(to_js)
    }

    #[wasm_bindgen(js_name = setParameter)]
    pub fn set_parameter(&mut self, name: &str, values: &[f32]) -> Result<(), JsValue> {
        self.stack.set_parameter(name, values).map_err(to_js)
    }

    /// Runs `x [steps, batch, input]`; `lengths`, `h0` and `c0` may be left undefined.
    pub fn forward(&self, x: &[f32], steps: usize, batch: usize, lengths: Option<Vec<u32>>, h0: Option<Vec<f32>>, c0: Option<Vec<f32>>) -> Result<StackOutput, JsValue> {
        starting();
        let lengths = widen(lengths);
        let seq = core::recurrent::Sequences { x, steps, batch, lengths: lengths.as_deref(), h0: h0.as_deref(), c0: c0.as_deref() };
        let (out, _) = self.stack.forward(seq, None).map_err(to_js)?;
        self.output(out, batch)
    }

    /// Like `forward`, starting from the states the previous stateful call ended in.
    #[wasm_bindgen(js_name = forwardStateful)]
    pub fn forward_stateful(&mut self, x: &[f32], steps: usize, batch: usize, lengths: Option<Vec<u32>>) -> Result<StackOutput, JsValue> {
        starting();
        let lengths = widen(lengths);
        let seq = core::recurrent::Sequences { x, steps, batch, lengths: lengths.as_deref(), h0: None, c0: None };
        let (out, _) = self.stack.forward_stateful(seq, None).map_err(to_js)?;
        self.output(out, batch)
    }

    /// A training forward: draws the dropout masks from `seed` and keeps what `backward` needs.
    #[wasm_bindgen(js_name = forwardTrain)]
    pub fn forward_train(&mut self, x: &[f32], steps: usize, batch: usize, lengths: Option<Vec<u32>>, h0: Option<Vec<f32>>, c0: Option<Vec<f32>>, seed: u32) -> Result<StackOutput, JsValue> {
        starting();
        let lengths = widen(lengths);
        let seq = core::recurrent::Sequences { x, steps, batch, lengths: lengths.as_deref(), h0: h0.as_deref(), c0: c0.as_deref() };
        let mut rng = core::Rng::new(u64::from(seed));
        let masks = self.stack.dropout_masks(steps, batch, || rng.uniform());
        let (out, trace) = self.stack.forward(seq, Some(&masks)).map_err(to_js)?;
        self.trace = Some(trace);
        self.output(out, batch)
    }

    /// Gradients of the last `forwardTrain`, given dL/dy `[steps, batch, output]` and optionally
    /// dL/dh_n and dL/dc_n (each `[layers · directions, batch, ·]`).
    pub fn backward(&self, dy: Option<Vec<f32>>, dh_n: Option<Vec<f32>>, dc_n: Option<Vec<f32>>) -> Result<StackGradients, JsValue> {
        starting();
        let trace = self.trace.as_ref().ok_or_else(|| to_js(core::Error::config(self.stack.to_string(), "backward needs a forwardTrain first")))?;
        let grads = core::recurrent::OutputGradients { dy: dy.as_deref(), dh_n: dh_n.as_deref(), dc_n: dc_n.as_deref() };
        let g = self.stack.backward(trace, grads).map_err(to_js)?;
        let names = self.parameter_names();
        let parameters = names.into_iter().zip(g.layers.into_iter().flat_map(|layer| layer.parameters)).collect();
        Ok(StackGradients { dx: g.dx, dh0: g.dh0, dc0: g.dc0, parameters })
    }

    /// The next stateful call starts from zeros.
    #[wasm_bindgen(js_name = resetStates)]
    pub fn reset_states(&mut self) {
        self.stack.reset_states();
    }
}

impl RecurrentStackHandle {
    fn output(&self, out: core::recurrent::Output<f32>, batch: usize) -> Result<StackOutput, JsValue> {
        let last = self.stack.last_output(&out, batch).map_err(to_js)?;
        Ok(StackOutput { y: out.y, last, h_n: out.h_n, c_n: out.c_n })
    }
}

fn widen(lengths: Option<Vec<u32>>) -> Option<Vec<usize>> {
    lengths.map(|l| l.into_iter().map(|v| v as usize).collect())
}

/// What `RecurrentStack.backward` returns; each getter copies one array out.
#[wasm_bindgen]
pub struct StackGradients {
    dx: Vec<f32>,
    dh0: Vec<f32>,
    dc0: Option<Vec<f32>>,
    parameters: Vec<(String, Vec<f32>)>,
}

#[wasm_bindgen]
impl StackGradients {
    #[wasm_bindgen(getter)]
    pub fn dx(&self) -> Vec<f32> {
        self.dx.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn dh0(&self) -> Vec<f32> {
        self.dh0.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn dc0(&self) -> Option<Vec<f32>> {
        self.dc0.clone()
    }

    /// The gradient of the parameter called `name`.
    pub fn parameter(&self, name: &str) -> Result<Vec<f32>, JsValue> {
        self.parameters.iter().find(|(n, _)| n == name).map(|(_, g)| g.clone()).ok_or_else(|| {
            let js = js_sys::Error::new(&format!("no gradient for a parameter named `{name}`"));
            js.set_name("ConfigError");
            js.into()
        })
    }
}

/// What `RecurrentStack.forward` returns; each getter copies one array out.
#[wasm_bindgen]
pub struct StackOutput {
    y: Vec<f32>,
    last: Vec<f32>,
    h_n: Vec<f32>,
    c_n: Option<Vec<f32>>,
}

#[wasm_bindgen]
impl StackOutput {
    /// `[steps, batch, output]`.
    #[wasm_bindgen(getter)]
    pub fn y(&self) -> Vec<f32> {
        self.y.clone()
    }

    /// Each sequence's last output, `[batch, output]` (Keras `return_sequences=False`).
    #[wasm_bindgen(getter)]
    pub fn last(&self) -> Vec<f32> {
        self.last.clone()
    }

    /// `[layers · directions, batch, hidden]`.
    #[wasm_bindgen(getter, js_name = hN)]
    pub fn h_n(&self) -> Vec<f32> {
        self.h_n.clone()
    }

    /// The LSTM cell state, like `hN`; undefined for other cells.
    #[wasm_bindgen(getter, js_name = cN)]
    pub fn c_n(&self) -> Option<Vec<f32>> {
        self.c_n.clone()
    }
}

/// A model (a JSON topology of layers, see `core::model`) living in wasm memory, with what
/// training needs once compiled. Data is batch-major, `[batch, steps, features]`, as Keras has it.
#[wasm_bindgen(js_name = Model)]
pub struct ModelHandle {
    trainer: core::train::Trainer<f32>,
    compiled: bool,
}

#[wasm_bindgen(js_class = Model)]
impl ModelHandle {
    /// `seed` fixes the initial weights.
    #[wasm_bindgen(constructor)]
    pub fn new(config: &str, seed: u32) -> Result<ModelHandle, JsValue> {
        let model = core::Model::from_json(config, u64::from(seed)).map_err(to_js)?;
        let placeholder = core::train::TrainerConfig::from_json(r#"{"loss": "mse"}"#).map_err(to_js)?;
        Ok(ModelHandle { trainer: core::train::Trainer::new(model, placeholder), compiled: false })
    }

    /// Keras' `compile` as JSON (`core::train::TrainerConfig`): loss, optimizer, schedule,
    /// metrics, seed. Compiling again starts the optimizer afresh.
    pub fn compile(&mut self, config: &str) -> Result<(), JsValue> {
        let config = core::train::TrainerConfig::from_json(config).map_err(to_js)?;
        let model = self.trainer.model.clone();
        self.trainer = core::train::Trainer::new(model, config);
        self.compiled = true;
        Ok(())
    }

    /// One update from one batch: inputs as values `x` or `ids`, targets as values `y` or class
    /// ids `classes`. Returns `{step, loss, gradNorm, learningRate}` as JSON.
    #[wasm_bindgen(js_name = trainBatch)]
    #[allow(clippy::too_many_arguments)]
    pub fn train_batch(&mut self, x: Option<Vec<f32>>, ids: Option<Vec<u32>>, batch: usize, steps: usize, lengths: Option<Vec<u32>>, y: Option<Vec<f32>>, classes: Option<Vec<u32>>) -> Result<String, JsValue> {
        starting();
        self.check_compiled()?;
        let lengths = widen(lengths);
        let x = inputs(&x, &ids)?;
        let targets = targets(&y, &classes)?;
        let report = self.trainer.train_batch(core::Batch { x, batch, steps, lengths: lengths.as_deref() }, targets).map_err(to_js)?;
        Ok(step_json(&report).to_string())
    }

    /// Truncated BPTT(k1, k2) over one long stream per batch row, from zero states; returns the
    /// report of every update as a JSON array.
    #[wasm_bindgen(js_name = trainStream)]
    #[allow(clippy::too_many_arguments)]
    pub fn train_stream(&mut self, x: Option<Vec<f32>>, ids: Option<Vec<u32>>, batch: usize, steps: usize, y: Option<Vec<f32>>, classes: Option<Vec<u32>>, k1: usize, k2: usize) -> Result<String, JsValue> {
        starting();
        self.check_compiled()?;
        let (x, targets) = (inputs(&x, &ids)?, targets(&y, &classes)?);
        let reports = self.trainer.train_stream(x, targets, batch, steps, core::train::Tbptt { k1, k2 }, |_, _, _| {}).map_err(to_js)?;
        Ok(serde_json::Value::Array(reports.iter().map(step_json).collect()).to_string())
    }

    /// Loss and compiled metrics over `samples` sequences, `batchSize` at a time, in inference
    /// mode: `{loss, metrics: {name: value}}` as JSON.
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate(&mut self, x: Option<Vec<f32>>, ids: Option<Vec<u32>>, samples: usize, steps: usize, lengths: Option<Vec<u32>>, y: Option<Vec<f32>>, classes: Option<Vec<u32>>, batch_size: usize) -> Result<String, JsValue> {
        starting();
        self.check_compiled()?;
        let lengths = widen(lengths);
        let data = core::train::Dataset { x: inputs(&x, &ids)?, y: targets(&y, &classes)?, samples, steps, lengths: lengths.as_deref() };
        let e = self.trainer.evaluate(&data, batch_size).map_err(to_js)?;
        let metrics: serde_json::Map<String, serde_json::Value> = e.metrics.into_iter().map(|(n, v)| (n, v.into())).collect();
        Ok(serde_json::json!({ "loss": e.loss, "metrics": metrics }).to_string())
    }

    /// Gradient flow of one batch without an update: `{loss, stateNorms: {layer: [‖dL/dh_t‖]},
    /// parameterNorms: {name: ‖dL/dθ‖}}` as JSON.
    #[allow(clippy::too_many_arguments)]
    pub fn diagnose(&mut self, x: Option<Vec<f32>>, ids: Option<Vec<u32>>, batch: usize, steps: usize, lengths: Option<Vec<u32>>, y: Option<Vec<f32>>, classes: Option<Vec<u32>>) -> Result<String, JsValue> {
        starting();
        self.check_compiled()?;
        let lengths = widen(lengths);
        let d = self.trainer.diagnose(core::Batch { x: inputs(&x, &ids)?, batch, steps, lengths: lengths.as_deref() }, targets(&y, &classes)?).map_err(to_js)?;
        let states: serde_json::Map<String, serde_json::Value> = d.state_norms.into_iter().map(|(n, v)| (n, v.into())).collect();
        let params: serde_json::Map<String, serde_json::Value> = d.parameter_norms.into_iter().map(|(n, v)| (n, v.into())).collect();
        Ok(serde_json::json!({ "loss": d.loss, "stateNorms": states, "parameterNorms": params }).to_string())
    }

    /// A permutation of `0..samples` from the training seed, for shuffled epochs.
    #[wasm_bindgen(js_name = shuffledOrder)]
    pub fn shuffled_order(&mut self, samples: u32) -> Vec<u32> {
        self.trainer.shuffled_order(samples as usize).into_iter().map(|i| i as u32).collect()
    }

    /// Arrays of optimizer state per parameter (Adam: 2), for saving it.
    #[wasm_bindgen(js_name = optimizerSlots)]
    pub fn optimizer_slots(&self) -> usize {
        self.trainer.optimizer.slots_per_parameter()
    }

    /// Slot `slot` of the optimizer's state for parameter `index` (in name order); empty before
    /// the first update.
    #[wasm_bindgen(js_name = optimizerState)]
    pub fn optimizer_state(&self, index: usize, slot: usize) -> Vec<f32> {
        self.trainer.optimizer.slots.get(index).and_then(|s| s.get(slot)).cloned().unwrap_or_default()
    }

    /// Restores the optimizer after `steps` updates from every slot of every parameter,
    /// concatenated parameter by parameter, slot by slot.
    #[wasm_bindgen(js_name = setOptimizerState)]
    pub fn set_optimizer_state(&mut self, steps: f64, flat: &[f32]) -> Result<(), JsValue> {
        self.check_compiled()?;
        let lengths: Vec<usize> = self.trainer.model.parameters().iter().map(|(_, p)| p.len()).collect();
        restore_optimizer(&mut self.trainer.optimizer, &lengths, steps, flat)
    }

    /// Optimizer updates done since the last compile.
    #[wasm_bindgen(getter, js_name = optimizerSteps)]
    pub fn optimizer_steps(&self) -> f64 {
        self.trainer.optimizer.steps as f64
    }

    /// One row per layer: `{index, kind, sequence, features, parameters}`, as JSON.
    pub fn summary(&self) -> String {
        serde_json::to_string(&self.trainer.model.summary()).unwrap_or_default()
    }

    /// Whether the input is token ids (`predictIds`) rather than values (`predict`).
    #[wasm_bindgen(getter, js_name = takesIds)]
    pub fn takes_ids(&self) -> bool {
        self.trainer.model.takes_ids()
    }

    /// Features per input step (0 for ids).
    #[wasm_bindgen(getter, js_name = inputFeatures)]
    pub fn input_features(&self) -> usize {
        self.trainer.model.input_features()
    }

    #[wasm_bindgen(getter, js_name = outputFeatures)]
    pub fn output_features(&self) -> usize {
        self.trainer.model.output_shape().features
    }

    /// Whether the output has a time axis (the last recurrent layer returns sequences).
    #[wasm_bindgen(getter, js_name = outputSequence)]
    pub fn output_sequence(&self) -> bool {
        self.trainer.model.output_shape().sequence
    }

    #[wasm_bindgen(js_name = parameterNames)]
    pub fn parameter_names(&self) -> Vec<String> {
        self.trainer.model.parameters().into_iter().map(|(name, _)| name).collect()
    }

    pub fn parameter(&self, name: &str) -> Result<Vec<f32>, JsValue> {
        self.trainer.model.parameter(name).map(<[f32]>::to_vec).map_err(to_js)
    }

    /// Each parameter's shape in PyTorch's layout, as JSON `[[rows, cols], …]` in name order.
    #[wasm_bindgen(js_name = parameterShapes)]
    pub fn parameter_shapes(&self) -> String {
        serde_json::to_string(&self.trainer.model.parameter_shapes()).unwrap_or_default()
    }

    /// `length` token ids sampled after `prime` (see `core::model::Sampling`); the model's
    /// stateful states are left as they were.
    #[allow(clippy::too_many_arguments)]
    pub fn generate(&mut self, prime: &[u32], length: usize, temperature: f64, top_k: usize, top_p: f64, logits: bool, seed: u32) -> Result<Vec<u32>, JsValue> {
        starting();
        let sampling = core::model::Sampling { temperature, top_k, top_p, logits, seed: u64::from(seed) };
        self.trainer.model.generate(prime, length, sampling).map_err(to_js)
    }

    #[wasm_bindgen(js_name = setParameter)]
    pub fn set_parameter(&mut self, name: &str, values: &[f32]) -> Result<(), JsValue> {
        self.trainer.model.set_parameter(name, values).map_err(to_js)
    }

    /// Runs `x [batch, steps, input]`; `stateful` starts from the states the previous stateful
    /// call ended in and keeps the new ones (streaming).
    pub fn predict(&mut self, x: &[f32], batch: usize, steps: usize, lengths: Option<Vec<u32>>, stateful: bool) -> Result<Prediction, JsValue> {
        self.run(core::Inputs::Values(x), batch, steps, lengths, stateful)
    }

    /// Like `predict`, for a model that starts with an embedding: `ids [batch, steps]`.
    #[wasm_bindgen(js_name = predictIds)]
    pub fn predict_ids(&mut self, ids: &[u32], batch: usize, steps: usize, lengths: Option<Vec<u32>>, stateful: bool) -> Result<Prediction, JsValue> {
        self.run(core::Inputs::Ids(ids), batch, steps, lengths, stateful)
    }

    /// The next stateful call starts from zeros.
    #[wasm_bindgen(js_name = resetStates)]
    pub fn reset_states(&mut self) {
        self.trainer.model.reset_states();
    }
}

impl ModelHandle {
    fn check_compiled(&self) -> Result<(), JsValue> {
        if self.compiled {
            Ok(())
        } else {
            Err(to_js(core::Error::config("model", "compile it first (loss and optimizer)")))
        }
    }

    fn run(&mut self, x: core::Inputs<'_, f32>, batch: usize, steps: usize, lengths: Option<Vec<u32>>, stateful: bool) -> Result<Prediction, JsValue> {
        starting();
        let lengths = widen(lengths);
        let (out, _) = self.trainer.model.forward(core::Batch { x, batch, steps, lengths: lengths.as_deref() }, None, stateful).map_err(to_js)?;
        Ok(Prediction { y: out.y, steps: out.steps, features: out.features })
    }
}

fn inputs<'a>(x: &'a Option<Vec<f32>>, ids: &'a Option<Vec<u32>>) -> Result<core::Inputs<'a, f32>, JsValue> {
    match (x, ids) {
        (Some(x), None) => Ok(core::Inputs::Values(x)),
        (None, Some(ids)) => Ok(core::Inputs::Ids(ids)),
        _ => Err(to_js(core::Error::config("model input", "give either values or token ids"))),
    }
}

fn targets<'a>(y: &'a Option<Vec<f32>>, classes: &'a Option<Vec<u32>>) -> Result<core::train::Targets<'a, f32>, JsValue> {
    match (y, classes) {
        (Some(y), None) => Ok(core::train::Targets::Values(y)),
        (None, Some(c)) => Ok(core::train::Targets::Classes(c)),
        _ => Err(to_js(core::Error::config("targets", "give either target values or class ids"))),
    }
}

fn step_json(r: &core::train::StepReport) -> serde_json::Value {
    serde_json::json!({ "step": r.step, "loss": r.loss, "gradNorm": r.grad_norm, "learningRate": r.learning_rate })
}

/// Restores an optimizer after `steps` updates from every slot of every parameter,
/// concatenated parameter by parameter, slot by slot.
fn restore_optimizer(optimizer: &mut core::train::Optimizer<f32>, lengths: &[usize], steps: f64, flat: &[f32]) -> Result<(), JsValue> {
    let per = optimizer.slots_per_parameter();
    let total: usize = lengths.iter().map(|n| n * per).sum();
    if flat.len() != total {
        return Err(to_js(core::Error::shape("optimizer state", format!("{total} values"), format!("{} values", flat.len()))));
    }
    let mut at = 0;
    let slots = lengths
        .iter()
        .map(|&n| {
            (0..per)
                .map(|_| {
                    at += n;
                    flat[at - n..at].to_vec()
                })
                .collect()
        })
        .collect();
    optimizer.set_state(steps as u64, slots, lengths).map_err(to_js)
}

/// An encoder-decoder living in wasm memory, with its trainer.
#[wasm_bindgen(js_name = Seq2Seq)]
pub struct Seq2SeqHandle {
    trainer: core::train::Seq2SeqTrainer<f32>,
    compiled: bool,
}

#[wasm_bindgen(js_class = Seq2Seq)]
impl Seq2SeqHandle {
    /// `config` is the JSON of `core::seq2seq::Seq2Seq::from_json`; `seed` fixes the initial weights.
    #[wasm_bindgen(constructor)]
    pub fn new(config: &str, seed: u32) -> Result<Seq2SeqHandle, JsValue> {
        let model = core::seq2seq::Seq2Seq::from_json(config, u64::from(seed)).map_err(to_js)?;
        Ok(Seq2SeqHandle { trainer: core::train::Seq2SeqTrainer::new(model, "{}").map_err(to_js)?, compiled: false })
    }

    /// `{optimizer, schedule, seed, scheduled_sampling}` as JSON; compiling again starts the
    /// optimizer afresh.
    pub fn compile(&mut self, config: &str) -> Result<(), JsValue> {
        let model = self.trainer.model.clone();
        self.trainer = core::train::Seq2SeqTrainer::new(model, config).map_err(to_js)?;
        self.compiled = true;
        Ok(())
    }

    /// One update from a batch of padded sources `[batch, sourceSteps]` and targets
    /// `[batch, targetSteps]` (end token included) with their lengths; `{step, loss, …}` as JSON.
    #[wasm_bindgen(js_name = trainBatch)]
    #[allow(clippy::too_many_arguments)]
    pub fn train_batch(&mut self, batch: usize, source: &[u32], source_steps: usize, source_lengths: Vec<u32>, target: &[u32], target_steps: usize, target_lengths: Vec<u32>) -> Result<String, JsValue> {
        starting();
        self.check_compiled()?;
        let (sl, tl) = (widen(Some(source_lengths)).unwrap_or_default(), widen(Some(target_lengths)).unwrap_or_default());
        let pairs = core::seq2seq::Pairs { batch, source, source_steps, source_lengths: Some(&sl), target, target_steps, target_lengths: Some(&tl) };
        let report = self.trainer.train_batch(pairs).map_err(to_js)?;
        Ok(step_json(&report).to_string())
    }

    /// `{loss, accuracy, exactMatch, bleu}` as JSON, greedy outputs at most `maxLength` long.
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate(&self, batch: usize, source: &[u32], source_steps: usize, source_lengths: Vec<u32>, target: &[u32], target_steps: usize, target_lengths: Vec<u32>, batch_size: usize, max_length: usize) -> Result<String, JsValue> {
        starting();
        let (sl, tl) = (widen(Some(source_lengths)).unwrap_or_default(), widen(Some(target_lengths)).unwrap_or_default());
        let pairs = core::seq2seq::Pairs { batch, source, source_steps, source_lengths: Some(&sl), target, target_steps, target_lengths: Some(&tl) };
        let e = self.trainer.evaluate(pairs, batch_size, max_length).map_err(to_js)?;
        Ok(serde_json::json!({ "loss": e.loss, "accuracy": e.accuracy, "exactMatch": e.exact_match, "bleu": e.bleu }).to_string())
    }

    /// Decodes padded sources `[batch, steps]`: greedy for `beamWidth` 1, else beam search.
    #[allow(clippy::too_many_arguments)]
    pub fn decode(&self, batch: usize, source: &[u32], steps: usize, lengths: Vec<u32>, max_length: usize, beam_width: usize, length_penalty: f64) -> Result<Decoding, JsValue> {
        starting();
        let lengths = widen(Some(lengths)).unwrap_or_default();
        let model = &self.trainer.model;
        let decoded = if beam_width <= 1 {
            model.greedy(source, steps, Some(&lengths), batch, max_length, length_penalty).map_err(to_js)?
        } else {
            if lengths.len() != batch || source.len() != batch * steps {
                return Err(to_js(core::Error::shape("decode", format!("{batch} sources of {steps} ids and {batch} lengths"), format!("{} ids and {} lengths", source.len(), lengths.len()))));
            }
            let beam = core::seq2seq::Beam { width: beam_width, max_length, length_penalty };
            (0..batch).map(|b| model.beam_search(&source[b * steps..b * steps + lengths[b].min(steps)], beam)).collect::<core::Result<Vec<_>>>().map_err(to_js)?
        };
        Ok(Decoding::from(decoded))
    }

    #[wasm_bindgen(js_name = shuffledOrder)]
    pub fn shuffled_order(&mut self, samples: u32) -> Vec<u32> {
        self.trainer.shuffled_order(samples as usize).into_iter().map(|i| i as u32).collect()
    }

    #[wasm_bindgen(js_name = optimizerSlots)]
    pub fn optimizer_slots(&self) -> usize {
        self.trainer.optimizer.slots_per_parameter()
    }

    #[wasm_bindgen(js_name = optimizerState)]
    pub fn optimizer_state(&self, index: usize, slot: usize) -> Vec<f32> {
        self.trainer.optimizer.slots.get(index).and_then(|s| s.get(slot)).cloned().unwrap_or_default()
    }

    #[wasm_bindgen(js_name = setOptimizerState)]
    pub fn set_optimizer_state(&mut self, steps: f64, flat: &[f32]) -> Result<(), JsValue> {
        self.check_compiled()?;
        let lengths: Vec<usize> = self.trainer.model.parameters().iter().map(|(_, p)| p.len()).collect();
        restore_optimizer(&mut self.trainer.optimizer, &lengths, steps, flat)
    }

    #[wasm_bindgen(getter, js_name = optimizerSteps)]
    pub fn optimizer_steps(&self) -> f64 {
        self.trainer.optimizer.steps as f64
    }

    #[wasm_bindgen(js_name = parameterNames)]
    pub fn parameter_names(&self) -> Vec<String> {
        self.trainer.model.parameters().into_iter().map(|(name, _)| name).collect()
    }

    /// Each parameter's shape in PyTorch's layout, as JSON, in name order.
    #[wasm_bindgen(js_name = parameterShapes)]
    pub fn parameter_shapes(&self) -> String {
        let shapes: Vec<Vec<usize>> = self.trainer.model.parameters_with_shapes().into_iter().map(|(_, _, s)| s).collect();
        serde_json::to_string(&shapes).unwrap_or_default()
    }

    pub fn parameter(&self, name: &str) -> Result<Vec<f32>, JsValue> {
        self.trainer.model.parameter(name).map(<[f32]>::to_vec).map_err(to_js)
    }

    #[wasm_bindgen(js_name = setParameter)]
    pub fn set_parameter(&mut self, name: &str, values: &[f32]) -> Result<(), JsValue> {
        self.trainer.model.set_parameter(name, values).map_err(to_js)
    }

    /// Vocabulary sizes and special tokens: `{sourceVocab, targetVocab, start, end, attention}`.
    pub fn describe(&self) -> String {
        let m = &self.trainer.model;
        serde_json::json!({ "sourceVocab": m.source.num, "targetVocab": m.target.num, "start": m.start, "end": m.end, "attention": m.attention.is_some() }).to_string()
    }
}

impl Seq2SeqHandle {
    fn check_compiled(&self) -> Result<(), JsValue> {
        if self.compiled {
            Ok(())
        } else {
            Err(to_js(core::Error::config("seq2seq model", "compile it first (optimizer)")))
        }
    }
}

/// Decoded sequences, flat: row `i`'s tokens are `tokens[offsets[i]..offsets[i+1]]` and its
/// attention `[steps, source length]` is `attention[attentionOffsets[i]..attentionOffsets[i+1]]`.
#[wasm_bindgen]
pub struct Decoding {
    tokens: Vec<u32>,
    offsets: Vec<u32>,
    log_probs: Vec<f64>,
    scores: Vec<f64>,
    finished: Vec<u8>,
    attention: Vec<f32>,
    attention_offsets: Vec<u32>,
}

impl From<Vec<core::seq2seq::Decoded>> for Decoding {
    fn from(all: Vec<core::seq2seq::Decoded>) -> Self {
        let mut d = Decoding { tokens: Vec::new(), offsets: vec![0], log_probs: Vec::new(), scores: Vec::new(), finished: Vec::new(), attention: Vec::new(), attention_offsets: vec![0] };
        for one in all {
            d.tokens.extend(&one.tokens);
            d.offsets.push(d.tokens.len() as u32);
            d.log_probs.push(one.log_prob);
            d.scores.push(one.score);
            d.finished.push(u8::from(one.finished));
            d.attention.extend(one.attention.iter().map(|&v| v as f32));
            d.attention_offsets.push(d.attention.len() as u32);
        }
        d
    }
}

#[wasm_bindgen]
impl Decoding {
    #[wasm_bindgen(getter)]
    pub fn tokens(&self) -> Vec<u32> {
        self.tokens.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn offsets(&self) -> Vec<u32> {
        self.offsets.clone()
    }

    #[wasm_bindgen(getter, js_name = logProbs)]
    pub fn log_probs(&self) -> Vec<f64> {
        self.log_probs.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn scores(&self) -> Vec<f64> {
        self.scores.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn finished(&self) -> Vec<u8> {
        self.finished.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn attention(&self) -> Vec<f32> {
        self.attention.clone()
    }

    #[wasm_bindgen(getter, js_name = attentionOffsets)]
    pub fn attention_offsets(&self) -> Vec<u32> {
        self.attention_offsets.clone()
    }
}

/// What `Model.predict` returns: `y [batch, steps, features]`, or `[batch, features]` when
/// `steps` is undefined.
#[wasm_bindgen]
pub struct Prediction {
    y: Vec<f32>,
    steps: Option<usize>,
    features: usize,
}

#[wasm_bindgen]
impl Prediction {
    #[wasm_bindgen(getter)]
    pub fn y(&self) -> Vec<f32> {
        self.y.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn steps(&self) -> Option<usize> {
        self.steps
    }

    #[wasm_bindgen(getter)]
    pub fn features(&self) -> usize {
        self.features
    }
}

/// A loss and its gradient for `pred [rows, cols]`: `loss` is Keras' name or
/// `{"type": name, …}`; the targets are values shaped like `pred`, or one class id per row.
#[wasm_bindgen(js_name = evaluateLoss)]
pub fn evaluate_loss(loss: &str, pred: &[f32], values: Option<Vec<f32>>, classes: Option<Vec<u32>>, rows: usize, cols: usize, mask: Option<Vec<f32>>) -> Result<LossValue, JsValue> {
    let loss = core::Loss::from_json(loss).map_err(to_js)?;
    let target = match (&values, &classes) {
        (Some(v), None) => core::Target::Values(v),
        (None, Some(c)) => core::Target::Classes(c),
        _ => return Err(to_js(core::Error::config("evaluateLoss", "give either target values or class ids"))),
    };
    let (value, grad) = loss.evaluate(pred, target, rows, cols, mask.as_deref()).map_err(to_js)?;
    Ok(LossValue { value, grad })
}

#[wasm_bindgen]
pub struct LossValue {
    value: f32,
    grad: Vec<f32>,
}

#[wasm_bindgen]
impl LossValue {
    #[wasm_bindgen(getter)]
    pub fn value(&self) -> f32 {
        self.value
    }

    #[wasm_bindgen(getter)]
    pub fn grad(&self) -> Vec<f32> {
        self.grad.clone()
    }
}

fn named(err: core::Error, operand: &str) -> JsValue {
    match err {
        core::Error::Shape { expected, got, .. } => to_js(core::Error::shape(format!("matmul operand {operand}"), expected, got)),
        other => to_js(other),
    }
}

/// A JS `Error` whose `name` is the facade's class (`ShapeError`, …), so the facade can
/// rethrow the typed error without parsing the message.
fn to_js(err: core::Error) -> JsValue {
    let js = js_sys::Error::new(&err.to_string());
    js.set_name(err.kind());
    js.into()
}
