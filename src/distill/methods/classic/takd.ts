// TAKD (Mirzadeh et al. 2020; methods.md §5): every hop is Hinton KD with TAKD's loss
// (1-λ)·CE + λ·T²·KL with the legacy /(B·K) reduction; takdChain trains teacher → assistant(s) → student.
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
  summary: 'one TAKD hop: (1−λ)·CE + λ·T²·KL_mean (/(B·K), as the official code); chain hops with takdChain',
  teachers: [1, 1],
  // no fixed default in the paper (NNI search per hop); these are mid-range values of its search space
  options: options({ lambda: probability(0.5), temperature: positive(5), reduction: oneOf(['batchmean', 'mean', 'sum'], 'mean') }),
  create: (ctx, o) => new TAKDHop(ctx.student, ctx.teachers[0], o),
});

export interface TakdHopConfig { model: Classifier; lambda: number; temperature: number; reduction?: KlReduction }

/** Trains each hop from the previous (frozen) model: teacher → hops[0] → hops[1] → …; `train`
 *  runs the caller's loop on a distiller. Returns the trained models, the last being the student. */
export function takdChain(teacher: Teacher, hops: TakdHopConfig[], train: (d: Distiller, hop: number) => void): Classifier[] {
  const out: Classifier[] = [];
  let t: Teacher = teacher;
  hops.forEach((h, i) => {
    const d = new TAKDHop(h.model, t, { lambda: h.lambda, temperature: h.temperature, reduction: h.reduction ?? 'mean' });
    train(d, i);
    h.model.eval();
    out.push(h.model);
    t = h.model;
  });
  for (const m of out) { m.train(); m.requiresGrad_(true); }
  return out;
}
