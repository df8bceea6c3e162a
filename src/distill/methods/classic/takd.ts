// TAKD (Mirzadeh et al. AAAI 2020; imirzadeh/Teacher-Assistant-Knowledge-Distillation): every hop is Hinton KD
// with TAKD's loss (1-λ)·CE + λ·T²·KL with the legacy /(B·K) reduction; the chain teacher → assistant(s) →
// student is takdChain in src/train/schemes.ts.
import { Distiller, DistillBatch, TrainOutput, Teacher, teacherLogits } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, probability, oneOf, options } from '../../options';
import { hintonKd, KlReduction } from '../../losses/classic';
import { F } from '../../../tensor';
import type { Classifier } from '../../../models/registry';

export class TAKDHop extends Distiller {
  readonly method = 'takd';
  constructor(student: Classifier, teacher: Teacher, readonly o: { lambda: number; temperature: number; reduction: KlReduction }) { super(student, [teacher]); }
  trainStep(b: DistillBatch): TrainOutput {
    const logits = this.student.call(b.x);
    const t = teacherLogits(this.teachers[0], b.x);
    return { logits, terms: { ce: F.cross_entropy(logits, b.y).mul(1 - this.o.lambda), kd: hintonKd(logits, t, this.o.temperature, this.o.reduction).mul(this.o.lambda) } };
  }
}

registerMethod({
  name: 'takd',
  teacherCache: 'logits',
  summary: 'one TAKD hop: (1−λ)·CE + λ·T²·KL_mean (/(B·K), as the official code); chain hops with takdChain (train/schemes)',
  teachers: [1, 1],
  // no fixed default in the paper (NNI search per hop); these are mid-range values of its search space
  options: options({ lambda: probability(0.5), temperature: positive(5), reduction: oneOf(['batchmean', 'mean', 'sum'], 'mean') }),
  create: (ctx, o) => new TAKDHop(ctx.student, ctx.teachers[0], o),
});
