// seqwasm for Node (worker_threads).
import { entryPoints } from '../entry.js';
import { nodePlatform } from './platform.js';

export * from '../api.js';

export const { createRuntime, sequential, loadModel, createPool } = entryPoints(nodePlatform);
