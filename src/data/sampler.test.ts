import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SequentialSampler, RandomSampler, DistributedSampler, RASampler, BatchSampler, type SamplerState } from './sampler';

const sorted = (a: ArrayLike<number>): number[] => Array.from(a).sort((x, y) => x - y);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test('SequentialSampler yields 0..n-1 every epoch', () => {
  const s = new SequentialSampler(5);
  assert.deepEqual([...s], range(5));
  assert.deepEqual([...s], []); // epoch consumed
  s.nextEpoch();
  assert.equal(s.epoch, 1);
  assert.deepEqual([...s], range(5));
});

test('RandomSampler: each index exactly once per epoch, epochs differ, seed-determined', () => {
  const s = new RandomSampler(1000, 42);
  const orders: number[][] = [];
  for (let e = 0; e < 3; e++) {
    s.setEpoch(e);
    const order = [...s];
    assert.deepEqual(sorted(order), range(1000));
    orders.push(order);
  }
  assert.notDeepEqual(orders[0], orders[1]);
  assert.notDeepEqual(orders[1], orders[2]);
  const again = new RandomSampler(1000, 42);
  again.setEpoch(2);
  assert.deepEqual([...again], orders[2]);
  assert.notDeepEqual(Array.from(new RandomSampler(1000, 43).epochIndices(2)), orders[2]);
});

test('RandomSampler resume mid-epoch reproduces the uninterrupted sequence', () => {
  const uninterrupted = new RandomSampler(257, 7);
  const full: number[] = [];
  for (let e = 0; e < 3; e++) {
    uninterrupted.setEpoch(e);
    full.push(...uninterrupted);
  }

  const first = new RandomSampler(257, 7);
  const seen: number[] = [];
  let saved: SamplerState | undefined;
  for (let e = 0; e < 3 && !saved; e++) {
    first.setEpoch(e);
    for (const i of first) {
      seen.push(i);
      if (e === 1 && first.position === 100) {
        saved = JSON.parse(JSON.stringify(first.state()));
        break;
      }
    }
  }
  assert.deepEqual(saved, { kind: 'RandomSampler', seed: 7, epoch: 1, position: 100, length: 257, rank: 0, worldSize: 1 });

  // A new process, even one constructed with another seed, continues exactly.
  const resumed = new RandomSampler(257, 999);
  resumed.restore(saved!);
  for (let e = resumed.epoch; e < 3; e++) {
    if (e !== resumed.epoch) resumed.setEpoch(e);
    seen.push(...resumed);
  }
  assert.deepEqual(seen, full);
});

test('restore rejects states from another sampler, size or rank', () => {
  const s = new RandomSampler(10, 1);
  const st = s.state();
  assert.throws(() => new RandomSampler(11, 1).restore(st), /saved with 10 indices per epoch, this sampler has 11/);
  assert.throws(() => new SequentialSampler(10).restore(st), /saved by a RandomSampler, not a SequentialSampler/);
  assert.throws(() => s.restore({ ...st, position: 11 }), /position 11 is beyond/);
  assert.throws(() => s.restore({ ...st, epoch: -1 }), /epoch must be an integer/);
  const d = new DistributedSampler(10, { rank: 0, worldSize: 2 });
  assert.throws(() => new DistributedSampler(10, { rank: 1, worldSize: 2 }).restore(d.state()), /rank 0 of 2, this sampler is rank 1 of 2/);
});

test('DistributedSampler: divisible case gives disjoint shards covering every index', () => {
  const w = 4;
  for (const shuffle of [true, false]) {
    const shards = range(w).map((rank) => new DistributedSampler(20, { rank, worldSize: w, shuffle, seed: 3 }));
    for (const s of shards) s.setEpoch(5);
    const parts = shards.map((s) => [...s]);
    for (const p of parts) assert.equal(p.length, 5);
    assert.deepEqual(sorted(parts.flat()), range(20));
  }
  // Shuffled shards follow the shared permutation: rank r holds positions r, r+w, ...
  const rank1 = new DistributedSampler(20, { rank: 1, worldSize: w, seed: 3 });
  const perm = new RandomSampler(20, 3).epochIndices(0);
  assert.deepEqual(Array.from(rank1.epochIndices(0)), [perm[1], perm[5], perm[9], perm[13], perm[17]]);
  assert.deepEqual(Array.from(new DistributedSampler(20, { rank: 1, worldSize: w, shuffle: false }).epochIndices(0)), [1, 5, 9, 13, 17]);
});

