// Tf-KD (Yuan et al. CVPR 2020; yuanli2333/Teacher-free-Knowledge-Distillation). mode 'self': KD from a pretrained copy of the student
// (one teacher; official loss (1-α)CE + α·T²·multiplier·KL_mean). mode 'virtual': the hand-designed
// teacher (no teacher), form 'official' (the code's quirks) or 'paper'.
import { Distiller, DistillBatch, TrainOutput, Teacher, teacherLogits } from '../../distiller';
import { registerMethod } from '../../registry';
import { hintonKd, tfkdVirtualTerms, tfkdVirtualPaperKl, KlReduction } from '../../losses/classic';
import { F } from '../../../tensor';
import type { Classifier } from '../../../models/registry';
import { checkReduction } from './kd';

export interface TfkdOptions {
  mode: 'self' | 'virtual';
  form: 'official' | 'paper';
  alpha: number; temperature: number; multiplier: number; correctProb: number;
  reduction: KlReduction;
}

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

registerMethod({
  name: 'tfkd',
  summary: "Teacher-free KD: mode 'self' (KD from a pretrained copy, KL /(B·K)) or 'virtual' (hand-designed teacher, official-code quirks)",
  teachers: [0, 1],
  // virtual-teacher defaults of the ResNet18 CIFAR-100 config; the self mode's ResNet18 config is α 0.95, T 6, multiplier 50
  defaults: { mode: 'virtual', form: 'official', alpha: 0.1, temperature: 20, multiplier: 100, correctProb: 0.99, reduction: 'mean' },
  validate: (o) => {
    if (o.mode !== 'self' && o.mode !== 'virtual') throw new Error(`tfkd: mode must be 'self' or 'virtual', got '${o.mode}'`);
    if (o.form !== 'official' && o.form !== 'paper') throw new Error(`tfkd: form must be 'official' or 'paper', got '${o.form}'`);
    return { ...o, reduction: checkReduction(o.reduction, 'tfkd') };
  },
  create: (ctx, o) => {
    if (o.mode === 'self' && ctx.teachers.length !== 1) throw new Error("tfkd mode 'self' needs the pretrained student copy as its one teacher");
    if (o.mode === 'virtual' && ctx.teachers.length !== 0) throw new Error("tfkd mode 'virtual' takes no teacher");
    return new TfKD(ctx.student, ctx.teachers[0] ?? null, o as TfkdOptions);
  },
});
