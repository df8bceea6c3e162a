// Feature-based classic methods by wiring and values: the named terms of one training step equal
// the method's loss (checked against PyTorch by the conformance goldens) on features taken here
// by walking the CIFAR ResNets by hand — stem, layer1..3, the pooled penultimate feature — at the
// taps RepDistiller uses (feat[1:-1] for AT, feat[-2] for SP, feat[-1] for RKD/PKT/CRD,
// feat[hint_layer] for FitNets), with the method's weights. A method that tapped the wrong layer,
// teacher or weight fails here. FSP's phases: fsp.test.ts; OFD's margin: ofd.test.ts.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import '../../index';
import { createDistiller } from '../../registry';
import { F, Tensor, tidy, noGrad, manualSeed } from '../../../tensor';
import { loadData, batcher, makeModel, assertGradientsFlow } from '../../../train/testkit';
import { atLoss, spLoss, rkdTerms, pktLoss } from '../../losses/classic';
import type { Distiller, DistillBatch } from '../../distiller';
import type { Classifier } from '../../../models/registry';
import type { CRD } from './crd';
import type { FitNets } from './fitnets';

const d = loadData(6, 2);
manualSeed(31);
const teacher = makeModel('resnet14');   // the same widths as resnet8, more blocks
teacher.eval();
const b: DistillBatch = batcher(d, 16, 2)(0);
const ctx = () => ({ student: makeModel('resnet8'), teachers: [teacher], numClasses: 10, imgSize: 28, inChans: 1 });

/** Stem, layer1..3 outputs and the pooled penultimate feature of a CIFAR ResNet, by hand. */
function walk(m: Classifier, x: Tensor): { f: Tensor[]; pen: Tensor; logits: Tensor } {
  const sub = (n: string) => m.getSubmodule(n) as any;
  const f0 = sub('relu').call(sub('bn1').call(sub('conv1').call(x)));
  const f1 = sub('layer1').call(f0), f2 = sub('layer2').call(f1), f3 = sub('layer3').call(f2);
  const pen = F.adaptive_avg_pool2d(f3, 1).flatten(1);
  return { f: [f0, f1, f2, f3], pen, logits: sub('fc').call(pen) };
}

function compare(name: string, dist: Distiller, want: (s: ReturnType<typeof walk>, t: ReturnType<typeof walk>) => Record<string, number>): void {
  tidy(() => {
    dist.train();
    const got = Object.fromEntries(Object.entries(dist.trainStep(b, { step: 0, epoch: 0, totalEpochs: 1, stepsPerEpoch: 1 }).terms).map(([k, v]) => [k, v.item()]));
    const exp = noGrad(() => want(walk(dist.student, b.x), walk(teacher, b.x)));
    assert.deepEqual(Object.keys(got).sort(), Object.keys(exp).sort(), `${name}: terms`);
    for (const k of Object.keys(exp)) assert.ok(Math.abs(got[k] - exp[k]) <= 1e-4 * Math.max(1e-6, Math.abs(exp[k])), `${name}: term ${k} = ${got[k]}, expected ${exp[k]}`);
  });
  assertGradientsFlow(name, dist, b, { step: 0, epoch: 0, totalEpochs: 1, stepsPerEpoch: 1 });
}

const ce = (s: ReturnType<typeof walk>) => F.cross_entropy(s.logits, b.y).item();

test('the hand walk is the model: its logits are the student\'s', () => tidy(() => noGrad(() => {
  const m = makeModel('resnet8');
  m.eval();
  assert.ok(walk(m, b.x).logits.sub(m.call(b.x)).abs().max().item() < 1e-5);
})));

test('at: CE + β·Σ over layer1..3 (feat[1:-1]) of the attention loss, β 1000, p 2', () => {
  compare('at', createDistiller('at', ctx()), (s, t) => ({ ce: ce(s), at: 1000 * [1, 2, 3].reduce((a, i) => a + atLoss(s.f[i], t.f[i], 2, 'code').item(), 0) }));
  compare('at [-1]', createDistiller('at', ctx(), { layers: [-1], beta: 10 }), (s, t) => ({ ce: ce(s), at: 10 * atLoss(s.f[3], t.f[3], 2, 'code').item() }));
});

test('sp: CE + β·SP on the last stage output (feat[-2]), β 3000', () => {
  compare('sp', createDistiller('sp', ctx()), (s, t) => ({ ce: ce(s), sp: 3000 * spLoss(s.f[3], t.f[3]).item() }));
});

test('rkd: CE + 25·distance + 50·angle on the pooled penultimate features (feat[-1])', () => {
  compare('rkd', createDistiller('rkd', ctx()), (s, t) => {
    const r = rkdTerms(s.pen, t.pen);
    return { ce: ce(s), rkd_distance: 25 * r.distance.item(), rkd_angle: 50 * r.angle.item() };
  });
});

test('pkt: CE + 30000·PKT on the pooled penultimate features (feat[-1])', () => {
  compare('pkt', createDistiller('pkt', ctx()), (s, t) => ({ ce: ce(s), pkt: 30000 * pktLoss(s.pen, t.pen).item() }));
});

test('fitnets: 100·MSE(ConvReg(student layer2), teacher layer2) (hint_layer 2), CE; hintSteps: the hint alone first', () => {
  const dist = createDistiller('fitnets', ctx()) as FitNets;
  const hint = (s: ReturnType<typeof walk>, t: ReturnType<typeof walk>) => 100 * F.mse_loss(dist.regressor.call(s.f[2]), t.f[2]).item();
  compare('fitnets', dist, (s, t) => ({ ce: ce(s), hint: hint(s, t) }));
  const two = createDistiller('fitnets', ctx(), { hintSteps: 5 }) as FitNets;
  compare('fitnets stage 1', two, (s, t) => ({ hint: 100 * F.mse_loss(two.regressor.call(s.f[2]), t.f[2]).item() }));
});

for (const memory of ['queue', 'bank'] as const) {
  test(`crd (${memory}): embeddings of the penultimate features (64 → 128); the term trains the student and both embeddings, never the teacher`, () => {
    const dist = createDistiller('crd', ctx(), memory === 'bank' ? { memory, nceK: 16, numData: d.y.shape[0] } : { memory, nceK: 16 }) as CRD;
    if (memory === 'bank') dist.setLabels(d.labels);
    assert.deepEqual(dist.embedS.linear.weight.shape, [128, 64]);
    assert.deepEqual(dist.embedT.linear.weight.shape, [128, 64]);
    tidy(() => {
      dist.train();
      const out = (dist as Distiller).trainStep(b, { step: 0, epoch: 0, totalEpochs: 1, stepsPerEpoch: 1 });
      assert.deepEqual(Object.keys(out.terms).sort(), ['ce', 'crd']);
      const v = out.terms.crd.item();
      assert.ok(Number.isFinite(v) && v > 0, `crd term ${v}`);
      out.terms.crd.backward();
      const gradNorm = (t: Tensor) => (t.grad ? t.grad.abs().sum().item() : 0);
      assert.ok(gradNorm(dist.embedS.linear.weight) > 0, 'the student embedding gets a gradient');
      assert.ok(gradNorm(dist.embedT.linear.weight) > 0, 'the teacher embedding gets a gradient');
      assert.ok(gradNorm((dist.student.getSubmodule('conv1') as any).weight) > 0, 'the student gets a gradient');
      assert.ok([...teacher.parameters()].every((p) => p.grad === null), 'the teacher gets none');
      assert.equal(gradNorm((dist.student.getSubmodule('fc') as any).weight), 0, 'the classifier is not in the CRD term (it taps the penultimate feature)');
    });
  });
}
