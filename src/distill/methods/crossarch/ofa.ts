// OFA-KD (Hao et al., NeurIPS 2023; Hao840/OFAKD): branch exits on the student's stages project
// features to logits; each exit and the final logits learn from the teacher's logits through the
// OFA loss (target-class weight (1 + p_t)^ε - 1). Only teacher logits are used; the exits are
// discarded at inference.
//
// Branches (Hao840/OFAKD, distillers/ofa.py): a CNN stage i of n gets (n-1-i) depthwise-separable blocks, each
// halving the resolution and doubling channels, the last one (or a 1×1 conv for the last stage)
// to max(dim_s, dim_t), where dim_s is the width of the student's FINAL stage and dim_t the
// teacher's (`feature_dim_s = student.stage_info(-1)`), whatever stage the branch starts from; then
// pooling and a linear classifier. A token stage gets max(n-1-i, 1) transformer blocks at dim_s and
// reads the class token (the mean token when there is none). OFAKD hard-codes n = 4 (`4 - stage`);
// civet uses the student's own stage count, so a 3-stage CIFAR ResNet's last stage gets the 1×1 conv.
// Stages are numbered by bodyStages() (layer1..layerN for every CNN; stages.ts).
// Branch weights follow OFAKD's init_weights: kaiming normal (fan-out, ReLU) convs, BN 1/0,
// truncated normal (std 0.02) linears with zero bias. OFAKD's train.py defaults label smoothing to 0.1.
// Token branches first merge patches Swin-style, merge_num = max(floor(log2(grid / 7)), 0) times
// (OFAKD's rule: 14×14 → one merge to 7×7; an 8×8 grid at 32 px gets none), class tokens untouched.
import { Tensor, F, cat } from '../../../tensor';
import { Module, StageInfo, tapFeatures } from '../../../nn/module';
import { kaimingNormal_, ones_, zeros_ } from '../../../nn/init';
import { truncNormalStd_ } from '../../../models/vit';
import { bodyStages } from './stages';
import { Conv2d, BatchNorm2d, ReLU, Sequential, Linear, ModuleList, AdaptiveAvgPool2d, Flatten, LayerNorm, GELU, Identity } from '../../../nn/layers';
import { Block } from '../../../nn/layers/attention';
import { Distiller, DistillBatch, TrainOutput, Teacher, teacherLogits, liveTeacher } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, nonNegative, fraction, stageList, options } from '../../options';
import { z } from 'zod';
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

/**
 * Swin-style patch merging on the patch tokens of [B, P+N, Din] (P prefix tokens pass through):
 * 2×2 neighbours concatenated (Swin's order x0 = (0,0), x1 = (1,0), x2 = (0,1), x3 = (1,1);
 * odd grids zero-padded) → LayerNorm(4·Din) → Linear(4·Din → Dout, no bias) → activation.
 */
export class PatchMerging extends Module {
  readonly norm: LayerNorm;
  readonly reduction: Linear;
  readonly act: Module;
  constructor(dimIn: number, dimOut: number, readonly prefix: number, gelu: boolean) {
    super();
    this.norm = this.module('norm', new LayerNorm(4 * dimIn));
    this.reduction = this.module('reduction', new Linear(4 * dimIn, dimOut, { bias: false }));
    this.act = this.module('act', gelu ? new GELU() : new Identity());
  }
  forward(x: Tensor): Tensor {
    const [B, L, D] = x.shape;
    const n = L - this.prefix;
    const g = Math.round(Math.sqrt(n));
    if (g * g !== n) throw new Error(`ofa: ${n} patch tokens are not a square grid`);
    let m = x.slice(1, this.prefix, L).reshape(B, g, g, D);
    if (g % 2) m = F.pad(m, [0, 0, 0, 1, 0, 1]);
    const h = m.shape[1];
    const at = (r: number, c: number) => m.slice(1, r, h, 2).slice(2, c, h, 2);
    const merged = cat([at(0, 0), at(1, 0), at(0, 1), at(1, 1)], -1).reshape(B, (h / 2) * (h / 2), 4 * D);
    const y = this.act.call(this.reduction.call(this.norm.call(merged)));
    // class tokens pass through untouched (OFA: dim_s equals the student's width, so widths agree)
    return this.prefix > 0 ? cat([x.slice(1, 0, this.prefix), y], 1) : y;
  }
}

/** OFAKD's number of 2×2 merges for a token stage of L tokens: max(floor(log2(int(sqrt(L)) / 7)), 0). */
export function mergeCount(tokens: number): number {
  return Math.max(Math.floor(Math.log2(Math.floor(Math.sqrt(tokens)) / 7)), 0);
}

