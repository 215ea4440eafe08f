// Comlink ships its Node adapter as .mjs with a .d.ts beside it, which TypeScript does not pair.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  export default function nodeEndpoint(port: unknown): Endpoint;
}
