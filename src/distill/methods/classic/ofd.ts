// Overhaul of feature distillation (Heo et al. ICCV 2019; clovaai/overhaul-distillation). Taps the pre-ReLU
// stage outputs (StageInfo.preact; falls back to the stage output where a model has none),
// connectors Conv1×1+BN, margins from the teacher BN before each tapped tensor, partial L2 summed,
// stage i of n weighted 1/2^(n-i-1), total CE + weight·Σ/B (weight 1e-3 CIFAR, 1e-4 ImageNet).
import { Distiller, DistillBatch, TrainOutput, Teacher } from '../../distiller';
import { registerMethod } from '../../registry';
import { nonNegative, flag, stageList, options } from '../../options';
import { classificationLoss } from '../../losses/common';
import { overhaulLoss, overhaulMargin } from '../../losses/classic';
import { Tensor, noGrad } from '../../../tensor';
import { Module, StageInfo } from '../../../nn/module';
import { Conv2d, BatchNorm2d, Sequential } from '../../../nn/layers';
import type { Classifier } from '../../../models/registry';
import { classifierTeacher, selectStages, stageSpec, tapFeatures, probeShapes, TapSpec } from './_common';
import { matchSpatial } from '../../losses/classic/at';

/** The BN whose affine parameters model the tapped pre-ReLU tensor (the official
 *  `get_bn_before_relu`, clovaai/overhaul-distillation CIFAR-100/models): the tap itself if it is a
 *  BN (WRN: the next block's bn1, the final bn1); else the residual branch's last BN of the stage's
 *  LAST block (ResNet: layerN[-1].bn2 for basic blocks, bn3 for bottlenecks). The block's downsample
 *  BN is never it: in a single-block stage that block is also the one with the downsample, and a
 *  walk over the stage's modules would end on downsample.1 (civet's old fallback did). */
export function marginBn(model: Module, s: StageInfo): BatchNorm2d {
  if (s.preact) { const m = model.getSubmodule(s.preact); if (m instanceof BatchNorm2d) return m; }
  const blockPath = s.preact && s.preact.includes('.') ? s.preact.slice(0, s.preact.lastIndexOf('.')) : lastChildPath(model, s.name);
  let last: BatchNorm2d | null = null;
  for (const [name, m] of model.getSubmodule(blockPath).namedModules()) {
    if (m instanceof BatchNorm2d && !/(^|\.)downsample(\.|$)/.test(name)) last = m;
  }
  if (!last) throw new Error(`ofd: no BatchNorm outside the shortcut in teacher block '${blockPath}' (stage '${s.name}') to take the margin from`);
  return last;
}

/** The stage's last child (its last block), or the stage itself when it has no children. */
function lastChildPath(model: Module, stage: string): string {
  const kids = [...model.getSubmodule(stage).namedChildren()];
  return kids.length ? `${stage}.${kids[kids.length - 1][0]}` : stage;
}

export interface OfdOptions { weight: number; ceWeight: number; teacherTrainMode: boolean; layers: number[] | null }

export class OFD extends Distiller {
  readonly method = 'ofd';
  readonly connectors: Sequential;
  private readonly sSpecs: TapSpec[]; private readonly tSpecs: TapSpec[];
  private readonly margins: Tensor[];
  private readonly teacher: Classifier;
  /** true where the student stage had no pre-ReLU tap and the post-ReLU output is used */
  readonly studentPostReluFallback: boolean;
  constructor(student: Classifier, teacher: Teacher, readonly o: OfdOptions, inChans: number, imgSize: number) {
    super(student, [teacher]);
    this.teacher = classifierTeacher(teacher, 'ofd');
    let ss = selectStages(student, o.layers), ts = selectStages(this.teacher, o.layers);
    const n = Math.min(ss.length, ts.length);
    ss = ss.slice(ss.length - n); ts = ts.slice(ts.length - n);
    this.studentPostReluFallback = ss.some((s) => !s.preact);
    this.sSpecs = ss.map((s) => stageSpec(s, true)); this.tSpecs = ts.map((s) => stageSpec(s, true));
    const sShapes = probeShapes(student, this.sSpecs, inChans, imgSize);
    const tShapes = probeShapes(this.teacher, this.tSpecs, inChans, imgSize);
    this.connectors = this.module('connectors', new Sequential(...sShapes.map((s, i) => {
      const cout = tShapes[i][1];
      const conv = new Conv2d(s[1], cout, 1, { bias: false });
      noGrad(() => conv.weight.normal_(0, Math.sqrt(2 / cout)));
      return new Sequential(conv, new BatchNorm2d(cout));
    })));
    this.margins = ts.map((s) => { const bn = marginBn(this.teacher, s); return overhaulMargin(bn.weight!, bn.bias!).keep(); });
  }
  override train(mode = true): this {
    super.train(mode);
    if (mode && this.o.teacherTrainMode) this.teacher.train(true);   // the official loops call t_net.train()
    return this;
  }
  trainStep(b: DistillBatch): TrainOutput {
    const { result: logits, feats } = tapFeatures(this.student, this.sSpecs, () => this.student.call(b.x) as Tensor);
    const tf = noGrad(() => tapFeatures(this.teacher, this.tSpecs, () => this.teacher.call(b.x)).feats.map((f) => f.detach()));
    const n = feats.length, B = b.x.shape[0];
    let total: Tensor | null = null;
    feats.forEach((f, i) => {
      let s = (this.connectors.getSubmodule(String(i)) as Sequential).call(f) as Tensor;
      let t = tf[i];
      if (t.shape[2] !== s.shape[2]) [s, t] = matchSpatial(s, t);
      const l = overhaulLoss(s, t, this.margins[i]).div(2 ** (n - i - 1));
      total = total ? total.add(l) : l;
    });
    return { logits, terms: { ce: classificationLoss(logits, b.y, b.soft).mul(this.o.ceWeight), ofd: total!.div(B).mul(this.o.weight) } };
  }
}

registerMethod({
  name: 'ofd',
  summary: 'overhaul feature distillation: pre-ReLU stage taps, connector conv+BN, margin partial L2 (weight 1e-3 /B; teacher in train mode as official)',
  teachers: [1, 1],
  options: options({
    weight: nonNegative(1e-3), ceWeight: nonNegative(1), teacherTrainMode: flag(true),
    layers: stageList().min(1, 'expected at least one stage (or null for all)').nullable().default(null),
  }),
  create: (ctx, o) => new OFD(ctx.student, ctx.teachers[0], o, ctx.inChans, ctx.imgSize),
});
