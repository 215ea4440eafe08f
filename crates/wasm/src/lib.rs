//! The wasm boundary of seqwasm: one file a reader can take in at once.
//!
//! Every export does one crossing per call: slices in (one copy into linear memory),
//! a `Vec` out (one copy out), and core errors turned into JS errors whose `name` is the
//! facade's error class. No math and no policy live here.

use seqwasm_core as core;
use wasm_bindgen::prelude::*;

#[cfg(feature = "threads")]
mod pool;

/// Which build this is: `"simd"` or `"threads"`.
#[wasm_bindgen]
pub fn flavour() -> String {
    if cfg!(feature = "threads") { "threads" } else { "simd" }.to_string()
}

/// `C = A·B` for row-major `A [m, k]` and `B [k, n]`; returns `C [m, n]`.
#[wasm_bindgen]
pub fn matmul(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Result<Vec<f32>, JsValue> {
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
        let lengths = widen(lengths);
        let seq = core::recurrent::Sequences { x, steps, batch, lengths: lengths.as_deref(), h0: h0.as_deref(), c0: c0.as_deref() };
        let (out, _) = self.stack.forward(seq, None).map_err(to_js)?;
        self.output(out, batch)
    }

    /// Like `forward`, starting from the states the previous stateful call ended in.
    #[wasm_bindgen(js_name = forwardStateful)]
    pub fn forward_stateful(&mut self, x: &[f32], steps: usize, batch: usize, lengths: Option<Vec<u32>>) -> Result<StackOutput, JsValue> {
        let lengths = widen(lengths);
        let seq = core::recurrent::Sequences { x, steps, batch, lengths: lengths.as_deref(), h0: None, c0: None };
        let (out, _) = self.stack.forward_stateful(seq, None).map_err(to_js)?;
        self.output(out, batch)
    }

    /// A training forward: draws the dropout masks from `seed` and keeps what `backward` needs.
    #[wasm_bindgen(js_name = forwardTrain)]
    pub fn forward_train(&mut self, x: &[f32], steps: usize, batch: usize, lengths: Option<Vec<u32>>, h0: Option<Vec<f32>>, c0: Option<Vec<f32>>, seed: u32) -> Result<StackOutput, JsValue> {
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
