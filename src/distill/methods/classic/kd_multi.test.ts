// Hinton KD with several teachers (Co-advise Table 6's "one token" rows): the KD term is the mean
// of the per-teacher terms, and with one teacher it is Hinton's exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../index';
import { createDistiller } from '../../registry';
import { hintonKd } from '../../losses/classic';
import { randn, randint, manualSeed, tidy } from '../../../tensor';
import { makeModel } from '../../../train/testkit';

test('kd with two teachers: KD term = kdWeight · mean of the per-teacher T²·KL terms', () => tidy(() => {
  manualSeed(4);
  const student = makeModel('tiny_cnn'), t1 = makeModel('tiny_cnn'), t2 = makeModel('tiny_cnn');
  const x = randn([6, 1, 28, 28]), y = randint(0, 10, [6]);
  const o = { temperature: 2, ceWeight: 0.5, kdWeight: 0.5 };
  const ctx = (teachers: any[]) => ({ student, teachers, numClasses: 10, imgSize: 28, inChans: 1 });
  const two = createDistiller('kd', ctx([t1, t2]), o);
  const one = createDistiller('kd', ctx([t1]), o);
  for (const d of [two, one]) d.eval();
  const ctx0 = { step: 0, epoch: 0, totalEpochs: 1, stepsPerEpoch: 1 };
  const s = student.call(x);
  const expect2 = hintonKd(s, t1.call(x), 2).add(hintonKd(s, t2.call(x), 2)).mul(0.5 * 0.5).item();
  const expect1 = hintonKd(s, t1.call(x), 2).mul(0.5).item();
  const got2 = two.trainStep({ x, y }, ctx0).terms.kd.item();
  const got1 = one.trainStep({ x, y }, ctx0).terms.kd.item();
  assert.ok(Math.abs(got2 - expect2) <= 1e-6 * Math.abs(expect2), `${got2} vs ${expect2}`);
  assert.ok(Math.abs(got1 - expect1) <= 1e-6 * Math.abs(expect1), `${got1} vs ${expect1}`);
  assert.notEqual(got1.toFixed(6), got2.toFixed(6), 'two different teachers give a different term than one');
  assert.throws(() => createDistiller('kd', ctx([])), /method 'kd' needs 1–8 teacher\(s\), got 0/);
}));
