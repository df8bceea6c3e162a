// Hinton KD (methods.md §1): gamma·CE + alpha·T²·KL, reduction explicit.
import { Distiller, DistillBatch, TrainOutput, Teacher, teacherLogits } from '../../distiller';
import { registerMethod } from '../../registry';
import { classificationLoss } from '../../losses/common';
import { hintonKd, KlReduction } from '../../losses/classic';
import type { Classifier } from '../../../models/registry';

export interface KdOptions { temperature: number; ceWeight: number; kdWeight: number; reduction: KlReduction }

export class HintonKD extends Distiller {
  readonly method: string = 'kd';
  constructor(student: Classifier, teacher: Teacher, readonly o: KdOptions) { super(student, [teacher]); }
  trainStep(b: DistillBatch): TrainOutput {
    const logits = this.student.call(b.x);
    const t = teacherLogits(this.teachers[0], b.x);
    return {
      logits,
      terms: {
        ce: classificationLoss(logits, b.y, b.soft).mul(this.o.ceWeight),
        kd: hintonKd(logits, t, this.o.temperature, this.o.reduction).mul(this.o.kdWeight),
      },
    };
  }
}

export function checkReduction(r: unknown, method: string): KlReduction {
  if (r !== 'batchmean' && r !== 'mean' && r !== 'sum') throw new Error(`method '${method}': reduction must be 'batchmean', 'mean' or 'sum', got '${r}'`);
  return r;
}

registerMethod({
  name: 'kd',
  summary: 'Hinton KD: ceWeight·CE + kdWeight·T²·KL(teacher ‖ student) (RepDistiller defaults T=4, 0.1/0.9)',
  teachers: [1, 1],
  defaults: { temperature: 4, ceWeight: 0.1, kdWeight: 0.9, reduction: 'batchmean' },
  validate: (o) => ({ ...o, reduction: checkReduction(o.reduction, 'kd') }),
  create: (ctx, o) => new HintonKD(ctx.student, ctx.teachers[0], o as KdOptions),
});
