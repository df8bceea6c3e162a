// RedNet's baseWidth option: a slimmer RedNet for small images and small machines (the published
// RedNet is baseWidth 64; its parameter count is asserted in cnn_models.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel } from './registry';
import { randn, tidy, noGrad } from '../tensor';
import './rednet';

test('rednet26 baseWidth 32: stage widths halve, logits keep their shape, bad widths are errors', () => tidy(() => {
  const m = createModel('rednet26', { numClasses: 10, inChans: 1, imgSize: 32, baseWidth: 32 });
  assert.deepEqual(m.stages().map((s) => s.channels), [32, 128, 256, 512, 1024]);
  assert.equal(m.numParameters(), 1_815_433);
  const full = createModel('rednet26', { numClasses: 10, inChans: 1, imgSize: 32 });
  assert.deepEqual(full.stages().map((s) => s.channels), [64, 256, 512, 1024, 2048]);
  m.eval();
  assert.deepEqual(noGrad(() => m.call(randn([2, 1, 32, 32]))).shape, [2, 10]);
  assert.throws(() => createModel('rednet26', { baseWidth: 48 }), /RedNet: baseWidth must be a positive multiple of 32, got 48/);
}));
