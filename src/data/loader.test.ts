import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { InMemoryDataset } from './dataset';
import { DatasetError } from './errors';
import { ImageFolder } from './image_folder';
import { DataLoader, type Batch, type DataLoaderOptions } from './loader';

// 50 samples of 6x6x1; every pixel of sample i is i, label i % 5.
function synth(n = 50): InMemoryDataset {
  const images = new Uint8Array(n * 36);
  for (let i = 0; i < n; i++) images.fill(i, i * 36, (i + 1) * 36);
  return new InMemoryDataset({ name: 'synth', channels: 1, height: 6, width: 6, classNames: ['a', 'b', 'c', 'd', 'e'], images, labels: Int32Array.from({ length: n }, (_, i) => i % 5) });
}

async function collect(l: DataLoader, max = Infinity): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of l) {
    out.push(b);
    if (out.length >= max) break;
  }
  return out;
}

const bytes = (b: Batch): Buffer => Buffer.from((b.x.toTypedArray() as Float32Array).buffer);

test('batch counts with and without dropLast; every index once per epoch; labels and pixels match', async () => {
  const ds = synth();
  for (const [dropLast, expect] of [[false, 7], [true, 6]] as const) {
    const l = new DataLoader(ds, { batchSize: 8, dropLast, workers: 0, seed: 1 });
    assert.equal(l.length, expect);
    const bs = await collect(l);
    assert.equal(bs.length, expect);
    const seen = bs.flatMap((b) => Array.from(b.indices));
    assert.equal(seen.length, dropLast ? 48 : 50);
    assert.equal(new Set(seen).size, seen.length);
    for (const b of bs) {
      assert.deepEqual(b.x.shape, [b.indices.length, 1, 6, 6]);
      assert.equal(b.y.dtype, 'int64');
      const x = b.x.toTypedArray() as Float32Array;
      b.indices.forEach((idx, k) => {
        assert.equal(b.labels[k], idx % 5);
        assert.ok(Math.abs(x[k * 36] - idx / 255) < 1e-6);
      });
    }
    assert.equal(l.epoch, 1, 'a finished epoch advances the sampler');
  }
});

test('workers give the same bytes as in-process, seeds matter, epochs differ', async () => {
  const ds = synth();
  const opts: DataLoaderOptions = {
    batchSize: 10, seed: 3, outChannels: 3,
    transforms: [{ name: 'randomCrop', size: 6, padding: 2 }, { name: 'horizontalFlip' }, { name: 'resize', size: 8 }],
    norm: { mean: [0.5], std: [0.25] },
  };
  const inproc = new DataLoader(ds, { ...opts, workers: 0 });
  const threaded = new DataLoader(ds, { ...opts, workers: 2, prefetch: 3 });
  const other = new DataLoader(ds, { ...opts, workers: 0, seed: 4 });
  try {
    const a = await collect(inproc), b = await collect(threaded), c = await collect(other);
    assert.deepEqual(a[0].x.shape, [10, 3, 8, 8]);
    assert.equal(a.length, 5);
    a.forEach((bt, i) => {
      assert.deepEqual(bt.indices, b[i].indices);
      assert.ok(bytes(bt).equals(bytes(b[i])), `batch ${i} identical with workers`);
    });
    assert.ok(!bytes(a[0]).equals(bytes(c[0])));
    const e1 = await collect(inproc);
    assert.notDeepEqual(e1[0].indices, a[0].indices);
  } finally {
    await threaded.close();
  }
});

