// Waits for the process to go quiet before a system's repetition. A thread pool may keep its
// threads spinning after a call returns: ONNX Runtime's (ORT Web's and onnxruntime-node's, with
// two threads) kept a core busy for 30–40 ms after each call, seqwasm's for 2 ms. Without the
// wait, that spin ran beside whichever system came next and took a core from it.

const WINDOW_MS = 5;
const LONGEST_MS = 250;
// Below this share of one core over a window, the process counts as quiet (timers and the
// garbage collector's background threads keep it above zero).
const QUIET = 0.1;

/** Resolves once the process used under a tenth of a core over 5 ms, or after 250 ms. */
export async function settle() {
  const start = performance.now();
  while (performance.now() - start < LONGEST_MS) {
    const [cpu, t] = [process.cpuUsage(), performance.now()];
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    const used = process.cpuUsage(cpu);
    if ((used.user + used.system) / 1000 < QUIET * (performance.now() - t)) return;
  }
}
