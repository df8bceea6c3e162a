// tiny_cnn: a three-stage convolutional network small enough for smoke tests, demos and
// resume tests that must run in seconds on two cores.
import { Tensor, F } from '../tensor';
import { Module, StageInfo } from '../nn/module';
import { Conv2d, BatchNorm2d, Linear, Sequential, ReLU, MaxPool2d } from '../nn/layers';
import { registerModel, Classifier, ModelOptions } from './registry';

export class TinyCnn extends Module implements Classifier {
  readonly numClasses: number;
  readonly features: Sequential;
  readonly fc: Linear;
  private readonly widths: number[];
  constructor(o: ModelOptions = {}) {
    super();
    this.numClasses = o.numClasses ?? 10;
    const w = (o.width as number | undefined) ?? 16;
    this.widths = [w, 2 * w, 4 * w];
    const block = (cin: number, cout: number, pool: boolean) => {
      const s = new Sequential(new Conv2d(cin, cout, 3, { padding: 1, bias: false }), new BatchNorm2d(cout), new ReLU());
      if (pool) s.append(new MaxPool2d(2));
      return s;
    };
    this.features = this.module('features', new Sequential(
      block(o.inChans ?? 3, this.widths[0], true), block(this.widths[0], this.widths[1], true), block(this.widths[1], this.widths[2], false)));
    this.fc = this.module('fc', new Linear(this.widths[2], this.numClasses));
  }
  /** the last feature map [N, C, H, W] */
  forwardFeatures(x: Tensor): Tensor { return this.features.call(x); }
  forwardHead(f: Tensor): Tensor { return this.fc.call(F.adaptive_avg_pool2d(f, 1).flatten(1)); }
  forward(x: Tensor): Tensor { return this.forwardHead(this.forwardFeatures(x)); }
  stages(): StageInfo[] {
    return this.widths.map((c, i) => ({ name: `features.${i}`, channels: c, stride: [2, 4, 4][i], layout: 'map' as const }));
  }
}

registerModel({ name: 'tiny_cnn', family: 'tiny', create: (o) => new TinyCnn(o), description: '3-stage CNN for tests and demos (options: width)' });
