// TAS (Li, Wang, Yan, Ding, Gao, Xia; arXiv 2410.12342): distilling an arbitrary teacher into an
// arbitrary student through a hybrid ASSISTANT. No official code was released, so
// this is a configurable composition of what the abstract and the seed notes establish; every
// default below is TO BE CONFIRMED FROM THE PAPER PDF.
//
// Assistant = the student's early stages (shared weights: the student's own forward pass up to
// stage `split`; default: all but the last, the seed's "S1→3 of the student, weight-shared") → L2G
// module (1×1 projection to the teacher's width at stage `teacherStage`, resize to that stage's
// resolution, learned positional encoding, one multi-head self-attention block over the positions)
// → the teacher's later stages (default: its last, the seed's "adds S4") re-built with the
// teacher's own block type, one block per stage, fresh weights: an involution bottleneck for a
// RedNet teacher, a bottleneck for ResNet-50, a basic block for ResNet-18 / CIFAR ResNets, a wide
// basic block for a WRN, a transformer block for a ViT teacher (teacherStyleBlock below)
// → global pooling → linear classifier. Stages are numbered by bodyStages() (stages.ts), the
// same rule as OFA's: layer1..layerN for a CNN, never the stem.
//
// Loss = L(T→S) + L(T→A) + L(A→S), each L = OFA logit loss (ε; Hao-Ning/OFAKD distillers/ofa.py) + InfoNCE between
// spatially smoothed (average-pooled) final features projected to a common width; plus CE on
// the student and the assistant. The source side of each relation is detached (teacher is frozen
// anyway; the assistant teaches the student without being pulled towards it).
//
// Supported: CNN or ViT teacher → ViT/DeiT/CivT or CNN student (a ViT teacher's later stages are
// mirrored with one transformer block per teacher stage). The assistant and
// the projectors are owned by the distiller (trained, saved with the run, discarded at inference).
import { Tensor, F, noGrad, zeros } from '../../../tensor';
import { Module, StageInfo, tapFeatures } from '../../../nn/module';
import { Conv2d, Linear, Block, Sequential, ModuleList, Involution2d } from '../../../nn/layers';
import { CifarBasicBlock, WideBasicBlock } from '../../../models/cifar_resnet';
import { BasicBlock, Bottleneck } from '../../../models/resnet';
import { RedBottleneck } from '../../../models/rednet';
import { truncNormalStd_ } from '../../../models/vit';
import { Distiller, DistillBatch, TrainOutput, Teacher } from '../../distiller';
import { registerMethod } from '../../registry';
import { positive, nonNegative, fraction, count, nonNegativeInt, options } from '../../options';
import { z } from 'zod';
import { classificationLoss } from '../../losses/common';
import { tokensToMap, spatialSmooth, tasPairLoss } from '../../losses/tas';
import { bodyStages } from './stages';
import type { Classifier } from '../../../models/registry';

export interface TasOptions {
  /** 1-based student stage after which the assistant branches off; 0 = all but the last (the seed's S1→3 of 4) */
  split: number;
  /** 1-based teacher stage whose output the L2G output stands for; 0 = the teacher's second-to-last (the assistant adds its S4) */
  teacherStage: number;
  /** OFA exponent ε (TBC; OFA's pair-dependent 1–1.5) */
  eps: number;
  ofaTemperature: number;
  /** InfoNCE temperature (TBC: 0.07 or 0.1 usual; not given in the abstract) */
  nceTemperature: number;
  /** spatial smoothing: average-pool the final features to poolSize × poolSize before the projector (TBC) */
  poolSize: number;
  /** width of the common InfoNCE embedding */
  embedDim: number;
  /** heads of the L2G self-attention (falls back to a divisor of the width) */
  l2gHeads: number;
  /** relations used, any of 'ts', 'ta', 'as' */
  pairs: string[];
  wGt: number;
  wAssistantGt: number;
  wOfa: number;
  wNce: number;
  labelSmoothing: number;
}

export { bodyStages };

/** The kind of block the teacher's body stage `name` is built from (its first block), for the assistant's teacher-style stages. */
export type TeacherBlockKind = 'involution' | 'bottleneck' | 'basic' | 'cifar_basic' | 'wide_basic' | 'transformer';