test('resume: the batch after restore() equals the uninterrupted run (workers, prefetch, mixup, erasing)', async () => {
  const ds = synth();
  const opts: DataLoaderOptions = {
    batchSize: 6, seed: 9, workers: 2, prefetch: 3, dropLast: true,
    transforms: [{ name: 'randomResizedCrop', size: 6 }, { name: 'randAugment', config: 'rand-m9-n2' }],
    mixup: { mixupAlpha: 0.8, cutmixAlpha: 1 }, randomErasing: { probability: 0.5 },
  };
  const full = new DataLoader(ds, opts);
  const first = new DataLoader(ds, opts);
  const resumed = new DataLoader(ds, opts);
  try {
    // Epoch 0 completely, then 3 batches of epoch 1 before the interruption.
    await collect(full);
    const ref = await collect(full);
    await collect(first);
    const part = await collect(first, 3);
    const st = JSON.parse(JSON.stringify(first.state()));
    assert.equal(st.sampler.epoch, 1);
    assert.equal(st.sampler.position, 18);
    resumed.restore(st);
    const rest = await collect(resumed);
    assert.equal(part.length + rest.length, ref.length);
    rest.forEach((b, i) => {
      const r = ref[i + 3];
      assert.deepEqual(b.indices, r.indices);
      assert.ok(bytes(b).equals(bytes(r)));
      assert.deepEqual(b.soft!.toTypedArray(), r.soft!.toTypedArray());
    });
    // The interrupted loader itself also continues where its consumer stopped.
    const cont = await collect(first, 1);
    assert.deepEqual(cont[0].indices, ref[3].indices);
  } finally {
    await Promise.all([full.close(), first.close(), resumed.close()]);
  }
});

test('distributed and RA samplers', async () => {
  const ds = synth();
  const r0 = new DataLoader(ds, { batchSize: 5, workers: 0, seed: 2, sampler: { kind: 'distributed', rank: 0, worldSize: 2 } });
  const r1 = new DataLoader(ds, { batchSize: 5, workers: 0, seed: 2, sampler: { kind: 'distributed', rank: 1, worldSize: 2 } });
  const a = (await collect(r0)).flatMap((b) => Array.from(b.indices));
  const b = (await collect(r1)).flatMap((b) => Array.from(b.indices));
  assert.equal(a.length, 25);
  assert.equal(new Set([...a, ...b]).size, 50);
  const ra = new DataLoader(ds, { batchSize: 4, workers: 0, sampler: { kind: 'ra', numRepeats: 3, roundTo: 1 } });
  const idx = (await collect(ra)).flatMap((b) => Array.from(b.indices));
  assert.equal(idx.length, 50);
  assert.equal(idx[0], idx[1]);
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'civet-loader-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('ImageFolder decoded in workers; a corrupt file fails the iteration naming the file', async () => {
  for (const c of ['cat', 'dog']) {
    fs.mkdirSync(path.join(tmp, c));
    for (let i = 0; i < 4; i++) {
      await sharp({ create: { width: 10, height: 12, channels: 3, background: { r: 40 * i, g: 100, b: c === 'cat' ? 0 : 255 } } }).png().toFile(path.join(tmp, c, `${i}.png`));
    }
  }
  const good = new DataLoader(new ImageFolder(tmp, { size: 8 }), { batchSize: 4, workers: 2, sampler: 'sequential', transforms: [{ name: 'randomResizedCrop', size: 6 }, { name: 'horizontalFlip' }] });
  try {
    const bs = await collect(good);
    assert.equal(bs.length, 2);
    assert.deepEqual(bs[0].x.shape, [4, 3, 6, 6]);
    assert.deepEqual(Array.from(bs[1].labels), [1, 1, 1, 1]);
  } finally {
    await good.close();
  }
  fs.writeFileSync(path.join(tmp, 'dog', '9-broken.png'), Buffer.from('not a png at all'));
  const bad = new DataLoader(new ImageFolder(tmp, { size: 8 }), { batchSize: 3, workers: 2, sampler: 'sequential' });
  try {
    await assert.rejects(collect(bad), (e: Error) => e instanceof DatasetError && /9-broken\.png/.test(e.message) && /loader worker/.test(e.message));
  } finally {
    await bad.close();
  }
  // A raw shared-memory source description works too, and a wrong buffer size is caught.
  assert.throws(() => new DataLoader({ kind: 'shared', name: 'x', images: new Uint8Array(8), labels: Int32Array.of(0, 1), height: 2, width: 2, channels: 2 }, { batchSize: 2 }), /16/);
  const noSize = new DataLoader({ kind: 'shared', name: 'x', images: new Uint8Array(16), labels: Int32Array.of(0, 1), height: 2, width: 2, channels: 2 }, { batchSize: 2, workers: 0 });
  assert.equal((await collect(noSize))[0].x.shape[1], 2);
});
