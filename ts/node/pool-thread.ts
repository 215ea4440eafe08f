// Entry of a Node pool thread.
import { parentPort } from 'node:worker_threads';
import type { PoolThreadInit } from '../platform.js';
import { runPoolThread } from '../pool-thread.js';

parentPort?.once('message', (init: PoolThreadInit) => {
  void runPoolThread(init, (reply) => parentPort?.postMessage(reply));
});