/** OFAKD's init_weights over a branch: kaiming-normal fan-out convs, BN weight 1 / bias 0, trunc-normal 0.02 linears. */
export function ofaInit(m: Module): void {
  for (const [, c] of m.namedModules()) {
    if (c instanceof Conv2d) {
      kaimingNormal_(c.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      if (c.bias) zeros_(c.bias);
    } else if (c instanceof BatchNorm2d) {
      if (c.weight) ones_(c.weight);
      if (c.bias) zeros_(c.bias);
    } else if (c instanceof Linear) {
      truncNormalStd_(c.weight, 0.02);
      if (c.bias) zeros_(c.bias);
    }
  }
}

/**
 * The branch exit of body stage i (0-based) of n. dimS = the width of the student's final stage,
 * dimT = the teacher's final width (OFAKD's feature_dim_s, feature_dim_t).
 */
export function buildBranch(stage: StageInfo, i: number, n: number, dimS: number, dimT: number, numClasses: number, prefixTokens: number, tokens = 0): Sequential {
  let branch: Sequential;
  if (stage.layout === 'map') {
    const out = Math.max(dimS, dimT);
    const body = new Sequential();
    if (i === n - 1) body.append(new Conv2d(stage.channels, out, 1));
    else {
      let c = stage.channels;
      for (let k = 0; k < n - 1 - i; k++) {
        body.append(sepConv(c, k === n - 2 - i ? out : c * 2, 2));
        c *= 2;
      }
    }
    branch = body.append(new AdaptiveAvgPool2d(1)).append(new Flatten()).append(new Linear(out, numClasses));
  } else {
    const body = new Sequential();
    const merges = mergeCount(tokens);
    // first merge stage width → dim_s with GELU; later ones dim_s → dim_s, GELU except the last (a single merge keeps GELU)
    for (let k = 0; k < merges; k++) body.append(new PatchMerging(k === 0 ? stage.channels : dimS, dimS, prefixTokens, merges === 1 || k < merges - 1));
    for (let k = 0; k < Math.max(n - 1 - i, 1); k++) body.append(new Block(dimS, { numHeads: 4, mlpRatio: 4, qkvBias: false }));
    branch = body.append(new TokenReadout(prefixTokens)).append(new Linear(dimS, numClasses));
  }
  ofaInit(branch);
  return branch;
}

export class Ofa extends Distiller {
  readonly method = 'ofa';
  readonly branches: ModuleList;
  readonly stageNames: string[];
  constructor(student: Classifier, teacher: Teacher, numClasses: number, readonly o: { stages: number[]; eps: number[]; temperature: number; wGt: number; wKd: number; wOfa: number; labelSmoothing: number }) {
    super(student, [teacher]);
    const all = bodyStages(student, 'ofa');
    const picked = o.stages.map((k) => {
      if (!Number.isInteger(k) || k < 1 || k > all.length) throw new Error(`ofa: stage ${k} does not exist (the student has ${all.length}: ${all.map((s) => s.name).join(', ')})`);
      return all[k - 1];
    });
    const live = liveTeacher(teacher);
    const dimT = live instanceof Module && typeof (live as any).numFeatures === 'number' ? (live as any).numFeatures
      : live instanceof Module && typeof (live as any).stages === 'function' ? (live as any).stages().slice(-1)[0].channels : all[all.length - 1].channels;
    const dimS = all[all.length - 1].channels;
    const prefix = (student as any).numPrefixTokens ?? ((student as any).cls_token ? 1 : 0);
    this.stageNames = picked.map((s) => s.name);
    const grid = (student as any).gridSize as [number, number] | undefined;
    const tokens = grid ? prefix + grid[0] * grid[1] : 0;
    this.branches = this.module('branches', new ModuleList(picked.map((s) => buildBranch(s, all.indexOf(s), all.length, dimS, dimT, numClasses, prefix, tokens))));
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
  teacherCache: 'logits',
  summary: 'OFA-KD: branch exits on student stages, OFA logit loss with target-enhancement exponent',
  teachers: [1, 1],
  options: options({
    stages: z.array(z.number({ invalid_type_error: 'expected a number' }).int('expected an integer').positive('expected 1-based stage numbers'), { invalid_type_error: 'expected a list of stage numbers' })
      .min(1, 'expected a non-empty list of 1-based stage numbers').default([1, 2, 3, 4]),
    eps: z.array(z.number({ invalid_type_error: 'expected a number' }).positive('expected a positive number'), { invalid_type_error: 'expected a list of numbers' }).default([1]),
    temperature: positive(1), wGt: nonNegative(1), wKd: nonNegative(1), wOfa: nonNegative(1), labelSmoothing: fraction(0.1),
  }).superRefine((o, ctx) => {
    if (!(o.eps.length === 1 || o.eps.length === o.stages.length + 1)) ctx.addIssue({ code: 'custom', path: ['eps'], message: `expected 1 value or ${o.stages.length + 1} (one per stage plus the final logits), got ${o.eps.length}` });
  }),
  create: (ctx, o) => new Ofa(ctx.student, ctx.teachers[0], ctx.numClasses, o),
});
