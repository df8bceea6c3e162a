// Hinton KD (Hinton et al. 2015; RepDistiller KD.py): gamma·CE + alpha·T²·KL, reduction explicit. With several teachers
// the one output token learns from all of them: the KD term is the mean of the per-teacher KD
// terms (Co-advise Table 6's "one token" rows), which for one teacher is exactly Hinton's.
// `logitStand`: LSKD (Sun et al. CVPR 2024; sunshangquan/logit-standardization-KD kd_loss) z-scores
// both logits before the temperature softmax; the CE term keeps the raw logits, as there.
import { Distiller, DistillBatch, TrainOutput, Teacher, teacherLogits } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, nonNegative, oneOf, flag, options } from '../../options';
import { classificationLoss, maybeStandardized } from '../../losses/common';
import { hintonKd, KlReduction } from '../../losses/classic';
import type { Classifier } from '../../../models/registry';

export interface KdOptions { temperature: number; ceWeight: number; kdWeight: number; reduction: KlReduction; logitStand: boolean }

export class HintonKD extends Distiller {
  readonly method: string = 'kd';
  constructor(student: Classifier, teacher: Teacher | Teacher[], readonly o: KdOptions) { super(student, Array.isArray(teacher) ? teacher : [teacher]); }
  trainStep(b: DistillBatch): TrainOutput {
    const logits = this.student.call(b.x);
    const kd = this.teachers
      .map((t) => hintonKd(...maybeStandardized(logits, teacherLogits(t, b.x), this.o.logitStand), this.o.temperature, this.o.reduction))
      .reduce((a, c) => a.add(c));
    return {
      logits,
      terms: {
        ce: classificationLoss(logits, b.y, b.soft).mul(this.o.ceWeight),
        kd: kd.mul(this.o.kdWeight / this.teachers.length),
      },
    };
  }
}

registerMethod({
  name: 'kd',
  teacherCache: 'logits',
  summary: 'Hinton KD: ceWeight·CE + kdWeight·T²·KL(teacher ‖ student) (RepDistiller defaults T=4, 0.1/0.9); several teachers: mean of their KD terms; logitStand: LSKD z-scored logits',
  teachers: [1, 8],
  options: options({ temperature: positive(4), ceWeight: nonNegative(0.1), kdWeight: nonNegative(0.9), reduction: oneOf(['batchmean', 'mean', 'sum'], 'batchmean'), logitStand: flag(false) }),
  create: (ctx, o) => new HintonKD(ctx.student, ctx.teachers, o),
});
