// Methods whose batches or memories depend on the dataset work under `civet train`: CS-KD gets
// class-paired batches from the loader, CRD's memory bank is sized from the training set and
// draws its negatives from other classes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { train } from './trainer';
import '../distill';

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-methods-'));
const cfg = (name: string, extra: Record<string, any> = {}) => ({
  run: { name, seed: 1, threads: 1 },
  student: { model: 'tiny_cnn', options: { width: 4 } },
  data: { dataset: 'fashion-mnist', subsetPerClass: 8, testSubsetPerClass: 4, imgSize: 28, channels: 1 },
  optimizer: { name: 'sgd', lr: 0.05 },
  epochs: 2, batchSize: 16, eval: { batchSize: 40 }, log: { everySteps: 1 },
  ...extra,
});
const terms = (runDir: string) => fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8').trim().split('\n')
  .map((l) => JSON.parse(l)).filter((r) => r.kind === 'train').map((r) => r.terms);

test('cs_kd under the trainer: paired batches, both terms logged and finite', async () => {
  const s = await train(cfg('cskd', { method: { name: 'cs_kd' } }), { out, quiet: true, log: () => {} });
  const t = terms(s.runDir);
  assert.equal(t.length, 10);   // 80 images / 16 per batch × 2 epochs: pairs do not count as steps
  for (const r of t) assert.ok(Number.isFinite(r.ce) && Number.isFinite(r.cls) && r.cls >= 0, JSON.stringify(r));
  assert.equal(s.steps, 10);
});

test('crd with a memory bank under the trainer: numData from the training set', async () => {
  const teacher = await train(cfg('teacher'), { out, quiet: true, log: () => {} });
  const s = await train(cfg('crd', { teachers: [{ run: teacher.runDir }], method: { name: 'crd', options: { nceK: 16 } } }), { out, quiet: true, log: () => {} });
  const t = terms(s.runDir);
  assert.ok(t.length > 0 && t.every((r) => Number.isFinite(r.crd) && r.crd > 0), JSON.stringify(t[0]));
  // (without the trainer's labels, memory 'bank' refuses to start: "needs numData")
  assert.equal(s.steps, 10);
});
