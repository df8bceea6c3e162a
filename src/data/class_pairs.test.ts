// The loader's class pairs (CS-KD's PairBatchSampler): B samples then one same-class partner each,
// the same pairs for the same seed, and positions that count base samples so resume is exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InMemoryDataset } from './dataset';
import { DataLoader, type Batch } from './loader';

function synth(n = 60): InMemoryDataset {
  const images = new Uint8Array(n * 16);
  for (let i = 0; i < images.length; i++) images[i] = (i * 7) % 251;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  return new InMemoryDataset({ images, labels, height: 4, width: 4, channels: 1, classNames: ['a', 'b', 'c'], name: 'synth' });
}

async function epoch(l: DataLoader): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of l) out.push(b);
  return out;
}

test('classPairs: batches of 2B, partners of the same class, seeded, positions count base samples', async () => {
  const ds = synth();
  const l = new DataLoader(ds, { batchSize: 8, dropLast: true, workers: 0, seed: 5, classPairs: true });
  const bs = await epoch(l);
  assert.equal(bs.length, 7);
  let differs = 0;
  bs.forEach((b, k) => {
    assert.equal(b.indices.length, 16);
    assert.equal(b.position, 8 * k);
    assert.deepEqual(b.x.shape, [16, 1, 4, 4]);
    for (let i = 0; i < 8; i++) {
      assert.equal(b.labels[8 + i], b.labels[i], 'the partner has the sample\'s class');
      if (b.indices[8 + i] !== b.indices[i]) differs++;
    }
  });
  assert.ok(differs > 40, `partners are other samples of the class (${differs}/56 differ)`);
  const again = await epoch(new DataLoader(ds, { batchSize: 8, dropLast: true, workers: 0, seed: 5, classPairs: true }));
  assert.deepEqual(again.map((b) => [...b.indices]), bs.map((b) => [...b.indices]));
  // resume after 3 batches: the rest of the epoch is the same, pairs included
  const r = new DataLoader(ds, { batchSize: 8, dropLast: true, workers: 0, seed: 5, classPairs: true });
  let n = 0;
  for await (const _b of r) if (++n === 3) break;
  assert.equal(r.state().sampler.position, 24);
  const r2 = new DataLoader(ds, { batchSize: 8, dropLast: true, workers: 0, seed: 5, classPairs: true });
  r2.restore(r.state());
  const rest = await epoch(r2);
  assert.deepEqual(rest.map((b) => [...b.indices]), bs.slice(3).map((b) => [...b.indices]));
  assert.throws(() => new DataLoader(ds, { batchSize: 8, classPairs: true, mixup: { mixupAlpha: 0.8 } as any }), /classPairs \(CS-KD\) and mixup cannot be combined/);
});
