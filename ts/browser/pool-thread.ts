// Entry of a browser pool thread.
import type { PoolThreadInit } from '../platform.js';
import { runPoolThread } from '../pool-thread.js';

const scope = globalThis as unknown as {
  addEventListener(type: 'message', listener: (event: MessageEvent<PoolThreadInit>) => void, options: { once: boolean }): void;
  postMessage(message: unknown): void;
};
scope.addEventListener('message', (event) => void runPoolThread(event.data, (reply) => scope.postMessage(reply)), { once: true });
