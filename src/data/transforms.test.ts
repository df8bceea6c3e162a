import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng';
import {
  Compose, centerCrop, grayscaleToRgb, hflip, horizontalFlip, randomCrop, randomErasing, randomErasingBoxes,
  randomResizedCrop, randomResizedCropParams, resize, normalize, toTensor, type Img,
} from './transforms';

function ramp(h: number, w: number, c: number, seed = 1): Img {
  const r = new Rng(seed);
  const data = new Uint8Array(h * w * c);
  for (let i = 0; i < data.length; i++) data[i] = r.int(256);
  return { data, h, w, c };
}

test('resize / centerCrop / grayscaleToRgb shapes and values', () => {
  const g = ramp(28, 28, 1);
  const r = resize(g, 32);
  assert.deepEqual([r.h, r.w, r.c, r.data.length], [32, 32, 1, 1024]);
  const flat = { data: new Uint8Array(16 * 3).fill(77), h: 4, w: 4, c: 3 };
  assert.ok(resize(flat, [7, 5]).data.every((v) => v === 77), 'bilinear resize keeps a constant image constant');
  const cc = centerCrop(ramp(10, 10, 1), 4);
  assert.deepEqual([cc.h, cc.w], [4, 4]);
  const rgb = grayscaleToRgb(g);
  assert.equal(rgb.c, 3);
  assert.deepEqual([rgb.data[30], rgb.data[31], rgb.data[32]], [g.data[10], g.data[10], g.data[10]]);
});

test('horizontal flip twice is the identity; p=0 / p=1', () => {
  const img = ramp(5, 7, 3);
  assert.deepEqual(hflip(hflip(img)).data, img.data);
  assert.notDeepEqual(hflip(img).data, img.data);
  assert.equal(horizontalFlip(img, new Rng(0), 0), img);
  assert.deepEqual(horizontalFlip(img, new Rng(0), 1).data, hflip(img).data);
});

test('randomResizedCrop: output size, params within bounds, fallback centre crop', () => {
  const rng = new Rng(3);
  for (let i = 0; i < 200; i++) {
    const p = randomResizedCropParams(40, 60, rng);
    assert.ok(p.h >= 1 && p.w >= 1 && p.top >= 0 && p.left >= 0 && p.top + p.h <= 40 && p.left + p.w <= 60);
  }
  const out = randomResizedCrop(ramp(40, 60, 3), 32, new Rng(1));
  assert.deepEqual([out.h, out.w, out.c, out.data.length], [32, 32, 3, 32 * 32 * 3]);
  // scale > 1 never fits: falls back to the centre crop clamped to the ratio range (w/h = 3 > 4/3).
  const fb = randomResizedCropParams(10, 30, new Rng(0), [5, 6]);
  assert.deepEqual(fb, { top: 0, left: 8, h: 10, w: 13 });
});

test('randomCrop with padding: zero and reflect; determinism under a seed', () => {
  const img = ramp(8, 8, 1);
  const a = randomCrop(img, 8, new Rng(5), 4);
  const b = randomCrop(img, 8, new Rng(5), 4);
  assert.deepEqual(a.data, b.data);
  assert.deepEqual([a.h, a.w], [8, 8]);
  // padding 0 and full size: identity
  assert.deepEqual(randomCrop(img, 8, new Rng(1), 0).data, img.data);
  // A 1x1 image reflected stays constant.
  const one = { data: Uint8Array.of(9), h: 1, w: 1, c: 1 };
  assert.ok(randomCrop(one, 3, new Rng(2), 1, 'reflect').data.every((v) => v === 9));
  assert.ok(randomCrop(one, 3, new Rng(2), 1, 'zero').data.some((v) => v === 0));
});

test('Compose: plain-data pipeline, output shape, same seed same bytes, different seed different bytes', () => {
  const pipe = new Compose([
    { name: 'grayscaleToRgb' }, { name: 'resize', size: 32 }, { name: 'randomCrop', size: 32, padding: 4 },
    { name: 'horizontalFlip' }, { name: 'randAugment', config: 'rand-m9-n2-mstd0.5' },
  ]);
  assert.deepEqual(pipe.outputShape(28, 28, 1), [32, 32, 3]);
  const img = ramp(28, 28, 1);
  const a = pipe.apply(img, new Rng(11)), b = pipe.apply(img, new Rng(11));
  assert.deepEqual([a.h, a.w, a.c], [32, 32, 3]);
  assert.deepEqual(a.data, b.data);
  let differs = false;
  for (let s = 12; s < 16 && !differs; s++) differs = !Buffer.from(pipe.apply(img, new Rng(s)).data).equals(Buffer.from(a.data));
  assert.ok(differs);
  assert.throws(() => new Compose([{ name: 'nope' } as never]), /unknown transform 'nope'/);
  assert.throws(() => new Compose([{ name: 'randAugment', config: 'rand-q3' }]), /unknown key/);
});

test('batch ops: toTensor + normalize ranges; randomErasing boxes and values', () => {
  const n = 4, img = ramp(8, 8, 3);
  const images = new Uint8Array(n * img.data.length);
  for (let i = 0; i < n; i++) images.set(img.data, i * img.data.length);
  const x = toTensor(images, n, 8, 8, 3);
  assert.deepEqual(x.shape, [4, 3, 8, 8]);
  const v = x.toTypedArray() as Float32Array;
  assert.ok(v.every((e) => e >= 0 && e <= 1));
  const z = normalize(x, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
  assert.ok((z.toTypedArray() as Float32Array).every((e) => e >= -1 && e <= 1));
  // probability 1, const mode: exactly the boxes are zeroed.
  const boxes = randomErasingBoxes(8, 8, new Rng(9), { probability: 1 });
  assert.equal(boxes.length, 1);
  const [t, l, eh, ew] = boxes[0];
  assert.ok(eh * ew >= 1 && eh < 8 && ew < 8 && t + eh <= 8 && l + ew <= 8);
  const ones = toTensor(new Uint8Array(n * 8 * 8 * 3).fill(255), n, 8, 8, 3);
  const e = randomErasing(ones, new Rng(9), { probability: 1, mode: 'const' });
  const ev = e.toTypedArray() as Float32Array;
  const zeros = ev.filter((q) => q === 0).length;
  assert.ok(zeros > 0 && zeros < ev.length);
  const e2 = randomErasing(ones, new Rng(9), { probability: 1, mode: 'const' });
  assert.deepEqual(e2.toTypedArray(), ev);
  const none = randomErasing(ones, new Rng(9), { probability: 0 });
  assert.ok((none.toTypedArray() as Float32Array).every((q) => q === 1));
  const px = randomErasing(ones, new Rng(9), { probability: 1, mode: 'pixel' }).toTypedArray() as Float32Array;
  assert.ok(px.some((q) => q !== 1 && q !== 0));
  for (const t of [x, z, ones, e, e2, none]) t.dispose();
});
