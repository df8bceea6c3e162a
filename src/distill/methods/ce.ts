// No distillation: the student alone on the labels (the baseline every table needs).
import { Distiller, DistillBatch, TrainOutput } from '../distiller';
import { registerMethod } from '../registry';
import { fraction, options } from '../options';
import { classificationLoss } from '../losses/common';
import type { Classifier } from '../../models/registry';

export class CrossEntropyOnly extends Distiller {
  readonly method = 'ce';
  constructor(student: Classifier, readonly labelSmoothing = 0) { super(student, []); }
  trainStep(b: DistillBatch): TrainOutput {
    const logits = this.student.call(b.x);
    return { logits, terms: { ce: classificationLoss(logits, b.y, b.soft, this.labelSmoothing) } };
  }
}

registerMethod({
  name: 'ce',
  summary: 'no distillation: cross-entropy on the labels (optionally label-smoothed)',
  teachers: [0, 0],
  options: options({ labelSmoothing: fraction(0) }),
  create: (ctx, o) => new CrossEntropyOnly(ctx.student, o.labelSmoothing),
});
