// civet serve RUN_DIR: the run's student in a browser page (onnxruntime-web) on 127.0.0.1.
import * as path from 'node:path';
import type { Command } from './commands';
import { exportRun, RunError } from '../export/run';
import { serveStatic } from '../export/web';

export const serveCommand: Command = {
  summary: 'serve a browser page that classifies images with a run\'s student (onnxruntime-web)',
  usage: `civet serve RUN_DIR [--port 8080] [--dir DIR] [--checkpoint best|last]

Exports the run's student to DIR (default RUN_DIR/web: model.onnx, model.json, the page and
onnxruntime-web's WebAssembly files; Fashion-MNIST runs get ten bundled test images) and serves
that folder on http://127.0.0.1:PORT/ until interrupted. The page classifies an image dropped
on it or picked from the test images and shows the top-5 classes and the inference time. The
folder also works from any static file server.`,
  options: { port: { type: 'string', default: '8080' }, dir: { type: 'string' }, checkpoint: { type: 'string', default: 'best' } },
  async run(v, pos) {
    if (pos.length !== 1) { process.stderr.write('civet serve: give one run directory\n'); return 2; }
    const port = Number(v.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) { process.stderr.write(`civet serve: --port must be 0…65535, got '${v.port}'\n`); return 2; }
    if (v.checkpoint !== 'best' && v.checkpoint !== 'last') { process.stderr.write(`civet serve: --checkpoint must be best or last, got '${v.checkpoint}'\n`); return 2; }
    const runDir = path.resolve(pos[0]);
    const dir = path.resolve(v.dir ?? path.join(runDir, 'web'));
    try {
      await exportRun(runDir, path.join(dir, 'model.onnx'), { checkpoint: v.checkpoint, web: dir, check: false });
    } catch (e: any) {
      if (e instanceof RunError) { process.stderr.write(`civet serve: ${e.message}\n`); return e.exitCode; }
      throw e;
    }
    const s = await serveStatic(dir, port);
    process.stdout.write(`serving ${dir}\n  ${s.url}\n(Ctrl-C stops)\n`);
    await new Promise<void>((resolve) => { process.once('SIGINT', resolve); process.once('SIGTERM', resolve); });
    await s.close();
    return 0;
  },
};
