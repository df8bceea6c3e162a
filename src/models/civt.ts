// CivT, Co-advise's student (Ren et al., CVPR 2022; OliverRensu/co-advise models.py;
// docs/crossarch.md): a DeiT whose patch embedding is replaced by two stems with
// different inductive biases, each feeding a token that a teacher of the same kind supervises.
//
//   conv_embed.conv : Conv 7×7/2 (pad 3) → BN → ReLU → [Conv 3×3 → BN → ReLU] ×2, 64 ch, no biases
//   inv_embed.stem  : RedNet-26's stem (3×3/2 conv-BN-ReLU → involution(32, 3) → BN → ReLU → 3×3 conv-BN-ReLU), 64 ch
//   each            : proj Conv2d(64 → D, k = s = patchSize/2) → x_conv, x_inv  [B, N, D]
//   tokens          : [cls, mean_N(x_conv), mean_N(x_inv), x_conv + x_inv] + pos_embed   [B, 3+N, D]
//   heads           : head(cls), head_conv(conv token), head_inv(inv token)
//
// The conv and inv tokens are not parameters: they are the stems' average patch embeddings.
// Training uses forwardHeads() → {cls, conv, inv}: the labels supervise cls, the CNN teacher conv,
// the involution teacher inv. forward() is the code's inference read-out, (cls + conv + inv) / 3
// (logits); readout 'cls' | 'conv' | 'inv' picks one head instead.
//
// Sizes. `patchSize` is the total stride (the stems halve the image, proj does the rest):
// Co-advise's 224 px model has 16 (proj 8×8/8, 14×14 = 196 patches). Below 112 px the default is
// 4 (proj 2×2/2), civet's choice for CIFAR/Fashion-MNIST: 32×32 → 8×8 = 64 patches, 28×28 → 7×7.
// civt_tiny at 32×32 with 10 classes is shared/reference/torch_bench.py's civt-step student,
// 5,559,792 parameters.
import { Tensor, cat, zeros } from '../tensor';
import { Module, StageInfo } from '../nn/module';
import { Conv2d, BatchNorm2d, ReLU, Linear, LayerNorm, Dropout, Identity, Sequential } from '../nn/layers';
import { size2 } from '../nn/layers/patch_embed';
import { kaimingNormal_ } from '../nn/init';
import { Classifier, ModelOptions, registerModel } from './registry';
import { VitConfig, VitSize, VIT_SIZES, vitConfig, buildBlocks, stageBlockIndices, initLinears, truncNormalStd_ } from './vit';
import { rednetStem } from './rednet';

export type CivtReadout = 'mean' | 'cls' | 'conv' | 'inv';

export interface CivtHeads {
  /** head(class token) [B, K]: supervised by the labels */
  cls: Tensor;
  /** head_conv(convolution token) [B, K]: supervised by the CNN teacher */
  conv: Tensor;
  /** head_inv(involution token) [B, K]: supervised by the involution (INN) teacher */
  inv: Tensor;
}

/** A stem (64 channels at half resolution) followed by the patch projection, flattened to tokens. */
class StemEmbed extends Module {
  readonly proj: Conv2d;
  /** registered as `conv` (embed_conv) or `stem` (embed_inv), Co-advise's names */
  readonly stem: Module;
  constructor(stemName: 'conv' | 'stem', stem: Module, embedDim: number, projKernel: number) {
    super();
    this.stem = this.module(stemName, stem);
    this.proj = this.module('proj', new Conv2d(64, embedDim, projKernel, { stride: projKernel }));
  }
  forward(x: Tensor): Tensor {
    return this.proj.call(this.stem.call(x)).flatten(2).transpose(1, 2); // [B, N, D]
  }
}

/** Co-advise's embed_conv stem: 7×7/2 then two 3×3, conv-BN-ReLU, 64 channels (conv.0 … conv.8). */
function convStem(inChans: number): Sequential {
  const cbr = (cin: number, k: number, s: number) => [new Conv2d(cin, 64, k, { stride: s, padding: (k - 1) / 2, bias: false }), new BatchNorm2d(64), new ReLU()];
  return new Sequential(...cbr(inChans, 7, 2), ...cbr(64, 3, 1), ...cbr(64, 3, 1));
}

export class CivT extends Module implements Classifier {
  readonly numClasses: number;
  readonly embedDim: number;
  readonly numPrefixTokens = 3;
  readonly patchSize: number;
  readonly gridSize: [number, number];
  readonly conv_embed: StemEmbed;
  readonly inv_embed: StemEmbed;
  readonly cls_token: Tensor;
  readonly pos_embed: Tensor;
  readonly pos_drop: Dropout;
  readonly blocks: Sequential;
  readonly norm: LayerNorm;
  readonly head: Module;
  readonly head_conv: Module;
  readonly head_inv: Module;

