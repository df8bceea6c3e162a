// Schemes that are more than one training: the stages of each are distillers from src/distill,
// trained here in order. `train` is the caller's loop on one distiller (usually fit() with the
// caller's batches and steps), so a scheme says what trains on what, and the caller how long.
import { Tensor, cat, noGrad, keep } from '../tensor';
import type { Classifier } from '../models/registry';
import type { Distiller, Teacher } from '../distill/distiller';
import { TAKDHop } from '../distill/methods/classic/takd';
import type { KlReduction } from '../distill/losses/classic';
import { CrossEntropyOnly } from '../distill/methods/ce';
import { createDistiller } from '../distill/registry';
import { rotationPairs, selectMixupQueries, MixupQueryOptions } from '../distill/synthesis/active_mixup';
import { Rng } from '../util/rng';

// ---- TAKD (Mirzadeh et al. AAAI 2020, github.com/imirzadeh/Teacher-Assistant-Distillation) --------
export interface TakdHopConfig { model: Classifier; lambda: number; temperature: number; reduction?: KlReduction }

/** Trains each hop from the previous (frozen) model: teacher → hops[0] → hops[1] → …; returns the
 *  trained models, the last being the student. */
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

// ---- Tf-KD self (Yuan et al. CVPR 2020, github.com/yuanli2333/Teacher-free-Knowledge-Distillation) -
/** Pre-trains a copy of the student with CE, then distils a fresh student from it (tfkd mode
 *  'self'); returns the distiller of the second stage. */
export function tfkdSelf(makeStudent: () => Classifier, shape: { numClasses: number; imgSize: number; inChans: number }, train: (d: Distiller, stage: number) => void, options: Record<string, unknown> = {}): Distiller {
  const pre = makeStudent();
  train(new CrossEntropyOnly(pre), 0);
  const d = createDistiller('tfkd', { student: makeStudent(), teachers: [pre], ...shape }, { ...options, mode: 'self' });
  train(d, 1);
  return d;
}

// ---- Active Mixup (Wang et al. CVPR 2020, active_train.py) -------------------------------------
export interface ActiveMixupOptions extends MixupQueryOptions {
  /** black-box teacher: images → probabilities [N, K] */
  queryTeacher: (x: Tensor) => Tensor;
  /** the unlabeled real images [N, C, H, W] */
  images: Tensor;
  makeStudent: () => Classifier;
  /** trains a (fresh) student on images with soft targets */
  train: (student: Classifier, x: Tensor, soft: Tensor, stage: number) => void;
  stages: number;
  queriesPerStage: number;
  seed?: number;
}

/** Stage 0 on the real images, then `stages` active stages, each adding the teacher's answers on
 *  the selected mixes and re-training a fresh student on everything so far. */
export function activeMixup(o: ActiveMixupOptions): { student: Classifier; x: Tensor; soft: Tensor; queries: number } {
  const rng = new Rng(o.seed ?? 0);
  let x = keep(o.images.detach().clone());
  let soft = keep(noGrad(() => o.queryTeacher(o.images)));
  let queries = o.images.shape[0];
  let student = o.makeStudent();
  o.train(student, x, soft, 0);
  const pool = rotationPairs(o.images.shape[0]);
  const used = new Set<number>();
  for (let stage = 1; stage <= o.stages; stage++) {
    const mixed = selectMixupQueries(student, o.images, pool, used, o.queriesPerStage, rng, o);
    const q = noGrad(() => o.queryTeacher(mixed));
    queries += mixed.shape[0];
    const nx = keep(cat([x, mixed])), ns = keep(cat([soft, q]));
    x.dispose(); soft.dispose(); mixed.dispose(); q.dispose();
    x = nx; soft = ns;
    student = o.makeStudent();                       // re-initialised each stage, as active_train.py
    o.train(student, x, soft, stage);
  }
  return { student, x, soft, queries };
}
