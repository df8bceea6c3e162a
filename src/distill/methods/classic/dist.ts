// DIST (Huang et al. NeurIPS 2022; hunto/DIST_KD, the classification code in
// hunto/image_classification_sota): ceWeight·CE + β·T²·inter-class + γ·T²·intra-class Pearson relation
// (losses/classic/dist.ts). Defaults are the CIFAR-100 setting (β 2, γ 2, T 4, CE 1) that the DIST
// README gives for the mdistiller-style benchmarks civet's classic family follows; ImageNet uses
// β = γ = 1, T = 1 (methods.md §20).
import { Distiller, DistillBatch, TrainOutput, Teacher, teacherLogits } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, nonNegative, options } from '../../options';
import { classificationLoss } from '../../losses/common';
import { distTerms } from '../../losses/classic';
import type { Classifier } from '../../../models/registry';

export interface DistOptions { ceWeight: number; beta: number; gamma: number; temperature: number }

export class DIST extends Distiller {
  readonly method = 'dist';
  constructor(student: Classifier, teacher: Teacher, readonly o: DistOptions) { super(student, [teacher]); }
  trainStep(b: DistillBatch): TrainOutput {
    const logits = this.student.call(b.x);
    const { inter, intra } = distTerms(logits, teacherLogits(this.teachers[0], b.x), this.o.temperature);
    return {
      logits,
      terms: {
        ce: classificationLoss(logits, b.y, b.soft).mul(this.o.ceWeight),
        inter: inter.mul(this.o.beta),
        intra: intra.mul(this.o.gamma),
      },
    };
  }
}

registerMethod({
  name: 'dist',
  teacherCache: 'logits',
  summary: 'DIST: CE + β·T²·(1 − Pearson across classes) + γ·T²·(1 − Pearson across the batch) on softmax(z/T) (CIFAR defaults β 2, γ 2, T 4)',
  teachers: [1, 1],
  options: options({ ceWeight: nonNegative(1), beta: nonNegative(2), gamma: nonNegative(2), temperature: positive(4) }),
  create: (ctx, o) => new DIST(ctx.student, ctx.teachers[0], o),
});
