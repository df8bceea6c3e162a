// The vit-ti32 benchmark step: torchvision's parameter count, a finite loss that falls on its
// fixed batch, nothing left behind after dispose().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { liveTensors } from '../src/tensor';
import { vitTi32Step } from './workloads_vit';

test('vitTi32Step: torchvision-equal model, training steps that learn and do not leak', () => {
  const before = liveTensors();
  const w = vitTi32Step(8);
  assert.equal(w.params, 5_362_762);
  assert.equal(w.torchvisionParams, 5_362_762);
  const first = w.step();
  const live = liveTensors();
  let last = first;
  for (let i = 0; i < 5; i++) last = w.step();
  assert.equal(liveTensors(), live, 'a step leaves no tensors behind');
  assert.ok(Number.isFinite(first) && Number.isFinite(last));
  assert.ok(last < first, `loss on the fixed batch should fall: ${first} → ${last}`);
  w.dispose();
  assert.equal(liveTensors(), before);
});
