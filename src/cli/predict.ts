// civet predict RUN_DIR|MODEL.onnx IMAGE...: top-5 classes with probabilities per image file.
import * as path from 'node:path';
import type { Command } from './commands';
import { predictFiles, InputFileError } from '../export/predict';
import { OnnxFileError } from '../export/proto';
import { RunError } from '../export/run';

export const predictCommand: Command = {
  summary: 'classify image files with a run\'s student or an exported .onnx model',
  usage: `civet predict RUN_DIR|MODEL.onnx IMAGE... [--top 5] [--json] [--checkpoint best|last]

Prints the top classes with their probabilities for each image (JPEG, PNG or WebP). Images go
through the run's eval transform: decoded at the dataset's image size and channel count,
normalised, resized to the model's input. A run directory is evaluated by civet itself (its best
checkpoint, the method's read-out); an .onnx file written by civet export by onnxruntime-node.
--json prints one JSON object: {source, predictions: [{file, top: [{index, label, probability}]}]}.
Exit status 2 for a file that is not an image, not ONNX or cut short.`,
  options: { top: { type: 'string', default: '5' }, json: { type: 'boolean', default: false }, checkpoint: { type: 'string', default: 'best' } },
  async run(v, pos) {
    if (pos.length < 2) { process.stderr.write('civet predict: give a run directory or an .onnx file, then one or more images\n'); return 2; }
    const top = Number(v.top);
    if (!Number.isInteger(top) || top < 1) { process.stderr.write(`civet predict: --top must be a positive integer, got '${v.top}'\n`); return 2; }
    if (v.checkpoint !== 'best' && v.checkpoint !== 'last') { process.stderr.write(`civet predict: --checkpoint must be best or last, got '${v.checkpoint}'\n`); return 2; }
    const [target, ...images] = pos;
    try {
      const r = await predictFiles(path.resolve(target), images.map((f) => path.resolve(f)), { top, checkpoint: v.checkpoint });
      if (v.json) {
        process.stdout.write(`${JSON.stringify({ source: r.source, predictions: r.predictions.map((p, i) => ({ ...p, file: images[i] })) })}\n`);
        return 0;
      }
      process.stdout.write(`${r.source}\n`);
      r.predictions.forEach((p, i) => {
        process.stdout.write(`${images[i]}\n`);
        for (const t of p.top) process.stdout.write(`  ${(100 * t.probability).toFixed(2).padStart(6)}%  ${t.label}\n`);
      });
      return 0;
    } catch (e: any) {
      if (e instanceof InputFileError || e instanceof OnnxFileError) { process.stderr.write(`civet predict: ${e.message}\n`); return 2; }
      if (e instanceof RunError) { process.stderr.write(`civet predict: ${e.message}\n`); return e.exitCode; }
      throw e;
    }
  },
};
