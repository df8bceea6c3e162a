import { Tensor, empty, F } from '../../tensor';
import { Module } from '../module';
import { kaimingUniform_, uniform_, fans } from '../init';

/** y = x Wᵀ + b, initialised as torch.nn.Linear (kaiming_uniform a=√5, bias U(±1/√fan_in)). */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { bias?: boolean } = {}) {
    super();
    this.weight = this.param('weight', empty([outFeatures, inFeatures]));
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    this.bias = this.param('bias', opts.bias === false ? null : empty([outFeatures]));
    if (this.bias) { const b = 1 / Math.sqrt(fans(this.weight).fanIn); uniform_(this.bias, -b, b); }
  }
  forward(x: Tensor): Tensor { return F.linear(x, this.weight, this.bias); }
}
