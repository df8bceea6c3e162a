import { Tensor, ones, zeros, full, F, noGrad } from '../../tensor';
import { Module } from '../module';

/** torch.nn.BatchNorm2d: batch statistics in training (running stats updated with momentum), running stats in eval. */
export class BatchNorm2d extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly running_mean: Tensor;
  readonly running_var: Tensor;
  constructor(readonly numFeatures: number, readonly opts: { eps?: number; momentum?: number; affine?: boolean } = {}) {
    super();
    const affine = opts.affine ?? true;
    this.weight = this.param('weight', affine ? ones([numFeatures]) : null);
    this.bias = this.param('bias', affine ? zeros([numFeatures]) : null);
    this.running_mean = this.buffer('running_mean', zeros([numFeatures]));
    this.running_var = this.buffer('running_var', ones([numFeatures]));
    this.buffer('num_batches_tracked', full([], 0, { dtype: 'int64' }));
  }
  forward(x: Tensor): Tensor {
    if (x.ndim !== 4) throw new Error(`BatchNorm2d: expected 4-d input [N, C, H, W], got shape [${x.shape}]`);
    if (this.training) noGrad(() => this.stateDict().get('num_batches_tracked')!.add_(1));
    return F.batch_norm(x, this.running_mean, this.running_var, {
      weight: this.weight, bias: this.bias, training: this.training, momentum: this.opts.momentum ?? 0.1, eps: this.opts.eps ?? 1e-5,
    });
  }
}

/** BatchNorm over [N, C] or [N, C, L] (torch.nn.BatchNorm1d). */
export class BatchNorm1d extends BatchNorm2d {
  override forward(x: Tensor): Tensor {
    if (x.ndim !== 2 && x.ndim !== 3) throw new Error(`BatchNorm1d: expected 2-d or 3-d input, got shape [${x.shape}]`);
    if (this.training) noGrad(() => this.stateDict().get('num_batches_tracked')!.add_(1));
    return F.batch_norm(x, this.running_mean, this.running_var, {
      weight: this.weight, bias: this.bias, training: this.training, momentum: this.opts.momentum ?? 0.1, eps: this.opts.eps ?? 1e-5,
    });
  }
}

export class LayerNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly normalizedShape: number[];
  constructor(normalizedShape: number | number[], readonly opts: { eps?: number; elementwiseAffine?: boolean } = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape;
    const affine = opts.elementwiseAffine ?? true;
    this.weight = this.param('weight', affine ? ones(this.normalizedShape) : null);
    this.bias = this.param('bias', affine ? zeros(this.normalizedShape) : null);
  }
  forward(x: Tensor): Tensor { return F.layer_norm(x, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.opts.eps ?? 1e-5 }); }
}

export class GroupNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  constructor(readonly numGroups: number, readonly numChannels: number, readonly opts: { eps?: number; affine?: boolean } = {}) {
    super();
    if (numChannels % numGroups) throw new Error(`GroupNorm: num_channels (${numChannels}) must be divisible by num_groups (${numGroups})`);
    const affine = opts.affine ?? true;
    this.weight = this.param('weight', affine ? ones([numChannels]) : null);
    this.bias = this.param('bias', affine ? zeros([numChannels]) : null);
  }
  forward(x: Tensor): Tensor { return F.group_norm(x, this.numGroups, { weight: this.weight, bias: this.bias, eps: this.opts.eps ?? 1e-5 }); }
}
