// seqwasm for Node (worker_threads).
import { entryPoints } from '../entry.js';
import { nodePlatform } from './platform.js';

export * from '../api.js';

export const { createRuntime, sequential, loadModel, encoderDecoder, loadSeq2Seq, createPool } = entryPoints(nodePlatform);
