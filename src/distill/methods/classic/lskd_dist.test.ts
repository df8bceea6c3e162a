// LSKD (the logitStand switch of kd and dkd) and DIST: wiring and values on fixed tensors. The
// losses' values against PyTorch are the golden cases kd_lskd and dist (conformance/cases).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../index';
import { createDistiller, methodDefaults } from '../../registry';
import { hintonKd, dkdTerms, distTerms } from '../../losses/classic';
import { standardizeLogits } from '../../losses/common';
import { randn, randint, manualSeed, tidy, Tensor } from '../../../tensor';
import { makeModel } from '../../../train/testkit';

const ctx0 = { step: 0, epoch: 0, totalEpochs: 1, stepsPerEpoch: 1 };
const close = (got: number, want: number, what: string) => assert.ok(Math.abs(got - want) <= 1e-5 * Math.max(1, Math.abs(want)), `${what}: ${got} vs ${want}`);

/** A teacher whose logits are a fixed affine map of another model's: a·z + b (per-sample shift b). */
const affineTeacher = (m: { call(x: Tensor): Tensor }, a: number, b: number) => ({ name: 'affine', logits: (x: Tensor) => m.call(x).mul(a).add(b) });

test('standardizeLogits: zero mean, unit (unbiased) std per row, matching a hand computation', () => tidy(() => {
  const z = randn([3, 7]).mul(4).add(2);
  const s = standardizeLogits(z);
  const row = Array.from(z.narrow(0, 1, 1).toFloat64Array());
  const mean = row.reduce((a, v) => a + v, 0) / row.length;
  const std = Math.sqrt(row.reduce((a, v) => a + (v - mean) ** 2, 0) / (row.length - 1));
  Array.from(s.narrow(0, 1, 1).toFloat64Array()).forEach((v, k) => close(v, (row[k] - mean) / (1e-7 + std), `element ${k}`));
}));

test('kd logitStand: the KD term is Hinton KD on z-scored logits, blind to a teacher\'s scale and shift', () => tidy(() => {
  manualSeed(11);
  const student = makeModel('tiny_cnn'), base = makeModel('tiny_cnn');
  for (const m of [student, base]) m.eval();
  const x = randn([6, 1, 28, 28]), y = randint(0, 10, [6]);
  const mk = (teacher: any, logitStand: boolean) => {
    const d = createDistiller('kd', { student, teachers: [teacher], numClasses: 10, imgSize: 28, inChans: 1 }, { logitStand, temperature: 2, kdWeight: 1, ceWeight: 1 });
    d.eval();
    return d;
  };
  assert.equal(methodDefaults('kd').logitStand, false);
  const s = student.call(x), t = base.call(x);
  const want = hintonKd(standardizeLogits(s), standardizeLogits(t), 2).item();
  const got = mk(base, true).trainStep({ x, y }, ctx0).terms;
  close(got.kd.item(), want, 'lskd term');
  // CE keeps the raw logits (as the official KD.py)
  close(got.ce.item(), mk(base, false).trainStep({ x, y }, ctx0).terms.ce.item(), 'ce');
  // z-scoring removes a teacher's temperature-like scale and shift; plain KD sees them
  const scaled = affineTeacher(base, 3, 5);
  close(mk(scaled, true).trainStep({ x, y }, ctx0).terms.kd.item(), want, 'lskd with a scaled teacher');
  const plain = mk(base, false).trainStep({ x, y }, ctx0).terms.kd.item();
  const plainScaled = mk(scaled, false).trainStep({ x, y }, ctx0).terms.kd.item();
  assert.ok(Math.abs(plain - plainScaled) > 0.05 * plain, `plain KD should change with the teacher's scale (${plain} vs ${plainScaled})`);
  assert.ok(Math.abs(plain - want) > 1e-3, 'the switch changes the term');
}));

test('dkd logitStand: TCKD and NCKD are computed on z-scored logits', () => tidy(() => {
  manualSeed(12);
  const student = makeModel('tiny_cnn'), teacher = makeModel('tiny_cnn');
  for (const m of [student, teacher]) m.eval();
  const x = randn([6, 1, 28, 28]), y = randint(0, 10, [6]);
  const d = createDistiller('dkd', { student, teachers: [teacher], numClasses: 10, imgSize: 28, inChans: 1 }, { logitStand: true, warmupEpochs: 0 });
  d.eval();
  const { tckd, nckd } = dkdTerms(standardizeLogits(student.call(x)), standardizeLogits(teacher.call(x)), y, 4);
  const got = d.trainStep({ x, y }, ctx0).terms;
  close(got.tckd.item(), tckd.item(), 'tckd');
  close(got.nckd.item(), 8 * nckd.item(), 'nckd (β 8)');
}));

test('dist: CIFAR defaults, terms β·T²·inter and γ·T²·intra; identical logits give zero relation loss', () => tidy(() => {
  manualSeed(13);
  assert.deepEqual(methodDefaults('dist'), { ceWeight: 1, beta: 2, gamma: 2, temperature: 4 });
  const student = makeModel('tiny_cnn'), teacher = makeModel('tiny_cnn');
  for (const m of [student, teacher]) m.eval();
  const x = randn([8, 1, 28, 28]), y = randint(0, 10, [8]);
  const mk = (t: any, o: Record<string, unknown> = {}) => {
    const d = createDistiller('dist', { student, teachers: [t], numClasses: 10, imgSize: 28, inChans: 1 }, o);
    d.eval();
    return d.trainStep({ x, y }, ctx0).terms;
  };
  const { inter, intra } = distTerms(student.call(x), teacher.call(x), 4);
  const got = mk(teacher);
  close(got.inter.item(), 2 * inter.item(), 'inter');
  close(got.intra.item(), 2 * intra.item(), 'intra');
  assert.ok(inter.item() > 1e-3 && intra.item() > 1e-3, 'two different nets are not perfectly correlated');
  // identical, well-spread logits: both Pearson correlations are 1, up to the 1e-8 eps (an untrained
  // net's near-uniform softmax has columns so flat that the eps dominates, hence raw logits here)
  const z = randn([8, 10]).mul(3);
  const self = distTerms(z, z, 1);
  assert.ok(Math.abs(self.inter.item()) < 1e-5 && Math.abs(self.intra.item()) < 1e-5, `self-relation ${self.inter.item()} ${self.intra.item()}`);
  assert.throws(() => createDistiller('dist', { student, teachers: [], numClasses: 10, imgSize: 28, inChans: 1 }), /method 'dist' needs 1 teacher\(s\), got 0/);
}));
