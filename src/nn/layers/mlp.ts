// timm's Mlp: fc1 → act → drop → fc2 → drop (the transformer feed-forward block). Names follow
// timm (fc1, act, drop1, fc2, drop2) so state-dict keys are `mlp.fc1.weight` and so on.
import { Tensor } from '../../tensor';
import { Module } from '../module';
import { Linear } from './linear';
import { GELU, Dropout } from './basic';

export interface MlpOptions {
  /** hidden width (default: inFeatures) */
  hiddenFeatures?: number;
  /** output width (default: inFeatures) */
  outFeatures?: number;
  /** activation module (default: exact GELU, as timm and torchvision) */
  act?: Module;
  bias?: boolean;
  /** dropout after the activation and after fc2 */
  drop?: number;
}

export class Mlp extends Module {
  readonly fc1: Linear;
  readonly act: Module;
  readonly drop1: Dropout;
  readonly fc2: Linear;
  readonly drop2: Dropout;
  constructor(readonly inFeatures: number, opts: MlpOptions = {}) {
    super();
    const hidden = opts.hiddenFeatures ?? inFeatures;
    const out = opts.outFeatures ?? inFeatures;
    this.fc1 = this.module('fc1', new Linear(inFeatures, hidden, { bias: opts.bias }));
    this.act = this.module('act', opts.act ?? new GELU());
    this.drop1 = this.module('drop1', new Dropout(opts.drop ?? 0));
    this.fc2 = this.module('fc2', new Linear(hidden, out, { bias: opts.bias }));
    this.drop2 = this.module('drop2', new Dropout(opts.drop ?? 0));
  }
  forward(x: Tensor): Tensor {
    const h = this.drop1.call(this.act.call(this.fc1.call(x)));  // [..., hidden]
    return this.drop2.call(this.fc2.call(h));                     // [..., out]
  }
}
