import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Tensor, fromTypedArray } from '../../tensor';
import { Rng } from '../../util/rng';
import { InMemoryDataset } from '../../data/dataset';
import { DataLoader } from '../../data/loader';
import { teacherLogits } from '../../distill/distiller';
import { OutputStore } from './store';
import { CachedTeacher } from './cached_teacher';

test('a cache hit replays the live teacher\'s outputs on the same augmented view, without a teacher forward', async () => {
  const r = new Rng(5), n = 16;
  const images = new Uint8Array(n * 8 * 8 * 3);
  for (let i = 0; i < images.length; i++) images[i] = r.int(256);
  const ds = new InMemoryDataset({ name: 'synth', channels: 3, height: 8, width: 8, classNames: ['a', 'b'], images, labels: Int32Array.from({ length: n }, (_, i) => i % 2) });
  const loader = new DataLoader(ds, { batchSize: 8, transforms: [{ name: 'randomCrop', size: 8, padding: 2 }, { name: 'horizontalFlip' }], randomErasing: { probability: 0.5 }, workers: 0, seed: 3, views: 2 });
  let forwards = 0;
  // a stand-in teacher whose output depends on every pixel of the view: per-channel means and a weighted sum
  const live = { name: 'probe', logits: (x: Tensor) => { forwards++; return x.mean([2, 3]).mul(3).add(x.sum([1, 2, 3]).unsqueeze(1).mul(0.01)); } };
  const store = new OutputStore(fs.mkdtempSync(path.join(os.tmpdir(), 'civet-ct-')), { weightsHash: 'w', transformHash: 't', dataset: 'synth', width: 3, views: 2, samples: n });
  const cached = new CachedTeacher(live, store);
  for (let epoch = 0; epoch < 6; epoch++) {
    for await (const b of loader) {
      cached.setBatch(b.indices, b.views!);
      const before = forwards;
      const got = teacherLogits(cached, b.x);
      const hitAll = forwards === before;
      const want = live.logits(b.x); forwards--;
      const g = got.toTypedArray() as Float32Array, w = want.toTypedArray() as Float32Array;
      for (let k = 0; k < w.length; k++) assert.ok(Math.abs(g[k] - w[k]) <= 1e-6 * Math.max(1, Math.abs(w[k])), `epoch ${epoch}: output ${k} ${g[k]} vs live ${w[k]} (hit: ${hitAll})`);
      got.dispose(); want.dispose(); b.x.dispose(); b.y.dispose();
    }
  }
  // 16 samples x 2 views: at most 32 rows ever computed live; 6 epochs show 96 sample-views
  assert.ok(cached.misses <= 32, `misses ${cached.misses}`);
  assert.equal(cached.hits + cached.misses, 96);
  assert.ok(forwards < 12, `the teacher ran ${forwards} times for 12 batches`);
  await loader.close();
});

import { encodeRow, decodeRow, rowLayout, rowWidth, layoutName } from './cached_teacher';

function softmax(a: Float32Array): Float64Array {
  const m = Math.max(...a);
  const e = Float64Array.from(a, (v) => Math.exp(v - m));
  const s = e.reduce((p, v) => p + v, 0);
  return e.map((v) => v / s);
}

test('top-k rows (> 100 classes): the k top logits, the argmax and their softmax probabilities are the live teacher\'s; the tail keeps its mass', () => {
  const r = new Rng(9), C = 1000, k = 10;
  const l = rowLayout(C, k);
  assert.deepEqual(l, { kind: 'topk', classes: C, k });
  assert.equal(rowWidth(l), 21);
  assert.deepEqual(rowLayout(100, k), { kind: 'full', classes: 100 }, 'full logits up to 100 classes');
  for (let trial = 0; trial < 5; trial++) {
    const live = Float32Array.from({ length: C }, () => r.normal() * 3);
    const got = decodeRow(encodeRow(live, l), l);
    const order = Array.from(live.keys()).sort((a, b) => live[b] - live[a]);
    for (const i of order.slice(0, k)) assert.equal(got[i], live[i], `top logit ${i}`);
    assert.equal(got.indexOf(Math.max(...got)), order[0], 'argmax (DeiT hard label)');
    const pl = softmax(live), pg = softmax(got);
    for (const i of order.slice(0, k)) assert.ok(Math.abs(pg[i] - pl[i]) <= 1e-6 * pl[i] + 1e-12, `p[${i}] ${pg[i]} vs ${pl[i]}`);
    const tail = (p: Float64Array) => order.slice(k).reduce((s, i) => s + p[i], 0);
    assert.ok(Math.abs(tail(pg) - tail(pl)) < 1e-6, 'tail mass');
    // and the tail is flat: not the teacher's own tail (that is what is not stored)
    assert.equal(new Set(order.slice(k).map((i) => got[i])).size, 1);
  }
  assert.equal(layoutName(l), 'topk:10/1000');
});

