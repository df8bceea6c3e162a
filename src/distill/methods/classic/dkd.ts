// Decoupled KD (Zhao et al. CVPR 2022; mdistiller DKD.py): ceWeight·CE + min(epoch/warmup, 1)·(α·TCKD + β·NCKD), epochs from 1.
// `logitStand`: LSKD's switch (sunshangquan/logit-standardization-KD mdistiller/distillers/DKD.py):
// both logits z-scored before TCKD/NCKD (its −1000 target mask then acts on standardized logits); CE keeps the raw ones.
import { Distiller, DistillBatch, StepContext, TrainOutput, Teacher, teacherLogits } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, nonNegative, flag, options } from '../../options';
import { classificationLoss, maybeStandardized } from '../../losses/common';
import { dkdTerms } from '../../losses/classic';
import type { Classifier } from '../../../models/registry';

export interface DkdOptions { ceWeight: number; alpha: number; beta: number; temperature: number; warmupEpochs: number; logitStand: boolean }

export class DKD extends Distiller {
  readonly method = 'dkd';
  constructor(student: Classifier, teacher: Teacher, readonly o: DkdOptions) { super(student, [teacher]); }
  trainStep(b: DistillBatch, ctx: StepContext): TrainOutput {
    const logits = this.student.call(b.x);
    const t = teacherLogits(this.teachers[0], b.x);
    const w = this.o.warmupEpochs > 0 ? Math.min((ctx.epoch + 1) / this.o.warmupEpochs, 1) : 1;
    const [zs, zt] = maybeStandardized(logits, t, this.o.logitStand);
    const { tckd, nckd } = dkdTerms(zs, zt, b.y, this.o.temperature);
    return {
      logits,
      terms: {
        ce: classificationLoss(logits, b.y, b.soft).mul(this.o.ceWeight),
        tckd: tckd.mul(w * this.o.alpha),
        nckd: nckd.mul(w * this.o.beta),
      },
    };
  }
}

registerMethod({
  name: 'dkd',
  teacherCache: 'logits',
  summary: 'Decoupled KD: CE + warm-up·(α·TCKD + β·NCKD) (mdistiller defaults α 1, β 8, T 4, warm-up 20 epochs); logitStand: LSKD z-scored logits',
  teachers: [1, 1],
  options: options({ ceWeight: nonNegative(1), alpha: nonNegative(1), beta: nonNegative(8), temperature: positive(4), warmupEpochs: nonNegative(20), logitStand: flag(false) }),
  create: (ctx, o) => new DKD(ctx.student, ctx.teachers[0], o),
});
