import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng';
import {
  RAND_INCREASING_TRANSFORMS, RAND_TRANSFORMS, applyOp, autoContrast, equalize, invert, parseRandAugment, posterize,
  randAugment, rotate, solarize,
} from './randaugment';
import type { Img } from './transforms';

function noise(h: number, w: number, c: number, seed = 1): Img {
  const r = new Rng(seed), data = new Uint8Array(h * w * c);
  for (let i = 0; i < data.length; i++) data[i] = 40 + r.int(150);
  return { data, h, w, c };
}

test('parseRandAugment: timm strings', () => {
  const c = parseRandAugment('rand-m9-n2-mstd0.5');
  assert.deepEqual([c.m, c.n, c.mstd, c.increasing, c.p, c.mmax], [9, 2, 0.5, false, 0.5, 10]);
  assert.equal(c.ops, RAND_TRANSFORMS);
  const d = parseRandAugment('rand-m7-n3-mstd101-inc1');
  assert.deepEqual([d.m, d.n, d.mstd, d.increasing], [7, 3, Infinity, true]);
  assert.equal(d.ops, RAND_INCREASING_TRANSFORMS);
  assert.throws(() => parseRandAugment('auto-m9'), /must start with 'rand'/);
  assert.throws(() => parseRandAugment('rand-n2.5'), /integer/);
});

test('every op keeps shape and dtype at several magnitudes', () => {
  const img = noise(12, 10, 3);
  for (const name of [...RAND_TRANSFORMS, ...RAND_INCREASING_TRANSFORMS]) {
    for (const m of [0, 5, 10]) {
      const out = applyOp(img, name, m, new Rng(m), [128, 128, 128]);
      assert.ok(out.data instanceof Uint8Array, name);
      assert.deepEqual([out.h, out.w, out.c, out.data.length], [12, 10, 3, img.data.length], name);
    }
  }
});

test('colour ops match their PIL definitions on simple inputs', () => {
  const img: Img = { data: Uint8Array.of(50, 100, 150, 200), h: 2, w: 2, c: 1 };
  assert.deepEqual(Array.from(invert(img).data), [205, 155, 105, 55]);
  assert.deepEqual(Array.from(solarize(img, 128).data), [50, 100, 105, 55]);
  assert.deepEqual(Array.from(posterize(img, 2).data), [0, 64, 128, 192]);
  assert.deepEqual(Array.from(autoContrast(img).data), [0, 85, 170, 255]);
  // PIL: step = (4 - 1) // 255 = 0, so equalize leaves such a tiny image unchanged.
  assert.deepEqual(Array.from(equalize(img).data), [50, 100, 150, 200]);
  // 1020 pixels, 255 each of four values: step = 3, lut = [n // 3] with n starting at 1.
  const big: Img = { data: new Uint8Array(1020), h: 1020, w: 1, c: 1 };
  for (let i = 0; i < 1020; i++) big.data[i] = [50, 100, 150, 200][i % 4];
  assert.deepEqual(Array.from(equalize(big).data.subarray(0, 4)), [0, 85, 170, 255]);
  // rotate by 0 is the identity; by 360 nearly so.
  const n = noise(9, 9, 1);
  assert.deepEqual(rotate(n, 0, [0]).data, n.data);
});

test('randAugment: shape/dtype and determinism under a seed', () => {
  const img = noise(32, 32, 3);
  const a = randAugment(img, 'rand-m9-n2-mstd0.5', new Rng(4));
  const b = randAugment(img, 'rand-m9-n2-mstd0.5', new Rng(4));
  assert.deepEqual([a.h, a.w, a.c], [32, 32, 3]);
  assert.deepEqual(a.data, b.data);
  const outs = new Set<string>();
  for (let s = 0; s < 10; s++) outs.add(Buffer.from(randAugment(img, 'rand-m9-n2', new Rng(s)).data).toString('base64'));
  assert.ok(outs.size > 3, 'different seeds give different images');
});
