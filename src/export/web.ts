// The browser page: a folder with the exported model, its metadata, onnxruntime-web's
// WebAssembly build, the page (web/index.html, web/app.js beside this file's source) and, for
// Fashion-MNIST runs, a few bundled test images; and a small static server for it on 127.0.0.1
// (module scripts and WebAssembly do not load from file:// URLs).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { OnnxMetadata } from './export';

const PKG = path.resolve(__dirname, '..', '..', '..');
const PAGE = path.join(PKG, 'src', 'export', 'web');
/** The first Fashion-MNIST test image of each class (test/reference/fmnist_samples.js made them). */
export const FMNIST_SAMPLES = path.join(PKG, 'test', 'fixtures', 'fmnist_samples');
// the bundle, plus the WebAssembly module and its loader (fetched from env.wasm.wasmPaths)
const ORT_FILES = ['ort.wasm.bundle.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];

function ortDist(): string {
  // under Node the package's entry point is dist/ort.node.min.js; the browser files sit beside it
  return path.dirname(require.resolve('onnxruntime-web'));
}

/** Writes the page folder: index.html, app.js, model.onnx, model.json, ort/, samples/. */
export function writeWebApp(dir: string, o: { onnx: Uint8Array; metadata: OnnxMetadata; samples?: string | null }): string {
  fs.mkdirSync(path.join(dir, 'ort'), { recursive: true });
  for (const f of ['index.html', 'app.js']) fs.copyFileSync(path.join(PAGE, f), path.join(dir, f));
  for (const f of ORT_FILES) fs.copyFileSync(path.join(ortDist(), f), path.join(dir, 'ort', f));
  fs.writeFileSync(path.join(dir, 'model.onnx'), o.onnx);
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(o.metadata, null, 1) + '\n');
  const samples = o.samples;
  if (samples) {
    fs.mkdirSync(path.join(dir, 'samples'), { recursive: true });
    for (const f of fs.readdirSync(samples)) if (/\.(png|jpe?g|webp|json)$/i.test(f)) fs.copyFileSync(path.join(samples, f), path.join(dir, 'samples', f));
  }
  return dir;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json',
  '.wasm': 'application/wasm', '.onnx': 'application/octet-stream', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp',
};

export interface StaticServer { url: string; port: number; close(): Promise<void> }

/** Serves the files under `dir` (GET/HEAD only, nothing outside it) on 127.0.0.1. Port 0 picks a free one. */
export function serveStatic(dir: string, port = 0): Promise<StaticServer> {
  const root = path.resolve(dir);
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405).end(); return; }
    let rel: string;
    try { rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname); } catch { res.writeHead(400).end(); return; }
    const file = path.resolve(root, `.${rel.endsWith('/') ? `${rel}index.html` : rel}`);
    if (file !== root && !file.startsWith(root + path.sep)) { res.writeHead(403).end(); return; }
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'); return; }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream', 'content-length': st.size, 'cache-control': 'no-store' });
      if (req.method === 'HEAD') { res.end(); return; }
      fs.createReadStream(file).pipe(res);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const p = (server.address() as AddressInfo).port;
      resolve({ url: `http://127.0.0.1:${p}/`, port: p, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
