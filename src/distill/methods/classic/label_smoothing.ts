// Label smoothing (Szegedy et al. CVPR 2016; Tf-KD's LSR in yuanli2333/Teacher-free-Knowledge-Distillation): Szegedy ε/K or Tf-KD's ε/(K-1) variant.
import { Distiller, DistillBatch, TrainOutput } from '../../distiller';
import { registerMethod } from '../../registry';
import { labelSmoothingLoss } from '../../losses/classic';
import type { Classifier } from '../../../models/registry';

export class LabelSmoothing extends Distiller {
  readonly method = 'label_smoothing';
  constructor(student: Classifier, readonly epsilon: number, readonly variant: 'overAll' | 'overOthers') { super(student, []); }
  trainStep(b: DistillBatch): TrainOutput {
    const logits = this.student.call(b.x);
    return { logits, terms: { ce: labelSmoothingLoss(logits, b.y, this.epsilon, this.variant) } };
  }
}

registerMethod({
  name: 'label_smoothing',
  summary: "label-smoothed CE: variant 'overAll' (ε/K, Szegedy) or 'overOthers' (ε/(K-1), Tf-KD code); ε=0.1",
  teachers: [0, 0],
  defaults: { epsilon: 0.1, variant: 'overAll' },
  validate: (o) => {
    if (o.variant !== 'overAll' && o.variant !== 'overOthers') throw new Error(`label_smoothing: variant must be 'overAll' or 'overOthers', got '${o.variant}'`);
    if (typeof o.epsilon !== 'number' || o.epsilon < 0 || o.epsilon >= 1) throw new Error(`label_smoothing: epsilon must be in [0, 1), got ${o.epsilon}`);
    return o;
  },
  create: (ctx, o) => new LabelSmoothing(ctx.student, o.epsilon, o.variant),
});
