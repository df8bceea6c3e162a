// Shared plumbing for the classic methods: feature taps on stages() (outputs, pre-ReLU tensors,
// module inputs) and teacher checks. Training loops live in src/train (fit.ts).
import { Tensor, noGrad, tidy, keep, zeros } from '../../../tensor';
import { Module, StageInfo, TapSpec, tapFeatures } from '../../../nn/module';
import type { Classifier } from '../../../models/registry';
import type { Teacher } from '../../distiller';

/** The stages feature methods tap by default: stages() without the stem (RepDistiller feat[1:-1]). */
export function featureStages(model: Classifier): StageInfo[] {
  const st = model.stages();
  return st.length > 1 ? st.slice(1) : st;
}

/** Resolves stage selectors (indices into stages(), negative from the end; default: all but the stem). */
export function selectStages(model: Classifier, layers?: number[] | null): StageInfo[] {
  const all = model.stages();
  if (!layers) return featureStages(model);
  return layers.map((i) => {
    const s = all[i < 0 ? all.length + i : i];
    if (!s) throw new Error(`stage index ${i} out of range: ${model.constructor.name} has ${all.length} stages`);
    return s;
  });
}

/** Tap spec for a stage: its output, or its pre-ReLU tensor when asked for and the model exposes one. */
export function stageSpec(s: StageInfo, preact = false): TapSpec {
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
    const { result, feats } = tapFeatures(t, specs, () => t.call(x) as Tensor);
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
      const { feats } = tapFeatures(model, specs, () => model.call(x));
      return feats.map((f) => f.shape.slice());
    }));
  } finally { model.train(wasTraining); }
}

export { keep, tapFeatures };
export type { TapSpec };
