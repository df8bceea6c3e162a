// Vision Transformer (Dosovitskiy et al. 2021) as timm builds it, under timm's state-dict
// names: cls_token, pos_embed, patch_embed.proj, blocks.N.{norm1, attn.qkv, attn.proj, norm2,
// mlp.fc1, mlp.fc2}, norm, head. DeiT (deit.ts) and CivT (civt.ts) reuse its pieces.
//
// Sizes follow timm: Ti 192/12/3, S 384/12/6, B 768/12/12; MLP ratio 4, qkv bias, LayerNorm
// eps 1e-6, exact GELU. Any image and patch size works (the grid must be whole). `patchSize`
// defaults to 16 for images of 112 px and more (14×14 patches at 224) and to 4 below (CIFAR's
// 32×32 → 8×8 patches, Fashion-MNIST's 28×28 → 7×7), see defaultPatchSize.
import { Tensor, zeros, cat, noGrad } from '../tensor';
import { Module, StageInfo } from '../nn/module';
import { Linear, LayerNorm, Dropout, Identity, Sequential } from '../nn/layers';
import { Block } from '../nn/layers/attention';
import { PatchEmbed, Size2, size2 } from '../nn/layers/patch_embed';
import { truncNormal_, normal_, zeros_ } from '../nn/init';
import { Classifier, ModelOptions, registerModel } from './registry';

export interface VitConfig {
  imgSize: Size2;
  patchSize: Size2;
  inChans: number;
  /** 0 = no head (forward returns the pre-logits features) */
  numClasses: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  /** MLP hidden width (option mlpDim, or floor(embedDim · mlpRatio), mlpRatio default 4) */
  mlpDim: number;
  qkvBias: boolean;
  /** dropout after the position embedding, after attn.proj and in the MLPs (timm 0.3's drop_rate) */
  dropRate: number;
  attnDropRate: number;
  /** stochastic depth, rising linearly from 0 at the first block to this at the last (timm) */
  dropPathRate: number;
  /** LayerScale init (CaiT/DeiT-III); null = off */
  initValues: number | null;
}

export type VitSize = 'tiny' | 'small' | 'base';
export const VIT_SIZES: Readonly<Record<VitSize, Pick<VitConfig, 'embedDim' | 'depth' | 'numHeads'>>> = Object.freeze({
  tiny: { embedDim: 192, depth: 12, numHeads: 3 },
  small: { embedDim: 384, depth: 12, numHeads: 6 },
  base: { embedDim: 768, depth: 12, numHeads: 12 },
});

