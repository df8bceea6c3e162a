// Cross-architecture methods, proved by wiring and values on untrained models in eval mode (no
// accuracy-after-N-steps bars): which teacher feeds which head (Co-advise binds by role, so a
// config listing the teachers the other way round gives the same terms), what each term is
// (checked against an independent computation), the no-teacher controls (labelsOnly), the
// read-outs. OFA's branch wiring is in ../ofa.test.ts, TAS's in tas.test.ts, CSKD's grid in ../cskd.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDistiller } from '../../registry';
import { createModel, Classifier } from '../../../models/registry';
import { Tensor, F, randn, randint, tidy, noGrad, manualSeed } from '../../../tensor';
import { hintonKd } from '../../losses/common';
import { CoAdvise, teacherRole } from './coadvise';
import { DeitDistiller } from './deit';
import '../../index';
import '../../../models';

const vit = (name: string) => createModel(name, { numClasses: 10, imgSize: 32, patchSize: 4, inChans: 1, embedDim: 24, depth: 2, numHeads: 2 });
const ctx = (student: Classifier, teachers: any[]) => ({ student, teachers, numClasses: 10, imgSize: 32, inChans: 1 });
manualSeed(0);
const cnn = createModel('resnet8', { numClasses: 10, inChans: 1 }).eval();
const cnnB = createModel('resnet8', { numClasses: 10, inChans: 1 }).eval();
const inn = createModel('rednet26', { numClasses: 10, inChans: 1, baseWidth: 32 }).eval();
const x = randn([4, 1, 32, 32]);
const y = randint(0, 10, [4]);
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-5, `${what}: ${a} vs ${b}`);
const heads = (d: CoAdvise) => noGrad(() => (d.student as any).forwardHeads(x) as { cls: Tensor; conv: Tensor; inv: Tensor });

test('teacher roles are recognised from the models', () => {
  assert.equal(teacherRole(cnn), 'cnn');
  assert.equal(teacherRole(inn), 'inn');
  assert.equal(teacherRole({ name: 'ts', logits: (z: Tensor) => z }), null);
});

test('coadvise binds teachers by role: CNN → conv head, INN → inv head, in either listed order', () => {
  const student = vit('civt_tiny');
  const a = createDistiller('coadvise', ctx(student, [cnn, inn]), {}) as CoAdvise;
  a.eval();
  const ta = tidy(() => Object.fromEntries(Object.entries(a.trainStep({ x, y }).terms).map(([k, v]) => [k, v.item()])));
  const h = heads(a);
  // independent values: KL of each head against the teacher of its role, CE with smoothing 0.1
  const tc = noGrad(() => cnn.call(x)), ti = noGrad(() => inn.call(x));
  close(ta.kd_conv, hintonKd(h.conv, tc, 1).item(), 'kd_conv = KL(conv head ‖ CNN)');
  close(ta.kd_inv, hintonKd(h.inv, ti, 1).item(), 'kd_inv = KL(inv head ‖ INN)');
  close(ta.ce, F.cross_entropy(h.cls, y, { label_smoothing: 0.1 }).item(), 'ce = CE(cls, labels, smoothing 0.1)');
  assert.ok(Math.abs(ta.ce - F.cross_entropy(h.cls, y).item()) > 1e-4, 'label smoothing changes the CE');
  // the other way round: same heads, same teachers, same terms
  const b = new CoAdvise(student, [inn, cnn], { ...(a.o), roles: 'auto' });
  b.eval();
  assert.equal(b.convTeacher, cnn);
  assert.equal(b.invTeacher, inn);
  const tb = tidy(() => Object.fromEntries(Object.entries(b.trainStep({ x, y }).terms).map(([k, v]) => [k, v.item()])));
  for (const k of ['ce', 'kd_conv', 'kd_inv']) close(tb[k], ta[k], `${k} with the teachers listed [inn, cnn]`);
  // read-out: mean of the three heads (the official code)
  close(noGrad(() => a.predict(x).sub(h.cls.add(h.conv).add(h.inv).div(3)).abs().max().item()), 0, 'mean3 read-out');
});

