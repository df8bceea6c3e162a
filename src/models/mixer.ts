// MLP-Mixer (Tolstikhin et al. 2021) as timm builds it (timm/models/mlp_mixer.py), under
// timm's names: stem.proj, blocks.N.{norm1, mlp_tokens.fc1/fc2, norm2, mlp_channels.fc1/fc2},
// norm, head. Each block mixes across tokens (an MLP over the patch axis) and then across
// channels; there is no class token: the head reads the mean over tokens.
// mixer_tiny is Co-advise's MLP student size: 12 layers, 192 wide (token MLP 0.5·D = 96,
// channel MLP 4·D = 768, timm's mlp_ratio (0.5, 4.0)).
import { Tensor } from '../tensor';
import { Module, StageInfo } from '../nn/module';
import { Linear, LayerNorm, DropPath, Identity, Sequential } from '../nn/layers';
import { Mlp } from '../nn/layers/mlp';
import { PatchEmbed, Size2, size2 } from '../nn/layers/patch_embed';
import { normal_, truncNormal_, xavierUniform_, zeros_, fans } from '../nn/init';
import { Conv2d } from '../nn/layers/conv';
import { Classifier, ModelOptions, registerModel } from './registry';
import { stageBlockIndices, vitConfig } from './vit';

export interface MixerConfig {
  imgSize: Size2;
  patchSize: Size2;
  inChans: number;
  numClasses: number;
  embedDim: number;
  depth: number;
  /** token-MLP and channel-MLP widths as multiples of embedDim */
  mlpRatio: [number, number];
  dropRate: number;
  dropPathRate: number;
}

export class MixerBlock extends Module {
  readonly norm1: LayerNorm;
  readonly mlp_tokens: Mlp;
  readonly drop_path: Module;
  readonly norm2: LayerNorm;
  readonly mlp_channels: Mlp;
  constructor(dim: number, seqLen: number, o: { mlpRatio: [number, number]; drop: number; dropPath: number }) {
    super();
    this.norm1 = this.module('norm1', new LayerNorm(dim, { eps: 1e-6 }));
    this.mlp_tokens = this.module('mlp_tokens', new Mlp(seqLen, { hiddenFeatures: Math.floor(o.mlpRatio[0] * dim), drop: o.drop }));
    this.drop_path = this.module('drop_path', o.dropPath > 0 ? new DropPath(o.dropPath) : new Identity());
    this.norm2 = this.module('norm2', new LayerNorm(dim, { eps: 1e-6 }));
    this.mlp_channels = this.module('mlp_channels', new Mlp(dim, { hiddenFeatures: Math.floor(o.mlpRatio[1] * dim), drop: o.drop }));
  }
  forward(x: Tensor): Tensor {                                                  // [B, N, D]
    const tok = this.mlp_tokens.call(this.norm1.call(x).transpose(1, 2)).transpose(1, 2); // MLP over N
    const a = x.add(this.drop_path.call(tok));
    return a.add(this.drop_path.call(this.mlp_channels.call(this.norm2.call(a))));        // MLP over D
  }
}

export class MlpMixer extends Module implements Classifier {
  readonly numClasses: number;
  readonly embedDim: number;
  readonly patchSize: [number, number];
  readonly stem: PatchEmbed;
  readonly blocks: Sequential;
  readonly norm: LayerNorm;
  readonly head: Module;
  constructor(readonly config: MixerConfig) {
    super();
    const c = config;
    this.numClasses = c.numClasses;
    this.embedDim = c.embedDim;
    this.patchSize = size2(c.patchSize);
    this.stem = this.module('stem', new PatchEmbed({ imgSize: c.imgSize, patchSize: c.patchSize, inChans: c.inChans, embedDim: c.embedDim }));
    this.blocks = this.module('blocks', new Sequential());
    for (let i = 0; i < c.depth; i++) {
      this.blocks.append(new MixerBlock(c.embedDim, this.stem.numPatches, {
        mlpRatio: c.mlpRatio, drop: c.dropRate, dropPath: c.depth > 1 ? (c.dropPathRate * i) / (c.depth - 1) : 0,
      }));
    }
    this.norm = this.module('norm', new LayerNorm(c.embedDim, { eps: 1e-6 }));
    this.head = this.module('head', c.numClasses > 0 ? new Linear(c.embedDim, c.numClasses) : new Identity());
    initMixer(this);
  }
  /** Tokens after the final norm: [B, N, D]. */
  forwardFeatures(x: Tensor): Tensor {
    return this.norm.call(this.blocks.call(this.stem.call(x)));
  }
  forward(x: Tensor): Tensor {
    return this.head.call(this.forwardFeatures(x).mean(1)); // global average over tokens
  }
  stages(): StageInfo[] {
    return stageBlockIndices(this.config.depth).map((i) => ({ name: `blocks.${i}`, channels: this.embedDim, stride: this.patchSize[0], layout: 'tokens' as const }));
  }
  noWeightDecay(): string[] { return []; }
}

/** timm's mixer init (non-flax): head zero; other Linears xavier_uniform with bias 0, or N(0, 1e-6) inside the MLPs;
 *  the stem conv lecun_normal (truncated normal, std √(1/fan_in)/.8796, cut at ±2 std) with bias 0. */
function initMixer(model: MlpMixer): void {
  for (const [name, m] of model.namedModules()) {
    if (m instanceof Linear) {
      if (name.startsWith('head')) { zeros_(m.weight); if (m.bias) zeros_(m.bias); continue; }
      xavierUniform_(m.weight);
      if (m.bias) { if (name.includes('mlp')) normal_(m.bias, 0, 1e-6); else zeros_(m.bias); }
    } else if (m instanceof Conv2d) {
      const std = Math.sqrt(1 / fans(m.weight).fanIn) / 0.87962566103423978;
      truncNormal_(m.weight, 0, std, -2 * std, 2 * std);
      if (m.bias) zeros_(m.bias);
    }
  }
}

export function mixerConfig(o: ModelOptions = {}): MixerConfig {
  // the shared option parsing of vitConfig, with Mixer-Ti's defaults
  const v = vitConfig('tiny', { ...o, mlpRatio: undefined });
  const ratio = o.mlpRatio === undefined ? [0.5, 4] : o.mlpRatio;
  if (!Array.isArray(ratio) || ratio.length !== 2 || !ratio.every((r) => typeof r === 'number' && r > 0)) {
    throw new TypeError(`mixer option mlpRatio: expected [tokens, channels] ratios, got ${JSON.stringify(ratio)}`);
  }
  return {
    imgSize: v.imgSize, patchSize: v.patchSize, inChans: v.inChans, numClasses: v.numClasses,
    embedDim: v.embedDim, depth: v.depth, mlpRatio: ratio as [number, number], dropRate: v.dropRate, dropPathRate: v.dropPathRate,
  };
}

registerModel({
  name: 'mixer_tiny',
  family: 'mixer',
  create: (o) => new MlpMixer(mixerConfig(o)),
  description: 'MLP-Mixer-Ti (Co-advise\'s MLP student): 12 layers, 192 wide, token/channel MLP ratios 0.5/4 (patchSize option, default 16, or 4 below 112 px)',
});
