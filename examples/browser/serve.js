// A static server for the browser demo and the browser suites, on loopback. Paths under
// /isolated/ are served with COOP/COEP (a cross-origin-isolated page, where shared memory and so
// the threads build work); under /plain/ without.
//
//   node examples/browser/serve.js      then open the printed address
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const repository = fileURLToPath(new URL('../..', import.meta.url));
const types = {
  '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css', '.csv': 'text/csv',
};

/** Serves `root` (the repository by default) on `port` (any free one by default). */
export async function serve(root = repository, port = 0) {
  const server = createServer(async (request, response) => {
    const [, mode, ...rest] = (request.url ?? '/').split('?')[0].split('/');
    const path = normalize(join(root, ...rest));
    if (!path.startsWith(root) || (mode !== 'isolated' && mode !== 'plain')) {
      response.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(path);
      const headers = { 'Content-Type': types[extname(path)] ?? 'application/octet-stream' };
      if (mode === 'isolated') {
        headers['Cross-Origin-Opener-Policy'] = 'same-origin';
        headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
      }
      response.writeHead(200, headers).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { origin } = await serve(repository, Number(process.env.PORT ?? 8080));
  console.log(`the demo, cross-origin isolated (threads): ${origin}/isolated/examples/browser/index.html`);
  console.log(`the same page without isolation (simd, one thread): ${origin}/plain/examples/browser/index.html`);
}
