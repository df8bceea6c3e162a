// Tf-KD (Yuan et al. CVPR 2020; yuanli2333/Teacher-free-Knowledge-Distillation). mode 'self': KD from a pretrained copy of the student
// (one teacher; official loss (1-α)CE + α·T²·multiplier·KL_mean). mode 'virtual': the hand-designed
// teacher (no teacher), form 'official' (the code's quirks) or 'paper'.
import { Distiller, DistillBatch, TrainOutput, Teacher, teacherLogits } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, probability, nonNegative, oneOf, options, byMode } from '../../options';
import { z } from 'zod';
import { hintonKd, tfkdVirtualTerms, tfkdVirtualPaperKl } from '../../losses/classic';
import { F } from '../../../tensor';
import type { Classifier } from '../../../models/registry';

/** the parsed options: the virtual branch has form and correctProb, the self branch reduction */
export type TfkdOptions = z.output<typeof TfkdSchema>;

export class TfKD extends Distiller {
  readonly method = 'tfkd';
  constructor(student: Classifier, teacher: Teacher | null, readonly o: TfkdOptions) { super(student, teacher ? [teacher] : []); }
  trainStep(b: DistillBatch): TrainOutput {
    const logits = this.student.call(b.x);
    const { alpha, temperature: T, multiplier } = this.o;
    if (this.o.mode === 'self') {
      const t = teacherLogits(this.teachers[0], b.x);
      return { logits, terms: { ce: F.cross_entropy(logits, b.y).mul(1 - alpha), kd: hintonKd(logits, t, T, this.o.reduction).mul(alpha * multiplier) } };
    }
    if (this.o.form === 'official') {
      const { ce, kl } = tfkdVirtualTerms(logits, b.y, { alpha, temperature: T, multiplier, correctProb: this.o.correctProb });
      return { logits, terms: { ce, kd: kl } };
    }
    return { logits, terms: { ce: F.cross_entropy(logits, b.y).mul(1 - alpha), kd: tfkdVirtualPaperKl(logits, b.y, this.o.correctProb, T).mul(alpha * multiplier) } };
  }
}

// Defaults per mode from the official repository's ResNet18 CIFAR-100 configs
// (yuanli2333/Teacher-free-Knowledge-Distillation): experiments/base_experiments/base_resnet18/params.json
// for the virtual teacher (reg_alpha 0.1, reg_temperature 20, multiplier 100) and
// experiments/kd_experiments/resnet18_distill/resnet18_self_teacher/params.json for self (α 0.95, T 6, multiplier 50).
const TfkdSchema = byMode('mode', 'virtual', [
  options({
    mode: z.literal('virtual'), form: oneOf(['official', 'paper'], 'official'),
    alpha: probability(0.1), temperature: positive(20), multiplier: nonNegative(100), correctProb: probability(0.99),
  }),
  options({
    mode: z.literal('self'),
    alpha: probability(0.95), temperature: positive(6), multiplier: nonNegative(50), reduction: oneOf(['batchmean', 'mean', 'sum'], 'mean'),
  }),
]);

registerMethod({
  name: 'tfkd',
  teacherCache: 'logits',
  summary: "Teacher-free KD: mode 'self' (KD from a pretrained copy, KL /(B·K)) or 'virtual' (hand-designed teacher, official-code quirks)",
  teachers: [0, 1],
  options: TfkdSchema,
  create: (ctx, o) => {
    if (o.mode === 'self' && ctx.teachers.length !== 1) throw new Error("tfkd mode 'self' needs the pretrained student copy as its one teacher");
    if (o.mode === 'virtual' && ctx.teachers.length !== 0) throw new Error("tfkd mode 'virtual' takes no teacher");
    return new TfKD(ctx.student, ctx.teachers[0] ?? null, o);
  },
});
