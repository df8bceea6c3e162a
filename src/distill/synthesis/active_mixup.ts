// Active Mixup (Wang et al. CVPR 2020, "Neural Networks Are More Productive Teachers Than Human Raters"): black-box KD. The teacher is only queried
// for probabilities (once per image). Stage 0 trains on the real images; each active stage scores
// candidate mixup pairs by the student's minimum max-softmax over the mixing weights, queries the
// teacher on the Q most uncertain mixes, adds them, and re-trains a fresh student.
import { Tensor, F, cat, noGrad, tidy, keep, fromTypedArray } from '../../tensor';
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

export interface ActiveMixupOptions {
  /** black-box teacher: images → probabilities [N, K] */
  queryTeacher: (x: Tensor) => Tensor;
  /** the unlabeled real images [N, C, H, W] */
  images: Tensor;
  makeStudent: () => Classifier;
  /** trains a (fresh) student on images with soft targets */
  train: (student: Classifier, x: Tensor, soft: Tensor, stage: number) => void;
  stages: number;
  queriesPerStage: number;
  /** mixing weights (default 0.30, 0.34, …, 0.70) */
  weights?: number[];
  /** cap on the candidate pairs scored per stage (all N(N−1)/2 rotation pairs when null) */
  maxPairs?: number | null;
  seed?: number;
  batch?: number;
}

/** Candidate pairs by index rotation: for r = 1..⌊(N−1)/2⌋, (i, (i+r) mod N). */
export function rotationPairs(n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let r = 1; r <= Math.floor((n - 1) / 2); r++) for (let i = 0; i < n; i++) out.push([i, (i + r) % n]);
  return out;
}

export function activeMixup(o: ActiveMixupOptions): { student: Classifier; x: Tensor; soft: Tensor; queries: number } {
  const weights = o.weights ?? Array.from({ length: 11 }, (_, i) => 0.3 + 0.04 * i);
  const rng = new Rng(o.seed ?? 0);
  let x = keep(o.images.detach().clone());
  let soft = keep(noGrad(() => o.queryTeacher(o.images)));
  let queries = o.images.shape[0];
  let student = o.makeStudent();
  o.train(student, x, soft, 0);
  let pool = rotationPairs(o.images.shape[0]);
  const used = new Set<number>();
  for (let stage = 1; stage <= o.stages; stage++) {
    let cand = pool.map((_, i) => i).filter((i) => !used.has(i));
    if (o.maxPairs && cand.length > o.maxPairs) { rng.shuffle(cand); cand = cand.slice(0, o.maxPairs); }
    // the student's lowest confidence over the weights, per candidate pair
    student.eval();
    const conf = new Float64Array(cand.length).fill(Infinity), bestW = new Float64Array(cand.length);
    const bs = o.batch ?? 256;
    for (let s = 0; s < cand.length; s += bs) {
      tidy(() => noGrad(() => {
        const part = cand.slice(s, s + bs);
        const a = o.images.indexSelect(0, fromTypedArray(Int32Array.from(part.map((i) => pool[i][0]))).to('int64'));
        const b = o.images.indexSelect(0, fromTypedArray(Int32Array.from(part.map((i) => pool[i][1]))).to('int64'));
        for (const w of weights) {
          const m = F.softmax(student.call(a.mul(w).add(b.mul(1 - w))), 1).amax(1).toTypedArray() as Float32Array;
          m.forEach((v, k) => { if (v < conf[s + k]) { conf[s + k] = v; bestW[s + k] = w; } });
        }
      }));
    }
    const order = cand.map((_, k) => k).sort((p, q) => conf[p] - conf[q]).slice(0, o.queriesPerStage);
    const mixed = tidy(() => {
      const a = o.images.indexSelect(0, fromTypedArray(Int32Array.from(order.map((k) => pool[cand[k]][0]))).to('int64'));
      const b = o.images.indexSelect(0, fromTypedArray(Int32Array.from(order.map((k) => pool[cand[k]][1]))).to('int64'));
      const w = fromTypedArray(Float32Array.from(order.map((k) => bestW[k])), [order.length, 1, 1, 1]);
      return a.mul(w).add(b.mul(w.rsub(1)));
    });
    for (const k of order) used.add(cand[k]);
    const q = noGrad(() => o.queryTeacher(mixed));
    queries += order.length;
    const nx = keep(cat([x, mixed])), ns = keep(cat([soft, q]));
    x.dispose(); soft.dispose(); mixed.dispose(); q.dispose();
    x = nx; soft = ns;
    student = o.makeStudent();                       // re-initialised each stage, as active_train.py
    o.train(student, x, soft, stage);
  }
  pool = [];
  return { student, x, soft, queries };
}
