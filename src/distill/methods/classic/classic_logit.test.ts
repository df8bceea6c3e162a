// Logit-level classic methods by wiring and values: each named term of one training step equals
// the method's loss (each checked against PyTorch by the conformance goldens,
// ../shared/golden/losses.json) applied to tensors computed here independently — the student's and
// the teacher's logits on the batch — with the method's weights. A method that fed the wrong
// tensor, the wrong teacher, the wrong weight or the wrong reduction fails here, where an
// accuracy bar after N steps let it pass. Models are untrained: wiring needs no accuracy.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import '../../index';
import { createDistiller } from '../../registry';
import { F, Tensor, tidy, noGrad, fromTypedArray, manualSeed } from '../../../tensor';
import { loadData, batcher, makeModel, assertGradientsFlow } from '../../../train/testkit';
import { pairedClassBatches } from './cs_kd';
import { takdChain } from '../../../train/schemes';
import { hintonKd, dkdTerms, labelSmoothingLoss, csKdLoss, ensembleTeacher, tfkdVirtualTerms } from '../../losses/classic';
import type { Distiller, DistillBatch, StepContext } from '../../distiller';
import type { Classifier } from '../../../models/registry';
import type { KDCL } from './kdcl';

const d = loadData(6, 2);
manualSeed(21);
const teacher = makeModel('resnet14');
teacher.eval();
const b: DistillBatch = batcher(d, 16, 1)(0);
const ctx = (student: Classifier, teachers: Classifier[] = [teacher]) => ({ student, teachers, numClasses: 10, imgSize: 28, inChans: 1 });
const step = (epoch = 0): StepContext => ({ step: 0, epoch, totalEpochs: 10, stepsPerEpoch: 10 });

/** The step's terms (train mode), and the expected ones computed from the same weights. */
function compare(name: string, dist: Distiller, want: (z: Tensor, t: Tensor) => Record<string, number>, batch = b, ctx = step()): void {
  tidy(() => {
    dist.train();
    const out = dist.trainStep(batch, ctx);
    const got = Object.fromEntries(Object.entries(out.terms).map(([k, v]) => [k, v.item()]));
    const exp = noGrad(() => want(dist.student.call(batch.x), (dist.teachers[0] as Classifier | undefined)?.call(batch.x) ?? null as any));
    assert.deepEqual(Object.keys(got).sort(), Object.keys(exp).sort(), `${name}: terms`);
    for (const k of Object.keys(exp)) assert.ok(Math.abs(got[k] - exp[k]) <= 1e-5 * Math.max(1e-3, Math.abs(exp[k])), `${name}: term ${k} = ${got[k]}, expected ${exp[k]}`);
  });
  assertGradientsFlow(name, dist, batch, ctx);
}


test('kd: 0.1·CE + 0.9·T²·KL(teacher ‖ student) at T 4, batchmean; several teachers: the mean of their KD terms', () => {
  compare('kd', createDistiller('kd', ctx(makeModel('resnet8'))), (z, t) => ({ ce: 0.1 * F.cross_entropy(z, b.y).item(), kd: 0.9 * hintonKd(z, t, 4, 'batchmean').item() }));
  const second = makeModel('resnet8');
  second.eval();
  const dist = createDistiller('kd', ctx(makeModel('resnet8'), [teacher, second]), { ceWeight: 0.5, kdWeight: 2, temperature: 2 });
  compare('kd×2', dist, (z, t) => ({ ce: 0.5 * F.cross_entropy(z, b.y).item(), kd: 2 * (hintonKd(z, t, 2).item() + hintonKd(z, second.call(b.x), 2).item()) / 2 }));
});

test('dkd: CE + warm-up·(α·TCKD + β·NCKD), the warm-up linear over warmupEpochs', () => {
  const dist = createDistiller('dkd', ctx(makeModel('resnet8')), { warmupEpochs: 4 });
  for (const epoch of [0, 2, 7]) {
    const w = Math.min((epoch + 1) / 4, 1);
    compare(`dkd epoch ${epoch}`, dist, (z, t) => {
      const { tckd, nckd } = dkdTerms(z, t, b.y, 4);
      return { ce: F.cross_entropy(z, b.y).item(), tckd: w * tckd.item(), nckd: w * 8 * nckd.item() };
    }, b, step(epoch));
  }
});

test('label smoothing: the smoothed CE of the student alone (no teacher)', () => {
  compare('ls', createDistiller('label_smoothing', ctx(makeModel('resnet8'), [])), (z) => ({ ce: labelSmoothingLoss(z, b.y, 0.1, 'overAll').item() }));
  compare('ls others', createDistiller('label_smoothing', ctx(makeModel('resnet8'), []), { variant: 'overOthers', epsilon: 0.2 }), (z) => ({ ce: labelSmoothingLoss(z, b.y, 0.2, 'overOthers').item() }));
});