export function teacherBlockKind(teacher: Module, stage: StageInfo): TeacherBlockKind {
  if (stage.layout === 'tokens') return 'transformer';
  let m: Module;
  try { m = teacher.getSubmodule(stage.name); } catch { m = teacher; }
  const first = m instanceof Sequential && m.length ? m.at(0) : m;
  if (first instanceof RedBottleneck) return 'involution';
  if (first instanceof Bottleneck) return 'bottleneck';
  if (first instanceof BasicBlock) return 'basic';
  if (first instanceof CifarBasicBlock) return 'cifar_basic';
  if (first instanceof WideBasicBlock) return 'wide_basic';
  // any other CNN (RegNet, tiny_cnn, WRN's NetworkBlock wrapper, ...): look one level down, else a basic residual block
  for (const [, c] of m.namedModules()) {
    if (c instanceof RedBottleneck) return 'involution';
    if (c instanceof Bottleneck) return 'bottleneck';
    if (c instanceof WideBasicBlock) return 'wide_basic';
    if (c instanceof CifarBasicBlock) return 'cifar_basic';
    if (c instanceof BasicBlock) return 'basic';
  }
  return 'cifar_basic';
}

/** One fresh block of the teacher's type from cin to cout channels at the given stride. */
export function teacherStyleBlock(kind: TeacherBlockKind, cin: number, cout: number, stride: number, heads: number, teacher?: Module, stage?: StageInfo): Module {
  switch (kind) {
    case 'involution': {
      // the teacher's involution kernel size (RedNet: 7)
      let k = 7;
      if (teacher && stage) for (const [, c] of teacher.getSubmodule(stage.name).namedModules()) if (c instanceof Involution2d) { k = c.kernelSize; break; }
      return new RedBottleneck(cin, cout, stride, { kernelSize: k });
    }
    case 'bottleneck': return new Bottleneck(cin, cout / Bottleneck.expansion, stride);
    case 'basic': return new BasicBlock(cin, cout, stride);
    case 'wide_basic': return new WideBasicBlock(cin, cout, stride);
    case 'cifar_basic': return new CifarBasicBlock(cin, cout, stride);
    case 'transformer': return new Block(cin, { numHeads: headsFor(cin, heads), mlpRatio: 4, qkvBias: true });
  }
}

function headsFor(dim: number, want: number): number {
  for (let h = want; h > 1; h--) if (dim % h === 0) return h;
  return 1;
}

/** L2G: local-to-global bridge, projection + resize + positional encoding + one MHSA block. */
export class L2G extends Module {
  readonly proj: Conv2d;
  readonly pos_embed: Tensor;
  readonly attn: Block;
  constructor(cin: number, readonly cout: number, readonly size: [number, number], heads: number) {
    super();
    this.proj = this.module('proj', new Conv2d(cin, cout, 1));
    this.pos_embed = this.param('pos_embed', zeros([1, size[0] * size[1], cout]));
    truncNormalStd_(this.pos_embed, 0.02);
    this.attn = this.module('attn', new Block(cout, { numHeads: headsFor(cout, heads), mlpRatio: 4, qkvBias: true }));
  }
  forward(x: Tensor): Tensor {
    let y = this.proj.call(x);
    const [h, w] = this.size;
    if (y.shape[2] !== h || y.shape[3] !== w) {
      y = y.shape[2] >= h && y.shape[3] >= w ? F.adaptive_avg_pool2d(y, [h, w]) : F.interpolate(y, { size: [h, w], mode: 'bilinear', align_corners: false });
    }
    const B = y.shape[0];
    const t = this.attn.call(y.flatten(2).permute(0, 2, 1).add(this.pos_embed));   // [B, h·w, C]
    return t.permute(0, 2, 1).reshape(B, this.cout, h, w);
  }
}

