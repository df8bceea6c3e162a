// The deit-step benchmark: the same networks as torch_bench.py's deit-step (parameter counts
// worked out here from the reference's layer shapes, independently of civet's models), a step
// that trains and leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors } from '../src/tensor';
import { deitStep } from './workloads_deit';

// torch_bench.py's DeiT at 100 classes: Conv2d(3,192,16,16) + 2 tokens + pos (196+2)·192 +
// 12 × nn.TransformerEncoderLayer(192, 3, 768) + LayerNorm + two Linear(192,100) heads.
const D = 192, K = 100;
const layer = (3 * D * D + 3 * D) + (D * D + D) + (D * 4 * D + 4 * D) + (4 * D * D + D) + 2 * 2 * D;
const REFERENCE_DEIT = (3 * D * 16 * 16 + D) + 2 * D + 198 * D + 12 * layer + 2 * D + 2 * (D * K + K);
// torchvision resnet50 has 25,557,032 parameters at 1000 classes; its fc is Linear(2048, K)
const REFERENCE_RESNET50 = 25_557_032 - (2048 * 1000 + 1000) + (2048 * K + K);

test('deitStep: the reference networks, a hard-distillation step that learns and does not leak', () => {
  assert.equal(REFERENCE_DEIT, 5_563_400);
  const before = liveTensors();
  const bench = deitStep(1, K);
  assert.equal(bench.params, REFERENCE_DEIT);
  assert.equal(bench.teacherParams, REFERENCE_RESNET50);
  bench.dispose();
  // the step itself at 64 px (a 4×4 grid of 16 px patches): a 224 px step takes tens of seconds
  // on a loaded 2-core machine
  const w = deitStep(2, K, 'cpu', 0, 64);
  const first = w.step(true);
  const live = liveTensors();
  const last = w.step(true);
  assert.equal(liveTensors(), live, 'a step leaves no tensors behind');
  assert.ok(Number.isFinite(first) && last < first, `loss on the fixed batch should fall: ${first} → ${last}`);
  w.dispose();
  assert.equal(liveTensors(), before);
});

test('deitStep --cache replays the live teacher (same losses, no teacher row computed after the warm-up); --student-only too', () => {
  const losses = (mode: 'live' | 'cache' | 'none') => {
    const w = deitStep(2, K, 'cpu', 0, 64, mode);
    const out = [w.step(true), w.step(true), w.step(true), w.step(true), w.step(true)];
    const misses = w.missesAfterWarmup();
    w.dispose();
    return { out, misses };
  };
  const live = losses('live'), cached = losses('cache'), none = losses('none');
  // 100 classes: full logits are stored, so the replayed argmax is the live one, bit for bit
  assert.deepEqual(cached.out, live.out);
  assert.deepEqual(none.out, live.out, 'a frozen teacher\'s outputs, computed once, are the same outputs');
  assert.equal(cached.misses, 0, 'every timed step replayed from the store');
  assert.ok(new Set(live.out).size > 1);
});