test('coadvise roles: two CNNs go in order (Table 5 ✓✓); explicit roles are checked; TorchScript teachers need them', () => {
  const two = createDistiller('coadvise', ctx(vit('civt_tiny'), [cnn, cnnB]), {}) as CoAdvise;
  assert.equal(two.convTeacher, cnn);
  assert.equal(two.invTeacher, cnnB);
  assert.throws(() => createDistiller('coadvise', ctx(vit('civt_tiny'), [cnn, inn]), { roles: 'inn,cnn' }),
    /roles\.0: 'inn' but teacher 1 \(CifarResNet\) is a CNN/);
  const ts = { name: 'inn.pt', logits: (z: Tensor) => inn.call(z) };
  assert.throws(() => createDistiller('coadvise', ctx(vit('civt_tiny'), [ts, cnn]), {}), /cannot tell whether teacher 1 \(inn\.pt\).*give options\.roles/);
  const ok = createDistiller('coadvise', ctx(vit('civt_tiny'), [ts, cnn]), { roles: 'inn,cnn' }) as CoAdvise;
  assert.equal(ok.convTeacher, cnn);
  assert.equal(ok.invTeacher, ts);
});

test('coadvise labelsOnly: no teachers, every head on the labels (smoothed CE), same read-out', () => {
  const d = createDistiller('coadvise', ctx(vit('civt_tiny'), []), { labelsOnly: true }) as CoAdvise;
  d.eval();
  const t = tidy(() => Object.fromEntries(Object.entries(d.trainStep({ x, y }).terms).map(([k, v]) => [k, v.item()])));
  const h = heads(d);
  assert.deepEqual(Object.keys(t).sort(), ['ce', 'ce_conv', 'ce_inv']);
  close(t.ce, F.cross_entropy(h.cls, y, { label_smoothing: 0.1 }).item(), 'ce');
  close(t.ce_conv, F.cross_entropy(h.conv, y, { label_smoothing: 0.1 }).item(), 'ce_conv');
  close(t.ce_inv, F.cross_entropy(h.inv, y, { label_smoothing: 0.1 }).item(), 'ce_inv');
  assert.throws(() => createDistiller('coadvise', ctx(vit('civt_tiny'), [cnn]), {}), /needs 2 teachers.*got 1/);
  assert.throws(() => createDistiller('coadvise', ctx(vit('civt_tiny'), [cnn, inn]), { labelsOnly: true }), /labelsOnly.*remove the 2 teacher/);
});

test('deit: the distillation head learns from the teacher\'s argmax (hard) or from the labels (labelsOnly)', () => {
  const student = vit('deit_tiny_distilled');
  const d = createDistiller('deit', ctx(student, [cnn]), {}) as DeitDistiller;
  d.eval();
  const hh = noGrad(() => (student as any).forwardHeads(x) as { cls: Tensor; dist: Tensor });
  const t = tidy(() => Object.fromEntries(Object.entries(d.trainStep({ x, y }).terms).map(([k, v]) => [k, v.item()])));
  close(t.distill, 0.5 * F.cross_entropy(hh.dist, noGrad(() => cnn.call(x)).argmax(1)).item(), 'distill = α·CE(dist, teacher argmax)');
  close(t.base, 0.5 * F.cross_entropy(hh.cls, y, { label_smoothing: 0.1 }).item(), 'base = (1-α)·CE(cls, labels)');
  const c = createDistiller('deit', ctx(student, []), { labelsOnly: true }) as DeitDistiller;
  c.eval();
  const tc = tidy(() => Object.fromEntries(Object.entries(c.trainStep({ x, y }).terms).map(([k, v]) => [k, v.item()])));
  close(tc.distill, 0.5 * F.cross_entropy(hh.dist, y, { label_smoothing: 0.1 }).item(), 'labelsOnly: distill = α·CE(dist, labels)');
  close(tc.base, t.base, 'labelsOnly keeps the class head\'s term');
  close(noGrad(() => d.predict(x).sub(hh.cls.add(hh.dist).div(2)).abs().max().item()), 0, 'mean read-out');
  assert.throws(() => createDistiller('deit', ctx(vit('deit_tiny_distilled'), []), {}), /deit: needs 1 teacher, got 0/);
});

test('bad method setups are clear errors', () => {
  assert.throws(() => createDistiller('coadvise', ctx(vit('deit_tiny'), [cnn, inn]), {}), /student must be a CivT/);
  assert.throws(() => createDistiller('deit', ctx(vit('deit_tiny_distilled'), [cnn]), { type: 'medium' }), /options\.type: expected one of 'hard', 'soft', got 'medium'/);
  assert.throws(() => createDistiller('coadvise', ctx(vit('civt_tiny'), [cnn, inn]), { roles: 'cnn,rnn' }), /options\.roles/);
  assert.throws(() => createDistiller('ofa', ctx(vit('deit_tiny'), [cnn]), { stages: [9] }), /stage 9 does not exist/);
});
