// OFA-KD (Hao et al., NeurIPS 2023; Hao840/OFAKD): branch exits on the student's stages project
// features to logits; each exit and the final logits learn from the teacher's logits through the
// OFA loss (target-class weight (1 + p_t)^ε - 1). Only teacher logits are used; the exits are
// discarded at inference.
//
// Branches (methods.md §4.3): a CNN stage i of n gets (n-1-i) depthwise-separable blocks, each
// halving the resolution and doubling channels, the last one (or a 1×1 conv for the last stage)
// to max(dim_s, dim_t); then pooling and a linear classifier. A token stage gets max(n-1-i, 1)
// transformer blocks and reads the class token (the mean token when there is none).
// civet deviation: ViT branches skip OFA's Swin-style patch merging (at 32 px the 8×8 grid
// leaves nothing to merge); documented in docs/methods.md.
import { Tensor, F } from '../../../tensor';
import { Module, StageInfo, tapFeatures } from '../../../nn/module';
import { Conv2d, BatchNorm2d, ReLU, Sequential, Linear, ModuleList, AdaptiveAvgPool2d, Flatten } from '../../../nn/layers';
import { Block } from '../../../nn/layers/attention';
import { Distiller, DistillBatch, TrainOutput, Teacher, teacherLogits } from '../../distiller';
import { registerMethod } from '../../registry';
import { classificationLoss } from '../../losses/common';
import { ofaLoss } from '../../losses/crossarch';
import type { Classifier } from '../../../models/registry';

function sepConv(cin: number, cout: number, stride: number): Sequential {
  return new Sequential(
    new Conv2d(cin, cin, 3, { stride, padding: 1, groups: cin, bias: false }), new Conv2d(cin, cin, 1, { bias: false }), new BatchNorm2d(cin), new ReLU(),
    new Conv2d(cin, cin, 3, { padding: 1, groups: cin, bias: false }), new Conv2d(cin, cout, 1, { bias: false }), new BatchNorm2d(cout), new ReLU());
}

class TokenReadout extends Module {
  constructor(readonly prefix: number) { super(); }
  forward(x: Tensor): Tensor { return this.prefix > 0 ? x.select(1, 0) : x.mean(1); }
}

export function buildBranch(stage: StageInfo, i: number, n: number, dimT: number, numClasses: number, prefixTokens: number): Sequential {
  const dimS = stage.channels;
  if (stage.layout === 'map') {
    const out = Math.max(dimS, dimT);
    const body = new Sequential();
    if (i === n - 1) body.append(new Conv2d(dimS, out, 1));
    else {
      let c = dimS;
      for (let k = 0; k < n - 1 - i; k++) {
        const next = k === n - 2 - i ? out : c * 2;
        body.append(sepConv(c, next, 2));
        c = next;
      }
    }
    return body.append(new AdaptiveAvgPool2d(1)).append(new Flatten()).append(new Linear(out, numClasses));
  }
  const body = new Sequential();
  for (let k = 0; k < Math.max(n - 1 - i, 1); k++) body.append(new Block(dimS, { numHeads: 4, mlpRatio: 4, qkvBias: false }));
  return body.append(new TokenReadout(prefixTokens)).append(new Linear(dimS, numClasses));
}

export class Ofa extends Distiller {
  readonly method = 'ofa';
  readonly branches: ModuleList;
  readonly stageNames: string[];
  constructor(student: Classifier, teacher: Teacher, numClasses: number, readonly o: { stages: number[]; eps: number[]; temperature: number; wGt: number; wKd: number; wOfa: number; labelSmoothing: number }) {
    super(student, [teacher]);
    const all = student.stages().filter((s) => s.layout === 'tokens' || !/^(act1|stem|conv1|bn1)$/.test(s.name));
    const picked = o.stages.map((k) => {
      if (!Number.isInteger(k) || k < 1 || k > all.length) throw new Error(`ofa: stage ${k} does not exist (the student has ${all.length}: ${all.map((s) => s.name).join(', ')})`);
      return all[k - 1];
    });
    const dimT = teacher instanceof Module && typeof (teacher as any).numFeatures === 'number' ? (teacher as any).numFeatures
      : teacher instanceof Module && typeof (teacher as any).stages === 'function' ? (teacher as any).stages().slice(-1)[0].channels : all[all.length - 1].channels;
    const prefix = (student as any).numPrefixTokens ?? ((student as any).cls_token ? 1 : 0);
    this.stageNames = picked.map((s) => s.name);
    this.branches = this.module('branches', new ModuleList(picked.map((s) => buildBranch(s, all.indexOf(s), all.length, dimT, numClasses, prefix))));
  }
  private epsAt(i: number): number { return this.o.eps.length === 1 ? this.o.eps[0] : this.o.eps[i]; }
  trainStep(b: DistillBatch): TrainOutput {
    const { result: logits, features } = tapFeatures(this.student, this.stageNames, () => this.student.call(b.x) as Tensor);
    const t = teacherLogits(this.teachers[0], b.x);
    const target = b.soft ?? b.y;
    const terms: Record<string, Tensor> = {
      gt: classificationLoss(logits, b.y, b.soft, this.o.labelSmoothing).mul(this.o.wGt),
      kd: ofaLoss(logits, t, target, this.epsAt(this.stageNames.length), this.o.temperature).mul(this.o.wKd),
    };
    this.stageNames.forEach((name, i) => {
      const z = this.branches.at(i).call(features.get(name)!);
      terms[`ofa_s${this.o.stages[i]}`] = ofaLoss(z, t, target, this.epsAt(i), this.o.temperature).mul(this.o.wOfa);
    });
    return { logits, terms };
  }
}

registerMethod({
  name: 'ofa',
  summary: 'OFA-KD: branch exits on student stages, OFA logit loss with target-enhancement exponent',
  teachers: [1, 1],
  defaults: { stages: [1, 2, 3, 4], eps: [1], temperature: 1, wGt: 1, wKd: 1, wOfa: 1, labelSmoothing: 0 },
  validate(o) {
    const st = o.stages as number[], eps = o.eps as number[];
    if (!Array.isArray(st) || st.length === 0) throw new Error('ofa: stages must be a non-empty list of 1-based stage numbers');
    if (!Array.isArray(eps) || !(eps.length === 1 || eps.length === st.length + 1)) throw new Error(`ofa: eps must have 1 value or ${st.length + 1} (one per stage plus the final logits)`);
    return o;
  },
  create: (ctx, o) => new Ofa(ctx.student, ctx.teachers[0], ctx.numClasses, o as any),
});
