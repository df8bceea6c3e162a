// Test support (not a test file) for the data-parallel tests (train/ddp.test.ts, cli/launch.test.ts):
// a tiny config without batch norm, and the losses and weights a run left.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readSafetensorsFile } from '../interop/safetensors';

/** A one-block ViT on 80 Fashion-MNIST images: LayerNorm normalises per sample, so a batch split
 *  over ranks sees exactly what the whole batch does (batch norm is per rank by design). */
export function ddpTestConfig(name: string, extra: Record<string, any> = {}): any {
  return {
    run: { name, seed: 3, deterministic: true },
    student: { model: 'vit_tiny', options: { embedDim: 16, depth: 1, numHeads: 2, patchSize: 7 } },
    data: { dataset: 'fashion-mnist', subsetPerClass: 8, testSubsetPerClass: 5, imgSize: 28, channels: 1 },
    optimizer: { name: 'sgd', lr: 0.2, momentum: 0.9, weightDecay: 5e-4 },
    epochs: 2, batchSize: 8, accumulate: 2, checkpoint: { everySteps: 2 }, eval: { batchSize: 50 }, log: { everySteps: 1 },
    ...extra,
  };
}

export function lossesOf(runDir: string): number[] {
  return fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.kind === 'train').map((r) => r.loss);
}

export function weightsOf(runDir: string): Map<string, Float32Array> {
  const f = readSafetensorsFile(path.join(runDir, 'checkpoints', 'last', 'model.safetensors'));
  return new Map([...f.tensors].map(([k, t]) => [k, new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength))]));
}

export function maxWeightDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  let m = 0;
  for (const [k, x] of a) { const y = b.get(k)!; for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i])); }
  return m;
}
