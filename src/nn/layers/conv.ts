import { Tensor, empty, F } from '../../tensor';
import { Module } from '../module';
import { kaimingUniform_, uniform_, fans } from '../init';

export interface Conv2dOptions { stride?: number | number[]; padding?: number | number[] | 'same' | 'valid'; dilation?: number | number[]; groups?: number; bias?: boolean }

/** torch.nn.Conv2d with its default initialisation. */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: number | [number, number], readonly opts: Conv2dOptions = {}) {
    super();
    const groups = opts.groups ?? 1;
    if (inChannels % groups || outChannels % groups) throw new Error(`Conv2d: in (${inChannels}) and out (${outChannels}) channels must be divisible by groups (${groups})`);
    this.kernelSize = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    this.weight = this.param('weight', empty([outChannels, inChannels / groups, ...this.kernelSize]));
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    this.bias = this.param('bias', opts.bias === false ? null : empty([outChannels]));
    if (this.bias) { const b = 1 / Math.sqrt(fans(this.weight).fanIn); uniform_(this.bias, -b, b); }
  }
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, { stride: this.opts.stride as any, padding: this.opts.padding as any, dilation: this.opts.dilation as any, groups: this.opts.groups });
  }
}
