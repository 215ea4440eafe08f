// seqwasm for browsers (module Workers).
import { entryPoints } from '../entry.js';
import { browserPlatform } from './platform.js';

export * from '../api.js';

export const { createRuntime, sequential, loadModel, encoderDecoder, loadSeq2Seq, createPool } = entryPoints(browserPlatform);
