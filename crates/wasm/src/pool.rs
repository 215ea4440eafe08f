//! The thread pool of the `threads` build: rayon's global pool, whose threads are workers the
//! facade spawns (Node `worker_threads` or Web Workers) on the same shared memory.
//!
//! The thread that runs the model calls is the pool's first thread, and the facade starts n − 1
//! workers; each instantiates this module on the shared memory and calls `poolWorkerRun()`,
//! which waits for one rayon thread on a queue and runs it for the life of the pool. Then the
//! calling thread calls `poolStart(n)`, which fills the queue. Rayon decides nothing about
//! placement: the facade chooses n and owns the workers.
//!
//! Why the calling thread joins the pool: outside it, every parallel product was injected into
//! the pool and the caller slept until it was done, three wake-ups across threads for each of the
//! hundreds of products a training step makes (one per time step, forward and backward); two
//! threads were then slower than one. Inside it, a product's first half runs at once on the
//! caller and only the other half waits for a worker to wake.
//!
//! The queue is a Mutex and a Condvar, not an mpsc channel: the channel parks threads through
//! `std::thread`, whose wake-ups did not reach threads that std did not spawn (seen with
//! rustc 1.96), while a Condvar waits on the futex directly.

use rayon::ThreadBuilder;
use std::sync::{Condvar, Mutex};
use wasm_bindgen::prelude::*;

static QUEUE: Mutex<Vec<ThreadBuilder>> = Mutex::new(Vec::new());
static QUEUED: Condvar = Condvar::new();

/// Builds rayon's global pool with `threads` threads: the calling thread and `threads − 1`
/// workers waiting in `poolWorkerRun`.
#[wasm_bindgen(js_name = poolStart)]
pub fn pool_start(threads: usize) -> Result<(), JsValue> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .use_current_thread()
        .spawn_handler(|thread| {
            QUEUE.lock().map_err(|e| std::io::Error::other(e.to_string()))?.push(thread);
            QUEUED.notify_one();
            Ok(())
        })
        .build_global()
        .map_err(|e| {
            let js = js_sys::Error::new(&format!("thread pool: {e}"));
            js.set_name("ConfigError");
            js.into()
        })
}

/// Runs one pool thread on the calling worker; returns only when the pool shuts down.
#[wasm_bindgen(js_name = poolWorkerRun)]
pub fn pool_worker_run() {
    let Ok(mut queue) = QUEUE.lock() else { return };
    let thread = loop {
        if let Some(thread) = queue.pop() {
            break thread;
        }
        queue = match QUEUED.wait(queue) {
            Ok(queue) => queue,
            Err(_) => return,
        };
    };
    drop(queue);
    thread.run();
}
