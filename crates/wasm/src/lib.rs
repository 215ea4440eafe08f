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
