// Involution (Li et al., "Involution: Inverting the Inherence of Convolution for Visual
// Recognition", CVPR 2021), d-li14/involution's involution_naive: a K×K kernel generated per
// output position from the input and shared by the 16 channels of each group.
//
//   x_in   = AvgPool2d(stride, stride)(x) when stride > 1, else x
//   weight = conv2(conv1(x_in))        conv1: 1×1 C → C/r, BN, ReLU;  conv2: 1×1 C/r → K·K·G with bias
//   out[b, g·16 + c, h, w] = Σ_{k < K·K} weight[b, g·K·K + k, h, w] · unfold(x)[b, (g·16 + c)·K·K + k, h·w]
//
// with G = C / groupChannels groups and unfold over kernel K, dilation 1, padding (K-1)/2, stride.
// State-dict names follow the official repository (mmcv ConvModule): conv1.conv, conv1.bn, conv2.conv.
// No normalisation after the aggregation (the caller adds BN).
import { Tensor, F } from '../../tensor';
import { Module } from '../module';
import { Conv2d } from './conv';
import { BatchNorm2d } from './norm';
import { ReLU, AvgPool2d } from './basic';

/** mmcv's ConvModule for a 1×1 conv: `conv` then optionally `bn` and ReLU. */
class ConvModule extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d | null;
  readonly activate: ReLU | null;
  constructor(cin: number, cout: number, normAct: boolean) {
    super();
    this.conv = this.module('conv', new Conv2d(cin, cout, 1, { bias: !normAct }));
    this.bn = normAct ? this.module('bn', new BatchNorm2d(cout)) : null;
    this.activate = normAct ? this.module('activate', new ReLU()) : null;
  }
  forward(x: Tensor): Tensor {
    let y = this.conv.call(x);
    if (this.bn) y = this.bn.call(y);
    if (this.activate) y = this.activate.call(y);
    return y;
  }
}

export interface InvolutionOptions {
  /** stride of the aggregation (the kernel generator average-pools by it); default 1 */
  stride?: number;
  /** channel reduction of the kernel generator (default 4) */
  reduction?: number;
  /** channels sharing one kernel (default 16); groups = channels / groupChannels */
  groupChannels?: number;
}

export class Involution2d extends Module {
  readonly stride: number;
  readonly groups: number;
  readonly groupChannels: number;
  readonly conv1: ConvModule;
  readonly conv2: ConvModule;
  readonly avgpool: AvgPool2d | null;

  constructor(readonly channels: number, readonly kernelSize: number, o: InvolutionOptions = {}) {
    super();
    this.stride = o.stride ?? 1;
    const r = o.reduction ?? 4;
    this.groupChannels = o.groupChannels ?? 16;
    if (kernelSize % 2 !== 1) throw new RangeError(`Involution2d: kernel size must be odd, got ${kernelSize}`);
    if (channels % this.groupChannels !== 0) throw new RangeError(`Involution2d: channels (${channels}) must be a multiple of groupChannels (${this.groupChannels})`);
    if (channels % r !== 0) throw new RangeError(`Involution2d: channels (${channels}) must be divisible by the reduction ratio (${r})`);
    this.groups = channels / this.groupChannels;
    this.conv1 = this.module('conv1', new ConvModule(channels, channels / r, true));
    this.conv2 = this.module('conv2', new ConvModule(channels / r, kernelSize * kernelSize * this.groups, false));
    this.avgpool = this.stride > 1 ? this.module('avgpool', new AvgPool2d(this.stride, this.stride)) : null;
  }

  /** The generated kernels [N, G, K·K, H', W']. */
  kernel(x: Tensor): Tensor {
    const xin = this.avgpool ? this.avgpool.call(x) : x;
    const w = this.conv2.call(this.conv1.call(xin));
    const [n, , h, wd] = w.shape;
    return w.view(n, this.groups, this.kernelSize * this.kernelSize, h, wd);
  }

  forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.channels) throw new Error(`Involution2d: expected input [N, ${this.channels}, H, W], got [${x.shape}]`);
    const k = this.kernelSize, kk = k * k;
    const w = this.kernel(x);
    const [n, , , h, wd] = w.shape;
    const cols = F.unfold(x, k, { dilation: 1, padding: (k - 1) / 2, stride: this.stride });
    if (cols.shape[2] !== h * wd) {
      throw new Error(`Involution2d: the kernel map (${h}×${wd}, average-pooled by ${this.stride}) and the unfolded input (${cols.shape[2]} positions) disagree; use input sizes divisible by the stride`);
    }
    const u = cols.view(n, this.groups, this.groupChannels, kk, h, wd);
    return w.unsqueeze(2).mul(u).sum(3).view(n, this.channels, h, wd);
  }
}
