// Active Mixup (Wang et al. CVPR 2020, "Neural Networks Are More Productive Teachers Than Human Raters"): black-box KD. The teacher is only queried
// for probabilities (once per image). Stage 0 trains on the real images; each active stage scores
// candidate mixup pairs by the student's minimum max-softmax over the mixing weights, queries the
// teacher on the Q most uncertain mixes, adds them, and re-trains a fresh student. This file holds
// what a stage computes (the selection, the soft-target student); the stage loop that trains is
// activeMixup in src/train/schemes.ts.
import { Tensor, F, noGrad, tidy, fromTypedArray } from '../../tensor';
import { Distiller, DistillBatch, TrainOutput } from '../distiller';
import { softTargetCrossEntropy } from '../losses/common';
import type { Classifier } from '../../models/registry';
import { Rng } from '../../util/rng';

/** Student trained on the teacher's soft labels only: mean_b −Σ p_teacher · log_softmax(z_s). */
export class SoftTargetStudent extends Distiller {
  readonly method = 'soft_target';
  constructor(student: Classifier) { super(student, []); }
  trainStep(b: DistillBatch): TrainOutput {
    if (!b.soft) throw new Error('soft_target: the batch needs `soft` (teacher probabilities)');
    const logits = this.student.call(b.x);
    return { logits, terms: { soft_ce: softTargetCrossEntropy(logits, b.soft) } };
  }
}

/** Candidate pairs by index rotation: for r = 1..⌊(N−1)/2⌋, (i, (i+r) mod N). */
export function rotationPairs(n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let r = 1; r <= Math.floor((n - 1) / 2); r++) for (let i = 0; i < n; i++) out.push([i, (i + r) % n]);
  return out;
}

export interface MixupQueryOptions {
  /** mixing weights (default 0.30, 0.34, …, 0.70) */
  weights?: number[];
  /** cap on the candidate pairs scored per stage (all N(N−1)/2 rotation pairs when null) */
  maxPairs?: number | null;
  batch?: number;
}

export const MIXUP_WEIGHTS = Array.from({ length: 11 }, (_, i) => 0.3 + 0.04 * i);

/** One active stage's selection: scores the unused candidate pairs of `pool` by the student's
 *  lowest max-softmax over the mixing weights, marks the `q` least confident as used and returns
 *  their mixes (each at its least confident weight). The teacher is not queried here. */
export function selectMixupQueries(student: Classifier, images: Tensor, pool: [number, number][], used: Set<number>, q: number, rng: Rng, o: MixupQueryOptions = {}): Tensor {
  const weights = o.weights ?? MIXUP_WEIGHTS;
  let cand = pool.map((_, i) => i).filter((i) => !used.has(i));
  if (o.maxPairs && cand.length > o.maxPairs) { rng.shuffle(cand); cand = cand.slice(0, o.maxPairs); }
  // the student's lowest confidence over the weights, per candidate pair
  student.eval();
  const conf = new Float64Array(cand.length).fill(Infinity), bestW = new Float64Array(cand.length);
  const bs = o.batch ?? 256;
  for (let s = 0; s < cand.length; s += bs) {
    tidy(() => noGrad(() => {
      const part = cand.slice(s, s + bs);
      const a = images.indexSelect(0, fromTypedArray(Int32Array.from(part.map((i) => pool[i][0]))).to('int64'));
      const b = images.indexSelect(0, fromTypedArray(Int32Array.from(part.map((i) => pool[i][1]))).to('int64'));
      for (const w of weights) {
        const m = F.softmax(student.call(a.mul(w).add(b.mul(1 - w))), 1).amax(1).toTypedArray() as Float32Array;
        m.forEach((v, k) => { if (v < conf[s + k]) { conf[s + k] = v; bestW[s + k] = w; } });
      }
    }));
  }
  const order = cand.map((_, k) => k).sort((p, r) => conf[p] - conf[r]).slice(0, q);
  const mixed = tidy(() => {
    const a = images.indexSelect(0, fromTypedArray(Int32Array.from(order.map((k) => pool[cand[k]][0]))).to('int64'));
    const b = images.indexSelect(0, fromTypedArray(Int32Array.from(order.map((k) => pool[cand[k]][1]))).to('int64'));
    const w = fromTypedArray(Float32Array.from(order.map((k) => bestW[k])), [order.length, 1, 1, 1]);
    return a.mul(w).add(b.mul(w.rsub(1)));
  });
  for (const k of order) used.add(cand[k]);
  return mixed;
}