test('a cached top-k teacher hands out the stored form from its first pass on, and replays it without a forward', async () => {
  const r = new Rng(6), n = 8, C = 120;
  const images = new Uint8Array(n * 8 * 8 * 3);
  for (let i = 0; i < images.length; i++) images[i] = r.int(256);
  const ds = new InMemoryDataset({ name: 'synth', channels: 3, height: 8, width: 8, classNames: Array.from({ length: C }, (_, i) => `c${i}`), images, labels: Int32Array.from({ length: n }, (_, i) => i) });
  const loader = new DataLoader(ds, { batchSize: 4, transforms: [{ name: 'randomCrop', size: 8, padding: 2 }], workers: 0, seed: 3, views: 2 });
  const w = fromTypedArray(Float32Array.from({ length: 3 * C }, () => r.normal()), [3, C]);
  let forwards = 0;
  const live = { name: 'probe', logits: (x: Tensor) => { forwards++; return x.mean([2, 3]).matmul(w); } };
  const l = rowLayout(C, 5);
  const cached = new CachedTeacher(live, new OutputStore(fs.mkdtempSync(path.join(os.tmpdir(), 'civet-ct-')), { weightsHash: 'w', transformHash: 't', dataset: 'synth', width: rowWidth(l), views: 2, samples: n }), l);
  const seen = new Map<string, Float32Array>();
  for (let epoch = 0; epoch < 5; epoch++) {
    for await (const b of loader) {
      cached.setBatch(b.indices, b.views!);
      const got = teacherLogits(cached, b.x).toTypedArray() as Float32Array;
      const want = live.logits(b.x).toTypedArray() as Float32Array; forwards--;
      for (let k = 0; k < b.indices.length; k++) {
        const row = got.slice(k * C, (k + 1) * C);
        assert.deepEqual(row, decodeRow(encodeRow(want.slice(k * C, (k + 1) * C), l), l), 'the stored form of the live output');
        const key = b.views!.keys[k];
        if (seen.has(key)) assert.deepEqual(row, seen.get(key)); else seen.set(key, row);
      }
      b.x.dispose(); b.y.dispose();
    }
  }
  assert.ok(cached.misses <= 16 && cached.hits >= 24, `hits ${cached.hits}, misses ${cached.misses}`);
  await loader.close();
});

test('a corrupted chunk behind a cached teacher: detected, its views recomputed by the live teacher, and rebuilt', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-ct-')), n = 6, log: string[] = [];
  const id = { weightsHash: 'w', transformHash: 't', dataset: 'synth', width: 2, views: 1, samples: n, chunkSlots: 3 };
  let forwards = 0;
  const live = { name: 'probe', logits: (x: Tensor) => { forwards++; return x.mul(2); } };
  const x = fromTypedArray(Float32Array.from({ length: n * 2 }, (_, i) => i), [n, 2]);
  const views = { view: new Int32Array(n), keys: Array.from({ length: n }, (_, i) => (0x1000 + i).toString(16).padStart(16, '0')), params: [] as any };
  const indices = Int32Array.from({ length: n }, (_, i) => i);
  const a = new CachedTeacher(live, new OutputStore(dir, id));
  a.setBatch(indices, views); teacherLogits(a, x).dispose(); a.flush();
  assert.equal(forwards, 1);
  const f = path.join(dir, 'chunk-1.bin');
  const buf = fs.readFileSync(f); buf[50] ^= 0x55; fs.writeFileSync(f, buf);
  const b = new CachedTeacher(live, new OutputStore(dir, id, (l) => log.push(l)));
  b.setBatch(indices, views);
  const out = teacherLogits(b, x).toTypedArray() as Float32Array;
  assert.match(log.join('\n'), /chunk-1\.bin: checksum mismatch/);
  assert.equal(forwards, 2, 'the damaged rows were recomputed live');
  assert.deepEqual(b.hits, 3); assert.deepEqual(b.misses, 3);
  assert.deepEqual(Array.from(out), Array.from({ length: n * 2 }, (_, i) => 2 * i));
  b.flush();
  const c = new CachedTeacher(live, new OutputStore(dir, id, (l) => log.push(l)));
  c.setBatch(indices, views); teacherLogits(c, x).dispose();
  assert.equal(forwards, 2, 'rebuilt: every row is served from the store');
  assert.equal(c.hits, n);
});