  constructor(readonly config: VitConfig, readonly readout: CivtReadout = 'mean') {
    super();
    const c = config;
    if (!['mean', 'cls', 'conv', 'inv'].includes(readout)) throw new TypeError(`CivT readout must be 'mean', 'cls', 'conv' or 'inv', got ${JSON.stringify(readout)}`);
    const [p, pw] = size2(c.patchSize);
    if (p !== pw || p % 2 || p < 2) throw new Error(`CivT: patchSize must be one even number (the stems halve the image, proj covers patchSize/2), got ${JSON.stringify(c.patchSize)}`);
    const [H, W] = size2(c.imgSize);
    if (H % p || W % p) throw new Error(`CivT: image size ${H}×${W} is not a whole number of ${p}×${p} patches`);
    this.numClasses = c.numClasses;
    this.embedDim = c.embedDim;
    this.patchSize = p;
    this.gridSize = [H / p, W / p];
    const D = c.embedDim;
    this.cls_token = this.param('cls_token', zeros([1, 1, D]));
    this.pos_embed = this.param('pos_embed', zeros([1, 3 + this.gridSize[0] * this.gridSize[1], D]));
    this.conv_embed = this.module('conv_embed', new StemEmbed('conv', convStem(c.inChans), D, p / 2));
    this.inv_embed = this.module('inv_embed', new StemEmbed('stem', rednetStem(c.inChans, 64), D, p / 2));
    this.pos_drop = this.module('pos_drop', new Dropout(c.dropRate));
    this.blocks = this.module('blocks', buildBlocks(c));
    this.norm = this.module('norm', new LayerNorm(D, { eps: 1e-6 }));
    const head = () => (c.numClasses > 0 ? new Linear(D, c.numClasses) : new Identity());
    this.head = this.module('head', head());
    this.head_conv = this.module('head_conv', head());
    this.head_inv = this.module('head_inv', head());
    // timm's ViT init (Linears, tokens), then Co-advise's kaiming_normal_ (fan_in) on every stem conv.
    truncNormalStd_(this.pos_embed, 0.02);
    truncNormalStd_(this.cls_token, 0.02);
    initLinears(this);
    for (const stem of [this.conv_embed, this.inv_embed]) stem.apply((m) => { if (m instanceof Conv2d) kaimingNormal_(m.weight); });
  }

  /** Tokens after the final norm: [B, 3 + N, D] ([cls, conv, inv, patches]). */
  forwardFeatures(x: Tensor): Tensor {
    const [, , H, W] = x.shape;
    const [gh, gw] = this.gridSize;
    if (x.ndim !== 4 || H !== gh * this.patchSize || W !== gw * this.patchSize) {
      throw new Error(`CivT: expected input [B, C, ${gh * this.patchSize}, ${gw * this.patchSize}], got [${x.shape}]`);
    }
    const xc = this.conv_embed.call(x);                                    // [B, N, D]
    const xi = this.inv_embed.call(x);                                     // [B, N, D]
    const B = x.shape[0];
    const t = cat([this.cls_token.expand(B, -1, -1), xc.mean(1, true), xi.mean(1, true), xc.add(xi)], 1).add(this.pos_embed);
    return this.norm.call(this.blocks.call(this.pos_drop.call(t)));       // [B, 3+N, D]
  }

  /** The three heads' logits {cls, conv, inv}, each [B, K], for Co-advise training. */
  forwardHeads(x: Tensor): CivtHeads {
    const f = this.forwardFeatures(x);
    return { cls: this.head.call(f.select(1, 0)), conv: this.head_conv.call(f.select(1, 1)), inv: this.head_inv.call(f.select(1, 2)) };
  }

  /** Inference logits [B, K]: (cls + conv + inv) / 3 by default, or the head `readout` names. */
  forward(x: Tensor): Tensor {
    if (this.readout === 'mean') {
      const h = this.forwardHeads(x);
      return h.cls.add(h.conv).add(h.inv).div(3);
    }
    const f = this.forwardFeatures(x);
    if (this.readout === 'cls') return this.head.call(f.select(1, 0));
    if (this.readout === 'conv') return this.head_conv.call(f.select(1, 1));
    return this.head_inv.call(f.select(1, 2));
  }

  stages(): StageInfo[] {
    return stageBlockIndices(this.config.depth).map((i) => ({ name: `blocks.${i}`, channels: this.embedDim, stride: this.patchSize, layout: 'tokens' as const }));
  }

  noWeightDecay(): string[] {
    return ['cls_token', 'pos_embed'];
  }
}

export function civtConfig(size: VitSize, o: ModelOptions = {}): VitConfig {
  return vitConfig(size, o);
}

for (const size of ['tiny', 'small', 'base'] as const) {
  registerModel({
    name: `civt_${size}`,
    family: 'civt',
    create: (o) => new CivT(civtConfig(size, o), (o.readout as CivtReadout | undefined) ?? 'mean'),
    description: `CivT-${size[0].toUpperCase()} (Co-advise): ${VIT_SIZES[size].embedDim} wide, convolution + involution stems and tokens, three heads, read-out = their mean`,
  });
}
