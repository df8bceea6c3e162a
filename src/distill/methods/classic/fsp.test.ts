// FSP's two phases as RepDistiller runs them (train_student.py + helper/pretrain.py), by wiring and
// values: the init phase trains the student's feature modules alone (the classifier stays byte for
// byte), on the plain sum of the FSP losses (no β), with its own SGD at a constant learning rate,
// for initEpochs; the main phase is CE alone under the main schedule, which starts at its own step 0.
// Teacher and student are untrained (resnet14 → resnet8, equal widths): wiring needs no accuracy.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import '../../index';
import { createDistiller, methodDefaults } from '../../registry';
import { F, Tensor, tidy, noGrad, manualSeed } from '../../../tensor';
import { loadData, batcher, makeModel } from '../../../train/testkit';
import { fit } from '../../../train/fit';
import { fspLoss } from '../../losses/classic';
import type { Classifier } from '../../../models/registry';
import type { DistillBatch } from '../../distiller';

const d = loadData(6, 2);
manualSeed(5);
const teacher = makeModel('resnet14');
teacher.eval();
const next = batcher(d, 16, 3);
const batches: DistillBatch[] = Array.from({ length: 4 }, (_, i) => next(i));
const ctx = (student: Classifier) => ({ student, teachers: [teacher], numClasses: 10, imgSize: 28, inChans: 1 });
const bytes = (t: Tensor) => Buffer.from((tidy(() => t.detach().clone().toTypedArray()) as Float32Array).buffer);
const snapshot = (m: Classifier) => new Map([...m.namedParameters()].map(([k, p]) => [k, bytes(p)]));

/** Stem + stage outputs of a CIFAR ResNet, walked by hand (not through civet's taps). */
function cifarFeatures(m: Classifier, x: Tensor): Tensor[] {
  const sub = (n: string) => m.getSubmodule(n) as any;
  const f0 = sub('relu').call(sub('bn1').call(sub('conv1').call(x)));
  const f1 = sub('layer1').call(f0), f2 = sub('layer2').call(f1), f3 = sub('layer3').call(f2);
  return [f0, f1, f2, f3];
}

test('fsp defaults are the official ones; β is gone (loops.py never applies it to FSP)', () => {
  assert.deepEqual(methodDefaults('fsp'), { initEpochs: 30, initLr: 0.05, initMomentum: 0.9, initWeightDecay: 5e-4, ceWeight: 1, kdWeight: 0, temperature: 4 });
  assert.throws(() => createDistiller('fsp', ctx(makeModel('resnet8')), { beta: 50 }), /unknown key 'beta'/);
  assert.equal(createDistiller('fsp', ctx(makeModel('resnet8')), { initEpochs: 0 }).initPhase(), null);
});

test('fsp init phase: feature modules only, plain FSP sum, own constant-lr SGD, initEpochs × stepsPerEpoch steps', () => {
  manualSeed(11);
  const student = makeModel('resnet8');
  const dist = createDistiller('fsp', ctx(student), { initEpochs: 3, initLr: 0.02 });
  // the expected first loss, computed independently on the untouched weights (train mode, as the phase runs)
  const want = tidy(() => noGrad(() => {
    student.train();
    const fs = cifarFeatures(student, batches[0].x);
    const ft = cifarFeatures(teacher, batches[0].x);
    return fspLoss(fs, ft).item();
  }));
  const before = snapshot(student);
  const seen: { phase: string; lr: number; terms: string[] }[] = [];
  const hist = fit(dist, (i) => batches[i % batches.length], {
    steps: 0, lr: 0.1, schedule: 'cosine', stepsPerEpoch: 4,
    onStep: (_s, terms, info) => seen.push({ phase: info.phase, lr: info.lr, terms: Object.keys(terms) }),
  });
  // 3 epochs of 4 steps, all in the init phase, at its own constant learning rate, one term 'fsp'
  assert.equal(seen.length, 12);
  for (const s of seen) assert.deepEqual(s, { phase: 'fsp init', lr: 0.02, terms: ['fsp'] });
  // the term is the plain sum of FSP losses (the old code multiplied it by β = 50)
  assert.ok(Math.abs(hist.fsp[0] - want) <= 1e-5 * Math.abs(want), `first fsp term ${hist.fsp[0]} vs plain Σ FSP ${want}`);
  // the classifier is untouched, byte for byte; every feature module's weight moved
  const after = snapshot(student);
  for (const [k, b] of before) {
    if (k.startsWith('fc.')) assert.ok(b.equals(after.get(k)!), `classifier parameter ${k} changed in the init phase`);
  }
  for (const k of ['conv1.weight', 'bn1.weight', 'layer1.0.conv1.weight', 'layer2.0.conv2.weight', 'layer3.0.conv2.weight']) {
    assert.ok(!before.get(k)!.equals(after.get(k)!), `feature parameter ${k} did not change in the init phase`);
  }
});

test('fsp main phase: CE alone (named terms), the main schedule from its own step 0, the classifier trains', () => {
  manualSeed(12);
  const student = makeModel('resnet8');
  const dist = createDistiller('fsp', ctx(student), { initEpochs: 1 });
  // at the main phase's epoch 0 the step is CE alone, equal to cross-entropy of the student's logits
  const got = tidy(() => {
    dist.train();
    const out = dist.trainStep(batches[1], { step: 0, epoch: 0, totalEpochs: 2, stepsPerEpoch: 4 });
    return { keys: Object.keys(out.terms), ce: out.terms.ce?.item() };
  });
  assert.deepEqual(got.keys, ['ce']);
  const ce = tidy(() => noGrad(() => F.cross_entropy(student.call(batches[1].x), batches[1].y).item()));
  assert.ok(Math.abs(got.ce! - ce) <= 1e-5 * ce, `ce term ${got.ce} vs cross-entropy ${ce}`);

  const fc0 = snapshot(student);
  const seen: { phase: string; lr: number; terms: string[] }[] = [];
  fit(dist, (i) => batches[i % batches.length], {
    steps: 4, lr: 0.1, schedule: 'cosine', stepsPerEpoch: 4,
    onStep: (_s, terms, info) => seen.push({ phase: info.phase, lr: info.lr, terms: Object.keys(terms) }),
  });
  assert.deepEqual(seen.map((s) => s.phase), ['fsp init', 'fsp init', 'fsp init', 'fsp init', 'main', 'main', 'main', 'main']);
  const main = seen.filter((s) => s.phase === 'main');
  for (const s of main) assert.deepEqual(s.terms, ['ce']);
  // cosine over the 4 main steps, starting at its own step 0 (lr 0.1): the init steps do not advance it
  main.forEach((s, i) => assert.ok(Math.abs(s.lr - 0.1 * 0.5 * (1 + Math.cos(Math.PI * i / 4))) < 1e-12, `main lr ${i}: ${s.lr}`));
  assert.ok(!fc0.get('fc.weight')!.equals(snapshot(student).get('fc.weight')!), 'the classifier trains in the main phase');
});
