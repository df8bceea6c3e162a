import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../util/rng';
import { InMemoryDataset } from './dataset';
import { DataLoader, type Batch } from './loader';
import { Compose, type Img, type TransformSpec } from './transforms';
import { pickView, viewKey } from './views';

function synth(n = 24): InMemoryDataset {
  const r = new Rng(7);
  const images = new Uint8Array(n * 8 * 8 * 3);
  for (let i = 0; i < images.length; i++) images[i] = r.int(256);
  return new InMemoryDataset({ name: 'synth', channels: 3, height: 8, width: 8, classNames: ['a', 'b', 'c'], images, labels: Int32Array.from({ length: n }, (_, i) => i % 3) });
}
const img = (ds: InMemoryDataset, i: number): Img => ({ data: ds.get(i).pixels, h: 8, w: 8, c: 3 });
const PIPE: TransformSpec[] = [
  { name: 'randomCrop', size: 8, padding: 2 }, { name: 'horizontalFlip', p: 0.5 }, { name: 'randAugment', config: 'rand-m9-n2-mstd0.5' },
];

test('Compose.applyRecorded gives apply()\'s image, and replay(params) rebuilds it without randomness', () => {
  const ds = synth(4), pipe = new Compose(PIPE);
  for (let i = 0; i < 4; i++) {
    const im = img(ds, i);
    const plain = pipe.apply(im, new Rng(100 + i));
    const rec = pipe.applyRecorded(im, new Rng(100 + i));
    assert.deepEqual(rec.img.data, plain.data, 'recording does not change the random stream');
    assert.deepEqual(pipe.replay(im, rec.params).data, plain.data);
  }
});

test('a view key changes when any augmentation parameter changes', () => {
  const pipe = new Compose(PIPE);
  let params = pipe.applyRecorded(img(synth(1), 0), new Rng(3)).params;
  // make sure RandAugment applied at least one op so that its fields can be perturbed
  for (let s = 4; (params[2] as any).ops.length === 0; s++) params = pipe.applyRecorded(img(synth(1), 0), new Rng(s)).params;
  const base = viewKey({ index: 5, params });
  const alt = (f: (p: any) => void) => { const p = structuredClone(params) as any; f(p); return viewKey({ index: 5, params: p }); };
  const changed = [
    viewKey({ index: 6, params }),
    alt((p) => { p[0].top += 1; }), alt((p) => { p[0].left += 1; }),
    alt((p) => { p[1].flip = !p[1].flip; }),
    alt((p) => { p[2].ops[0].name = p[2].ops[0].name === 'Rotate' ? 'ShearX' : 'Rotate'; }),
    alt((p) => { p[2].ops[0].level += 0.001; }), alt((p) => { p[2].ops[0].sign *= -1; }),
    viewKey({ index: 5, params, erase: [[0, 0, 2, 2]] }),
  ];
  for (const k of changed) assert.notEqual(k, base);
  assert.equal(new Set(changed).size, changed.length);
  assert.equal(viewKey({ index: 5, params: structuredClone(params) }), base, 'the key is a function of the parameters');
});

async function epochKeys(l: DataLoader, stopAfter = Infinity): Promise<string[][]> {
  const out: string[][] = [];
  for await (const b of l) { out.push(b.views!.keys); b.x.dispose(); b.y.dispose(); if (out.length >= stopAfter) break; }
  return out;
}

test('views: each sample shows one of its V fixed views; a resumed loader replays the same views', async () => {
  const mk = () => new DataLoader(synth(), { batchSize: 4, transforms: PIPE, randomErasing: { probability: 0.5 }, workers: 0, seed: 11, views: 3 });
  const a = mk();
  const e0 = await epochKeys(a), e1 = await epochKeys(a), e2 = await epochKeys(a);
  // per sample at most V distinct keys over many epochs, and they vary across epochs
  const per = new Map<number, Set<string>>();
  const b = mk();
  for (let e = 0; e < 8; e++) for await (const x of b) { x.indices.forEach((i, k) => (per.get(i) ?? per.set(i, new Set()).get(i)!).add(x.views!.keys[k])); x.x.dispose(); x.y.dispose(); }
  for (const s of per.values()) assert.ok(s.size <= 3);
  assert.ok([...per.values()].some((s) => s.size > 1), 'the student sees varied views');
  // interrupted after 2 batches of epoch 1, restored into a fresh loader
  const c = mk();
  await epochKeys(c);
  const part = await epochKeys(c, 2);
  const st = c.state();
  const d = mk();
  d.restore(st);
  const rest = await epochKeys(d);
  assert.deepEqual([...part, ...rest], e1);
  assert.deepEqual(await epochKeys(d), e2);
  assert.notDeepEqual(e0, e1);
  // viewBatch replays a drawn view exactly (pixels and key)
  const first: Batch = await (async () => { for await (const x of mk()) return x; throw new Error('empty'); })();
  const again = await mk().viewBatch(first.indices, first.views!.view);
  assert.deepEqual(again.views!.keys, first.views!.keys);
  assert.deepEqual(Array.from(again.x.toTypedArray() as Float32Array), Array.from(first.x.toTypedArray() as Float32Array));
  for (const l of [a, b, c, d]) await l.close();
});

test('pickView: a sample shows each of its V views once per V epochs, in an order that differs by round and sample', () => {
  const V = 5;
  for (const index of [0, 1, 17]) {
    for (let round = 0; round < 3; round++) {
      const shown = Array.from({ length: V }, (_, e) => pickView(9, round * V + e, index, V));
      assert.deepEqual([...shown].sort(), [0, 1, 2, 3, 4], `sample ${index}, round ${round}: ${shown}`);
    }
  }
  const order = (index: number, round: number) => Array.from({ length: V }, (_, e) => pickView(9, round * V + e, index, V)).join();
  const orders = new Set([order(0, 0), order(0, 1), order(0, 2), order(1, 0), order(17, 0), order(17, 1)]);
  assert.ok(orders.size >= 4, `orders vary by round and sample: ${[...orders]}`);
  assert.equal(pickView(9, 3, 1, 1), 0);
  assert.throws(() => pickView(9, 0, 0, 0), /views must be a positive integer/);
});
