import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InMemoryDataset, SubsetDataset, stratifiedSubset, trainValSplit, gatherBatch, materialize, classCounts } from './dataset';
import { DatasetError } from './errors';

/** n samples of 2x2x1; pixel values encode the sample index; labels cycle with uneven classes. */
function toy(labels: number[], numClasses = 3): InMemoryDataset {
  const images = new Uint8Array(labels.length * 4).map((_, k) => Math.floor(k / 4));
  return new InMemoryDataset({
    name: 'toy',
    channels: 1,
    height: 2,
    width: 2,
    classNames: Array.from({ length: numClasses }, (_, c) => `c${c}`),
    images,
    labels: Int32Array.from(labels),
  });
}

// 10 of class 0, 20 of class 1, 30 of class 2, interleaved.
const LABELS = Array.from({ length: 60 }, (_, i) => (i < 30 ? i % 3 : i < 50 ? 1 + (i % 2) : 2));

test('InMemoryDataset: get() returns NHWC views; constructor validates shape and labels', () => {
  const ds = toy(LABELS);
  assert.deepEqual(classCounts(ds), [10, 20, 30]);
  const s = ds.get(7);
  assert.deepEqual(Array.from(s.pixels), [7, 7, 7, 7]);
  assert.equal(s.label, LABELS[7]);
  assert.equal(s.pixels.buffer, ds.images.buffer); // a view, not a copy
  assert.throws(() => ds.get(60), /dataset toy: index 60 out of range \[0, 60\)/);
  assert.throws(() => ds.get(-1), /out of range/);
  assert.throws(
    () => new InMemoryDataset({ name: 'bad', channels: 1, height: 2, width: 2, classNames: ['a'], images: new Uint8Array(7), labels: new Int32Array(2) }),
    /dataset bad: images buffer has 7 bytes, expected 2 x 2x2x1 = 8/,
  );
  assert.throws(
    () => new InMemoryDataset({ name: 'bad', channels: 1, height: 1, width: 1, classNames: ['a', 'b'], images: new Uint8Array(2), labels: Int32Array.from([0, 2]) }),
    (e: unknown) => e instanceof DatasetError && /label 2 of sample 1 is outside \[0, 2\)/.test(e.message),
  );
});

test('SubsetDataset maps indices and rejects out-of-range ones', () => {
  const ds = toy(LABELS);
  const sub = new SubsetDataset(ds, Int32Array.from([5, 0, 59]));
  assert.equal(sub.length, 3);
  assert.deepEqual(Array.from(sub.labels), [LABELS[5], LABELS[0], LABELS[59]]);
  assert.equal(sub.get(2).pixels[0], 59);
  assert.throws(() => new SubsetDataset(ds, Int32Array.from([1, 60])), /index 60 at position 1 is outside \[0, 60\)/);
});

test('stratifiedSubset: exactly perClass per class, seeded, sorted, errors on small classes', () => {
  const ds = toy(LABELS);
  const a = stratifiedSubset(ds, 4, 123);
  assert.deepEqual(classCounts(a), [4, 4, 4]);
  assert.deepEqual(Array.from(a.indices), Array.from(a.indices).sort((x, y) => x - y));
  assert.equal(new Set(a.indices).size, 12);
  assert.deepEqual(stratifiedSubset(ds, 4, 123).indices, a.indices);
  assert.notDeepEqual(stratifiedSubset(ds, 4, 124).indices, a.indices);
  for (let k = 0; k < a.length; k++) assert.equal(a.get(k).pixels[0], a.indices[k]);
  assert.throws(() => stratifiedSubset(ds, 11, 1), /class 0 \(c0\) has 10 samples, fewer than perClass=11/);
  assert.throws(() => stratifiedSubset(ds, 0, 1), /perClass must be a positive integer/);
});

test('trainValSplit: disjoint, covering, stratified, hits round(n*f) exactly, seeded', () => {
  const ds = toy(LABELS);
  const { train, val } = trainValSplit(ds, 0.25, 9);
  assert.equal(val.length, 15);
  assert.equal(train.length, 45);
  assert.deepEqual(classCounts(val), [3, 5, 7]); // 2.5, 5, 7.5 -> largest remainder, ties to lower class
  const all = [...train.indices, ...val.indices].sort((x, y) => x - y);
  assert.deepEqual(all, Array.from({ length: 60 }, (_, i) => i));
  assert.deepEqual(trainValSplit(ds, 0.25, 9).val.indices, val.indices);
  assert.notDeepEqual(trainValSplit(ds, 0.25, 10).val.indices, val.indices);
  const odd = trainValSplit(toy([0, 0, 0, 1, 1, 1, 2], 3), 0.5, 1); // round(3.5) = 4
  assert.equal(odd.val.length, 4);
  assert.throws(() => trainValSplit(ds, 1, 0), /valFraction must be in \(0, 1\)/);
  assert.throws(() => trainValSplit(ds, 0, 0), /valFraction/);
});

test('gatherBatch and materialize copy into one contiguous NHWC buffer', () => {
  const ds = toy(LABELS);
  const { images, labels } = gatherBatch(ds, [3, 1]);
  assert.deepEqual(Array.from(images), [3, 3, 3, 3, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(labels), [LABELS[3], LABELS[1]]);
  const m = materialize(stratifiedSubset(ds, 2, 0), 'toy-small');
  assert.equal(m.name, 'toy-small');
  assert.equal(m.images.length, 6 * 4);
  assert.deepEqual(classCounts(m), [2, 2, 2]);
});
