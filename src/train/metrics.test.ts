import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EvalAccumulator, MetricsLog, crossEntropy, expectedCalibrationError, readMetrics, topKAccuracy } from './metrics';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

// 4 samples, 3 classes.
const logits = Float32Array.from([
  2, 1, 0, // label 0: rank 0
  0, 0, 0, // label 1: tie, argmax picks class 0 first -> rank 1
  1, 3, 2, // label 0: rank 2
  0, 5, 0, // label 1: rank 0
]);
const labels = [0, 1, 0, 1];

test('top-k accuracy with torch-style tie-breaking', () => {
  assert.equal(topKAccuracy(logits, labels, 3, 1), 0.5);
  assert.equal(topKAccuracy(logits, labels, 3, 2), 0.75);
  assert.equal(topKAccuracy(logits, labels, 3, 3), 1);
  assert.equal(topKAccuracy(logits, labels, 3, 5), 1); // k > C
  assert.equal(topKAccuracy(Float32Array.from([NaN, 0]), [0], 2, 1), 0, 'NaN logits count as wrong');
});

test('mean cross-entropy', () => {
  const e = Math.E;
  const nll = [
    Math.log(e ** 2 + e + 1) - 2,
    Math.log(3),
    Math.log(e + e ** 3 + e ** 2) - 1,
    Math.log(2 + e ** 5) - 5,
  ];
  close(crossEntropy(logits, labels, 3), (nll[0] + nll[1] + nll[2] + nll[3]) / 4);
  // Huge logits must not overflow.
  close(crossEntropy(Float32Array.from([1000, 0]), [1], 2), 1000, 1e-3);
});

test('expected calibration error, 15 bins', () => {
  const L = (p: number) => [Math.log(p), Math.log(1 - p)];
  const x = Float32Array.from([...L(0.9), ...L(0.9), ...L(0.62), ...L(0.3)]);
  const y = [0, 1, 0, 1];
  // Bin 13 (0.8667, 0.9333]: 2 samples, acc 0.5, conf 0.9 -> 2/4 * 0.4 = 0.2
  // Bin 9 (0.6, 0.6667]: acc 1, conf 0.62 -> 1/4 * 0.38 = 0.095
  // Bin 10 (0.6667, 0.7333]: conf 0.7 (class 1 predicted), correct -> 1/4 * 0.3 = 0.075
  close(expectedCalibrationError(x, y, 2), 0.37);
  // Perfectly calibrated: confidence 0.7, 7 of 10 right.
  const xs = Float32Array.from(Array.from({ length: 10 }, () => L(0.7)).flat());
  close(expectedCalibrationError(xs, [0, 0, 0, 0, 0, 0, 0, 1, 1, 1], 2), 0);
  // Confidence exactly 1 falls in the last bin, not past it.
  close(expectedCalibrationError(Float32Array.from([100, -100]), [0], 2), 0);
});

test('accumulator over batches equals one shot', () => {
  const acc = new EvalAccumulator(3, [1, 2]);
  acc.add(logits.subarray(0, 6), labels.slice(0, 2));
  acc.add(logits.subarray(6), labels.slice(2));
  const r = acc.result();
  assert.equal(r.n, 4);
  assert.deepEqual(r.topk, { 1: 0.5, 2: 0.75 });
  close(r.loss, crossEntropy(logits, labels, 3));
  close(r.ece, expectedCalibrationError(logits, labels, 3));
  assert.throws(() => acc.add(logits, [0, 1, 3, 0]), /label 3 at row 2 out of range/);
  assert.throws(() => acc.add(logits, [0]), /logits length 12 != 1 x 3/);
});

test('MetricsLog appends JSON lines; reader tolerates a truncated last line', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-metrics-'));
  const log = new MetricsLog(dir);
  assert.equal(log.file, path.join(dir, 'metrics.jsonl'));
  log.append({ kind: 'train', step: 10, epoch: 0, loss: 2.1, terms: { ce: 1.2, kd: 0.9 }, lr: 0.001, imgPerSec: 512 });
  log.append({ kind: 'train', step: 20, epoch: 0, loss: NaN });
  // Written before close: another process sees it immediately.
  assert.equal(readMetrics(log.file).records.length, 2);
  log.append({ kind: 'eval', epoch: 0, step: 100, top1: 0.81, top5: 0.99, loss: 0.5, ece: 0.03 });
  log.close();

  const full = readMetrics(log.file);
  assert.equal(full.truncated, false);
  assert.deepEqual(full.records[0], { kind: 'train', step: 10, epoch: 0, loss: 2.1, terms: { ce: 1.2, kd: 0.9 }, lr: 0.001, imgPerSec: 512 });
  assert.ok(Number.isNaN(full.records[1].loss), 'NaN survives the round trip');
  assert.equal(full.records[2].kind, 'eval');

  // Simulate a run killed mid-write.
  fs.appendFileSync(log.file, '{"kind":"train","step":30,"ep');
  const cut = readMetrics(log.file);
  assert.equal(cut.truncated, true);
  assert.equal(cut.records.length, 3);

  // Resuming cuts the torn line so new records do not glue onto it.
  const log2 = new MetricsLog(log.file);
  log2.append({ kind: 'train', step: 30, epoch: 0, loss: 1.9 });
  log2.close();
  const resumed = readMetrics(log.file);
  assert.equal(resumed.truncated, false);
  assert.deepEqual(resumed.records.map((r) => r.step), [10, 20, 100, 30]);

  // A bad line in the middle is corruption, not truncation.
  fs.writeFileSync(log.file, '{"kind":"train"}\nnot json\n{"kind":"eval"}\n');
  assert.throws(() => readMetrics(log.file), /:2: not a JSON object/);
});
