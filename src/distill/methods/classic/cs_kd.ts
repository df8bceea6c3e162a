// Class-wise self-KD (Yun et al. CVPR 2020; alinlab/cs-kd). The batch holds 2B samples: B base samples
// then, for each, a random sample of the same class (pairedClassBatches builds the indices).
// The second half runs through the same net in train mode under noGrad.
import { Distiller, DistillBatch, TrainOutput } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, nonNegative, options } from '../../options';
import { csKdLoss } from '../../losses/classic';
import { F, noGrad } from '../../../tensor';
import type { Classifier } from '../../../models/registry';
import { Rng, type Seed } from '../../../util/rng';

/** PairBatchSampler: shuffled base indices in batches of B; each base index i gets a pair drawn
 *  uniformly from all indices of its class (possibly i itself). Yields base ++ pairs (length 2B). */
export function* pairedClassBatches(labels: ArrayLike<number>, batchSize: number, seed: Seed): Generator<Int32Array> {
  const rng = new Rng(seed);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(i);
  }
  for (;;) {
    const perm = rng.permutation(labels.length);
    for (let s = 0; s < perm.length; s += batchSize) {
      const base = perm.subarray(s, Math.min(s + batchSize, perm.length));
      const out = new Int32Array(base.length * 2);
      out.set(base, 0);
      base.forEach((i, k) => { const same = byClass.get(labels[i])!; out[base.length + k] = same[rng.int(same.length)]; });
      yield out;
    }
  }
}

export class CSKD extends Distiller {
  readonly method = 'cs_kd';
  constructor(student: Classifier, readonly temperature: number, readonly lambda: number) { super(student, []); }
  trainStep(b: DistillBatch): TrainOutput {
    const n = b.x.shape[0];
    if (n % 2) throw new Error(`cs_kd: the batch must hold B base samples followed by their B class pairs (got ${n} samples)`);
    const B = n / 2;
    const logits = this.student.call(b.x.narrow(0, 0, B));
    const paired = noGrad(() => this.student.call(b.x.narrow(0, B, B)));
    return {
      logits,
      terms: {
        ce: F.cross_entropy(logits, b.y.narrow(0, 0, B)),
        cls: csKdLoss(logits, paired, this.temperature).mul(this.lambda),
      },
    };
  }
}

registerMethod({
  name: 'cs_kd',
  summary: 'class-wise self-KD: CE + λ·T²·KL(p(x_pair) ‖ p(x)); batches of B samples + B same-class pairs (pairedClassBatches)',
  teachers: [0, 0],
  batches: 'classPairs',
  options: options({ temperature: positive(4), lambda: nonNegative(1) }),
  create: (ctx, o) => new CSKD(ctx.student, o.temperature, o.lambda),
});
