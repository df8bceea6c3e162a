// Label smoothing (Szegedy et al. CVPR 2016; Tf-KD's LSR in yuanli2333/Teacher-free-Knowledge-Distillation): Szegedy ε/K or Tf-KD's ε/(K-1) variant.
import { Distiller, DistillBatch, TrainOutput } from '../../distiller';
import { registerMethod } from '../../registry';
import { fraction, oneOf, options } from '../../options';
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
  options: options({ epsilon: fraction(0.1), variant: oneOf(['overAll', 'overOthers'], 'overAll') }),
  create: (ctx, o) => new LabelSmoothing(ctx.student, o.epsilon, o.variant),
});
