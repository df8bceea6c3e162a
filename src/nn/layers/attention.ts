// Multi-head self-attention and the pre-norm transformer Block, under timm's names
// (attn.qkv, attn.proj, norm1, norm2, mlp.fc1, mlp.fc2, ls1/ls2 when layer scale is on), so
// timm and DeiT checkpoints load as they are and torchvision's convert by renaming only.
import { Tensor, F, full } from '../../tensor';
import { native } from '../../tensor/native';
import { Module } from '../module';
import { Linear } from './linear';
import { LayerNorm } from './norm';
import { Dropout, DropPath, Identity } from './basic';
import { Mlp } from './mlp';

// libtorch ≥ 2.0 has a fused kernel; 1.13 (Debian's) does not, and then the explicit form below
// is the same arithmetic torch.nn.MultiheadAttention does in training (scale q, bmm, softmax, bmm).
const HAS_SDPA: boolean = native.hasSdpa();

export interface AttentionOptions {
  numHeads?: number;
  qkvBias?: boolean;
  /** dropout on the attention probabilities */
  attnDrop?: number;
  /** dropout after the output projection */
  projDrop?: number;
}

export class Attention extends Module {
  readonly numHeads: number;
  readonly headDim: number;
  readonly scale: number;
  readonly qkv: Linear;
  readonly attn_drop: Dropout;
  readonly proj: Linear;
  readonly proj_drop: Dropout;
  constructor(readonly dim: number, opts: AttentionOptions = {}) {
    super();
    this.numHeads = opts.numHeads ?? 8;
    if (dim % this.numHeads) throw new Error(`Attention: dim ${dim} is not divisible by numHeads ${this.numHeads}`);
    this.headDim = dim / this.numHeads;
    this.scale = this.headDim ** -0.5;
    this.qkv = this.module('qkv', new Linear(dim, dim * 3, { bias: opts.qkvBias ?? false }));
    this.attn_drop = this.module('attn_drop', new Dropout(opts.attnDrop ?? 0));
    this.proj = this.module('proj', new Linear(dim, dim));
    this.proj_drop = this.module('proj_drop', new Dropout(opts.projDrop ?? 0));
  }

  forward(x: Tensor): Tensor {
    const [B, N, C] = x.shape;
    const H = this.numHeads, hd = this.headDim;
    // [B, N, 3C] → [B, N, 3, H, hd] → [3, B, H, N, hd]
    const qkv = this.qkv.call(x).view(B, N, 3, H, hd).permute(2, 0, 3, 1, 4);
    let o: Tensor;
    if (HAS_SDPA) {
      const q = qkv.select(0, 0), k = qkv.select(0, 1), v = qkv.select(0, 2);         // [B, H, N, hd]
      o = F.scaled_dot_product_attention(q, k, v, { dropout_p: this.training ? this.attn_drop.p : 0 });
    } else {
      // One copy lays q, k and v out head-major; then each is a [B·H, N, hd] view for bmm.
      const packed = qkv.contiguous();
      const q = packed.select(0, 0).view(B * H, N, hd).mul(this.scale);  // scaling q (N·hd) is cheaper than q·kᵀ (N·N)
      const k = packed.select(0, 1).view(B * H, N, hd);
      const v = packed.select(0, 2).view(B * H, N, hd);
      const attn = this.attn_drop.call(F.softmax(q.bmm(k.transpose(1, 2)), -1)); // [B·H, N, N]
      o = attn.bmm(v).view(B, H, N, hd);
    }
    const y = o.transpose(1, 2).reshape(B, N, C);                   // heads back side by side
    return this.proj_drop.call(this.proj.call(y));                  // [B, N, C]
  }
}

/** timm's LayerScale: a learned per-channel gain (gamma) on a residual branch. */
export class LayerScale extends Module {
  readonly gamma: Tensor;
  constructor(dim: number, initValues = 1e-5) {
    super();
    this.gamma = this.param('gamma', full([dim], initValues));
  }
  forward(x: Tensor): Tensor { return x.mul(this.gamma); }
}

export interface BlockOptions extends AttentionOptions {
  /** MLP hidden width as a multiple of dim (default 4; floor(dim · mlpRatio), as timm) */
  mlpRatio?: number;
  /** MLP hidden width, overriding mlpRatio */
  mlpDim?: number;
  /** dropout after attn.proj and in the MLP (timm's proj_drop / drop) */
  drop?: number;
  /** stochastic depth on both residual branches */
  dropPath?: number;
  /** LayerScale init value; null/undefined = no layer scale (ViT, DeiT) */
  initValues?: number | null;
  /** LayerNorm epsilon (timm ViTs and torchvision: 1e-6) */
  eps?: number;
}

/** Pre-norm transformer block: x + attn(norm1(x)), then x + mlp(norm2(x)). */
export class Block extends Module {
  readonly norm1: LayerNorm;
  readonly attn: Attention;
  readonly ls1: Module;
  readonly drop_path1: Module;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  readonly ls2: Module;
  readonly drop_path2: Module;
  constructor(readonly dim: number, opts: BlockOptions = {}) {
    super();
    const eps = opts.eps ?? 1e-6;
    const ls = () => (opts.initValues ? new LayerScale(dim, opts.initValues) : new Identity());
    const dp = () => (opts.dropPath ? new DropPath(opts.dropPath) : new Identity());
    this.norm1 = this.module('norm1', new LayerNorm(dim, { eps }));
    this.attn = this.module('attn', new Attention(dim, { numHeads: opts.numHeads, qkvBias: opts.qkvBias, attnDrop: opts.attnDrop, projDrop: opts.drop ?? opts.projDrop }));
    this.ls1 = this.module('ls1', ls());
    this.drop_path1 = this.module('drop_path1', dp());
    this.norm2 = this.module('norm2', new LayerNorm(dim, { eps }));
    this.mlp = this.module('mlp', new Mlp(dim, { hiddenFeatures: opts.mlpDim ?? Math.floor(dim * (opts.mlpRatio ?? 4)), drop: opts.drop }));
    this.ls2 = this.module('ls2', ls());
    this.drop_path2 = this.module('drop_path2', dp());
  }
  forward(x: Tensor): Tensor {
    const a = x.add(this.drop_path1.call(this.ls1.call(this.attn.call(this.norm1.call(x)))));
    return a.add(this.drop_path2.call(this.ls2.call(this.mlp.call(this.norm2.call(a)))));
  }
}
