import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromTypedArray } from '../tensor';
import { Rng } from '../util/rng';
import { Mixup, mixupTarget, sampleBeta } from './mix';

function batch(n: number, c: number, h: number, w: number) {
  const v = new Float32Array(n * c * h * w);
  for (let i = 0; i < n; i++) v.fill(i + 1, i * c * h * w, (i + 1) * c * h * w);
  return fromTypedArray(v, [n, c, h, w]);
}

test('mixupTarget: rows sum to 1, smoothing and lam', () => {
  const t = mixupTarget([0, 1, 2, 3], 5, 0.7, 0.1);
  for (let i = 0; i < 4; i++) {
    const row = t.subarray(i * 5, i * 5 + 5);
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  }
  // row 0: label 0 with lam, label 3 (flipped) with 1-lam; on=0.92, off=0.02
  assert.ok(Math.abs(t[0] - (0.02 + 0.9 * 0.7)) < 1e-6);
  assert.ok(Math.abs(t[3] - (0.02 + 0.9 * 0.3)) < 1e-6);
});

test('beta sampler mean', () => {
  const r = new Rng(1);
  let s = 0;
  for (let i = 0; i < 4000; i++) s += sampleBeta(2, 5, r);
  assert.ok(Math.abs(s / 4000 - 2 / 7) < 0.02);
});

test('mixup: soft targets sum to 1, images are the lam blend with the flipped batch', () => {
  const x = batch(4, 3, 6, 6);
  const m = new Mixup({ mixupAlpha: 1, cutmixAlpha: 0, numClasses: 10, labelSmoothing: 0.1 });
  const out = m.apply(x, [1, 2, 3, 4], new Rng(7));
  assert.equal(out.params.useCutmix, false);
  const lam = out.params.lam;
  assert.deepEqual(out.soft.shape, [4, 10]);
  const s = out.soft.toTypedArray() as Float32Array;
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(s.subarray(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0) - 1) < 1e-5);
  const v = out.x.toTypedArray() as Float32Array;
  assert.ok(Math.abs(v[0] - (1 * lam + 4 * (1 - lam))) < 1e-5);
  // Same seed, same result.
  const again = m.apply(x, [1, 2, 3, 4], new Rng(7));
  assert.deepEqual(again.x.toTypedArray(), v);
});

test('cutmix: lam equals 1 - box area / image area, pixels inside the box come from the flipped batch', () => {
  const x = batch(2, 1, 16, 16);
  const m = new Mixup({ mixupAlpha: 0, cutmixAlpha: 1, numClasses: 3, labelSmoothing: 0 });
  let checked = 0;
  for (let seed = 0; seed < 20; seed++) {
    const out = m.apply(x, [0, 2], new Rng(seed));
    const { lam, box, useCutmix } = out.params;
    if (lam === 1) continue;
    assert.ok(useCutmix && box);
    const [yl, yh, xl, xh] = box!;
    assert.ok(Math.abs(lam - (1 - ((yh - yl) * (xh - xl)) / 256)) < 1e-12);
    const v = out.x.toTypedArray() as Float32Array;
    let fromOther = 0;
    for (let p = 0; p < 256; p++) if (v[p] === 2) fromOther++;
    assert.equal(fromOther, (yh - yl) * (xh - xl));
    const s = out.soft.toTypedArray() as Float32Array;
    assert.ok(Math.abs(s[0] - lam) < 1e-6 && Math.abs(s[2] - (1 - lam)) < 1e-6);
    checked++;
  }
  assert.ok(checked > 10);
});

test('prob 0 leaves the batch alone; switch between mixup and cutmix', () => {
  const x = batch(2, 1, 8, 8);
  const off = new Mixup({ mixupAlpha: 1, cutmixAlpha: 1, prob: 0, numClasses: 2, labelSmoothing: 0 }).apply(x, [0, 1], new Rng(1));
  assert.equal(off.params.lam, 1);
  assert.deepEqual(Array.from(off.soft.toTypedArray() as Float32Array), [1, 0, 0, 1]);
  const both = new Mixup({ mixupAlpha: 1, cutmixAlpha: 1, numClasses: 2 });
  const kinds = new Set<boolean>();
  for (let s = 0; s < 30; s++) kinds.add(both.params(8, 8, new Rng(s)).useCutmix);
  assert.equal(kinds.size, 2);
  assert.throws(() => both.apply(batch(3, 1, 8, 8), [0, 1, 0], new Rng(0)), /even/);
});
