// DeiT distillation through the distillation token (facebookresearch/deit losses.py):
// L = (1-α)·CE(cls head, labels) + α·L_distill(dist head, teacher); hard = CE with the
// teacher's argmax, soft = T²·KL/(B·K). Inference averages the two heads.
// labelsOnly: the no-distillation control of the same architecture — no teacher, the
// distillation head learns from the labels (the same smoothed CE as the class head).
import { Tensor } from '../../../tensor';
import { Distiller, DistillBatch, TrainOutput, Teacher, teacherLogits } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, probability, fraction, oneOf, flag, options } from '../../options';
import { classificationLoss } from '../../losses/common';
import { deitHard, deitSoft } from '../../losses/crossarch';
import type { Classifier } from '../../../models/registry';

export interface DeitHeadsModel extends Classifier { forwardHeads(x: Tensor): { cls: Tensor; dist: Tensor } }

export function requireDistilled(student: Classifier, method: string): DeitHeadsModel {
  if (typeof (student as any).forwardHeads !== 'function' || !('head_dist' in (student as any))) {
    throw new Error(`${method}: the student must be a distilled DeiT (deit_*_distilled) with class and distillation heads`);
  }
  return student as DeitHeadsModel;
}

export class DeitDistiller extends Distiller {
  readonly method = 'deit';
  constructor(student: Classifier, teachers: Teacher[], readonly o: { type: 'hard' | 'soft'; alpha: number; tau: number; labelSmoothing: number; readout: 'mean' | 'cls' | 'dist'; labelsOnly: boolean }) {
    super(requireDistilled(student, 'deit'), teachers);
    if (o.labelsOnly && teachers.length) throw new Error(`deit: labelsOnly trains the distillation head on the labels without a teacher; remove the teacher`);
    if (!o.labelsOnly && teachers.length !== 1) throw new Error(`deit: needs 1 teacher, got ${teachers.length} (labelsOnly: true for the no-teacher control)`);
  }
  trainStep(b: DistillBatch): TrainOutput {
    const h = (this.student as DeitHeadsModel).forwardHeads(b.x);
    const base = classificationLoss(h.cls, b.y, b.soft, this.o.labelSmoothing);
    if (this.o.labelsOnly) {
      const ce = classificationLoss(h.dist, b.y, b.soft, this.o.labelSmoothing);
      return { logits: readout2(h, this.o.readout), terms: { base: base.mul(1 - this.o.alpha), distill: ce.mul(this.o.alpha) } };
    }
    const t = teacherLogits(this.teachers[0], b.x);
    const distill = this.o.type === 'hard' ? deitHard(h.dist, t) : deitSoft(h.dist, t, this.o.tau);
    return { logits: readout2(h, this.o.readout), terms: { base: base.mul(1 - this.o.alpha), distill: distill.mul(this.o.alpha) } };
  }
  /** Inference: 'mean' = (cls + dist)/2 as DeiT's code (default), or one head. */
  override predict(x: Tensor): Tensor { return readout2((this.student as DeitHeadsModel).forwardHeads(x), this.o.readout); }
}

function readout2(h: { cls: Tensor; dist: Tensor }, r: 'mean' | 'cls' | 'dist'): Tensor {
  return r === 'mean' ? h.cls.add(h.dist).div(2) : h[r];
}

registerMethod({
  name: 'deit',
  teacherCache: 'logits',
  summary: 'DeiT: distillation token supervised by the teacher (hard or soft), class token by the labels; labelsOnly = no-teacher control',
  teachers: [0, 1],
  options: options({
    type: oneOf(['hard', 'soft'], 'hard'), alpha: probability(0.5), tau: positive(1), labelSmoothing: fraction(0.1), readout: oneOf(['mean', 'cls', 'dist'], 'mean'),
    labelsOnly: flag(false),
  }),
  readout: (o) => ({ mean: 'mean of the class and distillation heads (DeiT\'s code)', cls: 'class head', dist: 'distillation head' })[o.readout as 'mean' | 'cls' | 'dist'],
  create: (ctx, o) => new DeitDistiller(ctx.student, ctx.teachers, o),
});
