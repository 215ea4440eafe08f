// Entry of the module Worker that hosts a runtime.
import type { Endpoint } from 'comlink';
import { serveHost } from '../host.js';
import { browserPlatform } from './platform.js';

serveHost(browserPlatform, globalThis as unknown as Endpoint);
