// Heterogeneous KD via information-flow modelling (Passalis et al., CVPR 2020; pkth cifar10/exp2_proposed.py):
// CE + β·Σ_l w_l·D_l, D_l = PKT divergence (combined kernel, Jeffreys) at layer l.
//
// The paper's auxiliary-network scheme is two civet runs, not one method: step 1 trains the auxiliary
// (student-style but wider) from the heterogeneous teacher with `finalOnly: true` (last layer only);
// step 2 uses that run as the teacher of the real student (e.g. `teachers: [{run: 'aux'}]`) with the
// default all-layer matching.
//
// Layers are paired from the end (like AT), so nets with different depths still align their deepest
// stages; the pooled penultimate features are always the "final layer". Conv maps are shrunk to a
// pool×pool grid before the kernel (the official code does this for its ResNet teacher) so the
// per-sample vectors stay small and the two nets' map sizes need not agree.
import { Distiller, DistillBatch, TrainOutput, Teacher, StepContext } from '../../distiller';
import { registerMethod } from '../../registry';
import { nonNegative, count, flag, oneOf, stageList, options } from '../../options';
import { classificationLoss } from '../../losses/common';
import { pktGeneral, PktKernel, PktDivergence } from '../../losses/classic';
import { Tensor, F } from '../../../tensor';
import type { Classifier } from '../../../models/registry';
import { classifierTeacher, penultimateSpec, selectStages, stageSpec, tapFeatures, teacherForward, TapSpec } from './_common';

export interface IfkdOptions {
  beta: number; ceWeight: number; kernel: PktKernel; divergence: PktDivergence;
  initialWeight: number; decay: number; pool: number; layers: number[] | null; finalOnly: boolean;
}

/** Critical-period weights, intermediate layers first and the final layer (always 1) last. */
export function ifkdLayerWeights(epoch: number, nLayers: number, o: Pick<IfkdOptions, 'initialWeight' | 'decay' | 'finalOnly'>): number[] {
  // early epochs are the "critical period" in which the intermediate layers' flow is shaped; their
  // weight then decays fast so the final representation dominates
  const n = o.finalOnly ? 1 : nLayers;
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? 1 : o.initialWeight * o.decay ** epoch));
}

export class InformationFlowKD extends Distiller {
  readonly method = 'ifkd';
  private readonly sSpecs: TapSpec[]; private readonly tSpecs: TapSpec[];
  private readonly teacher: Classifier;
  /** Set to an array to collect each step's unweighted per-layer divergences (tests; the weighted term hides them). */
  divergenceLog: number[][] | null = null;
  constructor(student: Classifier, teacher: Teacher, readonly o: IfkdOptions) {
    super(student, [teacher]);
    this.teacher = classifierTeacher(teacher, 'ifkd');
    let ss: TapSpec[] = [], ts: TapSpec[] = [];
    if (!o.finalOnly) {
      const s = selectStages(student, o.layers), t = selectStages(this.teacher, o.layers);
      const n = Math.min(s.length, t.length);
      ss = s.slice(s.length - n).map((x) => stageSpec(x));
      ts = t.slice(t.length - n).map((x) => stageSpec(x));
    }
    this.sSpecs = [...ss, penultimateSpec(student)];
    this.tSpecs = [...ts, penultimateSpec(this.teacher)];
  }
  /** Number of matched layers (the final layer included). */
  get numLayers(): number { return this.sSpecs.length; }
  layerWeights(epoch: number): number[] { return ifkdLayerWeights(epoch, this.numLayers, this.o); }

  private flat(f: Tensor): Tensor {
    return f.shape.length === 4 ? F.adaptive_avg_pool2d(f, this.o.pool).flatten(1) : f.reshape(f.shape[0], -1);
  }
  trainStep(b: DistillBatch, ctx: StepContext): TrainOutput {
    const { result: logits, feats } = tapFeatures(this.student, this.sSpecs, () => this.student.call(b.x) as Tensor);
    const t = teacherForward(this.teacher, this.tSpecs, b.x);
    const ds = feats.map((f, i) => pktGeneral(this.flat(f), this.flat(t.feats[i]), this.o.kernel, this.o.divergence));
    this.divergenceLog?.push(ds.map((d) => d.item()));
    const w = this.layerWeights(ctx.epoch);
    const ifkd = ds.map((d, i) => d.mul(w[i])).reduce((a, c) => a.add(c)).mul(this.o.beta);
    // the official retrieval code has no CE (ceWeight 0 reproduces it); classification adds it back
    return { logits, terms: { ce: classificationLoss(logits, b.y, b.soft).mul(this.o.ceWeight), ifkd } };
  }
}

registerMethod({
  name: 'ifkd',
  summary: 'information-flow KD: CE + β·Σ_l w_l·PKT-Jeffreys(layer l), final layer w 1, intermediate w 100·0.7^epoch (finalOnly: aux step)',
  teachers: [1, 1],
  options: options({
    beta: nonNegative(1), ceWeight: nonNegative(1), kernel: oneOf(['cosine', 'student_t', 'combined'], 'combined'),
    divergence: oneOf(['kl', 'jeffreys'], 'jeffreys'), initialWeight: nonNegative(100), decay: nonNegative(0.7),
    /** grid side of the pooled features */
    pool: count(2),
    // a non-empty list: the last layer alone is finalOnly
    layers: stageList().min(1, 'expected a non-empty list of stage indices (use finalOnly for the last layer alone)').nullable().default(null),
    finalOnly: flag(false),
  }),
  create: (ctx, o) => new InformationFlowKD(ctx.student, ctx.teachers[0], o),
});