test('tfkd: virtual teacher from the labels; self mode distils from the given (pretrained) copy', () => {
  const v = createDistiller('tfkd', ctx(makeModel('resnet8'), []), { mode: 'virtual' }) as any;
  compare('tfkd virtual', v, (z) => {
    const { ce, kl } = tfkdVirtualTerms(z, b.y, { alpha: v.o.alpha, temperature: v.o.temperature, multiplier: v.o.multiplier, correctProb: v.o.correctProb });
    return { ce: ce.item(), kd: kl.item() };
  });
  const self = makeModel('resnet8');
  self.eval();
  const s = createDistiller('tfkd', ctx(makeModel('resnet8'), [self]), { mode: 'self' }) as any;
  compare('tfkd self', s, (z, t) => ({ ce: (1 - 0.95) * F.cross_entropy(z, b.y).item(), kd: 0.95 * 50 * hintonKd(z, t, 6, s.o.reduction).item() }));
});

test('cs_kd: CE on the B base samples, λ·T²·KL from their B same-class partners (no gradient through the partners)', () => {
  const it = pairedClassBatches(d.labels, 8, 5);
  const idx = it.next().value as Int32Array;
  assert.equal(idx.length, 16);
  for (let i = 0; i < 8; i++) assert.equal(d.labels[idx[8 + i]], d.labels[idx[i]], `pair ${i} is of the same class`);
  const t = fromTypedArray(idx).to('int64');
  const pb = { x: d.x.indexSelect(0, t), y: d.y.indexSelect(0, t) };
  const dist = createDistiller('cs_kd', ctx(makeModel('resnet8'), []), { lambda: 2 });
  tidy(() => {
    dist.train();
    const got = Object.fromEntries(Object.entries(dist.trainStep(pb, step()).terms).map(([k, v]) => [k, v.item()]));
    // the base half and the partner half go through the student separately (CS-KD train.py), each with its own BN statistics
    const want = noGrad(() => {
      const zb = dist.student.call(pb.x.narrow(0, 0, 8)), zp = dist.student.call(pb.x.narrow(0, 8, 8));
      return { ce: F.cross_entropy(zb, pb.y.narrow(0, 0, 8)).item(), cls: 2 * csKdLoss(zb, zp, 4).item() };
    });
    assert.deepEqual(Object.keys(got).sort(), ['ce', 'cls']);
    for (const k of ['ce', 'cls'] as const) assert.ok(Math.abs(got[k] - want[k]) <= 1e-5 * Math.abs(want[k]), `cs_kd: ${k} = ${got[k]}, expected ${want[k]}`);
  });
  assertGradientsFlow('cs_kd', dist, pb, step());
});

test('takd: one hop is (1−λ)·CE + λ·T²·KL_mean; the chain teaches each hop from the previous (frozen) model', () => {
  compare('takd hop', createDistiller('takd', ctx(makeModel('resnet8'))), (z, t) => ({ ce: 0.5 * F.cross_entropy(z, b.y).item(), kd: 0.5 * hintonKd(z, t, 5, 'mean').item() }));
  const hops = [makeModel('resnet8'), makeModel('resnet8')];
  const seen: { hop: number; teacher: unknown; student: unknown; teacherTraining: boolean }[] = [];
  const out = takdChain(teacher, hops.map((model) => ({ model, lambda: 0.5, temperature: 5 })), (dist, hop) => {
    const t = dist.teachers[0] as Classifier;
    seen.push({ hop, teacher: t, student: dist.student, teacherTraining: (t as any).training });
  });
  assert.deepEqual(seen.map((s) => s.hop), [0, 1]);
  assert.equal(seen[0].teacher, teacher);
  assert.equal(seen[0].student, hops[0]);
  assert.equal(seen[1].teacher, hops[0], 'the second hop learns from the first hop');
  assert.equal(seen[1].student, hops[1]);
  assert.ok(seen.every((s) => !s.teacherTraining), 'each hop\'s teacher is in eval mode');
  assert.deepEqual(out, hops);
});

for (const mode of ['minLogit', 'naive', 'linear'] as const) {
  test(`kdcl ${mode}: every student gets CE and λ·T²·KL to the ensemble teacher of all students`, () => {
    const dist = createDistiller('kdcl', ctx(makeModel('resnet8'), []), { mode, peers: ['resnet8'], flip: false, lambda: 1.5 }) as KDCL;
    assert.equal(dist.students.length, 2);
    tidy(() => {
      dist.train();
      const got = Object.fromEntries(Object.entries((dist as Distiller).trainStep(b, step()).terms).map(([k, v]) => [k, v.item()]));
      // the linear ensemble fits its own weights by gradient descent: outside noGrad, on detached logits
      const zs = noGrad(() => dist.students.map((s) => s.call(b.x) as Tensor));
      const t = ensembleTeacher(zs, b.y, mode).detach();
      const want = noGrad(() => {
        return Object.fromEntries(zs.flatMap((z, i) => [[`ce_${i}`, F.cross_entropy(z, b.y).item()], [`kd_${i}`, 1.5 * hintonKd(z, t, 2).item()]]));
      });
      assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
      for (const k of Object.keys(want)) assert.ok(Math.abs(got[k] - want[k]) <= 1e-4 * Math.max(1e-3, Math.abs(want[k])), `kdcl ${mode}: ${k} = ${got[k]}, expected ${want[k]}`);
    });
    assertGradientsFlow(`kdcl ${mode}`, dist, b, step());
  });
}
