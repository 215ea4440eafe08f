//! The thread pool of the `threads` build: rayon's global pool, whose threads are workers the
//! facade spawns (Node `worker_threads` or Web Workers) on the same shared memory.
//!
//! The thread that runs the model calls is the pool's first thread, and the facade starts n − 1
//! workers; each instantiates this module on the shared memory and calls `poolWorkerRun()`,
//! which waits for one rayon thread on a queue and runs it for the life of the pool. Then the
//! calling thread calls `poolStart(n, spin_ms)`, which fills the queue. Rayon decides nothing about
//! placement: the facade chooses n and owns the workers.
//!
//! Why the calling thread joins the pool: outside it, every parallel product was injected into
//! the pool and the caller slept until it was done, three wake-ups across threads for each of the
//! hundreds of products a training step makes (one per time step, forward and backward); two
//! threads were then slower than one. Inside it, a product's first half runs at once on the
//! caller and only the other half waits for a worker to wake.
//!
//! Why the other threads spin after each call: a sleeping worker takes tens of µs to wake, as
//! long as a whole streaming step's product. So each call keeps them looking for work for the
//! time the facade chose (`poolStart`'s `spin_ms`), as ONNX Runtime's and OpenMP's threads do,
//! and only then lets them sleep: a worker then takes half of a product within a µs.
//!
//! The queue is a Mutex and a Condvar, not an mpsc channel: the channel parks threads through
//! `std::thread`, whose wake-ups did not reach threads that std did not spawn (seen with
//! rustc 1.96), while a Condvar waits on the futex directly.

use rayon::ThreadBuilder;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use wasm_bindgen::prelude::*;

static QUEUE: Mutex<Vec<ThreadBuilder>> = Mutex::new(Vec::new());
static QUEUED: Condvar = Condvar::new();

/// How long the workers look for work after a call starts and after the last work they found,
/// in ms; 0 until the pool runs (and with one thread).
static SPIN_MS: AtomicU64 = AtomicU64::new(0);
/// `Date.now()` until which they look.
static WARM_UNTIL: AtomicU64 = AtomicU64::new(0);
/// Workers spinning now.
static SPINNING: AtomicUsize = AtomicUsize::new(0);
/// The rayon index of the thread that runs the calls (it never spins).
static CALLER: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Builds rayon's global pool with `threads` threads: the calling thread and `threads − 1`
/// workers waiting in `poolWorkerRun`. They look for work until `spin_ms` after a call's start
/// and after the last work they found, then sleep (0: they sleep at once).
#[wasm_bindgen(js_name = poolStart)]
pub fn pool_start(threads: usize, spin_ms: u32) -> Result<(), JsValue> {
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
            JsValue::from(js)
        })?;
    CALLER.store(rayon::current_thread_index().unwrap_or(usize::MAX), Ordering::Relaxed);
    if threads > 1 {
        SPIN_MS.store(u64::from(spin_ms), Ordering::Relaxed);
    }
    Ok(())
}

/// Called as a call that may run parallel work starts: the workers look for work until
/// `spin_ms` from now, and those asleep are woken to do so.
pub(crate) fn keep_warm() {
    let spin = SPIN_MS.load(Ordering::Relaxed);
    if spin == 0 {
        return;
    }
    WARM_UNTIL.store(now() + spin, Ordering::Relaxed);
    let workers = rayon::current_num_threads() - 1;
    if SPINNING.compare_exchange(0, workers, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
        rayon::spawn_broadcast(|context| {
            if context.index() != CALLER.load(Ordering::Relaxed) {
                look_for_work();
            }
        });
    }
}

/// Runs whatever work the pool has until it has found none for `spin_ms`, and the last call's
/// `WARM_UNTIL` has passed. A call that starts just as the spinners stop may still count them and
/// wake none: it then runs as if there were no spinning, and the next call wakes them.
/// The clock is `Date.now()`, which every host has; it can be set back, so a time ahead of
/// now by more than `spin_ms` counts as passed, or a spinner could spin until the clock caught up.
fn look_for_work() {
    let spin = SPIN_MS.load(Ordering::Relaxed);
    let mut idle = 0u32;
    let mut worked = now();
    loop {
        match rayon::yield_now() {
            Some(rayon::Yield::Executed) => {
                idle = 0;
                worked = now();
            }
            _ => {
                idle = idle.wrapping_add(1);
                // Reading the clock crosses to JS: only every so often.
                if idle % 64 == 0 {
                    let t = now();
                    let passed = |until: u64| t >= until || until > t + spin;
                    if passed(worked + spin) && passed(WARM_UNTIL.load(Ordering::Relaxed)) {
                        break;
                    }
                }
                std::hint::spin_loop();
            }
        }
    }
    SPINNING.fetch_sub(1, Ordering::AcqRel);
}

fn now() -> u64 {
    js_sys::Date::now() as u64
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
