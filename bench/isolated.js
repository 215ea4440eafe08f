// A system in a worker of its own, that is a JS realm of its own: for peers whose settings are
// global to a realm (ONNX Runtime Web's thread count, TF.js's backend). The worker times the
// repetitions itself, so no message between threads is inside a timing.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

/**
 * `factory(...args)` exported by `module` (a URL), run in its own worker; `kinds` lists the
 * workloads it takes part in, and `why` says why it leaves out the others.
 */
export function isolated({ name, module, factory, args, kinds, why }) {
  let worker;
  const call = (message) => {
    worker ??= new Worker(new URL(import.meta.url), { workerData: { module: String(module), factory, args } });
    return new Promise((resolve, reject) => {
      const done = (m) => {
        worker.off('error', fail);
        if (m.error) reject(new Error(m.error));
        else resolve(m.value);
      };
      const fail = (error) => {
        worker.off('message', done);
        reject(error);
      };
      worker.once('message', done);
      worker.once('error', fail);
      worker.postMessage(message);
    });
  };
  return {
    name,
    describe: () => call({ op: 'describe' }),
    async build(w) {
      if (kinds && !kinds.includes(w.kind)) throw new Error(why);
      await call({ op: 'build', w });
      return { rep: (units) => call({ op: 'rep', units }), dispose: () => call({ op: 'dispose' }) };
    },
    close: async () => {
      await worker?.terminate();
    },
  };
}

if (!isMainThread && workerData?.factory) {
  const system = (await import(workerData.module))[workerData.factory](...workerData.args);
  let handle;
  parentPort.on('message', async ({ op, w, units }) => {
    try {
      let value;
      if (op === 'describe') value = await system.describe?.();
      if (op === 'build') handle = await system.build(w);
      if (op === 'rep') {
        const start = performance.now();
        for (let u = 0; u < units; u++) await handle.step();
        value = performance.now() - start;
      }
      if (op === 'dispose') await handle?.dispose();
      parentPort.postMessage({ value });
    } catch (error) {
      parentPort.postMessage({ error: String(error?.message ?? error) });
    }
  });
}
