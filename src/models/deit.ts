// DeiT's distilled ViT (Touvron et al. 2021; facebookresearch/deit models.py): a second learned
// token, dist_token, sits after the class token ([cls, dist, patches], pos_embed 1 × (N+2) × D)
// and has its own head, head_dist. The DeiT distiller trains head(cls) on the labels and
// head_dist(dist) on the teacher, through forwardHeads(). forward() is the inference read-out:
// by default (head(cls) + head_dist(dist)) / 2, the average of the logits, as DeiT's code does
// in eval mode; readout 'cls' or 'dist' picks one head (the paper also reports those).
import { Tensor, zeros } from '../tensor';
import { Module } from '../nn/module';
import { Linear, Identity } from '../nn/layers';
import { ModelOptions, registerModel } from './registry';
import { VisionTransformer, VitConfig, VitSize, VIT_SIZES, vitConfig, initLinears, truncNormalStd_ } from './vit';

export type DeitReadout = 'mean' | 'cls' | 'dist';

export interface DeitHeads {
  /** head(class token) [B, K]: supervised by the labels */
  cls: Tensor;
  /** head_dist(distillation token) [B, K]: supervised by the teacher */
  dist: Tensor;
}

export class DistilledVisionTransformer extends VisionTransformer {
  readonly dist_token: Tensor;
  readonly head_dist: Module;
  constructor(config: VitConfig, readonly readout: DeitReadout = 'mean') {
    super(config, 1);
    if (!['mean', 'cls', 'dist'].includes(readout)) throw new TypeError(`DeiT readout must be 'mean', 'cls' or 'dist', got ${JSON.stringify(readout)}`);
    this.dist_token = this.param('dist_token', zeros([1, 1, config.embedDim]));
    this.head_dist = this.module('head_dist', config.numClasses > 0 ? new Linear(config.embedDim, config.numClasses) : new Identity());
    truncNormalStd_(this.dist_token, 0.02);
    initLinears(this.head_dist);
  }

  protected override prefixTokens(B: number): Tensor[] {
    return [this.cls_token.expand(B, -1, -1), this.dist_token.expand(B, -1, -1)];
  }

  /** Both heads' logits, for training with a teacher: {cls, dist}, each [B, K]. */
  forwardHeads(x: Tensor): DeitHeads {
    const f = this.forwardFeatures(x);                  // [B, 2+N, D]
    return { cls: this.head.call(f.select(1, 0)), dist: this.head_dist.call(f.select(1, 1)) };
  }

  /** Inference logits [B, K]: the mean of both heads (default) or the one `readout` names. */
  override forward(x: Tensor): Tensor {
    const f = this.forwardFeatures(x);
    if (this.readout === 'cls') return this.head.call(f.select(1, 0));
    if (this.readout === 'dist') return this.head_dist.call(f.select(1, 1));
    return this.head.call(f.select(1, 0)).add(this.head_dist.call(f.select(1, 1))).div(2);
  }

  override noWeightDecay(): string[] {
    return ['cls_token', 'pos_embed', 'dist_token'];
  }
}

const PUBLISHED: Record<VitSize, number> = { tiny: 5_910_800, small: 22_436_432, base: 87_338_192 };

for (const size of ['tiny', 'small', 'base'] as const) {
  registerModel({
    name: `deit_${size}_distilled`,
    family: 'deit',
    create: (o: ModelOptions) => new DistilledVisionTransformer(vitConfig(size, o), (o.readout as DeitReadout | undefined) ?? 'mean'),
    publishedParams: PUBLISHED[size],
    description: `DeiT-${size[0].toUpperCase()} distilled: ${VIT_SIZES[size].embedDim} wide, class + distillation tokens, read-out = mean of both heads (readout option)`,
  });
}
