// civet export RUN_DIR --onnx OUT.onnx: the run's student as an ONNX file, checked against
// onnxruntime-node before the command reports success.
import * as path from 'node:path';
import type { Command } from './commands';
import { exportRun, exportRunWeights, RunError } from '../export/run';
import { ExportError } from '../export/export';

export const exportCommand: Command = {
  summary: 'write a run\'s student as ONNX (checked against onnxruntime)',
  usage: `civet export RUN_DIR --onnx OUT.onnx [--web DIR] [--checkpoint best|last] [--no-check]
       civet export RUN_DIR --safetensors OUT.safetensors [--checkpoint best|last]

Exports the student of a finished run (best checkpoint unless --checkpoint last) as an ONNX
model (opset 17, dynamic batch, input 'input' [batch, C, H, W] of normalised pixels, output
'logits'), with the class names and normalisation in its metadata. The method's inference
read-out is kept (DeiT's averaged heads, CivT's three heads). Then onnxruntime-node runs the
file on 32 random inputs and the largest |difference| from civet's logits is printed; a
difference above 1e-4 fails the command (exit 1). --no-check skips that comparison.
--web DIR also writes the browser page folder (see civet serve) with this model.
--safetensors OUT writes the student's weights (its own state-dict names) with civet's input
convention in the metadata, e.g. to use the run's student as a teacher: { model, weights: OUT }.`,
  options: { onnx: { type: 'string' }, safetensors: { type: 'string' }, web: { type: 'string' }, checkpoint: { type: 'string', default: 'best' }, 'no-check': { type: 'boolean', default: false } },
  async run(v, pos) {
    if (pos.length !== 1) { process.stderr.write('civet export: give one run directory\n'); return 2; }
    if (!v.onnx && !v.safetensors) { process.stderr.write('civet export: give the output file with --onnx OUT.onnx or --safetensors OUT.safetensors\n'); return 2; }
    if (v.onnx && v.safetensors) { process.stderr.write('civet export: give one of --onnx and --safetensors\n'); return 2; }
    if (v.checkpoint !== 'best' && v.checkpoint !== 'last') { process.stderr.write(`civet export: --checkpoint must be best or last, got '${v.checkpoint}'\n`); return 2; }
    if (v.safetensors) {
      const out = path.resolve(v.safetensors);
      try {
        const s = exportRunWeights(path.resolve(pos[0]), out, { checkpoint: v.checkpoint });
        process.stdout.write(`${out}: ${s.config.student.model} weights (${s.tensors} tensors) from ${s.config.run.name} (${s.checkpoint} checkpoint, step ${s.step})\n`);
        return 0;
      } catch (e: any) {
        if (e instanceof RunError) { process.stderr.write(`civet export: ${e.message}\n`); return e.exitCode; }
        throw e;
      }
    }
    const out = path.resolve(v.onnx);
    try {
      const r = await exportRun(path.resolve(pos[0]), out, { checkpoint: v.checkpoint, check: !v['no-check'], web: v.web ? path.resolve(v.web) : undefined });
      const s = r.student;
      process.stdout.write(`${out}: ${s.config.student.model} from ${s.config.run.name} (${s.checkpoint} checkpoint, step ${s.step})${s.metadata.readout ? `, read-out ${s.metadata.readout}` : ''}\n`);
      process.stdout.write(`  ${(r.bytes.length / 1e6).toFixed(2)} MB, ${r.nodes} nodes, ${r.foldedBatchNorms} BatchNorms folded, input [batch, ${s.input.join(', ')}], ${s.metadata.classNames.length} classes\n`);
      if (v.web) process.stdout.write(`  browser page: ${path.resolve(v.web)} (serve it, e.g. civet serve ${pos[0]})\n`);
      if (r.parity) {
        process.stdout.write(`  onnxruntime-node vs civet on ${r.parity.n} random inputs: max |Δ logits| ${r.parity.maxAbsDiff.toExponential(2)} (logits up to ${r.parity.maxAbsLogit.toFixed(2)}), same top-1 on ${(100 * r.parity.top1Agree).toFixed(0)}%\n`);
        if (!(r.parity.maxAbsDiff <= 1e-4)) { process.stderr.write('civet export: the exported model disagrees with civet by more than 1e-4\n'); return 1; }
      }
      return 0;
    } catch (e: any) {
      if (e instanceof RunError) { process.stderr.write(`civet export: ${e.message}\n`); return e.exitCode; }
      if (e instanceof ExportError) { process.stderr.write(`civet export: ${e.message}\n`); return 1; }
      throw e;
    }
  },
};
