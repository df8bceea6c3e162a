// KDCL online collaborative distillation (Guo et al. CVPR 2020, [PAPER]). The distiller
// owns the student plus `peers` (extra students built from the model registry); every student sees
// its own random flip of the batch; the ensemble teacher (naive / linear / minLogit) is detached.
// Data-parallel runs (train/ddp.ts): the peers' gradients are averaged like the student's; the
// ensemble is formed per rank, over that rank's share of the batch (nothing is gathered).
import { Distiller, DistillBatch, TrainOutput } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, nonNegative, flag, oneOf, options } from '../../options';
import { z } from 'zod';
import { hintonKd, ensembleTeacher, KdclMode } from '../../losses/classic';
import { Tensor, F, rand, where } from '../../../tensor';
import { Sequential } from '../../../nn/layers';
import { createModel, Classifier } from '../../../models/registry';

export class KDCL extends Distiller {
  readonly method = 'kdcl';
  readonly peers: Sequential;
  constructor(student: Classifier, peers: Classifier[], readonly o: { mode: KdclMode; temperature: number; lambda: number; flip: boolean }) {
    super(student, []);
    this.peers = this.module('peers', new Sequential(...peers));
  }
  get students(): Classifier[] { return [this.student, ...(this.peers.children() as Classifier[])]; }
  private augment(x: Tensor): Tensor {
    if (!this.o.flip) return x;
    const m = rand([x.shape[0], 1, 1, 1]).lt(0.5);
    return where(m, x.flip(3), x);
  }
  trainStep(b: DistillBatch): TrainOutput {
    const zs = this.students.map((s) => s.call(this.augment(b.x)) as Tensor);
    const t = ensembleTeacher(zs, b.y, this.o.mode);
    const terms: Record<string, Tensor> = {};
    zs.forEach((z, i) => {
      terms[`ce_${i}`] = F.cross_entropy(z, b.y);
      terms[`kd_${i}`] = hintonKd(z, t, this.o.temperature).mul(this.o.lambda);
    });
    return { logits: zs[0], terms };
  }
}

registerMethod({
  name: 'kdcl',
  summary: "KDCL online distillation: the student + `peers` (model names) trained together from an ensemble teacher ('naive' | 'linear' | 'minLogit'); T 2, λ 1",
  teachers: [0, 0],
  options: options({
    peers: z.array(z.string(), { invalid_type_error: 'expected a list of model names' }).min(1, 'expected at least one peer model').default(['resnet8']),
    mode: oneOf(['naive', 'linear', 'minLogit'], 'minLogit'), temperature: positive(2), lambda: nonNegative(1), flip: flag(true),
  }),
  create: (ctx, o) => new KDCL(ctx.student,
    o.peers.map((n) => createModel(n, { numClasses: ctx.numClasses, inChans: ctx.inChans, imgSize: ctx.imgSize })),
    { mode: o.mode, temperature: o.temperature, lambda: o.lambda, flip: o.flip }),
});
