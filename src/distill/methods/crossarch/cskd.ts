// CSKD (Zhao, Song, Liang, ICCV 2023; Zzzzz1/CSKD): DeiT's loss plus a dense term — the
// teacher's classifier applied at every position of its last feature map, the student's
// distillation head applied to every patch token, targets fused from local to global by the
// cumulative knowledge-fusion schedule. Inference: (cls + dist + mean patch prediction) / 3.
import { Tensor, F } from '../../../tensor';
import { Module } from '../../../nn/module';
import { Linear } from '../../../nn/layers';
import { Distiller, DistillBatch, StepContext, TrainOutput, Teacher } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, nonNegative, probability, fraction, oneOf, options } from '../../options';
import { classificationLoss } from '../../losses/common';
import { deitHard, deitSoft, cskdDense, CskdDecay } from '../../losses/crossarch';
import { requireDistilled } from './deit';
import { noGrad } from '../../../tensor';
import type { Classifier } from '../../../models/registry';

/** Dense logits [N, K, h, w] of a CNN teacher: its last feature map through its linear classifier at each position. */
export function denseTeacherLogits(teacher: Classifier, x: Tensor): { dense: Tensor; global: Tensor } {
  const t = teacher as any;
  if (typeof t.forwardFeatures !== 'function') throw new Error('cskd: the teacher must expose forwardFeatures() (a civet CNN)');
  const fc = findClassifier(teacher);
  return noGrad(() => {
    const f: Tensor = t.forwardFeatures(x);                               // [N, C, h, w]
    const dense = F.linear(f.permute(0, 2, 3, 1), fc.weight, fc.bias).permute(0, 3, 1, 2);   // [N, K, h, w]
    return { dense, global: dense.mean([2, 3]) };
  });
}

function findClassifier(m: Module): Linear {
  for (const name of ['fc', 'head.fc', 'head']) {
    try {
      const s = m.getSubmodule(name);
      if (s instanceof Linear) return s;
    } catch { /* try the next */ }
  }
  throw new Error(`cskd: cannot find the teacher's linear classifier (looked for fc, head.fc, head in ${m.constructor.name})`);
}

export class Cskd extends Distiller {
  readonly method = 'cskd';
  constructor(student: Classifier, teacher: Teacher, readonly o: { alpha: number; weight: number; deitType: 'hard' | 'soft'; cskdType: 'hard' | 'soft'; tau: number; decay: CskdDecay; labelSmoothing: number; readout: 'mean3' | 'cls' }) {
    super(requireDistilled(student, 'cskd'), [teacher]);
    if (!(teacher instanceof Module)) throw new Error('cskd: the teacher must be a civet CNN (dense predictions need its features), not a TorchScript file');
  }
  private tokens(x: Tensor): { cls: Tensor; dist: Tensor; patches: Tensor } {
    const s = this.student as any;
    const f: Tensor = s.forwardFeatures(x);                                 // [B, 2 + N, D]
    const n = f.shape[1];
    return { cls: s.head.call(f.select(1, 0)), dist: s.head_dist.call(f.select(1, 1)), patches: s.head_dist.call(f.slice(1, 2, n)) };
  }
  trainStep(b: DistillBatch, ctx: StepContext): TrainOutput {
    const h = this.tokens(b.x);
    const { dense, global } = denseTeacherLogits(this.teachers[0] as Classifier, b.x);
    const base = classificationLoss(h.cls, b.y, b.soft, this.o.labelSmoothing);
    const deit = this.o.deitType === 'hard' ? deitHard(h.dist, global) : deitSoft(h.dist, global, this.o.tau);
    const grid = (this.student as any).gridSize as [number, number];
    const dt = cskdDense(h.patches, dense, grid, { epoch: ctx.epoch, maxEpoch: ctx.totalEpochs, decay: this.o.decay, lossType: this.o.cskdType, temperature: this.o.tau });
    return {
      logits: this.readout(h),
      terms: { base: base.mul(1 - this.o.alpha), deit: deit.mul(this.o.alpha), cskd: dt.mul(this.o.weight) },
    };
  }
  /** Inference: 'mean3' = (cls + dist + mean patch prediction)/3 as CSKD's code (default), 'cls' = class head. */
  private readout(h: { cls: Tensor; dist: Tensor; patches: Tensor }): Tensor {
    return this.o.readout === 'cls' ? h.cls : h.cls.add(h.dist).add(h.patches.mean(1)).div(3);
  }
  override predict(x: Tensor): Tensor { return this.readout(this.tokens(x)); }
}

registerMethod({
  name: 'cskd',
  summary: 'CSKD: DeiT distillation plus dense teacher predictions fused local→global over training',
  teachers: [1, 1],
  options: options({
    alpha: probability(0.5), weight: nonNegative(1), deitType: oneOf(['hard', 'soft'], 'hard'), cskdType: oneOf(['hard', 'soft'], 'hard'),
    tau: positive(1), decay: oneOf(['linear', 'x2', 'cos'], 'linear'), labelSmoothing: fraction(0.1), readout: oneOf(['mean3', 'cls'], 'mean3'),
  }),
  readout: (o) => (o.readout === 'cls' ? 'class head' : 'mean of the class head, the distillation head and the mean patch prediction (CSKD\'s code)'),
  create: (ctx, o) => new Cskd(ctx.student, ctx.teachers[0], o),
});
