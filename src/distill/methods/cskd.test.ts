// CSKD grid alignment beyond the 1:1 case the training test covers: the student's patch logits
// are pooled to the teacher's dense grid with kernel = grid ratio (8×8 → 1×1 for an ImageNet
// ResNet at 32 px), or adaptively when the ratio is not an integer; the golden covers 4×4 → 2×2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDistiller } from '../registry';
import { createModel } from '../../models/registry';
import { randn, randint, tidy, F } from '../../tensor';
import { cskdDense } from '../losses/crossarch';
import { denseTeacherLogits } from './crossarch/cskd';
import '../index';
import '../../models';

test('cskd: dense teacher logits average to the ordinary logits', () => {
  tidy(() => {
    const t = createModel('resnet8', { numClasses: 10, inChans: 3 }).eval();
    const x = randn([3, 3, 32, 32]);
    const { dense, global } = denseTeacherLogits(t, x);
    assert.deepEqual(dense.shape, [3, 10, 8, 8]);
    assert.ok(global.sub(t.call(x)).abs().max().item() < 1e-4);
  });
});

test('cskd: integer grid ratio 8 (ResNet-18 teacher at 32 px) and a non-integer ratio', () => {
  const student = createModel('deit_tiny_distilled', { numClasses: 10, imgSize: 32, patchSize: 4, inChans: 3, embedDim: 32, depth: 1, numHeads: 2 });
  const teacher = createModel('resnet18', { numClasses: 10, imgSize: 32 });
  const d = createDistiller('cskd', { student, teachers: [teacher], numClasses: 10, imgSize: 32, inChans: 3 }, { cskdType: 'soft', decay: 'cos' });
  tidy(() => {
    const out = d.trainStep({ x: randn([2, 3, 32, 32]), y: randint(0, 10, [2]) }, { step: 0, epoch: 3, totalEpochs: 10, stepsPerEpoch: 1 });
    assert.deepEqual(Object.keys(out.terms).sort(), ['base', 'cskd', 'deit']);
    for (const v of Object.values(out.terms)) assert.ok(Number.isFinite(v.item()));
    // 8×8 → 3×3 is not an integer ratio: adaptive pooling, same value as pooling by hand
    const s = randn([2, 64, 10]), t = randn([2, 10, 3, 3]);
    const o = { epoch: 0, maxEpoch: 10, decay: 'linear' as const, lossType: 'hard' as const, temperature: 1 };
    const byHand = F.cross_entropy(F.adaptive_avg_pool2d(s.permute(0, 2, 1).reshape(2, 10, 8, 8), [3, 3]), t.argmax(1));
    assert.ok(Math.abs(cskdDense(s, t, [8, 8], o).item() - byHand.item()) < 1e-6);
  });
  d.dispose();
});
