// Co-advise / CivT (Ren et al., CVPR 2022), as OliverRensu/co-advise trains it: the class head
// learns from the labels, the convolution-token head from the CNN teacher, the involution-token
// head from the INN teacher (T²·KL batchmean, T = 1); inference averages the three heads.
import { Tensor } from '../../../tensor';
import { Distiller, DistillBatch, TrainOutput, Teacher, teacherLogits } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, weight, oneOf, options } from '../../options';
import { z } from 'zod';
import { coadviseTerms } from '../../losses/crossarch';
import type { Classifier } from '../../../models/registry';

/** Inference read-out: 'mean3' = (cls + conv + inv)/3 as the official code (default); 'cls' = the paper's class token; or one distilled head. */
export type CoadviseReadout = 'mean3' | 'cls' | 'conv' | 'inv';

interface CivtLike extends Classifier { forwardHeads(x: Tensor): { cls: Tensor; conv: Tensor; inv: Tensor } }

export class CoAdvise extends Distiller {
  readonly method = 'coadvise';
  constructor(student: Classifier, cnn: Teacher, inn: Teacher, readonly o: { temperature: number; weights: [number, number, number]; readout: CoadviseReadout }) {
    super(student, [cnn, inn]);
    if (typeof (student as any).forwardHeads !== 'function' || !('head_inv' in (student as any))) {
      throw new Error(`coadvise: the student must be a CivT model (civt_tiny/small/base) with class, conv and inv heads`);
    }
  }
  trainStep(b: DistillBatch): TrainOutput {
    const h = (this.student as CivtLike).forwardHeads(b.x);
    // the teachers see the same (mixed) images as the student, without gradients, in eval mode
    const t = coadviseTerms(h, b.y, teacherLogits(this.teachers[0], b.x), teacherLogits(this.teachers[1], b.x), this.o.temperature, b.soft);
    const [w0, w1, w2] = this.o.weights;
    return {
      logits: readout3(h, this.o.readout),
      terms: { ce: t.ce.mul(w0), kd_conv: t.kd_conv.mul(w1), kd_inv: t.kd_inv.mul(w2) },
    };
  }
  override predict(x: Tensor): Tensor { return readout3((this.student as CivtLike).forwardHeads(x), this.o.readout); }
}

function readout3(h: { cls: Tensor; conv: Tensor; inv: Tensor }, r: CoadviseReadout): Tensor {
  return r === 'mean3' ? h.cls.add(h.conv).add(h.inv).div(3) : h[r];
}

registerMethod({
  name: 'coadvise',
  summary: 'Co-advise/CivT: CNN teacher → conv-token head, INN teacher → inv-token head, labels → class head',
  teachers: [2, 2],
  options: options({
    temperature: positive(1),
    /** [ce, kd_conv, kd_inv] */
    weights: z.tuple([weight(), weight(), weight()], { invalid_type_error: 'expected [ce, kd_conv, kd_inv]' }).default([1, 1, 1]),
    readout: oneOf(['mean3', 'cls', 'conv', 'inv'], 'mean3'),
  }),
  create: (ctx, o) => new CoAdvise(ctx.student, ctx.teachers[0], ctx.teachers[1], o),
});
