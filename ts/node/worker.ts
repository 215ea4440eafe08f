// Entry of the Node worker that hosts a runtime.
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { parentPort } from 'node:worker_threads';
import { serveHost } from '../host.js';
import { nodePlatform } from './platform.js';

if (parentPort) serveHost(nodePlatform, nodeEndpoint(parentPort));
