// A static server for the browser suites, on loopback. Paths under /isolated/ are served with
// COOP/COEP (a cross-origin-isolated page, where shared memory works); under /plain/ without.
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const repository = fileURLToPath(new URL('../..', import.meta.url));
const types: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json',
};

/** Serves `root` (the repository by default). */
export async function serve(root = repository): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer(async (request, response) => {
    const [, mode, ...rest] = (request.url ?? '/').split('?')[0].split('/');
    const path = normalize(join(root, ...rest));
    if (!path.startsWith(root) || (mode !== 'isolated' && mode !== 'plain')) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(path);
      const headers: Record<string, string> = { 'Content-Type': types[extname(path)] ?? 'application/octet-stream' };
      if (mode === 'isolated') {
        headers['Cross-Origin-Opener-Policy'] = 'same-origin';
        headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      }
      response.writeHead(200, headers).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no server address');
  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
