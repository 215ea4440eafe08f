// A thread of the wasm thread pool: joins the engine's shared memory and runs one rayon
// thread until the pool ends. It answers one message, then blocks inside wasm for good.
import { importGlue } from './glue.js';
import type { PoolThreadInit } from './platform.js';

export type PoolThreadReply = { ok: true } | { ok: false; error: string };

export async function runPoolThread(init: PoolThreadInit, reply: (message: PoolThreadReply) => void): Promise<void> {
  let glue;
  try {
    glue = await importGlue(init.flavour as 'threads' | 'relaxedThreads');
    glue.initSync({ module: init.module, memory: init.memory });
  } catch (error) {
    reply({ ok: false, error: error instanceof Error ? error.message : String(error) });
    return;
  }
  reply({ ok: true });
  glue.poolWorkerRun();
}