test('DistributedSampler: padding wraps like torch; dropLast trims', () => {
  // n=10, w=4: 3 per rank, total 12, padded with positions 0 and 1 of the order.
  const parts = range(4).map((rank) => Array.from(new DistributedSampler(10, { rank, worldSize: 4, shuffle: false }).epochIndices(0)));
  assert.deepEqual(parts, [[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]]);
  // n=3, w=8: padding longer than the data cycles through it.
  const tiny = range(8).map((rank) => new DistributedSampler(3, { rank, worldSize: 8, shuffle: false }).epochIndices(0)[0]);
  assert.deepEqual(tiny, [0, 1, 2, 0, 1, 2, 0, 1]);
  // dropLast: n=10, w=4 -> ceil((10-4)/4) = 2 per rank, first 8 of the order, disjoint.
  const dl = range(4).map((rank) => new DistributedSampler(10, { rank, worldSize: 4, dropLast: true, seed: 9 }));
  const flat = dl.flatMap((s) => Array.from(s.epochIndices(2)));
  assert.equal(dl[0].length, 2);
  assert.equal(new Set(flat).size, 8);
  assert.deepEqual(flat.sort((a, b) => a - b), sorted(new RandomSampler(10, 9).epochIndices(2).subarray(0, 8)));
  assert.equal(new DistributedSampler(2, { rank: 0, worldSize: 4, dropLast: true }).length, 0);
  assert.throws(() => new DistributedSampler(10, { rank: 4, worldSize: 4 }), /rank 4 must be < worldSize 4/);
});

test('RASampler (no shuffle) matches DeiT samplers.py worked by hand', () => {
  // n=5, repeats 3, w=4: num_samples = ceil(15/4) = 4, total 16; repeated list
  // [0,0,0,1,1,1,2,2,2,3,3,3,4,4,4] padded with its first element -> rank r takes positions r::4.
  const full = [[0, 1, 2, 4], [0, 1, 3, 4], [0, 2, 3, 4], [1, 2, 3, 0]];
  for (let rank = 0; rank < 4; rank++) {
    const s = new RASampler(5, { rank, worldSize: 4, shuffle: false, roundTo: 1 });
    assert.equal(s.numSamples, 4);
    // roundTo=1: floor(5/4) = 1 index per rank kept.
    assert.deepEqual(Array.from(s.epochIndices(0)), full[rank].slice(0, 1));
  }
  // w=1, roundTo=1, n=10: keep 10 of the 30 repeated indices -> 0,0,0,1,1,1,2,2,2,3
  assert.deepEqual(Array.from(new RASampler(10, { shuffle: false, roundTo: 1 }).epochIndices(0)), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]);
});

test('RASampler (DeiT defaults): counts, copies spread across ranks, truncation to n//256*256/w', () => {
  const n = 1000, w = 3;
  const ranks = range(w).map((rank) => new RASampler(n, { rank, worldSize: w, seed: 11 }));
  assert.equal(ranks[0].length, Math.floor(768 / 3)); // 256
  assert.equal(ranks[0].numSamples, 1000);
  // With 3 repeats over 3 ranks, each rank sees the shared permutation itself, in order:
  // copies of one image go to different GPUs, which is the point of repeated augmentation.
  const perm = new RandomSampler(n, 11).epochIndices(4);
  for (const s of ranks) assert.deepEqual(Array.from(s.epochIndices(4)), Array.from(perm.subarray(0, 256)));

  const single = new RASampler(n, { seed: 11 });
  assert.equal(single.length, 768);
  const counts = new Map<number, number>();
  for (const i of single.epochIndices(0)) counts.set(i, (counts.get(i) ?? 0) + 1);
  assert.equal(counts.size, 256);
  for (const c of counts.values()) assert.equal(c, 3);

  // roundTo=1 keeps floor(1000/3) = 333 per rank; over the 3 ranks that is 333 distinct images,
  // each seen exactly numRepeats = 3 times.
  const all = range(w).flatMap((rank) => Array.from(new RASampler(n, { rank, worldSize: w, seed: 11, roundTo: 1 }).epochIndices(0)));
  assert.equal(all.length, 999);
  const c3 = new Map<number, number>();
  for (const i of all) c3.set(i, (c3.get(i) ?? 0) + 1);
  assert.equal(c3.size, 333);
  for (const c of c3.values()) assert.equal(c, 3);
  assert.throws(() => new RASampler(200), /leaves 0 per epoch; lower roundTo/);
});

test('BatchSampler: ceil/floor batch counts, dropLast, and resume through sampler state', () => {
  const s = new RandomSampler(10, 5);
  const b = new BatchSampler(s, 4);
  assert.equal(b.length, 3);
  const batches = [...b].map((x) => Array.from(x));
  assert.deepEqual(batches.map((x) => x.length), [4, 4, 2]);
  assert.deepEqual(batches.flat(), Array.from(s.epochIndices(0)));

  const d = new BatchSampler(new RandomSampler(10, 5), 4, true);
  assert.equal(d.length, 2);
  assert.deepEqual([...d].map((x) => x.length), [4, 4]);
  assert.equal(d.nextBatch(), null);

  // Interrupt after the first batch of epoch 1, resume in a fresh BatchSampler.
  const a = new BatchSampler(new RandomSampler(10, 5), 4);
  a.sampler.setEpoch(1);
  const got = [Array.from(a.nextBatch()!)];
  const state = JSON.parse(JSON.stringify(a.state()));
  const r = new BatchSampler(new RandomSampler(10, 5), 4);
  r.restore(state);
  got.push(...[...r].map((x) => Array.from(x)));
  const ref = new BatchSampler(new RandomSampler(10, 5), 4);
  ref.sampler.setEpoch(1);
  assert.deepEqual(got, [...ref].map((x) => Array.from(x)));
  assert.throws(() => new BatchSampler(s, 0), /batchSize must be an integer >= 1/);
});