const num = (o: ModelOptions, key: string, dflt: number, min = 0): number => {
  const v = o[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new TypeError(`model option ${key}: expected a number ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
};
const int = (o: ModelOptions, key: string, dflt: number, min = 0): number => {
  const v = num(o, key, dflt, min);
  if (!Number.isInteger(v)) throw new TypeError(`model option ${key}: expected an integer, got ${v}`);
  return v;
};
const bool = (o: ModelOptions, key: string, dflt: boolean): boolean => {
  const v = o[key] ?? dflt;
  if (typeof v !== 'boolean') throw new TypeError(`model option ${key}: expected true or false, got ${JSON.stringify(v)}`);
  return v;
};
const sizeOpt = (o: ModelOptions, key: string, dflt: Size2): Size2 => {
  const v = o[key] ?? dflt;
  const ok = (x: unknown) => Number.isInteger(x) && (x as number) > 0;
  if (ok(v) || (Array.isArray(v) && v.length === 2 && v.every(ok))) return v as Size2;
  throw new TypeError(`model option ${key}: expected a positive integer or [h, w], got ${JSON.stringify(v)}`);
};

/** 16 for images of at least 112 px on the short side, else 4 (a 2×2 grid of 16 px patches
 *  at 32×32 would leave a ViT almost nothing to attend over). */
export function defaultPatchSize(imgSize: Size2): number {
  const [h, w] = size2(imgSize);
  return Math.min(h, w) >= 112 ? 16 : 4;
}

/** Builds a ViT config from registry options over a size preset. Options may override any
 *  field (embedDim, depth, numHeads, mlpDim or mlpRatio, ... for custom or conformance-sized models). */
export function vitConfig(size: VitSize, o: ModelOptions = {}): VitConfig {
  const s = VIT_SIZES[size];
  const embedDim = int(o, 'embedDim', s.embedDim, 1);
  const imgSize = sizeOpt(o, 'imgSize', 224);
  return {
    imgSize,
    patchSize: sizeOpt(o, 'patchSize', defaultPatchSize(imgSize)),
    inChans: int(o, 'inChans', 3, 1),
    numClasses: int(o, 'numClasses', 1000),
    embedDim,
    depth: int(o, 'depth', s.depth, 1),
    numHeads: int(o, 'numHeads', s.numHeads, 1),
    mlpDim: int(o, 'mlpDim', Math.floor(embedDim * num(o, 'mlpRatio', 4)), 1),
    qkvBias: bool(o, 'qkvBias', true),
    dropRate: num(o, 'dropRate', 0),
    attnDropRate: num(o, 'attnDropRate', 0),
    dropPathRate: num(o, 'dropPathRate', 0),
    initValues: o.initValues === null || o.initValues === undefined ? null : num(o, 'initValues', 0),
  };
}

/** The depth×Block stack, stochastic depth rising linearly (timm's dpr). */
export function buildBlocks(c: Pick<VitConfig, 'embedDim' | 'depth' | 'numHeads' | 'mlpDim' | 'qkvBias' | 'dropRate' | 'attnDropRate' | 'dropPathRate' | 'initValues'>): Sequential {
  const blocks = new Sequential();
  for (let i = 0; i < c.depth; i++) {
    blocks.append(new Block(c.embedDim, {
      numHeads: c.numHeads, mlpDim: c.mlpDim, qkvBias: c.qkvBias, drop: c.dropRate, attnDrop: c.attnDropRate,
      dropPath: c.depth > 1 ? (c.dropPathRate * i) / (c.depth - 1) : 0, initValues: c.initValues, eps: 1e-6,
    }));
  }
  return blocks;
}

/** Blocks whose outputs serve as the four feature stages: OFA-KD's choice for 12-block ViTs
 *  (blocks 1, 3, 9, 11, 0-based), scaled to other depths. */
export function stageBlockIndices(depth: number): number[] {
  return [...new Set([2, 4, 10, 12].map((e) => Math.max(1, Math.round((e * depth) / 12)) - 1))];
}

/** timm's trunc_normal_(t, std) with its absolute bounds ±2. At std .02 the bounds sit 100 std
 *  out, where truncation changes nothing: a plain normal sample (about 15× faster than the
 *  inverse-CDF sampler on CPU, seconds for ViT-B) clamped to the bounds is the same distribution. */
export function truncNormalStd_(t: Tensor, std: number, a = -2, b = 2): Tensor {
  if (a <= -8 * std && b >= 8 * std) { normal_(t, 0, std); return noGrad(() => t.clamp_(a, b)); }
  return truncNormal_(t, 0, std, a, b);
}

/** timm's ViT init for Linear layers (weights trunc_normal std .02, biases 0); LayerNorm is 1/0 from construction. */
export function initLinears(m: Module): void {
  m.apply((mod) => {
    if (mod instanceof Linear) {
      truncNormalStd_(mod.weight, 0.02);
      if (mod.bias) zeros_(mod.bias);
    }
  });
}

export class VisionTransformer extends Module implements Classifier {
  readonly numClasses: number;
  readonly embedDim: number;
  /** class token (+ distillation token in DeiT) ahead of the patch tokens */
  readonly numPrefixTokens: number;
  readonly gridSize: [number, number];
  readonly patchSize: [number, number];
  readonly patch_embed: PatchEmbed;
  readonly cls_token: Tensor;
  readonly pos_embed: Tensor;
  readonly pos_drop: Dropout;
  readonly blocks: Sequential;
  readonly norm: LayerNorm;
  readonly head: Module;

  constructor(readonly config: VitConfig, extraTokens = 0) {
    super();
    const c = config;
    if (c.embedDim % c.numHeads) throw new Error(`VisionTransformer: embedDim ${c.embedDim} is not divisible by numHeads ${c.numHeads}`);
    this.numClasses = c.numClasses;
    this.embedDim = c.embedDim;
    this.numPrefixTokens = 1 + extraTokens;
    this.patchSize = size2(c.patchSize);
    this.cls_token = this.param('cls_token', zeros([1, 1, c.embedDim]));
    this.patch_embed = this.module('patch_embed', new PatchEmbed({ imgSize: c.imgSize, patchSize: c.patchSize, inChans: c.inChans, embedDim: c.embedDim }));
    this.gridSize = this.patch_embed.gridSize;
    this.pos_embed = this.param('pos_embed', zeros([1, this.numPrefixTokens + this.patch_embed.numPatches, c.embedDim]));
    this.pos_drop = this.module('pos_drop', new Dropout(c.dropRate));
    this.blocks = this.module('blocks', buildBlocks(c));
    this.norm = this.module('norm', new LayerNorm(c.embedDim, { eps: 1e-6 }));
    this.head = this.module('head', c.numClasses > 0 ? new Linear(c.embedDim, c.numClasses) : new Identity());
    truncNormalStd_(this.pos_embed, 0.02);
    truncNormalStd_(this.cls_token, 0.02);
    initLinears(this);
  }

  /** Tokens ahead of the patches: [cls] here, [cls, dist] in DeiT. Each [B, 1, D]. */
  protected prefixTokens(B: number): Tensor[] {
    return [this.cls_token.expand(B, -1, -1)];
  }

  /** All tokens after the final norm: [B, numPrefixTokens + gh·gw, D]. */
  forwardFeatures(x: Tensor): Tensor {
    const patches = this.patch_embed.call(x);                                   // [B, N, D]
    const t = cat([...this.prefixTokens(x.shape[0]), patches], 1).add(this.pos_embed); // [B, P+N, D]
    return this.norm.call(this.blocks.call(this.pos_drop.call(t)));
  }

  /** Logits from the class token: [B, numClasses]. */
  forward(x: Tensor): Tensor {
    return this.head.call(this.forwardFeatures(x).select(1, 0));
  }

  stages(): StageInfo[] {
    // Block outputs before the final norm, prefix tokens included: [B, P+N, D].
    return stageBlockIndices(this.config.depth).map((i) => ({ name: `blocks.${i}`, channels: this.embedDim, stride: this.patchSize[0], layout: 'tokens' as const }));
  }

  noWeightDecay(): string[] {
    return ['cls_token', 'pos_embed'];
  }
}

const PUBLISHED: Record<VitSize, number> = { tiny: 5_717_416, small: 22_050_664, base: 86_567_656 };

for (const size of ['tiny', 'small', 'base'] as const) {
  const { embedDim, numHeads } = VIT_SIZES[size];
  // ViT-Ti/S/B and DeiT-Ti/S/B are the same networks; the names differ by training recipe.
  for (const family of ['vit', 'deit'] as const) {
    registerModel({
      name: `${family}_${size}`,
      family,
      create: (o) => new VisionTransformer(vitConfig(size, o)),
      publishedParams: PUBLISHED[size],
      description: `${family === 'vit' ? 'ViT' : 'DeiT'}-${size[0].toUpperCase()}: ${embedDim} wide, 12 blocks, ${numHeads} heads (patchSize option, default 16, or 4 below 112 px)`,
    });
  }
}