/** The assistant's own part: L2G, then teacher-type stages, then pooling and a classifier. */
export class AssistantTail extends Module {
  readonly l2g: L2G;
  readonly stages: Sequential;
  readonly head: Linear;
  readonly outChannels: number;
  readonly kind: 'map' | 'tokens';
  /** the block type of each teacher-style stage (from the teacher's own blocks) */
  readonly blockKinds: TeacherBlockKind[] = [];
  constructor(cin: number, teacherStages: StageInfo[], from: number, imgSize: number, numClasses: number, heads: number, teacher?: Module) {
    super();
    const t0 = teacherStages[from];
    this.kind = t0.layout;
    const side = Math.max(1, Math.round(imgSize / t0.stride));
    this.l2g = this.module('l2g', new L2G(cin, t0.channels, [side, side], heads));
    this.stages = this.module('stages', new Sequential());
    let c = t0.channels;
    for (let j = from + 1; j < teacherStages.length; j++) {
      const s = teacherStages[j];
      // one block per later teacher stage, of the teacher's own type (a guess: the paper's text does
      // not say how many blocks); ViT teacher: a transformer block at the teacher's width
      const kind = teacher ? teacherBlockKind(teacher, s) : this.kind === 'tokens' ? 'transformer' : 'cifar_basic';
      this.blockKinds.push(kind);
      if (kind === 'transformer') {
        this.stages.append(teacherStyleBlock(kind, c, c, 1, heads));
      } else {
        const stride = Math.max(1, Math.round(s.stride / teacherStages[j - 1].stride));
        this.stages.append(teacherStyleBlock(kind, c, s.channels, stride, heads, teacher, s));
        c = s.channels;
      }
    }
    this.outChannels = c;
    this.head = this.module('head', new Linear(c, numClasses));
  }
  /** {feature map, logits} */
  run(x: Tensor): { feat: Tensor; logits: Tensor } {
    let f = this.l2g.call(x);
    if (this.kind === 'tokens') {
      const [B, C, h, w] = f.shape;
      f = this.stages.call(f.flatten(2).permute(0, 2, 1)).permute(0, 2, 1).reshape(B, C, h, w);
    } else {
      f = this.stages.call(f);
    }
    return { feat: f, logits: this.head.call(f.mean([2, 3])) };
  }
  forward(x: Tensor): Tensor { return this.run(x).logits; }
}

/** Smoothing + linear projection to the common InfoNCE width. */
class Embed extends Module {
  readonly fc: Linear;
  constructor(channels: number, readonly poolSize: number, dim: number, side: number) {
    super();
    const p = Math.min(poolSize, side);
    this.fc = this.module('fc', new Linear(channels * p * p, dim));
  }
  forward(f: Tensor): Tensor { return this.fc.call(spatialSmooth(f, this.poolSize)); }
}

export class Tas extends Distiller {
  readonly method = 'tas';
  readonly assistant: AssistantTail;
  readonly embeds: ModuleList;
  /** the resolved 1-based split (student stage) and teacher stage */
  readonly split: number;
  readonly teacherStage: number;
  readonly splitName: string;
  private readonly lastName: string;
  private readonly teacherLast: string;
  private readonly prefix: number;
  private readonly teacherPrefix: number;
  constructor(student: Classifier, teacher: Teacher, numClasses: number, imgSize: number, readonly o: TasOptions) {
    super(student, [teacher]);
    if (!(teacher instanceof Module) || typeof (teacher as any).stages !== 'function') {
      throw new Error('tas: the teacher must be a civet model with stages() (its features feed the InfoNCE loss and shape the assistant)');
    }
    const ts = bodyStages(teacher as Classifier, 'tas');
    if (new Set(ts.map((s) => s.layout)).size !== 1) throw new Error('tas: teachers mixing map and token stages are not supported');
    const ss = bodyStages(student, 'tas');
    const split = o.split || Math.max(1, ss.length - 1);
    if (!Number.isInteger(split) || split < 1 || split > ss.length) {
      throw new Error(`tas: split ${split} does not exist (the student has ${ss.length} stages: ${ss.map((s) => s.name).join(', ')})`);
    }
    const tStage = o.teacherStage || Math.max(1, ts.length - 1);
    if (!Number.isInteger(tStage) || tStage < 1 || tStage > ts.length) {
      throw new Error(`tas: teacherStage ${tStage} does not exist (the teacher has ${ts.length} stages: ${ts.map((s) => s.name).join(', ')})`);
    }
    this.prefix = (student as any).numPrefixTokens ?? 0;
    this.splitName = ss[split - 1].name;
    this.lastName = ss[ss.length - 1].name;
    this.teacherLast = ts[ts.length - 1].name;
    this.teacherPrefix = (teacher as any).numPrefixTokens ?? 0;
    // the assistant's L2G output plays the teacher's stage `tStage` output; later teacher stages follow
    this.assistant = this.module('assistant', new AssistantTail(ss[split - 1].channels, ts, tStage - 1, imgSize, numClasses, o.l2gHeads, teacher));
    this.split = split;
    this.teacherStage = tStage;
    const sideOf = (s: StageInfo) => Math.max(1, Math.round(imgSize / s.stride));
    const tLast = ts[ts.length - 1], sLast = ss[ss.length - 1];
    const aSide = Math.max(1, Math.round(imgSize / tLast.stride));
    this.embeds = this.module('embeds', new ModuleList([
      new Embed(tLast.channels, o.poolSize, o.embedDim, sideOf(tLast)),        // teacher
      new Embed(sLast.channels, o.poolSize, o.embedDim, sideOf(sLast)),        // student
      new Embed(this.assistant.outChannels, o.poolSize, o.embedDim, aSide),    // assistant
    ]));
  }

