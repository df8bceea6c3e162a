// Shared plumbing for the classic methods: feature taps on stages() (outputs, pre-ReLU tensors,
// module inputs), teacher checks, and a small training loop used by tests and by the chained /
// staged schemes (TAKD, Tf-KD_self, active mixup).
import { Tensor, noGrad, tidy, keep, zeros } from '../../../tensor';
import { Module, StageInfo } from '../../../nn/module';
import type { Classifier } from '../../../models/registry';
import type { Distiller, DistillBatch, StepContext, Teacher } from '../../distiller';
import { SGD } from '../../../optim/sgd';
import { AdamW } from '../../../optim/adamw';

export interface StageTap extends StageInfo { preact?: string }

/** Where a tapped tensor comes from: a submodule's output, or its first input (e.g. the classifier's pooled input). */
export interface TapSpec { path: string; io: 'out' | 'in' }

/** Runs fn while recording the given module outputs / inputs (in spec order). */
export function tapRun<T>(model: Module, specs: TapSpec[], fn: () => T): { result: T; feats: Tensor[] } {
  const got = new Map<number, Tensor>();
  const removers = specs.map((s, i) => model.getSubmodule(s.path).registerForwardHook((_m, inputs, out) => {
    got.set(i, s.io === 'out' ? out : (inputs[0] as Tensor));
  }));
  try {
    const result = fn();
    const feats = specs.map((s, i) => {
      const t = got.get(i);
      if (!t) throw new Error(`feature tap '${s.path}' (${s.io}) saw no forward call`);
      return t;
    });
    return { result, feats };
  } finally {
    for (const r of removers) r();
  }
}

/** The stages feature methods tap by default: stages() without the stem (RepDistiller feat[1:-1]). */
export function featureStages(model: Classifier): StageTap[] {
  const st = model.stages() as StageTap[];
  return st.length > 1 ? st.slice(1) : st;
}

/** Resolves stage selectors (indices into stages(), negative from the end; default: all but the stem). */
export function selectStages(model: Classifier, layers?: number[] | null): StageTap[] {
  const all = model.stages() as StageTap[];
  if (!layers) return featureStages(model);
  return layers.map((i) => {
    const s = all[i < 0 ? all.length + i : i];
    if (!s) throw new Error(`stage index ${i} out of range: ${model.constructor.name} has ${all.length} stages`);
    return s;
  });
}

/** Tap spec for a stage: its output, or its pre-ReLU tensor when asked for and the model exposes one. */
export function stageSpec(s: StageTap, preact = false): TapSpec {
  return { path: preact && s.preact ? s.preact : s.name, io: 'out' };
}

/** The classifier's pooled penultimate feature (RepDistiller feat[-1]): the input of `fc`/`head`. */
export function penultimateSpec(model: Module): TapSpec {
  for (const p of ['fc', 'head.fc', 'head', 'classifier', 'linear']) {
    try { model.getSubmodule(p); return { path: p, io: 'in' }; } catch { /* next */ }
  }
  throw new Error(`${model.constructor.name}: no classifier module (fc/head/classifier) to tap the penultimate feature from`);
}

/** Feature methods need a civet Classifier teacher (its stages), not a black-box logits function. */
export function classifierTeacher(t: Teacher, method: string): Classifier {
  if (!(t instanceof Module) || typeof (t as Classifier).stages !== 'function') {
    throw new Error(`method '${method}' taps teacher features and needs a civet model as teacher, got '${(t as any).name ?? t.constructor.name}'`);
  }
  return t as Classifier;
}

/** Teacher forward under noGrad with taps (features detached). */
export function teacherForward(t: Classifier, specs: TapSpec[], x: Tensor): { logits: Tensor; feats: Tensor[] } {
  return noGrad(() => {
    const { result, feats } = tapRun(t, specs, () => t.call(x) as Tensor);
    return { logits: result, feats };
  });
}

/** Shapes of tapped features for a probe input (for building projectors at construction). */
export function probeShapes(model: Module, specs: TapSpec[], inChans: number, imgSize: number): number[][] {
  const wasTraining = model.training;
  model.eval();
  try {
    return tidy(() => noGrad(() => {
      const x = zeros([2, inChans, imgSize, imgSize]);
      const { feats } = tapRun(model, specs, () => model.call(x));
      return feats.map((f) => f.shape.slice());
    }));
  } finally { model.train(wasTraining); }
}

// ---- a minimal training loop --------------------------------------------------------------------
export interface FitOptions {
  steps: number;
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  stepsPerEpoch?: number;
  totalEpochs?: number;
  /** 'sgd' (default, momentum 0.9) or 'adamw' (for transformer students) */
  optimizer?: 'sgd' | 'adamw';
  /** 'constant' (default) or 'cosine' (lr·½(1+cos(π·step/steps))) */
  schedule?: 'constant' | 'cosine';
  /** called after every step with the term values */
  onStep?: (step: number, terms: Record<string, number>) => void;
}

/** SGD on the distiller's parameters; returns each term's per-step values. */
export function fitDistiller(d: Distiller, nextBatch: (step: number) => DistillBatch, o: FitOptions): Record<string, number[]> {
  const opt = o.optimizer === 'adamw'
    ? new AdamW(d, { lr: o.lr ?? 1e-3, weightDecay: o.weightDecay ?? 0.05 })
    : new SGD(d, { lr: o.lr ?? 0.05, momentum: o.momentum ?? 0.9, weightDecay: o.weightDecay ?? 5e-4 });
  const hist: Record<string, number[]> = {};
  const spe = o.stepsPerEpoch ?? 10;
  d.train();
  const lr0 = opt.paramGroups.map((g) => g.lr);
  for (let step = 0; step < o.steps; step++) {
    if (o.schedule === 'cosine') opt.paramGroups.forEach((g, i) => { g.lr = lr0[i] * 0.5 * (1 + Math.cos(Math.PI * step / o.steps)); });
    const ctx: StepContext = { step, epoch: Math.floor(step / spe), totalEpochs: o.totalEpochs ?? Math.ceil(o.steps / spe), stepsPerEpoch: spe };
    const vals = tidy(() => {
      const b = nextBatch(step);
      const out = d.trainStep(b, ctx);
      const names = Object.keys(out.terms);
      const total = names.map((n) => out.terms[n]).reduce((a, c) => a.add(c));
      opt.zeroGrad();
      total.backward();
      opt.step();
      const v: Record<string, number> = {};
      for (const n of names) v[n] = out.terms[n].item();
      return v;
    });
    for (const [k, v] of Object.entries(vals)) (hist[k] ??= []).push(v);
    o.onStep?.(step, vals);
  }
  return hist;
}

/** Top-1 accuracy of a function images → logits, in batches. */
export function accuracy(predict: (x: Tensor) => Tensor, x: Tensor, y: Tensor, batch = 256): number {
  let correct = 0;
  const n = x.shape[0];
  noGrad(() => {
    for (let i = 0; i < n; i += batch) {
      tidy(() => {
        const m = Math.min(batch, n - i);
        correct += predict(x.narrow(0, i, m)).argmax(1).eq(y.narrow(0, i, m)).sum().item();
      });
    }
  });
  return correct / n;
}

export { keep };
