import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Tensor } from '../../tensor';
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
