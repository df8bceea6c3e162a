// BSS's base-sample selection on a constructed batch where teacher and student disagree: the
// official code (bhheo/BSS_distillation train_BSS_distillation.py, `attack_flag`) attacks the samples
// the TEACHER classifies correctly, whatever the student predicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../index';
import { createDistiller } from '../../registry';
import { tensor, tidy, manualSeed, randn } from '../../../tensor';
import { makeModel } from '../../../train/testkit';
import type { BSS } from './bss';

const bss = (attackSize: number) => createDistiller('bss', { student: makeModel('tiny_cnn'), teachers: [makeModel('tiny_cnn')], numClasses: 4, imgSize: 28, inChans: 1 }, { attackSize }) as BSS;

// four classes; row i is sample i, label y[i]
//   0: teacher right, student wrong   → attacked (the old "both right" rule skipped it)
//   1: both right                     → attacked
//   2: teacher wrong, student right   → not attacked
//   3: both wrong                     → not attacked
//   4: teacher right, student right, the two far apart → attacked
const y = () => tensor([0, 1, 2, 3, 0], { dtype: 'int64' });
const zt = () => tensor([[5, 0, 0, 0], [0, 5, 0, 0], [5, 0, 0, 0], [0, 0, 5, 0], [3, 2.9, 0, 0]]);
const zs = () => tensor([[0, 5, 0, 0], [0, 5, 0, 0], [0, 0, 5, 0], [5, 0, 0, 0], [9, 0, 0, 0]]);

test('bss attacks exactly the samples the teacher classifies correctly', () => tidy(() => {
  assert.deepEqual(bss(64).selectBase(zs(), zt(), y()), [0, 1, 4]);
}));

test('bss keeps the attackSize samples with the largest off-target teacher–student gap', () => tidy(() => {
  // off-target Σ(p_t − p_s)²: sample 0 (student puts its mass on class 1) ≫ sample 4 ≫ sample 1 (0)
  assert.deepEqual(bss(2).selectBase(zs(), zt(), y()), [0, 4]);
  assert.deepEqual(bss(1).selectBase(zs(), zt(), y()), [0]);
}));

test('bss trainStep: the boundary term exists while ratioAttack > 0 and vanishes after 75% of the epochs', () => tidy(() => {
  manualSeed(3);
  const d = createDistiller('bss', { student: makeModel('tiny_cnn'), teachers: [makeModel('tiny_cnn')], numClasses: 10, imgSize: 28, inChans: 1 }, { attackSize: 4, numSteps: 2 }) as BSS;
  d.train();
  const x = randn([8, 1, 28, 28]);
  // labels = the teacher's own predictions: every sample is a base sample
  const yt = (d.teachers[0] as any).call(x).argmax(1);
  const early = d.trainStep({ x, y: yt }, { step: 0, epoch: 0, totalEpochs: 8, stepsPerEpoch: 1 }).terms;
  assert.ok('bss' in early, 'boundary samples at epoch 1 of 8');
  // ratio = max(3(1 − e/E), 0) + 1 with e from 1: 4 − 3/8 at epoch 1; kd carries it
  const late = d.trainStep({ x, y: yt }, { step: 6, epoch: 6, totalEpochs: 8, stepsPerEpoch: 1 }).terms;
  assert.ok(!('bss' in late), 'ratioAttack = max(2(1 − 4/3·7/8), 0) = 0 at epoch 7 of 8');
}));
