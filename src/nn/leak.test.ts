// 5,000 training steps of a small MLP: native tensors and resident memory must stay flat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randn, randint, tidy, noGrad, liveTensors, F, manualSeed } from '../tensor';
import { Linear, Sequential, ReLU } from './layers';

test('5000 MLP training steps: live tensors unchanged and RSS growth < 5% after warm-up', () => {
  manualSeed(0);
  const model = new Sequential(new Linear(32, 64), new ReLU(), new Linear(64, 10));
  const x = randn([16, 32]).keep();
  const y = randint(0, 10, [16]).keep();
  const params = model.parameters();
  const step = () => tidy(() => {
    model.zeroGrad();
    const loss = F.cross_entropy(model.call(x), y);
    loss.backward();
    noGrad(() => { for (const p of params) p.add_(p.grad!, -0.05); });
    return loss.item();
  });
  let first = 0;
  for (let i = 0; i < 500; i++) first = step();
  global.gc?.();
  const live0 = liveTensors();
  const rss0 = process.memoryUsage().rss;
  let last = 0;
  for (let i = 0; i < 5000; i++) last = step();
  global.gc?.();
  const rss1 = process.memoryUsage().rss;
  assert.equal(liveTensors(), live0, 'native tensors leaked across steps');
  assert.ok(rss1 < rss0 * 1.05, `RSS grew from ${(rss0 / 2 ** 20).toFixed(1)} MB to ${(rss1 / 2 ** 20).toFixed(1)} MB`);
  assert.ok(last < first, `the loss should fall on a fixed batch (${first} -> ${last})`);
  x.dispose(); y.dispose(); model.dispose();
});