  private grid(): [number, number] | undefined { return (this.student as any).gridSize; }

  trainStep(b: DistillBatch): TrainOutput {
    const names = this.splitName === this.lastName ? [this.splitName] : [this.splitName, this.lastName];
    const { result: logits, features } = tapFeatures(this.student, names, () => this.student.call(b.x) as Tensor);
    const teacher = this.teachers[0] as Classifier;
    const t = noGrad(() => {
      const r = tapFeatures(teacher, [this.teacherLast], () => teacher.call(b.x) as Tensor);
      return { logits: r.result, feat: tokensToMap(r.features.get(this.teacherLast)!, this.teacherPrefix, (teacher as any).gridSize) };
    });
    const a = this.assistant.run(tokensToMap(features.get(this.splitName)!, this.prefix, this.grid()));
    const sFeat = tokensToMap(features.get(this.lastName)!, this.prefix, this.grid());
    const [eT, eS, eA] = [0, 1, 2].map((i) => this.embeds.at(i));
    const T = { logits: t.logits, embed: eT.call(t.feat) };
    const S = { logits, embed: eS.call(sFeat) };
    const A = { logits: a.logits, embed: eA.call(a.feat) };
    const detach = (x: { logits: Tensor; embed: Tensor }) => ({ logits: x.logits.detach(), embed: x.embed.detach() });
    const target = b.soft ?? b.y;
    const lo = { eps: this.o.eps, ofaTemperature: this.o.ofaTemperature, nceTemperature: this.o.nceTemperature };
    const terms: Record<string, Tensor> = {
      gt: classificationLoss(logits, b.y, b.soft, this.o.labelSmoothing).mul(this.o.wGt),
      gt_a: classificationLoss(a.logits, b.y, b.soft, this.o.labelSmoothing).mul(this.o.wAssistantGt),
    };
    // the teacher's embedding is trainable through its projector (eT), so it is not detached in
    // T→S / T→A: the projector learns a space both sides can meet in (as CRD's embedding heads)
    const rel: Record<string, [typeof T, typeof T]> = { ts: [T, S], ta: [T, A], as: [detach(A), S] };
    for (const p of this.o.pairs) {
      const [src, dst] = rel[p];
      const l = tasPairLoss(src, dst, target, lo);
      terms[`ofa_${p}`] = l.ofa.mul(this.o.wOfa);
      terms[`nce_${p}`] = l.nce.mul(this.o.wNce);
    }
    return { logits, terms };
  }
}

registerMethod({
  name: 'tas',
  summary: 'TAS: hybrid assistant (student stages 1..n-1 + L2G + the teacher\'s last stage in its own block type), OFA + InfoNCE three ways (no code public; defaults partly guessed)',
  teachers: [1, 1],
  options: options({
    split: nonNegativeInt(0), teacherStage: nonNegativeInt(0), eps: positive(1), ofaTemperature: positive(1), nceTemperature: positive(0.1),
    poolSize: count(2), embedDim: count(128), l2gHeads: count(4),
    pairs: z.array(z.enum(['ts', 'ta', 'as']), { invalid_type_error: "expected a list of 'ts', 'ta', 'as'" }).min(1, "expected a non-empty list of 'ts', 'ta', 'as'").default(['ts', 'ta', 'as']),
    wGt: nonNegative(1), wAssistantGt: nonNegative(1), wOfa: nonNegative(1), wNce: nonNegative(1), labelSmoothing: fraction(0),
  }),
  create: (ctx, o) => new Tas(ctx.student, ctx.teachers[0], ctx.numClasses, ctx.imgSize, o),
});
